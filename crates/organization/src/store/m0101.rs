//! `m0101`: identity providers, default roles, OpenID providers and organization
//! preferences, with their indexes. One live default role per organization + role
//! type + role id, and one live preference per organization, are partial unique
//! indexes, so that racing requests cannot both win.

use sea_orm_migration::prelude::*;

pub struct M0101OrganizationResources;

impl MigrationName for M0101OrganizationResources {
    fn name(&self) -> &str {
        "m0101_organization_resources"
    }
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    OrganizationId,
    Auth0ConnectionId,
    Name,
    Auth0ConnectionType,
    Active,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum DefaultRoles {
    Table,
    Id,
    OrganizationId,
    Name,
    RoleType,
    RoleId,
    CreatedBy,
    CreatedAt,
    DeletedAt,
    DeletedBy,
}

#[derive(DeriveIden)]
enum OpenIdProviders {
    Table,
    Id,
    OrganizationId,
    Name,
    ClientId,
    Issuer,
    AuthorizationEndpoint,
    TokenEndpoint,
    UserInfoEndpoint,
    JwksUri,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    DeletedBy,
}

#[derive(DeriveIden)]
enum OrganizationPreferences {
    Table,
    Id,
    OrganizationId,
    Preferences,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    DeletedBy,
}

fn id<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().primary_key().to_owned()
}
fn uuid_req<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).uuid().not_null().to_owned()
}
fn text_req<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}
fn text_opt<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).text().to_owned()
}
fn ts_req<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}
fn ts_opt<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0101OrganizationResources {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityProviders::Table)
                    .if_not_exists()
                    .col(id(IdentityProviders::Id))
                    .col(uuid_req(IdentityProviders::OrganizationId))
                    .col(text_req(IdentityProviders::Auth0ConnectionId))
                    .col(text_req(IdentityProviders::Name))
                    .col(text_req(IdentityProviders::Auth0ConnectionType))
                    .col(
                        ColumnDef::new(IdentityProviders::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(ts_req(IdentityProviders::CreatedAt))
                    .col(ts_opt(IdentityProviders::UpdatedAt))
                    .col(ts_opt(IdentityProviders::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DefaultRoles::Table)
                    .if_not_exists()
                    .col(id(DefaultRoles::Id))
                    .col(uuid_req(DefaultRoles::OrganizationId))
                    .col(text_req(DefaultRoles::Name))
                    .col(text_req(DefaultRoles::RoleType))
                    .col(uuid_req(DefaultRoles::RoleId))
                    .col(ColumnDef::new(DefaultRoles::CreatedBy).uuid())
                    .col(ts_req(DefaultRoles::CreatedAt))
                    .col(ts_opt(DefaultRoles::DeletedAt))
                    .col(ColumnDef::new(DefaultRoles::DeletedBy).uuid())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpenIdProviders::Table)
                    .if_not_exists()
                    .col(id(OpenIdProviders::Id))
                    .col(uuid_req(OpenIdProviders::OrganizationId))
                    .col(text_req(OpenIdProviders::Name))
                    .col(text_req(OpenIdProviders::ClientId))
                    .col(text_req(OpenIdProviders::Issuer))
                    .col(text_opt(OpenIdProviders::AuthorizationEndpoint))
                    .col(text_opt(OpenIdProviders::TokenEndpoint))
                    .col(text_opt(OpenIdProviders::UserInfoEndpoint))
                    .col(text_req(OpenIdProviders::JwksUri))
                    .col(ColumnDef::new(OpenIdProviders::Active).boolean().not_null())
                    .col(ColumnDef::new(OpenIdProviders::CreatedBy).uuid())
                    .col(ts_req(OpenIdProviders::CreatedAt))
                    .col(ts_opt(OpenIdProviders::UpdatedAt))
                    .col(ts_opt(OpenIdProviders::DeletedAt))
                    .col(ColumnDef::new(OpenIdProviders::DeletedBy).uuid())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrganizationPreferences::Table)
                    .if_not_exists()
                    .col(id(OrganizationPreferences::Id))
                    .col(uuid_req(OrganizationPreferences::OrganizationId))
                    .col(text_req(OrganizationPreferences::Preferences))
                    .col(ColumnDef::new(OrganizationPreferences::CreatedBy).uuid())
                    .col(ts_req(OrganizationPreferences::CreatedAt))
                    .col(ts_opt(OrganizationPreferences::UpdatedAt))
                    .col(ts_opt(OrganizationPreferences::DeletedAt))
                    .col(ColumnDef::new(OrganizationPreferences::DeletedBy).uuid())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "CREATE INDEX IF NOT EXISTS ix_identity_providers_org ON identity_providers (organization_id)",
            "CREATE INDEX IF NOT EXISTS ix_default_roles_org ON default_roles (organization_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_default_roles_live \
             ON default_roles (organization_id, role_type, role_id) WHERE deleted_at IS NULL",
            "CREATE INDEX IF NOT EXISTS ix_open_id_providers_org ON open_id_providers (organization_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_organization_preferences_live \
             ON organization_preferences (organization_id) WHERE deleted_at IS NULL",
            "CREATE INDEX IF NOT EXISTS ix_organizations_name ON organizations (name)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "organization_preferences",
            "open_id_providers",
            "default_roles",
            "identity_providers",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
