//! The identity service's migrations. Applied migrations are never edited; changes
//! come as new ones.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut m = idp_runtime::outbox::migrations();
        m.push(Box::new(M0100Identities));
        m.push(Box::new(crate::store::m0101::M0101IdentityFeatures));
        m.push(Box::new(crate::store::m0102::M0102InvitationAcceptances));
        m.push(Box::new(crate::store::m0103::M0103IdentitiesEmail));
        m.push(Box::new(
            crate::store::m0104::M0104IdentityProviderConnections,
        ));
        m.push(Box::new(
            crate::store::m0105::M0105DropIdentitiesOrganization,
        ));
        m
    }
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    FirstName,
    LastName,
    Email,
    Description,
    ClientId,
    SecretHash,
    Active,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Bootstrap {
    Table,
    Name,
    IdentityId,
    CreatedAt,
}

pub struct M0100Identities;

impl MigrationName for M0100Identities {
    fn name(&self) -> &str {
        "m0100_identities"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0100Identities {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Identities::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Identities::OrganizationId).uuid().not_null())
                    .col(ColumnDef::new(Identities::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Identities::Name).string().not_null())
                    .col(ColumnDef::new(Identities::FirstName).string())
                    .col(ColumnDef::new(Identities::LastName).string())
                    .col(ColumnDef::new(Identities::Email).string())
                    .col(ColumnDef::new(Identities::Description).text())
                    .col(
                        ColumnDef::new(Identities::ClientId)
                            .string_len(64)
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Identities::SecretHash).string_len(128))
                    .col(ColumnDef::new(Identities::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Identities::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Identities::UpdatedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Identities::DeletedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(Identities::CreatedBy).uuid())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_identities_organization")
                    .table(Identities::Table)
                    .col(Identities::OrganizationId)
                    .to_owned(),
            )
            .await?;
        // Who was created by the first start, so a second start does not create another.
        manager
            .create_table(
                Table::create()
                    .table(Bootstrap::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Bootstrap::Name)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Bootstrap::IdentityId).uuid().not_null())
                    .col(
                        ColumnDef::new(Bootstrap::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Bootstrap::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Identities::Table).to_owned())
            .await
    }
}
