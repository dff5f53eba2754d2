//! `m0102_open_id_provider_names`: the providers' `name`, so that this service's
//! `open_id_providers_seen` is the same read model as the identity service's
//! (`idp_runtime::read_models::open_id_provider_seen`). Filled by the next event
//! about each provider.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum OpenIdProvidersSeen {
    Table,
    Name,
}

pub struct M0102OpenIdProviderNames;

impl MigrationName for M0102OpenIdProviderNames {
    fn name(&self) -> &str {
        "m0102_open_id_provider_names"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0102OpenIdProviderNames {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OpenIdProvidersSeen::Table)
                    .add_column(ColumnDef::new(OpenIdProvidersSeen::Name).string())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OpenIdProvidersSeen::Table)
                    .drop_column(OpenIdProvidersSeen::Name)
                    .to_owned(),
            )
            .await
    }
}
