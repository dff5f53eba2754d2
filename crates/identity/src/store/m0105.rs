//! `m0105_drop_identities_organization`: drops the index on `organization_id`
//! alone.
//!
//! `ix_identities_organization_email` (m0103) starts with the same column, so it
//! serves every filter on the organization as well. With both present,
//! PostgreSQL could pick the narrower one for the email check of a user create.
//! This happened when a pooled connection planned that prepared query while the
//! table's statistics were still those of a nearly empty table. The check then
//! read every identity of the organization on each create. Measured in the B6
//! benchmark: about 400 rows read per created user, at a few thousand users. One
//! index fewer is also one fewer to write on each insert.

use sea_orm_migration::prelude::*;

pub struct M0105DropIdentitiesOrganization;

impl MigrationName for M0105DropIdentitiesOrganization {
    fn name(&self) -> &str {
        "m0105_drop_identities_organization"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0105DropIdentitiesOrganization {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ix_identities_organization")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_identities_organization \
                 ON identities (organization_id)",
            )
            .await?;
        Ok(())
    }
}
