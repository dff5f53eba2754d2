//! The invitation service's storage. Applied migrations are never edited; changes come
//! as new ones.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        idp_runtime::outbox::migrations()
    }
}
