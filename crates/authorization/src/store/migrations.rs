//! The authorization service's migrations (after the outbox and inbox).

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut m = idp_runtime::outbox::migrations();
        m.push(Box::new(M0100Authorization));
        m.push(Box::new(M0101DefaultRoles));
        m.push(Box::new(M0102DefaultRoleOrder));
        m.push(Box::new(M0103IdentityCreator));
        m
    }
}

#[derive(DeriveIden)]
enum ResourceTypes {
    Table,
    Id,
    Code,
    Name,
    Description,
    IsSystem,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResourceActions {
    Table,
    Id,
    ResourceTypeId,
    Code,
    Name,
    Description,
    IsSystem,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    Name,
    RoleType,
    OrganizationId,
    BaseRoleId,
    Description,
    CreatedBy,
    CreatedAt,
    LastModified,
    DeletedAt,
}

#[derive(DeriveIden)]
enum RoleActions {
    Table,
    RoleId,
    ResourceActionId,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    IdentityId,
    RoleId,
    ResourceActionId,
    OrganizationId,
    Path,
    IsImmutable,
    CreatedBy,
    CreatedAt,
    LastModified,
    RevokedAt,
    LiveKey,
}

#[derive(DeriveIden)]
enum KnownIdentities {
    Table,
    IdentityId,
    OrganizationId,
}

pub struct M0100Authorization;

impl MigrationName for M0100Authorization {
    fn name(&self) -> &str {
        "m0100_authorization"
    }
}

fn ts(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0100Authorization {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResourceTypes::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ResourceTypes::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ResourceTypes::Code)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ResourceTypes::Name).string().not_null())
                    .col(ColumnDef::new(ResourceTypes::Description).text())
                    .col(ColumnDef::new(ResourceTypes::IsSystem).boolean().not_null())
                    .col(ts(ResourceTypes::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResourceActions::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ResourceActions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ResourceActions::ResourceTypeId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ResourceActions::Code)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ResourceActions::Name).string().not_null())
                    .col(ColumnDef::new(ResourceActions::Description).text())
                    .col(
                        ColumnDef::new(ResourceActions::IsSystem)
                            .boolean()
                            .not_null(),
                    )
                    .col(ts(ResourceActions::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_resource_actions_type")
                            .from(ResourceActions::Table, ResourceActions::ResourceTypeId)
                            .to(ResourceTypes::Table, ResourceTypes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ux_resource_actions_type_code")
                    .table(ResourceActions::Table)
                    .col(ResourceActions::ResourceTypeId)
                    .col(ResourceActions::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Roles::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Roles::Name).string().not_null())
                    .col(ColumnDef::new(Roles::RoleType).string_len(16).not_null())
                    .col(ColumnDef::new(Roles::OrganizationId).uuid())
                    .col(ColumnDef::new(Roles::BaseRoleId).uuid())
                    .col(ColumnDef::new(Roles::Description).text())
                    .col(ColumnDef::new(Roles::CreatedBy).uuid())
                    .col(ts(Roles::CreatedAt).not_null())
                    .col(ts(Roles::LastModified))
                    .col(ts(Roles::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_roles_organization")
                    .table(Roles::Table)
                    .col(Roles::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleActions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RoleActions::RoleId).uuid().not_null())
                    .col(
                        ColumnDef::new(RoleActions::ResourceActionId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RoleActions::RoleId)
                            .col(RoleActions::ResourceActionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_actions_role")
                            .from(RoleActions::Table, RoleActions::RoleId)
                            .to(Roles::Table, Roles::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_actions_action")
                            .from(RoleActions::Table, RoleActions::ResourceActionId)
                            .to(ResourceActions::Table, ResourceActions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_role_actions_action")
                    .table(RoleActions::Table)
                    .col(RoleActions::ResourceActionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Grants::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Grants::IdentityId).uuid().not_null())
                    .col(ColumnDef::new(Grants::RoleId).uuid())
                    .col(ColumnDef::new(Grants::ResourceActionId).uuid())
                    .col(ColumnDef::new(Grants::OrganizationId).uuid())
                    .col(ColumnDef::new(Grants::Path).text().not_null())
                    .col(ColumnDef::new(Grants::IsImmutable).boolean().not_null())
                    .col(ColumnDef::new(Grants::CreatedBy).uuid())
                    .col(ts(Grants::CreatedAt).not_null())
                    .col(ts(Grants::LastModified).not_null())
                    .col(ts(Grants::RevokedAt))
                    .col(
                        ColumnDef::new(Grants::LiveKey)
                            .string_len(1024)
                            .unique_key(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_role")
                            .from(Grants::Table, Grants::RoleId)
                            .to(Roles::Table, Roles::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_action")
                            .from(Grants::Table, Grants::ResourceActionId)
                            .to(ResourceActions::Table, ResourceActions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_grants_identity", Grants::IdentityId),
            ("ix_grants_organization", Grants::OrganizationId),
            ("ix_grants_role", Grants::RoleId),
            ("ix_grants_action", Grants::ResourceActionId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Grants::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(KnownIdentities::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(KnownIdentities::IdentityId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(KnownIdentities::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            KnownIdentities::Table.into_iden(),
            Grants::Table.into_iden(),
            RoleActions::Table.into_iden(),
            Roles::Table.into_iden(),
            ResourceActions::Table.into_iden(),
            ResourceTypes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum KnownDefaultRoles {
    Table,
    Id,
    OrganizationId,
    RoleId,
    Deleted,
}

#[derive(DeriveIden)]
enum KnownIdentitiesDeleted {
    #[sea_orm(iden = "known_identities")]
    Table,
    Deleted,
}

/// The organizations' default roles (from `default-role.*` events), and which known
/// identities are deleted: what "grant the default roles" and "grant to every live
/// identity of the organization" need.
pub struct M0101DefaultRoles;

impl MigrationName for M0101DefaultRoles {
    fn name(&self) -> &str {
        "m0101_default_roles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0101DefaultRoles {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDefaultRoles::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(KnownDefaultRoles::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(KnownDefaultRoles::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(KnownDefaultRoles::RoleId).uuid().not_null())
                    .col(
                        ColumnDef::new(KnownDefaultRoles::Deleted)
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
                    .table(KnownIdentitiesDeleted::Table)
                    .add_column(
                        ColumnDef::new(KnownIdentitiesDeleted::Deleted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KnownDefaultRoles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum KnownIdentitiesOrder {
    #[sea_orm(iden = "known_identities")]
    Table,
    WantsDefaultRoles,
    CreatedAt,
}

/// Whether an identity asked for its organization's default roles, and when it was
/// created: a default role whose event arrives after the identity's still reaches
/// the identities created after the role (events of two services have no order).
pub struct M0102DefaultRoleOrder;

impl MigrationName for M0102DefaultRoleOrder {
    fn name(&self) -> &str {
        "m0102_default_role_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0102DefaultRoleOrder {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(KnownIdentitiesOrder::Table)
                    .add_column(
                        ColumnDef::new(KnownIdentitiesOrder::WantsDefaultRoles)
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
                    .table(KnownIdentitiesOrder::Table)
                    .add_column(
                        ColumnDef::new(KnownIdentitiesOrder::CreatedAt).timestamp_with_time_zone(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum KnownIdentitiesCreator {
    #[sea_orm(iden = "known_identities")]
    Table,
    CreatedBy,
}

/// Who created each identity: the requester of its default roles, which are
/// granted only when that identity may grant them (the grant rule). A role that
/// becomes a default role after the identity's event is checked against the
/// same creator.
pub struct M0103IdentityCreator;

impl MigrationName for M0103IdentityCreator {
    fn name(&self) -> &str {
        "m0103_identity_creator"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0103IdentityCreator {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(KnownIdentitiesCreator::Table)
                    .add_column(
                        ColumnDef::new(KnownIdentitiesCreator::CreatedBy)
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
