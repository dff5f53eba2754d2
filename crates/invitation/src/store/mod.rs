//! The invitation service's storage. Applied migrations are never edited; changes
//! come as new ones.

pub mod entities;
pub mod m0100;
pub mod m0101;
pub mod m0102;

use sea_orm_migration::prelude::*;

pub use entities::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut m = idp_runtime::outbox::migrations();
        m.push(Box::new(m0100::M0100Invitations));
        m.push(Box::new(m0101::M0101Acceptance));
        m.push(Box::new(m0102::M0102OpenIdProviderNames));
        m
    }
}
