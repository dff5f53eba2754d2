//! The consumer loop a service spawns for each of its queues.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::task::JoinHandle;
use tracing::Instrument;

use idp_bus::{Delivery, Envelope, EventBus, Subscription};
use idp_model::ids::EventId;

use super::inbox::{apply, record, ApplyError};
use super::{Applied, RelayHandle};
use crate::Shutdown;

/// A service's event handler: does its work for one event inside the given
/// transaction (which also records the event in the inbox). Build one with
/// [`handler`].
pub type Handler = Arc<
    dyn for<'c> Fn(Envelope, &'c DatabaseTransaction) -> BoxFuture<'c, anyhow::Result<()>>
        + Send
        + Sync,
>;

/// Wraps a closure as a [`Handler`] (the helper gets the closure's lifetimes
/// right):
///
/// ```ignore
/// let h = outbox::handler(move |event, txn| {
///     let svc = svc.clone();
///     Box::pin(async move { svc.on_event(txn, event).await })
/// });
/// ```
pub fn handler<F>(f: F) -> Handler
where
    F: for<'c> Fn(Envelope, &'c DatabaseTransaction) -> BoxFuture<'c, anyhow::Result<()>>
        + Send
        + Sync
        + 'static,
{
    Arc::new(f)
}

/// What to consume and how hard to try.
#[derive(Clone, Debug)]
pub struct ConsumerOptions {
    /// The durable queue (also the consumer's name in the inbox), e.g.
    /// `authorization.identity-events`.
    pub queue: String,
    /// Topic patterns bound to the queue, e.g. `identity.created`, `grant.*`.
    pub bindings: Vec<String>,
    /// Failed attempts of the handler before the message is dead-lettered. Default 5.
    pub max_attempts: u32,
    /// The delay before the first retry; doubles each time, capped at 5 s.
    /// Default 200 ms.
    pub retry_delay: Duration,
    /// Fault injection, for tests of redelivery only: the process aborts right
    /// after it applied (and committed) the first event of this type, before
    /// acknowledging it, as a consumer that dies at the worst moment. The broker
    /// then redelivers the event to the next consumer, which must change nothing.
    /// [`ConsumerOptions::new`] takes it from the variable
    /// `IDP_FAULT_ABORT_AFTER_COMMIT` (an event type); unset by default.
    pub abort_after_commit: Option<String>,
    /// The service's outbox relay, woken right after each commit, when the
    /// handler writes events of its own (they go out at once rather than at the
    /// relay's next poll). See [`ConsumerOptions::wake_after_commit`].
    pub relay: Option<RelayHandle>,
}

/// The variable that arms [`ConsumerOptions::abort_after_commit`].
pub const ABORT_AFTER_COMMIT_VAR: &str = "IDP_FAULT_ABORT_AFTER_COMMIT";

impl ConsumerOptions {
    pub fn new(queue: impl Into<String>, bindings: &[&str]) -> Self {
        ConsumerOptions {
            queue: queue.into(),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
            max_attempts: 5,
            retry_delay: Duration::from_millis(200),
            abort_after_commit: std::env::var(ABORT_AFTER_COMMIT_VAR)
                .ok()
                .filter(|v| !v.trim().is_empty()),
            relay: None,
        }
    }

    /// Wakes `relay` after each transaction that applied events commits: for
    /// handlers that enqueue events in the outbox.
    pub fn wake_after_commit(mut self, relay: RelayHandle) -> Self {
        self.relay = Some(relay);
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn retry_delay(mut self, d: Duration) -> Self {
        self.retry_delay = d;
        self
    }
}

const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);
/// How long a stopped consumer keeps its subscription (longer than the relay's
/// 2 s drain).
const SHUTDOWN_HOLD: Duration = Duration::from_secs(5);
/// At most this many deliveries are applied in one transaction.
const MAX_BATCH: usize = 64;
/// Forget failure counts beyond this many distinct events (they restart at 0).
const MAX_TRACKED_FAILURES: usize = 10_000;

/// Subscribes and consumes until shutdown: each delivery that does not parse is
/// dead-lettered (`malformed: ...`); each event is applied once with the handler
/// ([`super::apply_once`], consumer name = queue) and acked after the
/// transaction committed (duplicates are acked without running the handler); a
/// handler error rolls back and retries with backoff, and after
/// `max_attempts` failures the message is dead-lettered with the error as the
/// reason. Deliveries already waiting when one arrives (up to the prefetch, at
/// most 64) are applied together in one transaction, each still once. On shutdown
/// it finishes the current message (or batch), then returns.
///
/// Returns an error when the subscription cannot be made or the bus closes it.
pub async fn run_consumer(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    options: ConsumerOptions,
    handler: Handler,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let sub = subscribe(&*bus, &options).await?;
    consume(db, sub, options, handler, shutdown).await
}

