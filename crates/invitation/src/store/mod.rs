//! The invitation service's storage: its migrations and the read models of other
//! services' state (the resources' own tables are in their `store` modules:
//! `invitations::store`, `support_requests::store`, `mail::store`). Applied
//! migrations are never edited; changes come as new ones.

pub mod m0100;
pub mod m0101;
pub mod m0102;
pub mod read_models;

use sea_orm_migration::prelude::*;

pub use read_models::*;

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
