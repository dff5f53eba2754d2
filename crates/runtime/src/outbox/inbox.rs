//! The idempotent inbox: apply an event at most once per consumer.

use futures::future::BoxFuture;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait, Value,
};

use idp_model::ids::EventId;

use super::migrations::Inbox;

/// What [`apply_once`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The work ran and committed.
    Applied,
    /// This consumer had already applied this event; nothing ran.
    Duplicate,
}

impl Applied {
    pub fn is_duplicate(self) -> bool {
        self == Applied::Duplicate
    }
}

#[derive(Debug)]
pub(crate) enum ApplyError {
    /// The database failed around the work (begin, inbox insert, commit).
    Db(DbErr),
    /// The work itself failed (the transaction was rolled back).
    Handler(anyhow::Error),
}

impl From<ApplyError> for anyhow::Error {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Db(e) => anyhow::Error::new(e).context("inbox transaction failed"),
            ApplyError::Handler(e) => e,
        }
    }
}

/// Runs `f` in one transaction together with recording `(consumer, event_id)` in
/// the inbox, and commits both, or neither. When the event was already recorded
/// for this consumer, `f` does not run and the answer is [`Applied::Duplicate`].
/// Safe against concurrent redeliveries on PostgreSQL (the second insert waits for
/// the first transaction, then finds the row) and SQLite (one writer at a time).
///
/// ```ignore
/// apply_once(&db, "authorization.default-roles", event.id, |txn| {
///     Box::pin(async move { grant_default_roles(txn, &event).await })
/// })
/// .await?;
/// ```
pub async fn apply_once<F>(
    db: &DatabaseConnection,
    consumer: &str,
    event_id: EventId,
    f: F,
) -> Result<Applied, anyhow::Error>
where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, anyhow::Result<()>> + Send,
{
    Ok(apply(db, consumer, event_id, f).await?)
}

pub(crate) async fn apply<F>(
    db: &DatabaseConnection,
    consumer: &str,
    event_id: EventId,
    f: F,
) -> Result<Applied, ApplyError>
where
    F: for<'c> FnOnce(&'c DatabaseTransaction) -> BoxFuture<'c, anyhow::Result<()>> + Send,
{
    let txn = db.begin().await.map_err(ApplyError::Db)?;
    if !record(&txn, consumer, event_id)
        .await
        .map_err(ApplyError::Db)?
    {
        txn.rollback().await.map_err(ApplyError::Db)?;
        return Ok(Applied::Duplicate);
    }
    match f(&txn).await {
        Ok(()) => {
            txn.commit().await.map_err(ApplyError::Db)?;
            Ok(Applied::Applied)
        }
        Err(e) => {
            if let Err(re) = txn.rollback().await {
                tracing::warn!(error = %re, "rollback failed");
            }
            Err(ApplyError::Handler(e))
        }
    }
}

/// Records `(consumer, event_id)` in the inbox inside `conn`'s transaction:
/// `true` when it was new, `false` when this consumer had already applied the
/// event (then nothing else of it may run).
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    consumer: &str,
    event_id: EventId,
) -> Result<bool, DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(Inbox::Table)
        .columns([Inbox::Consumer, Inbox::EventId, Inbox::ProcessedAt])
        .values([
            Value::from(consumer.to_string()).into(),
            Value::from(event_id.as_uuid()).into(),
            Value::from(time::OffsetDateTime::now_utc()).into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([Inbox::Consumer, Inbox::EventId])
                .do_nothing()
                .to_owned(),
        );
    let inserted = conn
        .execute(conn.get_database_backend().build(&insert))
        .await?;
    Ok(inserted.rows_affected() > 0)
}