/// Like [`run_consumer`], but subscribes before returning (so the queue and its
/// bindings exist, which matters for the in-process bus, where a publish with no
/// subscriber reaches nobody) and runs the loop on a task. Start consumers this
/// way before the outbox relay.
pub async fn spawn_consumer(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    options: ConsumerOptions,
    handler: Handler,
    shutdown: Shutdown,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let sub = subscribe(&*bus, &options).await?;
    Ok(tokio::spawn(consume(db, sub, options, handler, shutdown)))
}

async fn subscribe(bus: &dyn EventBus, options: &ConsumerOptions) -> anyhow::Result<Subscription> {
    super::topology::check_consumer(&options.queue, &options.bindings)?;
    if let Some(kind) = &options.abort_after_commit {
        tracing::error!(queue = %options.queue, event_type = %kind, "fault injection armed: this process aborts after applying the first such event, before acking it ({ABORT_AFTER_COMMIT_VAR})");
    }
    let bindings: Vec<&str> = options.bindings.iter().map(String::as_str).collect();
    let sub = bus
        .subscribe(&options.queue, &bindings)
        .await
        .map_err(|e| anyhow::anyhow!("subscribing {}: {e}", options.queue))?;
    tracing::info!(queue = %options.queue, bindings = ?options.bindings, "consuming");
    crate::metrics::outbox_metrics().consumer_started(&options.queue);
    Ok(sub)
}

async fn consume(
    db: DatabaseConnection,
    mut sub: Subscription,
    options: ConsumerOptions,
    handler: Handler,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut failures: HashMap<EventId, u32> = HashMap::new();
    loop {
        let delivery = tokio::select! {
            d = sub.next() => d,
            _ = shutdown.wait() => break,
        };
        let Some(delivery) = delivery else {
            anyhow::bail!("the bus ended the subscription of {}", options.queue);
        };
        // What else already waits (at most the prefetch) goes with it in one
        // transaction: under load one commit serves many events.
        let mut batch = vec![delivery];
        while batch.len() < MAX_BATCH {
            match sub.try_next() {
                Some(d) => batch.push(d),
                None => break,
            }
        }
        if batch.len() == 1 || options.abort_after_commit.is_some() {
            for delivery in batch {
                handle(&db, delivery, &options, &handler, &mut failures).await;
            }
        } else {
            handle_batch(&db, batch, &options, &handler, &mut failures).await;
        }
    }
    tracing::info!(queue = %options.queue, "consumer stopped");
    // Keep the subscription (unpolled) a little longer than the outbox relay
    // drains on shutdown: with the in-process bus a queue without subscription
    // counts as unbound, so a publish that started now would be marked sent
    // without this consumer applying it. Held, the publish fails instead when the
    // subscription finally drops, and the event stays in the outbox for restart.
    tokio::spawn(async move {
        tokio::time::sleep(SHUTDOWN_HOLD).await;
        drop(sub);
    });
    Ok(())
}

/// Applies several deliveries in one transaction (each recorded in the inbox, so
/// each still applies once), commits once and then acknowledges them all. When
/// anything fails (a handler, the database) the transaction is rolled back and
/// each delivery goes through [`handle`] on its own, with its own retries and
/// dead-lettering, so one bad event costs the others nothing but a second try.
async fn handle_batch(
    db: &DatabaseConnection,
    batch: Vec<Delivery>,
    options: &ConsumerOptions,
    handler: &Handler,
    failures: &mut HashMap<EventId, u32>,
) {
    let mut parsed = Vec::with_capacity(batch.len());
    for delivery in batch {
        match delivery.envelope() {
            Ok(event) => parsed.push((delivery, event)),
            // Dead-lettered there, as malformed.
            Err(_) => handle(db, delivery, options, handler, failures).await,
        }
    }
    match apply_batch(db, &options.queue, &parsed, handler).await {
        Ok(outcomes) => {
            if let Some(relay) = &options.relay {
                relay.wake();
            }
            let metrics = crate::metrics::outbox_metrics();
            for ((delivery, event), applied) in parsed.into_iter().zip(outcomes) {
                failures.remove(&event.id);
                if applied == Applied::Duplicate {
                    metrics.consumed(&options.queue, &event.kind, "duplicate", None);
                } else {
                    metrics.consumed(
                        &options.queue,
                        &event.kind,
                        "applied",
                        Some(event.occurred_at),
                    );
                }
                delivery.ack().await;
            }
            tracing::debug!(queue = %options.queue, "batch applied");
        }
        Err((failed, e)) => {
            tracing::debug!(queue = %options.queue, error = format!("{e:#}"), "batch failed; applying its events one by one");
            // The batch try counts as an attempt of the event whose handler failed.
            if let Some(id) = failed {
                if failures.len() >= MAX_TRACKED_FAILURES {
                    failures.clear();
                }
                *failures.entry(id).or_insert(0) += 1;
            }
            for (delivery, _) in parsed {
                handle(db, delivery, options, handler, failures).await;
            }
        }
    }
}

