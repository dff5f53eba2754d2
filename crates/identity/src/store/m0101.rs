//! `m0101_identity_features`: what the identity endpoints need beyond the first
//! table: the read models of other services' resources (organizations, identity
//! providers, OpenID providers), identity mappings, identity preferences, the MFA
//! reset record, and the database-level uniqueness of a user's email within an
//! organization (live users only).

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum Identities {
    Table,
    MfaEnrolled,
    MfaResetAt,
    MfaResetBy,
}

#[derive(DeriveIden)]
enum OrganizationsSeen {
    Table,
    Id,
    Name,
    Label,
    Active,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdentityProvidersSeen {
    Table,
    Id,
    OrganizationId,
    Active,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OpenIdProvidersSeen {
    Table,
    Id,
    OrganizationId,
    Name,
    ClientId,
    Issuer,
    JwksUri,
    Active,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdentityMappings {
    Table,
    Id,
    IdentityId,
    ExternalSubject,
    IdentityProviderId,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum IdentityPreferences {
    Table,
    Id,
    IdentityId,
    OrganizationId,
    Preferences,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedBy,
    DeletedAt,
}

pub struct M0101IdentityFeatures;

impl MigrationName for M0101IdentityFeatures {
    fn name(&self) -> &str {
        "m0101_identity_features"
    }
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0101IdentityFeatures {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .add_column(
                        ColumnDef::new(Identities::MfaEnrolled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .add_column(ts(Identities::MfaResetAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .add_column(ColumnDef::new(Identities::MfaResetBy).uuid())
                    .to_owned(),
            )
            .await?;
        // One live user identity per email and organization, enforced by the
        // database so that two racing creates cannot both win.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_identities_live_user_email \
                 ON identities (organization_id, email) \
                 WHERE kind = 'UserIdentity' AND deleted_at IS NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationsSeen::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(OrganizationsSeen::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OrganizationsSeen::Name).string())
                    .col(ColumnDef::new(OrganizationsSeen::Label).string())
                    .col(
                        ColumnDef::new(OrganizationsSeen::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OrganizationsSeen::Deleted)
                            .boolean()
                            .not_null(),
                    )
                    .col(ts(OrganizationsSeen::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdentityProvidersSeen::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(IdentityProvidersSeen::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(IdentityProvidersSeen::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityProvidersSeen::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityProvidersSeen::Deleted)
                            .boolean()
                            .not_null(),
                    )
                    .col(ts(IdentityProvidersSeen::UpdatedAt).not_null())
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
                    .col(ColumnDef::new(OpenIdProvidersSeen::Name).string())
                    .col(ColumnDef::new(OpenIdProvidersSeen::ClientId).string())
                    .col(ColumnDef::new(OpenIdProvidersSeen::Issuer).string())
                    .col(ColumnDef::new(OpenIdProvidersSeen::JwksUri).string())
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
                    .col(ts(OpenIdProvidersSeen::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdentityMappings::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(IdentityMappings::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(IdentityMappings::IdentityId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityMappings::ExternalSubject)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityMappings::IdentityProviderId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ts(IdentityMappings::CreatedAt).not_null())
                    .col(ColumnDef::new(IdentityMappings::CreatedBy).uuid())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_identity_mappings_subject_provider")
                    .table(IdentityMappings::Table)
                    .col(IdentityMappings::ExternalSubject)
                    .col(IdentityMappings::IdentityProviderId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_identity_mappings_identity")
                    .table(IdentityMappings::Table)
                    .col(IdentityMappings::IdentityId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdentityPreferences::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(IdentityPreferences::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(IdentityPreferences::IdentityId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityPreferences::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdentityPreferences::Preferences)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdentityPreferences::CreatedBy).uuid())
                    .col(ts(IdentityPreferences::CreatedAt).not_null())
                    .col(ts(IdentityPreferences::UpdatedAt))
                    .col(ColumnDef::new(IdentityPreferences::DeletedBy).uuid())
                    .col(ts(IdentityPreferences::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_identity_preferences_identity")
                    .table(IdentityPreferences::Table)
                    .col(IdentityPreferences::IdentityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IdentityPreferences::Table.into_iden(),
            IdentityMappings::Table.into_iden(),
            OpenIdProvidersSeen::Table.into_iden(),
            IdentityProvidersSeen::Table.into_iden(),
            OrganizationsSeen::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ux_identities_live_user_email")
            .await?;
        Ok(())
    }
}
