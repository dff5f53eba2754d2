//! The `outbox` and `inbox` tables, as sea-orm migrations that work on PostgreSQL
//! and SQLite.

use sea_orm::DeriveIden;
use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub(crate) enum Outbox {
    Table,
    Seq,
    EventId,
    EventType,
    OrganizationId,
    Payload,
    CreatedAt,
    PublishedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden)]
pub(crate) enum Inbox {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}

/// The outbox and inbox migrations, in order (`m0001_outbox`, `m0002_inbox`,
/// `m0003_outbox_unpublished`). A service's migrator lists these first and its own
/// after them.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(CreateOutbox),
        Box::new(CreateInbox),
        Box::new(OutboxUnpublishedIndex),
    ]
}

/// `m0001_outbox`: events waiting to be published (and those already sent).
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m0001_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Outbox::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Outbox::EventId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Outbox::EventType).string().not_null())
                    .col(ColumnDef::new(Outbox::OrganizationId).uuid().null())
                    .col(ColumnDef::new(Outbox::Payload).text().not_null())
                    .col(
                        ColumnDef::new(Outbox::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Outbox::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Outbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Outbox::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_outbox_published_at")
                    .table(Outbox::Table)
                    .col(Outbox::PublishedAt)
                    .col(Outbox::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).if_exists().to_owned())
            .await
    }
}

/// `m0002_inbox`: the events each consumer has applied.
pub struct CreateInbox;

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "m0002_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inbox::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Inbox::Consumer).string().not_null())
                    .col(ColumnDef::new(Inbox::EventId).uuid().not_null())
                    .col(
                        ColumnDef::new(Inbox::ProcessedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(Inbox::Consumer).col(Inbox::EventId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Inbox::Table).if_exists().to_owned())
            .await
    }
}

/// `m0003_outbox_unpublished`: an index of the unsent rows alone, in `seq` order,
/// which is exactly what each relay pass reads. Without it PostgreSQL walked the
/// primary key from the first event ever written, past every sent row, on each
/// pass, so a pass cost more the longer the service had run.
pub struct OutboxUnpublishedIndex;

impl MigrationName for OutboxUnpublishedIndex {
    fn name(&self) -> &str {
        "m0003_outbox_unpublished"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxUnpublishedIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A partial index (PostgreSQL and SQLite both have them; sea-query's
        // builder does not).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_outbox_unpublished \
                 ON outbox (seq) WHERE published_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_outbox_unpublished")
            .await?;
        Ok(())
    }
}
