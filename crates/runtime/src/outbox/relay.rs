//! Writing events to the outbox, and the relay that publishes them.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait, Value,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use idp_bus::{Envelope, EventBus};

use super::migrations::Outbox;
use crate::Shutdown;

/// How many rows one relay pass reads.
const BATCH: u64 = 128;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long the relay keeps publishing after shutdown was triggered.
const DRAIN: Duration = Duration::from_secs(2);
/// The PostgreSQL advisory lock key held (per transaction) by the replica that
/// relays; advisory locks are per database, and each service has its own.
const RELAY_LOCK_KEY: i64 = 0x1DB0_0780;

/// Writes `event` to the outbox. Call it inside the transaction that makes the
/// change the event reports; the relay publishes it once that commits.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, event: &Envelope) -> Result<(), DbErr> {
    let payload = serde_json::to_string(event)
        .map_err(|e| DbErr::Custom(format!("serializing event {}: {e}", event.id)))?;
    let mut insert = Query::insert();
    insert
        .into_table(Outbox::Table)
        .columns([
            Outbox::EventId,
            Outbox::EventType,
            Outbox::OrganizationId,
            Outbox::Payload,
            Outbox::CreatedAt,
            Outbox::Attempts,
        ])
        .values([
            Value::from(event.id.as_uuid()).into(),
            Value::from(event.kind.clone()).into(),
            Value::from(event.organization_id.map(|o| o.as_uuid())).into(),
            Value::from(payload).into(),
            Value::from(time::OffsetDateTime::now_utc()).into(),
            Value::from(0i32).into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    conn.execute(conn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}

/// [`enqueue`] for several events, in order.
pub async fn enqueue_all<C: ConnectionTrait>(conn: &C, events: &[Envelope]) -> Result<(), DbErr> {
    for e in events {
        enqueue(conn, e).await?;
    }
    Ok(())
}

/// Counts the events not yet published.
async fn depth(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let mut q = Query::select();
    q.expr_as(
        Expr::col(Outbox::Seq).count(),
        sea_orm::sea_query::Alias::new("n"),
    )
    .from(Outbox::Table)
    .and_where(Expr::col(Outbox::PublishedAt).is_null());
    let row = db.query_one(db.get_database_backend().build(&q)).await?;
    let n: i64 = match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

#[derive(Debug, Default)]
struct Pass {
    published: usize,
    /// A full batch went out: there may be more right now.
    more: bool,
    /// Publishing failed (the bus is down); stop and back off.
    failed: Option<String>,
    /// Another replica holds the relay lock.
    not_leader: bool,
}

async fn pass(db: &DatabaseConnection, bus: &dyn EventBus) -> Result<Pass, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        // One relaying replica at a time keeps the order; the lock goes with the
        // transaction, so a crashed replica cannot hold it.
        let txn = db.begin().await?;
        let locked = txn
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY}) AS locked"),
            ))
            .await?
            .map(|r| r.try_get::<bool>("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            txn.rollback().await?;
            return Ok(Pass {
                not_leader: true,
                ..Default::default()
            });
        }
        let result = publish_batch(&txn, bus).await?;
        txn.commit().await?;
        Ok(result)
    } else {
        // SQLite (one process per file): no transaction is held while publishing,
        // as the in-process bus waits for consumers that write to the same file.
        publish_batch(db, bus).await
    }
}

async fn publish_batch<C: ConnectionTrait>(conn: &C, bus: &dyn EventBus) -> Result<Pass, DbErr> {
    let backend = conn.get_database_backend();
    let mut select = Query::select();
    select
        .columns([Outbox::Seq, Outbox::Payload])
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::PublishedAt).is_null())
        .order_by(Outbox::Seq, Order::Asc)
        .limit(BATCH);
    let rows = conn.query_all(backend.build(&select)).await?;
    let mut pass = Pass::default();
    let mut seqs = Vec::with_capacity(rows.len());
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        let seq: i64 = row.try_get("", "seq")?;
        let payload: String = row.try_get("", "payload")?;
        match serde_json::from_str::<Envelope>(&payload) {
            Ok(e) => {
                seqs.push(seq);
                events.push(e);
            }
            Err(e) => {
                // Cannot happen through `enqueue`; a hand-edited row must not
                // block every event behind it. It is never published (it would
                // never parse), so it is marked done, with the reason.
                tracing::error!(seq, error = %e, "outbox row holds no valid event; skipped");
                record_failure(conn, seq, &format!("invalid payload, skipped: {e}")).await?;
                mark_published(conn, &[seq]).await?;
            }
        }
    }
    if events.is_empty() {
        return Ok(pass);
    }
    // The whole batch goes out at once (RabbitMQ confirms it in one round); only
    // the leading events the broker took are marked, the rest go again next pass.
    let publish_started = std::time::Instant::now();
    let (taken, error) = bus.publish_batch(&events).await;
    let taken = taken.min(events.len());
    mark_published(conn, &seqs[..taken]).await?;
    let elapsed = publish_started.elapsed();
    for event in &events[..taken] {
        crate::metrics::outbox_metrics().published(&event.kind, elapsed);
        tracing::debug!(event_id = %event.id, event_type = %event.kind, "event published");
    }
    pass.published = taken;
    if taken < events.len() {
        let reason = error
            .map(|e| e.to_string())
            .unwrap_or_else(|| "the bus took only part of the batch".into());
        let (seq, event) = (seqs[taken], &events[taken]);
        tracing::warn!(event_id = %event.id, event_type = %event.kind, seq, error = %reason, "publishing failed; will retry");
        record_failure(conn, seq, &reason).await?;
        crate::metrics::outbox_metrics().publish_failed();
        pass.failed = Some(reason);
        return Ok(pass);
    }
    pass.more = rows.len() as u64 == BATCH && pass.published > 0;
    Ok(pass)
}

