//! Invitations, support requests, the mail outbox, and the read models of other
//! services' organizations, identities and identity providers.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub enum Invitations {
    Table,
    Id,
    KeyHash,
    FromIdentityId,
    ToOrganizationId,
    InvitedEmailAddress,
    InvitationUrl,
    TargetUserIdentityId,
    Expiration,
    Accepted,
    RevokedAt,
    ResponseReceivedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum OrganizationsSeen {
    Table,
    Id,
    Name,
    Label,
    Active,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum IdentitiesSeen {
    Table,
    Id,
    OrganizationId,
    Name,
    Email,
    Kind,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum IdentityProvidersSeen {
    Table,
    Id,
    OrganizationId,
    Auth0ConnectionId,
    Active,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum SupportRequests {
    Table,
    Id,
    IdentityId,
    OrganizationId,
    Name,
    Email,
    SelectedOrganizationId,
    SelectedNetworkId,
    Subject,
    Comment,
    Kind,
    Priority,
    Severity,
    RecentErrorMessages,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum MailOutbox {
    Table,
    Id,
    Recipient,
    Subject,
    Body,
    CreatedAt,
    SentAt,
    Attempts,
    LastError,
}

pub struct M0100Invitations;

impl MigrationName for M0100Invitations {
    fn name(&self) -> &str {
        "m0100_invitations"
    }
}

fn ts(c: impl IntoIden) -> ColumnDef {
    let mut d = ColumnDef::new(c);
    d.timestamp_with_time_zone();
    d
}

#[async_trait::async_trait]
impl MigrationTrait for M0100Invitations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Invitations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Invitations::KeyHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Invitations::FromIdentityId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Invitations::ToOrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Invitations::InvitedEmailAddress)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Invitations::InvitationUrl).text())
                    .col(ColumnDef::new(Invitations::TargetUserIdentityId).uuid())
                    .col(ts(Invitations::Expiration).not_null())
                    .col(ColumnDef::new(Invitations::Accepted).boolean())
                    .col(ts(Invitations::RevokedAt))
                    .col(ts(Invitations::ResponseReceivedAt))
                    .col(ts(Invitations::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_invitations_org", Invitations::ToOrganizationId),
            ("ix_invitations_email", Invitations::InvitedEmailAddress),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Invitations::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
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
                    .table(IdentitiesSeen::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(IdentitiesSeen::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(IdentitiesSeen::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdentitiesSeen::Name).string())
                    .col(ColumnDef::new(IdentitiesSeen::Email).string())
                    .col(ColumnDef::new(IdentitiesSeen::Kind).string_len(32))
                    .col(ColumnDef::new(IdentitiesSeen::Deleted).boolean().not_null())
                    .col(ts(IdentitiesSeen::UpdatedAt).not_null())
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
                    .col(ColumnDef::new(IdentityProvidersSeen::Auth0ConnectionId).string())
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
                    .table(SupportRequests::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SupportRequests::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SupportRequests::IdentityId).uuid())
                    .col(ColumnDef::new(SupportRequests::OrganizationId).uuid())
                    .col(ColumnDef::new(SupportRequests::Name).string())
                    .col(ColumnDef::new(SupportRequests::Email).string())
                    .col(ColumnDef::new(SupportRequests::SelectedOrganizationId).string())
                    .col(ColumnDef::new(SupportRequests::SelectedNetworkId).string())
                    .col(ColumnDef::new(SupportRequests::Subject).text().not_null())
                    .col(ColumnDef::new(SupportRequests::Comment).text().not_null())
                    .col(
                        ColumnDef::new(SupportRequests::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupportRequests::Priority)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupportRequests::Severity)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupportRequests::RecentErrorMessages).text())
                    .col(ts(SupportRequests::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MailOutbox::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MailOutbox::Recipient).string().not_null())
                    .col(ColumnDef::new(MailOutbox::Subject).text().not_null())
                    .col(ColumnDef::new(MailOutbox::Body).text().not_null())
                    .col(ts(MailOutbox::CreatedAt).not_null())
                    .col(ts(MailOutbox::SentAt))
                    .col(
                        ColumnDef::new(MailOutbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(MailOutbox::LastError).text())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("ix_mail_outbox_unsent")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::SentAt)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Invitations::Table.into_iden(),
            OrganizationsSeen::Table.into_iden(),
            IdentitiesSeen::Table.into_iden(),
            IdentityProvidersSeen::Table.into_iden(),
            SupportRequests::Table.into_iden(),
            MailOutbox::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
