//! `m0102_invitation_acceptances`: which user identity each accepted invitation
//! made or mapped, keyed by the invitation id, so that applying an
//! `invitation.accepted` twice (a redelivery, a replayed event) never creates a
//! second identity.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum InvitationAcceptances {
    Table,
    InvitationId,
    IdentityId,
    Created,
    CreatedAt,
}

pub struct M0102InvitationAcceptances;

impl MigrationName for M0102InvitationAcceptances {
    fn name(&self) -> &str {
        "m0102_invitation_acceptances"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0102InvitationAcceptances {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InvitationAcceptances::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(InvitationAcceptances::InvitationId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InvitationAcceptances::IdentityId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InvitationAcceptances::Created)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InvitationAcceptances::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(InvitationAcceptances::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