/// Marks the rows `seqs` as published, in one statement.
async fn mark_published<C: ConnectionTrait>(conn: &C, seqs: &[i64]) -> Result<(), DbErr> {
    if seqs.is_empty() {
        return Ok(());
    }
    let mut update = Query::update();
    update
        .table(Outbox::Table)
        .value(
            Outbox::PublishedAt,
            Value::from(time::OffsetDateTime::now_utc()),
        )
        .value(Outbox::Attempts, Expr::col(Outbox::Attempts).add(1))
        .and_where(Expr::col(Outbox::Seq).is_in(seqs.iter().copied()));
    conn.execute(conn.get_database_backend().build(&update))
        .await?;
    Ok(())
}

async fn record_failure<C: ConnectionTrait>(conn: &C, seq: i64, reason: &str) -> Result<(), DbErr> {
    let mut update = Query::update();
    update
        .table(Outbox::Table)
        .value(Outbox::Attempts, Expr::col(Outbox::Attempts).add(1))
        .value(Outbox::LastError, Value::from(truncate(reason, 2000)))
        .and_where(Expr::col(Outbox::Seq).eq(seq));
    conn.execute(conn.get_database_backend().build(&update))
        .await?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The outbox relay: publishes unsent events in order.
pub struct Relay;

impl Relay {
    /// Starts the relay task. It polls every `poll` (and whenever woken through
    /// the handle), publishes unsent rows in `seq` order, stops at the first
    /// failure (so order holds) and backs off (capped at 2 s). On shutdown it keeps
    /// publishing for up to 2 s, then stops; what is left goes out after restart.
    pub fn spawn(
        db: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        poll: Duration,
        shutdown: Shutdown,
    ) -> RelayHandle {
        Self::spawn_after(
            db,
            bus,
            poll,
            shutdown,
            idp_common::shutdown::Gate::opened(),
        )
    }

    /// Like [`Relay::spawn`], but publishes nothing until `gate` opens (wakes sent
    /// meanwhile are kept and acted on then).
    pub fn spawn_after(
        db: DatabaseConnection,
        bus: Arc<dyn EventBus>,
        poll: Duration,
        shutdown: Shutdown,
        gate: idp_common::shutdown::Gate,
    ) -> RelayHandle {
        let wake = Arc::new(Notify::new());
        let (db2, wake2) = (db.clone(), wake.clone());
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = gate.wait() => run(db2, bus, poll, wake2, shutdown).await,
                _ = shutdown.wait() => {}
            }
        });
        RelayHandle {
            wake,
            db,
            task: Arc::new(tokio::sync::Mutex::new(Some(task))),
        }
    }

    /// One pass by hand (tests, tools): publishes what is pending now, up to the
    /// first failure. Returns how many events went out.
    pub async fn publish_pending(
        db: &DatabaseConnection,
        bus: &dyn EventBus,
    ) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let p = pass(db, bus).await?;
            total += p.published;
            if let Some(e) = p.failed {
                anyhow::bail!("published {total}, then failed: {e}");
            }
            if !p.more {
                return Ok(total);
            }
        }
    }
}

/// A handle on a running relay. Clones share it.
#[derive(Clone)]
pub struct RelayHandle {
    wake: Arc<Notify>,
    db: DatabaseConnection,
    task: Arc<tokio::sync::Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for RelayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayHandle").finish_non_exhaustive()
    }
}

impl RelayHandle {
    /// Nudges the relay to look now (call it right after committing events).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Commits a transaction that enqueued events, then wakes the relay so they go
    /// out now rather than at the next poll.
    pub async fn commit(&self, txn: sea_orm::DatabaseTransaction) -> Result<(), DbErr> {
        txn.commit().await?;
        self.wake();
        Ok(())
    }

    /// Events not yet published (for metrics); 0 when the database cannot say.
    pub async fn depth(&self) -> u64 {
        match depth(&self.db).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot count the outbox");
                0
            }
        }
    }

    /// Waits until the relay stopped (after shutdown was triggered).
    pub async fn join(&self) {
        let task = self.task.lock().await.take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "outbox relay task failed");
            }
        }
    }
}

async fn run(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    poll: Duration,
    wake: Arc<Notify>,
    shutdown: Shutdown,
) {
    let poll = poll.max(Duration::from_millis(10));
    let mut backoff = MIN_BACKOFF;
    let mut drain_until: Option<Instant> = None;
    loop {
        if drain_until.is_none() && shutdown.is_triggered() {
            drain_until = Some(Instant::now() + DRAIN);
        }
        // A pass in progress when shutdown comes gets DRAIN to finish.
        let limit = async {
            match drain_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => {
                    shutdown.wait().await;
                    tokio::time::sleep(DRAIN).await;
                }
            }
        };
        let outcome = tokio::select! {
            r = pass(&db, &*bus) => Some(r),
            _ = limit => None,
        };
        let Some(outcome) = outcome else {
            tracing::info!("outbox relay stopping with a publish still in flight");
            break;
        };
        let draining = drain_until.is_some() || shutdown.is_triggered();
        match outcome {
            Ok(p) if p.failed.is_none() && !p.not_leader => {
                backoff = MIN_BACKOFF;
                if p.more {
                    continue;
                }
                if draining {
                    break;
                }
            }
            Ok(p) if p.not_leader => {
                if draining {
                    break;
                }
            }
            failure => {
                if let Err(e) = &failure {
                    tracing::warn!(error = %e, "outbox relay: database error");
                }
                if draining {
                    tracing::info!("outbox relay stopping; unsent events go out after restart");
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait() => {}
        }
    }
    tracing::debug!("outbox relay stopped");
}
