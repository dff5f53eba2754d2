//! `m0101_acceptance`: what completing an acceptance by key needs: the read model
//! of the organizations' OpenID providers (whose ID tokens prove the login), and
//! on each invitation the user identity the identity service made or mapped for it
//! (`mapped_identity_id`, set when its identity event names the invitation); and
//! on each queued message when it may next be tried (`next_attempt_at`: the
//! backoff after a failure, or the lease of the sender trying it now).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Invitations {
    Table,
    MappedIdentityId,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    NextAttemptAt,
}

#[derive(DeriveIden)]
enum OpenIdProvidersSeen {
    Table,
    Id,
    OrganizationId,
    ClientId,
    Issuer,
    JwksUri,
    Active,
    Deleted,
    UpdatedAt,
}

pub struct M0101Acceptance;

impl MigrationName for M0101Acceptance {
    fn name(&self) -> &str {
        "m0101_acceptance"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0101Acceptance {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .add_column(ColumnDef::new(Invitations::MappedIdentityId).uuid())
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .add_column(
                        ColumnDef::new(MailOutbox::NextAttemptAt).timestamp_with_time_zone(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpenIdProvidersSeen::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(OpenIdProvidersSeen::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OpenIdProvidersSeen::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OpenIdProvidersSeen::ClientId).string())
                    .col(ColumnDef::new(OpenIdProvidersSeen::Issuer).string())
                    .col(ColumnDef::new(OpenIdProvidersSeen::JwksUri).text())
                    .col(
                        ColumnDef::new(OpenIdProvidersSeen::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpenIdProvidersSeen::Deleted)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpenIdProvidersSeen::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_open_id_providers_seen_org")
                    .table(OpenIdProvidersSeen::Table)
                    .col(OpenIdProvidersSeen::OrganizationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OpenIdProvidersSeen::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .drop_column(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .drop_column(Invitations::MappedIdentityId)
                    .to_owned(),
            )
            .await
    }
}
