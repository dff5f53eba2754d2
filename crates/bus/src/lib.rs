//! The event bus: one trait, [`EventBus`], and two implementations with the same
//! delivery guarantees.
//!
//! - [`AmqpBus`]: RabbitMQ. One durable topic exchange; each consumer has a durable
//!   queue (plus `{queue}.dlq` for poison messages), bounded prefetch, manual acks;
//!   publishing waits for the broker's publisher confirm. Reconnects with
//!   exponential backoff when the broker goes away.
//! - [`MemoryBus`]: in-process, for the embedded default. Having no broker to hold
//!   messages, its `publish` returns only once every matching subscription has
//!   acknowledged (or dead-lettered) the event, so an outbox relay marks an event
//!   sent only when its consumers have applied it.
//!
//! Events are [`Envelope`]s; the routing key is the envelope's `type`
//! (`event.kind`). Consumers must be idempotent (they dedupe by event id): every
//! guarantee here is at-least-once.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use tokio::sync::{mpsc, watch};

pub use idp_model::events::Envelope;

mod amqp;
mod memory;
mod topic;

pub use amqp::AmqpBus;
pub use memory::MemoryBus;
pub use topic::topic_matches;

/// The header carrying the reason a message was dead-lettered.
pub const DEATH_REASON_HEADER: &str = "x-death-reason";
/// The header carrying the routing key a dead-lettered message was published with.
pub const ORIGINAL_ROUTING_KEY_HEADER: &str = "x-original-routing-key";

/// The name of the dead-letter queue that belongs to `queue`.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

/// Why the bus could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached right now (or a consumer went away before it
    /// acknowledged); try again later.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the message (publisher confirm nack) or the request.
    #[error("event bus rejected the request: {0}")]
    Rejected(String),
    /// The event could not be serialized.
    #[error("event could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// Invalid arguments (e.g. an empty queue name).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// An event bus. Cheap to share as `Arc<dyn EventBus>`.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes one event with routing key `event.kind`. Returns `Ok` only once
    /// the event is safely taken: confirmed by the broker (RabbitMQ) or acknowledged
    /// by every matching subscription (in-process).
    async fn publish(&self, event: &Envelope) -> Result<(), BusError>;

    /// Publishes `events` in this order and answers how many of them, counted from
    /// the first, were safely taken (as [`EventBus::publish`] means it), with the
    /// error that ended the count when it is short. The RabbitMQ bus sends the whole
    /// batch on its channel before it waits for the confirms, so the broker
    /// confirms it in one round instead of one round per event; the order on the
    /// channel is the order given. When the broker refuses one event in the middle
    /// and takes later ones, only the events before the refused one count: the
    /// caller publishes the rest again (consumers dedupe by event id).
    async fn publish_batch(&self, events: &[Envelope]) -> (usize, Option<BusError>) {
        for (i, event) in events.iter().enumerate() {
            if let Err(e) = self.publish(event).await {
                return (i, Some(e));
            }
        }
        (events.len(), None)
    }

    /// Declares (idempotently) the durable queue `queue` bound with each topic
    /// pattern in `bindings` (`identity.*`, `grant.#`, `#`), with its dead-letter
    /// queue `{queue}.dlq`, and starts consuming it.
    async fn subscribe(&self, queue: &str, bindings: &[&str]) -> Result<Subscription, BusError>;

    /// A subscription of this process alone (every process that makes one gets
    /// every matching event): a queue that lives only as long as the subscription
    /// (RabbitMQ: exclusive, auto-delete, no dead-letter queue). For state every
    /// replica keeps in memory, such as token revocations.
    async fn subscribe_broadcast(&self, bindings: &[&str]) -> Result<Subscription, BusError> {
        let queue = format!("{BROADCAST_PREFIX}{}", uuid::Uuid::new_v4().simple());
        self.subscribe(&queue, bindings).await
    }

    /// Declares (idempotently) durable queues and logs with their bindings now, and
    /// again on every reconnect, without consuming them: every producing process
    /// declares the queues of all the platform's consumers when it connects, so
    /// that an event published before a consumer first subscribed is kept for it,
    /// not dropped as unroutable. Returns an error when the broker refuses a
    /// declaration; while disconnected the topology is declared on connect.
    ///
    /// The in-process bus has nothing to declare (its relays start only once the
    /// process's consumers subscribed).
    async fn declare(&self, topology: &[QueueSpec]) -> Result<(), BusError> {
        let _ = topology;
        Ok(())
    }

    /// Reads the durable log `log` of the events matching `bindings`: first every
    /// event it still retains (at least [`LOG_RETENTION`]), then new ones as they
    /// come. Every subscriber reads the whole log on its own, so a process that
    /// starts (or restarts) learns what happened while it was not running. For
    /// state every process rebuilds in memory, such as token revocations.
    /// RabbitMQ: a stream queue `{exchange}.log.{log}`, resumed at the next offset
    /// after a reconnect. The in-process bus has no history (everything in the
    /// process starts together): this is [`EventBus::subscribe_broadcast`].
    async fn subscribe_log(&self, log: &str, bindings: &[&str]) -> Result<Subscription, BusError> {
        validate_queue(log)?;
        self.subscribe_broadcast(bindings).await
    }

    /// For readiness: `Err(reason)` when the bus cannot currently deliver.
    async fn health(&self) -> Result<(), String>;

    /// Closes the bus and waits until its connection is closed (RabbitMQ: the
    /// connection's own tasks ended), so that a process can stop its runtime
    /// afterwards without the client library finding it shut down under it.
    /// Publishing fails and subscriptions end afterwards. The in-process bus has
    /// nothing to close.
    async fn shutdown(&self) {}
}