/// Runs the handler for one event; a panic in it is an error like any other.
async fn run_handler(
    handler: &Handler,
    event: Envelope,
    txn: &DatabaseTransaction,
) -> anyhow::Result<()> {
    match AssertUnwindSafe(handler(event, txn)).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("the handler panicked")),
    }
}

/// A failed batch: the event whose handler failed (none when the database failed
/// around the handlers), and why.
type BatchFailure = (Option<EventId>, anyhow::Error);

/// One transaction for the batch: inbox records and handlers in order, then one
/// commit. Answers what happened to each event, or the first failure (after a
/// rollback).
async fn apply_batch(
    db: &DatabaseConnection,
    consumer: &str,
    events: &[(Delivery, Envelope)],
    handler: &Handler,
) -> Result<Vec<Applied>, BatchFailure> {
    let txn = db.begin().await.map_err(|e| (None, e.into()))?;
    let mut outcomes = Vec::with_capacity(events.len());
    for (_, event) in events {
        let step = async {
            match record(&txn, consumer, event.id).await {
                Ok(true) => {}
                Ok(false) => return Ok(Applied::Duplicate),
                Err(e) => return Err((None, e.into())),
            }
            run_handler(handler, event.clone(), &txn)
                .await
                .map(|()| Applied::Applied)
                .map_err(|e| (Some(event.id), e))
        };
        match step.await {
            Ok(applied) => outcomes.push(applied),
            Err((failed, e)) => {
                if let Err(re) = txn.rollback().await {
                    tracing::warn!(error = %re, "rollback failed");
                }
                return Err((failed, e.context(format!("event {}", event.id))));
            }
        }
    }
    txn.commit().await.map_err(|e| (None, e.into()))?;
    Ok(outcomes)
}

async fn handle(
    db: &DatabaseConnection,
    delivery: Delivery,
    options: &ConsumerOptions,
    handler: &Handler,
    failures: &mut HashMap<EventId, u32>,
) {
    let event = match delivery.envelope() {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(queue = %options.queue, routing_key = %delivery.routing_key, error = %e, "malformed message; dead-lettering");
            crate::metrics::outbox_metrics().consumed(
                &options.queue,
                &delivery.routing_key,
                "malformed",
                None,
            );
            delivery.dead_letter(&format!("malformed: {e}")).await;
            return;
        }
    };
    let span = tracing::info_span!(
        "event",
        queue = %options.queue,
        event_id = %event.id,
        event_type = %event.kind,
        redelivered = delivery.redelivered,
    );
    async {
        let id = event.id;
        let (kind, occurred_at) = (event.kind.clone(), event.occurred_at);
        let metrics = crate::metrics::outbox_metrics();
        let abort = options
            .abort_after_commit
            .as_deref()
            .is_some_and(|k| k == event.kind);
        let h = handler.clone();
        let result = apply(db, &options.queue, id, move |txn| {
            Box::pin(async move { run_handler(&h, event, txn).await })
        })
        .await;
        match result {
            Ok(applied) => {
                failures.remove(&id);
                if applied == Applied::Duplicate {
                    metrics.consumed(&options.queue, &kind, "duplicate", None);
                    tracing::debug!("already applied; acknowledging");
                } else {
                    if let Some(relay) = &options.relay {
                        relay.wake();
                    }
                    metrics.consumed(&options.queue, &kind, "applied", Some(occurred_at));
                    tracing::debug!("applied");
                    if abort {
                        tracing::error!("fault injection: aborting after the commit, before the ack");
                        std::process::abort();
                    }
                }
                delivery.ack().await;
            }
            Err(ApplyError::Handler(e)) => {
                if failures.len() >= MAX_TRACKED_FAILURES {
                    failures.clear();
                }
                let n = failures.entry(id).or_insert(0);
                *n += 1;
                let n = *n;
                if n >= options.max_attempts {
                    failures.remove(&id);
                    tracing::error!(attempts = n, error = format!("{e:#}"), "handler keeps failing; dead-lettering");
                    delivery
                        .dead_letter(&format!("handler failed {n} times: {e:#}"))
                        .await;
                    metrics.consumed(&options.queue, &kind, "dead_lettered", None);
                } else {
                    let delay = backoff(options.retry_delay, n);
                    tracing::warn!(attempt = n, retry_in_ms = delay.as_millis() as u64, error = format!("{e:#}"), "handler failed; will retry");
                    delivery.retry_after(delay).await;
                    metrics.consumed(&options.queue, &kind, "retried", None);
                }
            }
            Err(ApplyError::Db(e)) => {
                // Not the event's fault: retry without counting it against it.
                let delay = backoff(options.retry_delay, 3);
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database error; will retry");
                delivery.retry_after(delay).await;
                metrics.consumed(&options.queue, &kind, "db_error", None);
            }
        }
    }
    .instrument(span)
    .await
}

fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(MAX_RETRY_DELAY)
}
