//! `m0104_identity_provider_connections`: the identity providers' Auth0 connection
//! id, so that this service's `identity_providers_seen` is the same read model as
//! the invitation service's (`idp_runtime::read_models::identity_provider_seen`).
//! Filled by the next event about each provider.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum IdentityProvidersSeen {
    Table,
    Auth0ConnectionId,
}

pub struct M0104IdentityProviderConnections;

impl MigrationName for M0104IdentityProviderConnections {
    fn name(&self) -> &str {
        "m0104_identity_provider_connections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0104IdentityProviderConnections {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IdentityProvidersSeen::Table)
                    .add_column(ColumnDef::new(IdentityProvidersSeen::Auth0ConnectionId).string())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IdentityProvidersSeen::Table)
                    .drop_column(IdentityProvidersSeen::Auth0ConnectionId)
                    .to_owned(),
            )
            .await
    }
}