/// How long a log ([`EventBus::subscribe_log`]) keeps events at least: longer than
/// any access token lives, so that replaying a log of revocations covers every
/// token still valid.
pub const LOG_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What [`EventBus::declare`] declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueSpec {
    /// A consumer's durable queue (and its dead-letter queue `{name}.dlq`), as
    /// [`EventBus::subscribe`] declares it.
    Queue { name: String, bindings: Vec<String> },
    /// A log, as [`EventBus::subscribe_log`] declares it (`name` is the log's name).
    Log { name: String, bindings: Vec<String> },
}

impl QueueSpec {
    pub fn queue(name: impl Into<String>, bindings: &[&str]) -> QueueSpec {
        QueueSpec::Queue {
            name: name.into(),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
        }
    }

    pub fn log(name: impl Into<String>, bindings: &[&str]) -> QueueSpec {
        QueueSpec::Log {
            name: name.into(),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            QueueSpec::Queue { name, .. } | QueueSpec::Log { name, .. } => name,
        }
    }

    pub fn bindings(&self) -> &[String] {
        match self {
            QueueSpec::Queue { bindings, .. } | QueueSpec::Log { bindings, .. } => bindings,
        }
    }
}

/// Queue names with this prefix are declared transient (see
/// [`EventBus::subscribe_broadcast`]).
pub const BROADCAST_PREFIX: &str = "broadcast.";

/// Builds the bus the settings ask for: an empty URL means the in-process bus,
/// anything else is a RabbitMQ URL.
pub async fn connect(
    amqp_url: &str,
    exchange: &str,
    prefetch: u16,
) -> anyhow::Result<Arc<dyn EventBus>> {
    if amqp_url.trim().is_empty() {
        tracing::info!("using the in-process event bus");
        Ok(Arc::new(MemoryBus::new()))
    } else {
        let bus = AmqpBus::connect(amqp_url, exchange, prefetch).await?;
        Ok(Arc::new(bus))
    }
}

/// What a consumer does with a delivery; implemented by each bus.
#[async_trait]
pub(crate) trait Settle: Send + Sync + 'static {
    async fn ack(self: Box<Self>);
    /// Whether [`Settle::ack`] also acknowledges every earlier delivery of the same
    /// subscription (RabbitMQ logs: a multiple ack; the acks are flow control only).
    fn ack_covers_earlier(&self) -> bool {
        false
    }
    async fn retry(self: Box<Self>, delay: Duration);
    async fn dead_letter(self: Box<Self>, body: &[u8], routing_key: &str, reason: &str);
}

/// One message taken from a subscription. Settle it with exactly one of
/// [`Delivery::ack`], [`Delivery::retry`] or [`Delivery::dead_letter`]; a delivery
/// dropped unsettled is redelivered (RabbitMQ: when its channel closes;
/// in-process: at once if the queue still has a consumer, otherwise the publish
/// fails and the outbox retries it).
pub struct Delivery {
    pub body: Vec<u8>,
    /// Whether this message was delivered before (and not acknowledged).
    pub redelivered: bool,
    /// The routing key it was published with (the event type).
    pub routing_key: String,
    /// The queue it came from.
    pub queue: String,
    settle: Box<dyn Settle>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("queue", &self.queue)
            .field("routing_key", &self.routing_key)
            .field("redelivered", &self.redelivered)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// How long [`Delivery::retry`] waits before the message is redelivered.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(200);

impl Delivery {
    pub(crate) fn new(
        body: Vec<u8>,
        redelivered: bool,
        routing_key: String,
        queue: String,
        settle: Box<dyn Settle>,
    ) -> Self {
        Delivery {
            body,
            redelivered,
            routing_key,
            queue,
            settle,
        }
    }

    /// Parses the body as an event envelope.
    pub fn envelope(&self) -> Result<Envelope, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// Done: the message is removed from the queue.
    pub async fn ack(self) {
        self.settle.ack().await
    }

    /// Acknowledges deliveries of one subscription, taken in this order: with one
    /// acknowledgement for all of them where the bus allows (a log on RabbitMQ),
    /// else one each.
    pub async fn ack_all(batch: Vec<Delivery>) {
        let covers = batch.last().is_some_and(|d| d.settle.ack_covers_earlier());
        if covers {
            if let Some(last) = batch.into_iter().last() {
                last.ack().await;
            }
        } else {
            for d in batch {
                d.ack().await;
            }
        }
    }

