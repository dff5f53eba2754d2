//! `m0103_identities_email`: a plain index on `(organization_id, email)`.
//!
//! The unique index of m0101 is partial (live user identities only), and a
//! prepared query that binds the kind as a parameter cannot use it: PostgreSQL's
//! generic plan does not know that the parameter is `'UserIdentity'`. The email
//! check of every user create then read all the organization's identities. This
//! index serves that check, and the email filters of the lists, whatever the plan.

use sea_orm_migration::prelude::*;

pub struct M0103IdentitiesEmail;

impl MigrationName for M0103IdentitiesEmail {
    fn name(&self) -> &str {
        "m0103_identities_email"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0103IdentitiesEmail {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_identities_organization_email \
                 ON identities (organization_id, email)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ix_identities_organization_email")
            .await?;
        Ok(())
    }
}
