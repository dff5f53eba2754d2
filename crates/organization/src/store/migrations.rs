//! The organization service's migrations. Applied migrations are never edited;
//! changes come as new ones.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut m = idp_runtime::outbox::migrations();
        m.push(Box::new(M0100Organizations));
        m.push(Box::new(super::m0101::M0101OrganizationResources));
        m
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Label,
    MfaProvider,
    Active,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    CreatedBy,
}

pub struct M0100Organizations;

impl MigrationName for M0100Organizations {
    fn name(&self) -> &str {
        "m0100_organizations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0100Organizations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Organizations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Organizations::Name).string().not_null())
                    .col(
                        ColumnDef::new(Organizations::Label)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Organizations::MfaProvider)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Organizations::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Organizations::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Organizations::UpdatedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Organizations::DeletedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Organizations::CreatedBy).uuid())
                    .to_owned(),
            )
            .await?;
        // Labels are unique among live organizations; a deleted one frees its label.
        // Both PostgreSQL and SQLite support partial indexes.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_organizations_live_label \
                 ON organizations (lower(label)) WHERE deleted_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }
}