    /// Not now: the message is redelivered (with `redelivered = true`) after a
    /// short delay.
    pub async fn retry(self) {
        self.settle.retry(DEFAULT_RETRY_DELAY).await
    }

    /// Like [`Delivery::retry`] with a chosen delay (for backoff). The delay does
    /// not block the caller: the message is held and given back once it passed.
    pub async fn retry_after(self, delay: Duration) {
        self.settle.retry(delay).await
    }

    /// Never: the message goes to `{queue}.dlq` with `reason` in the
    /// `x-death-reason` header, and is removed from the queue.
    pub async fn dead_letter(self, reason: &str) {
        let Delivery {
            body,
            routing_key,
            settle,
            ..
        } = self;
        settle.dead_letter(&body, &routing_key, reason).await
    }
}

/// A message found in a dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub body: Vec<u8>,
    pub routing_key: String,
    pub reason: String,
}

/// What the task behind a log subscription sends: deliveries, and where the
/// subscription stands (in order with them).
pub(crate) enum LogItem {
    Delivery(Delivery),
    /// Every event the log held when the subscription (re)started has been handed
    /// out before this.
    CaughtUp,
    /// The subscription lost its connection; it is behind until caught up again.
    Behind,
}

enum Rx {
    Plain(mpsc::Receiver<Delivery>),
    Log(mpsc::Receiver<LogItem>),
}

/// The deliveries of one subscription. Dropping it stops consuming (unsettled
/// messages go back to the queue).
pub struct Subscription {
    rx: Rx,
    queue: String,
    /// See [`Subscription::caught_up`].
    caught_up: watch::Sender<bool>,
    _guard: Option<AbortOnDrop>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("queue", &self.queue)
            .finish()
    }
}

impl Subscription {
    pub(crate) fn new(
        queue: String,
        rx: mpsc::Receiver<Delivery>,
        task: Option<tokio::task::JoinHandle<()>>,
    ) -> Self {
        Subscription {
            rx: Rx::Plain(rx),
            queue,
            caught_up: watch::Sender::new(true),
            _guard: task.map(AbortOnDrop),
        }
    }

    /// A subscription whose task also says where it stands; a log starts behind.
    pub(crate) fn items(
        queue: String,
        rx: mpsc::Receiver<LogItem>,
        task: Option<tokio::task::JoinHandle<()>>,
        caught_up: bool,
    ) -> Self {
        Subscription {
            rx: Rx::Log(rx),
            queue,
            caught_up: watch::Sender::new(caught_up),
            _guard: task.map(AbortOnDrop),
        }
    }

    /// Whether this subscription has handed out (through [`Subscription::next`])
    /// every event its log held when it last (re)connected, and is connected now:
    /// `false` while a log is replayed and while its connection is down. It turns
    /// `true` only once the caller asked for the delivery after the last replayed
    /// one, so a caller that applies each delivery before asking for the next has
    /// applied them all by then. Always `true` for queues and for the in-process
    /// bus (which has no history).
    pub fn caught_up(&self) -> watch::Receiver<bool> {
        self.caught_up.subscribe()
    }

    fn note(&self, item: LogItem) -> Option<Delivery> {
        match item {
            LogItem::Delivery(d) => Some(d),
            LogItem::CaughtUp => {
                self.caught_up.send_replace(true);
                None
            }
            LogItem::Behind => {
                self.caught_up.send_replace(false);
                None
            }
        }
    }

    /// The next delivery; `None` once the subscription ended (the bus was closed).
    pub async fn next(&mut self) -> Option<Delivery> {
        loop {
            let item = match &mut self.rx {
                Rx::Plain(rx) => return rx.recv().await,
                Rx::Log(rx) => rx.recv().await,
            };
            match item {
                Some(item) => {
                    if let Some(d) = self.note(item) {
                        return Some(d);
                    }
                }
                None => {
                    self.caught_up.send_replace(false);
                    return None;
                }
            }
        }
    }

    /// The next delivery if one is already waiting (never waits).
    pub fn try_next(&mut self) -> Option<Delivery> {
        loop {
            let item = match &mut self.rx {
                Rx::Plain(rx) => return rx.try_recv().ok(),
                Rx::Log(rx) => rx.try_recv().ok()?,
            };
            if let Some(d) = self.note(item) {
                return Some(d);
            }
        }
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        loop {
            let polled = match &mut self.rx {
                Rx::Plain(rx) => return rx.poll_recv(cx),
                Rx::Log(rx) => rx.poll_recv(cx),
            };
            match polled {
                Poll::Ready(Some(item)) => {
                    if let Some(d) = self.note(item) {
                        return Poll::Ready(Some(d));
                    }
                }
                Poll::Ready(None) => {
                    self.caught_up.send_replace(false);
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) fn validate_queue(queue: &str) -> Result<(), BusError> {
    if queue.trim().is_empty() || queue.len() > 200 {
        return Err(BusError::Invalid(format!("bad queue name {queue:?}")));
    }
    Ok(())
}
