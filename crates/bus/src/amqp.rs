//! The RabbitMQ bus.
//!
//! Topology: one durable topic exchange (declared on every connect); each consumer
//! queue is durable, bound to the exchange with its patterns, and dead-letters to
//! `{queue}.dlq` (a durable queue on the default exchange), so that a rejected
//! message is never dropped. Consumers use manual acks and a bounded prefetch.
//! Publishing uses a channel in confirm mode and returns only once the broker
//! acked the message (persistent, delivery mode 2).
//!
//! A supervisor task owns the connection: when it fails it reconnects with
//! exponential backoff (capped at 5 s). While disconnected `publish` fails at once
//! (the outbox relay retries later) and subscriptions wait; once reconnected they
//! declare their topology again and resume consuming.
//!
//! The topology given to [`EventBus::declare`] (the platform's consumer queues and
//! logs) is declared on every connect before the connection is handed out, so no
//! publish can happen before the queues that must keep its event exist.
//!
//! Logs ([`EventBus::subscribe_log`]) are stream queues (`x-queue-type: stream`,
//! retention [`crate::LOG_RETENTION`]): each subscriber reads from the first
//! retained offset, and after a reconnect from the offset after the last one it
//! received.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::publisher_confirm::Confirmation;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{mpsc, watch, Notify};

use crate::{
    dead_letter_queue, validate_queue, BusError, DeadLetter, Delivery, Envelope, EventBus, LogItem,
    QueueSpec, Settle, Subscription, DEATH_REASON_HEADER, LOG_RETENTION,
    ORIGINAL_ROUTING_KEY_HEADER,
};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
const LIVENESS_CHECK: Duration = Duration::from_secs(1);
const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// Segment size of log streams: small, as retention drops whole segments.
const LOG_SEGMENT_BYTES: i64 = 1_000_000;
/// The header RabbitMQ puts on each message of a stream: its offset.
const STREAM_OFFSET: &str = "x-stream-offset";
/// The header of the marker a log subscriber appends to its log when it starts
/// consuming: once it reads its own marker, it has read everything before it.
const LOG_MARKER: &str = "x-idp-log-marker";
/// Prefetch of log consumers (a replay reads thousands of small events; the
/// acks of a stream are flow control only).
const LOG_PREFETCH: u16 = 2000;

/// What kind of queue a subscription reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Durable, with a dead-letter queue.
    Durable,
    /// One process's own: exclusive, auto-delete.
    Broadcast,
    /// A stream read from an offset.
    Log,
}

/// A queue with its bindings, as declared and consumed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    queue: String,
    bindings: Vec<String>,
    kind: Kind,
}

/// The RabbitMQ event bus. Clones share one connection; the connection closes
/// when the last clone is dropped (or on [`AmqpBus::close`]).
#[derive(Clone)]
pub struct AmqpBus {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

struct Shared {
    url: String,
    /// `host:port/vhost`, for messages (the URL may hold a password).
    target: String,
    exchange: String,
    prefetch: u16,
    state: watch::Sender<Option<Arc<Conn>>>,
    stop: watch::Sender<bool>,
    /// Set by the supervisor once it closed its last connection and ended.
    done: watch::Sender<bool>,
    /// Declared on every connect ([`EventBus::declare`]).
    topology: std::sync::Mutex<Vec<Target>>,
}

struct Conn {
    connection: Connection,
    publisher: Channel,
    /// Notified when this connection failed (by lapin, or by a publisher that saw
    /// its channel fail): the supervisor reconnects.
    failed: Arc<Notify>,
}

impl Conn {
    fn alive(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl Shared {
    fn current(&self) -> Option<Arc<Conn>> {
        self.state.borrow().clone()
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    async fn wait_stop(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// The current connection, waiting for one; `None` once the bus is closed.
    async fn wait_connection(&self) -> Option<Arc<Conn>> {
        let mut rx = self.state.subscribe();
        tokio::select! {
            r = rx.wait_for(|c| c.as_ref().is_some_and(|c| c.alive())) => r.ok().and_then(|c| c.clone()),
            _ = self.wait_stop() => None,
        }
    }

    async fn open(&self) -> Result<Arc<Conn>, BusError> {
        let props = ConnectionProperties::default()
            .with_executor(tokio_executor_trait::Tokio::current())
            .with_reactor(tokio_reactor_trait::Tokio)
            .with_connection_name(LongString::from(format!("idp-bus/{}", std::process::id())));
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(&self.url, props))
                .await
                .map_err(|_| unavailable(format!("timed out connecting to {}", self.target)))?
                .map_err(|e| unavailable(format!("cannot connect to {}: {e}", self.target)))?;
        let failed = Arc::new(Notify::new());
        let f = failed.clone();
        connection.on_error(move |e| {
            tracing::warn!(error = %e, "RabbitMQ connection failed");
            f.notify_one();
        });
        let publisher = op("opening a channel", connection.create_channel()).await?;
        op(
            "enabling publisher confirms",
            publisher.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        op(
            &format!("declaring exchange {}", self.exchange),
            publisher.exchange_declare(
                &self.exchange,
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            ),
        )
        .await?;
        let topology = self.topology();
        if !topology.is_empty() {
            self.declare_targets(&connection, &topology).await?;
        }
        Ok(Arc::new(Conn {
            connection,
            publisher,
            failed,
        }))
    }

    fn topology(&self) -> Vec<Target> {
        match self.topology.lock() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The queue name of the log `log`.
    fn log_queue(&self, log: &str) -> String {
        format!("{}.log.{log}", self.exchange)
    }

    fn target(&self, spec: &QueueSpec) -> Target {
        match spec {
            QueueSpec::Queue { name, bindings } => Target {
                queue: name.clone(),
                bindings: bindings.clone(),
                kind: if name.starts_with(crate::BROADCAST_PREFIX) {
                    Kind::Broadcast
                } else {
                    Kind::Durable
                },
            },
            QueueSpec::Log { name, bindings } => Target {
                queue: self.log_queue(name),
                bindings: bindings.clone(),
                kind: Kind::Log,
            },
        }
    }

    /// Declares `targets` on a channel of their own (a refused declaration closes
    /// its channel).
    async fn declare_targets(
        &self,
        connection: &Connection,
        targets: &[Target],
    ) -> Result<(), BusError> {
        let channel = op("opening a channel", connection.create_channel()).await?;
        let mut result = Ok(());
        for t in targets {
            if let Err(e) = self.declare_queue(&channel, t).await {
                result = Err(e);
                break;
            }
        }
        close_channel(&channel, "topology declared").await;
        if result.is_ok() {
            tracing::debug!(queues = targets.len(), "topology declared");
        }
        result
    }

    /// Keeps a connection up until the bus is closed.
    async fn supervise(self: Arc<Self>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            if self.stopped() {
                break;
            }
            let conn = match self.current() {
                Some(c) => c,
                None => match self.open().await {
                    Ok(c) => {
                        tracing::info!(target = %self.target, "connected to RabbitMQ");
                        backoff = MIN_BACKOFF;
                        self.state.send_replace(Some(c.clone()));
                        c
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "RabbitMQ unavailable");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = self.wait_stop() => break,
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                },
            };
            // Wait until it fails (or we are told so, or the bus closes).
            let mut stop = false;
            loop {
                tokio::select! {
                    _ = conn.failed.notified() => break,
                    _ = tokio::time::sleep(LIVENESS_CHECK) => {
                        if !conn.alive() { break; }
                    }
                    _ = self.wait_stop() => { stop = true; break; }
                }
            }
            self.state.send_replace(None);
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                conn.connection.close(200, "closing"),
            )
            .await;
            if stop {
                break;
            }
            tracing::warn!(target = %self.target, "lost the RabbitMQ connection; reconnecting");
        }
        self.state.send_replace(None);
        self.done.send_replace(true);
    }

    /// Declares `{queue}.dlq`, `queue` (dead-lettering to it) and the bindings; a
    /// broadcast queue transient; a log as a stream with retention.
    async fn declare_queue(&self, channel: &Channel, target: &Target) -> Result<(), BusError> {
        let queue = target.queue.as_str();
        let bindings = &target.bindings;
        if target.kind == Kind::Log {
            let mut args = FieldTable::default();
            args.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("stream".into()),
            );
            args.insert(
                "x-max-age".into(),
                AMQPValue::LongString(format!("{}s", LOG_RETENTION.as_secs()).into()),
            );
            args.insert(
                "x-stream-max-segment-size-bytes".into(),
                AMQPValue::LongLongInt(LOG_SEGMENT_BYTES),
            );
            let durable = QueueDeclareOptions {
                durable: true,
                ..Default::default()
            };
            op(
                &format!("declaring log {queue}"),
                channel.queue_declare(queue, durable, args),
            )
            .await?;
            return self.bind_all(channel, queue, bindings).await;
        }
        if target.kind == Kind::Broadcast {
            // One process's own copy of the stream: gone with its connection.
            let transient = QueueDeclareOptions {
                durable: false,
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            };
            op(
                &format!("declaring queue {queue}"),
                channel.queue_declare(queue, transient, FieldTable::default()),
            )
            .await?;
            return self.bind_all(channel, queue, bindings).await;
        }
        let dlq = dead_letter_queue(queue);
        let durable = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        op(
            &format!("declaring queue {dlq}"),
            channel.queue_declare(&dlq, durable, FieldTable::default()),
        )
        .await?;
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(dlq.as_str().into()),
        );
        op(
            &format!("declaring queue {queue}"),
            channel.queue_declare(queue, durable, args),
        )
        .await?;
        self.bind_all(channel, queue, bindings).await
    }

    async fn bind_all(
        &self,
        channel: &Channel,
        queue: &str,
        bindings: &[String],
    ) -> Result<(), BusError> {
        for b in bindings {
            op(
                &format!("binding {queue} to {b}"),
                channel.queue_bind(
                    queue,
                    &self.exchange,
                    b,
                    QueueBindOptions::default(),
                    FieldTable::default(),
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Declares `target` and consumes it; a log from `offset` (else its first
    /// retained message).
    async fn start_consumer(
        &self,
        conn: &Conn,
        target: &Target,
        offset: Option<i64>,
    ) -> Result<(Channel, lapin::Consumer), BusError> {
        let queue = target.queue.as_str();
        let channel = op("opening a channel", conn.connection.create_channel()).await?;
        let prefetch = if target.kind == Kind::Log {
            LOG_PREFETCH
        } else {
            self.prefetch.max(1)
        };
        op(
            "setting the prefetch",
            channel.basic_qos(prefetch, BasicQosOptions::default()),
        )
        .await?;
        self.declare_queue(&channel, target).await?;
        let tag = format!("idp-{}-{}", queue, uuid::Uuid::new_v4().simple());
        let mut args = FieldTable::default();
        if target.kind == Kind::Log {
            let from = match offset {
                Some(n) => AMQPValue::LongLongInt(n),
                None => AMQPValue::LongString("first".into()),
            };
            args.insert(STREAM_OFFSET.into(), from);
        }
        let consumer = op(
            &format!("consuming {queue}"),
            channel.basic_consume(queue, &tag, BasicConsumeOptions::default(), args),
        )
        .await?;
        Ok((channel, consumer))
    }

    /// Appends a marker to the log `queue` (through the default exchange, so it
    /// reaches that stream alone): the consumer that reads it back has read
    /// everything the log held before.
    async fn publish_marker(&self, queue: &str, marker: &str) -> Result<(), BusError> {
        let mut headers = FieldTable::default();
        headers.insert(LOG_MARKER.into(), AMQPValue::LongString(marker.into()));
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(headers);
        self.publish_raw("", queue, true, b"{}", props).await
    }

    /// Forwards deliveries of `queue` to `tx` across reconnects, until the
    /// subscription is dropped or the bus closed. A log also reports where it
    /// stands: caught up once it read back the marker it appended on (re)start,
    /// behind when its consumer failed.
    async fn consume(
        self: Arc<Self>,
        target: Target,
        tx: mpsc::Sender<LogItem>,
        mut first: Option<(Channel, lapin::Consumer)>,
    ) {
        let queue = target.queue.clone();
        let is_log = target.kind == Kind::Log;
        let mut backoff = MIN_BACKOFF;
        // Logs: the offset to resume from after a reconnect.
        let mut next_offset: Option<i64> = None;
        loop {
            let (channel, mut consumer) = match first.take() {
                Some(x) => x,
                None => {
                    let conn = tokio::select! {
                        c = self.wait_connection() => match c { Some(c) => c, None => return },
                        _ = tx.closed() => return,
                    };
                    match self.start_consumer(&conn, &target, next_offset).await {
                        Ok(x) => {
                            tracing::info!(queue = %queue, "consuming again after reconnect");
                            backoff = MIN_BACKOFF;
                            x
                        }
                        Err(e) => {
                            tracing::warn!(queue = %queue, error = %e, "cannot consume yet");
                            tokio::select! {
                                _ = tokio::time::sleep(backoff) => {}
                                _ = tx.closed() => return,
                            }
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    }
                }
            };
            let marker = if is_log {
                let m = uuid::Uuid::new_v4().simple().to_string();
                match self.publish_marker(&queue, &m).await {
                    Ok(()) => Some(m),
                    Err(e) => {
                        tracing::warn!(queue = %queue, error = %e, "cannot mark the log; consuming again");
                        close_channel(&channel, "restarting consumer").await;
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = tx.closed() => return,
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            } else {
                None
            };
            loop {
                tokio::select! {
                    _ = tx.closed() => {
                        close_channel(&channel, "subscription dropped").await;
                        return;
                    }
                    _ = self.wait_stop() => {
                        close_channel(&channel, "bus closed").await;
                        return;
                    }
                    item = consumer.next() => match item {
                        Some(Ok(d)) => {
                            let headers = d.properties.headers().as_ref();
                            if is_log {
                                if let Some(n) = header_offset(headers) {
                                    next_offset = Some(n.saturating_add(1));
                                }
                                if let Some(m) = header_string(headers, LOG_MARKER) {
                                    // A marker (ours or another reader's): not an event.
                                    ack(&channel, &d.acker, &queue).await;
                                    if marker.as_deref() == Some(m.as_str())
                                        && tx.send(LogItem::CaughtUp).await.is_err()
                                    {
                                        close_channel(&channel, "subscription dropped").await;
                                        return;
                                    }
                                    continue;
                                }
                            }
                            let delivery = self.clone().delivery(d, &channel, &queue, is_log);
                            if tx.send(LogItem::Delivery(delivery)).await.is_err() {
                                close_channel(&channel, "subscription dropped").await;
                                return;
                            }
                        }
                        Some(Err(e)) => {
                            tracing::warn!(queue = %queue, error = %e, "consumer failed");
                            break;
                        }
                        None => {
                            tracing::warn!(queue = %queue, "consumer ended");
                            break;
                        }
                    }
                }
            }
            if is_log && tx.send(LogItem::Behind).await.is_err() {
                close_channel(&channel, "subscription dropped").await;
                return;
            }
            close_channel(&channel, "restarting consumer").await;
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = tx.closed() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn delivery(
        self: Arc<Self>,
        d: lapin::message::Delivery,
        channel: &Channel,
        queue: &str,
        multiple: bool,
    ) -> Delivery {
        let lapin::message::Delivery {
            data,
            redelivered,
            routing_key,
            properties,
            acker,
            ..
        } = d;
        Delivery::new(
            data,
            redelivered,
            routing_key.as_str().to_string(),
            queue.to_string(),
            Box::new(AmqpSettle {
                acker,
                channel: channel.clone(),
                shared: self,
                queue: queue.to_string(),
                headers: properties.headers().clone(),
                multiple,
            }),
        )
    }

    async fn publish_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        body: &[u8],
        props: BasicProperties,
    ) -> Result<(), BusError> {
        let conn = self
            .current()
            .ok_or_else(|| unavailable(format!("not connected to RabbitMQ at {}", self.target)))?;
        let result = tokio::time::timeout(CONFIRM_TIMEOUT, async {
            conn.publisher
                .basic_publish(
                    exchange,
                    routing_key,
                    BasicPublishOptions {
                        mandatory,
                        ..Default::default()
                    },
                    body,
                    props,
                )
                .await?
                .await
        })
        .await;
        settled(&conn, routing_key, result)
    }

    /// Sends every message, in order, then waits for their confirms: answers how
    /// many, from the first, the broker confirmed, and the error that ended the
    /// count.
    async fn publish_pipelined(
        &self,
        exchange: &str,
        messages: Vec<(String, Vec<u8>, BasicProperties)>,
    ) -> (usize, Option<BusError>) {
        let Some(conn) = self.current() else {
            return (
                0,
                Some(unavailable(format!(
                    "not connected to RabbitMQ at {}",
                    self.target
                ))),
            );
        };
        let deadline = tokio::time::Instant::now() + CONFIRM_TIMEOUT;
        let mut pending = Vec::with_capacity(messages.len());
        let mut send_error = None;
        for (routing_key, body, props) in messages {
            let sent = tokio::time::timeout_at(
                deadline,
                conn.publisher.basic_publish(
                    exchange,
                    &routing_key,
                    BasicPublishOptions::default(),
                    &body,
                    props,
                ),
            )
            .await;
            match sent {
                Ok(Ok(confirm)) => pending.push((routing_key, confirm)),
                Ok(Err(e)) => {
                    if !conn.alive() {
                        conn.failed.notify_one();
                    }
                    send_error = Some(unavailable(format!("publish failed: {e}")));
                    break;
                }
                Err(_) => {
                    conn.failed.notify_one();
                    send_error = Some(unavailable("timed out sending to the broker"));
                    break;
                }
            }
        }
        let mut taken = 0;
        for (routing_key, confirm) in pending {
            let outcome = tokio::time::timeout_at(deadline, confirm).await;
            if let Err(e) = settled(&conn, &routing_key, outcome) {
                return (taken, Some(e));
            }
            taken += 1;
        }
        (taken, send_error)
    }
}

/// The body and properties an event is published with (persistent).
fn message_of(event: &Envelope) -> Result<(Vec<u8>, BasicProperties), BusError> {
    let body = serde_json::to_vec(event)?;
    let mut headers = FieldTable::default();
    if let Some(org) = event.organization_id {
        headers.insert(
            "x-organization-id".into(),
            AMQPValue::LongString(org.to_string().into()),
        );
    }
    let props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(ShortString::from(event.id.to_string()))
        .with_type(ShortString::from(event.kind.as_str()))
        .with_app_id(ShortString::from(event.source.as_str()))
        .with_timestamp(event.occurred_at.unix_timestamp().max(0) as u64)
        .with_headers(headers);
    Ok((body, props))
}

/// What a publish came to: its confirm, a channel error (the connection is
/// reported failed when it died) or no confirm in time (reported failed too).
fn settled(
    conn: &Conn,
    routing_key: &str,
    result: Result<Result<Confirmation, lapin::Error>, tokio::time::error::Elapsed>,
) -> Result<(), BusError> {
    match result {
        Ok(Ok(confirmation)) => confirmed(routing_key, confirmation),
        Ok(Err(e)) => {
            if !conn.alive() {
                conn.failed.notify_one();
            }
            Err(unavailable(format!("publish failed: {e}")))
        }
        Err(_) => {
            conn.failed.notify_one();
            Err(unavailable("timed out waiting for the publisher confirm"))
        }
    }
}

/// What a publisher confirm means for the publish.
fn confirmed(routing_key: &str, confirmation: Confirmation) -> Result<(), BusError> {
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => Err(BusError::Rejected(format!(
            "message to {routing_key:?} was unroutable"
        ))),
        Confirmation::Nack(_) => Err(BusError::Rejected("the broker nacked the message".into())),
        Confirmation::NotRequested => Err(BusError::Rejected(
            "publisher confirms are not enabled".into(),
        )),
    }
}

struct AmqpSettle {
    acker: lapin::acker::Acker,
    /// The channel it came on: acks on a closed channel are pointless (the
    /// broker redelivers) and lapin may never answer them.
    channel: Channel,
    shared: Arc<Shared>,
    queue: String,
    headers: Option<FieldTable>,
    /// A log's delivery: its ack acknowledges the earlier ones too.
    multiple: bool,
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(self: Box<Self>) {
        // If the channel is gone the broker redelivers it; consumers dedupe.
        if self.multiple {
            ack_multiple(&self.channel, &self.acker, &self.queue).await
        } else {
            ack(&self.channel, &self.acker, &self.queue).await
        }
    }

    fn ack_covers_earlier(&self) -> bool {
        self.multiple
    }

    async fn retry(self: Box<Self>, delay: Duration) {
        let AmqpSettle {
            acker,
            channel,
            queue,
            ..
        } = *self;
        let requeue = async move {
            if !channel.status().connected() {
                return; // redelivered anyway
            }
            let nack = acker.nack(BasicNackOptions {
                requeue: true,
                multiple: false,
            });
            match tokio::time::timeout(OP_TIMEOUT, nack).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(queue = %queue, error = %e, "requeue failed"),
                Err(_) => tracing::warn!(queue = %queue, "requeue timed out"),
            }
        };
        if delay.is_zero() {
            requeue.await;
        } else {
            // Hold the message (it stays unacked) for the delay without blocking
            // the consumer; if the channel closes meanwhile it is redelivered anyway.
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                requeue.await;
            });
        }
    }

    async fn dead_letter(self: Box<Self>, body: &[u8], routing_key: &str, reason: &str) {
        let dlq = dead_letter_queue(&self.queue);
        tracing::warn!(queue = %self.queue, dlq = %dlq, routing_key, reason, "message dead-lettered");
        let mut headers = self.headers.clone().unwrap_or_default();
        headers.insert(
            DEATH_REASON_HEADER.into(),
            AMQPValue::LongString(truncate(reason, 4000).into()),
        );
        headers.insert(
            ORIGINAL_ROUTING_KEY_HEADER.into(),
            AMQPValue::LongString(routing_key.into()),
        );
        let props = BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_type("application/json".into())
            .with_headers(headers);
        match self.shared.publish_raw("", &dlq, true, body, props).await {
            Ok(()) => ack(&self.channel, &self.acker, &self.queue).await,
            Err(e) => {
                // Fall back on the queue's own dead-lettering (the reason is lost,
                // the message is not).
                tracing::warn!(queue = %self.queue, error = %e, "publishing to the DLQ failed; rejecting instead");
                if !self.channel.status().connected() {
                    return; // redelivered anyway
                }
                let reject = self.acker.reject(BasicRejectOptions { requeue: false });
                match tokio::time::timeout(OP_TIMEOUT, reject).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(queue = %self.queue, error = %e, "reject failed"),
                    Err(_) => tracing::warn!(queue = %self.queue, "reject timed out"),
                }
            }
        }
    }
}

async fn ack(channel: &Channel, acker: &lapin::acker::Acker, queue: &str) {
    if !channel.status().connected() {
        tracing::warn!(
            queue,
            "channel closed before the ack; the broker will redeliver"
        );
        return;
    }
    match tokio::time::timeout(OP_TIMEOUT, acker.ack(BasicAckOptions::default())).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(queue, error = %e, "ack failed; the broker will redeliver"),
        Err(_) => tracing::warn!(queue, "ack timed out; the broker will redeliver"),
    }
}

/// Acknowledges a delivery and every earlier one of its channel.
async fn ack_multiple(channel: &Channel, acker: &lapin::acker::Acker, queue: &str) {
    if !channel.status().connected() {
        return;
    }
    let multiple = BasicAckOptions { multiple: true };
    match tokio::time::timeout(OP_TIMEOUT, acker.ack(multiple)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(queue, error = %e, "ack failed"),
        Err(_) => tracing::warn!(queue, "ack timed out"),
    }
}

/// Closes a channel without waiting long on a dead connection.
async fn close_channel(channel: &Channel, reason: &str) {
    if channel.status().connected() {
        let _ = tokio::time::timeout(Duration::from_secs(2), channel.close(200, reason)).await;
    }
}

/// Runs a broker operation with a deadline (lapin may never answer on a
/// connection that died silently).
async fn op<T>(
    what: &str,
    f: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, BusError> {
    match tokio::time::timeout(OP_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(BusError::Rejected(format!("{what}: {e}"))),
        Err(_) => Err(unavailable(format!("{what}: timed out"))),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn header_offset(headers: Option<&FieldTable>) -> Option<i64> {
    match headers?.inner().get(STREAM_OFFSET)? {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        AMQPValue::Timestamp(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

fn header_string(headers: Option<&FieldTable>, name: &str) -> Option<String> {
    match headers?.inner().get(name)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

impl AmqpBus {
    /// Connects to RabbitMQ at `url` and declares the durable topic exchange.
    ///
    /// An invalid URL is an error. A broker that cannot be reached is not: the
    /// first attempt's failure is logged, the bus keeps reconnecting in the
    /// background and reports itself unhealthy meanwhile (publish fails, so the
    /// outbox keeps events until it is back). Use [`AmqpBus::wait_connected`] to
    /// require a connection.
    pub async fn connect(url: &str, exchange: &str, prefetch: u16) -> anyhow::Result<AmqpBus> {
        let uri = lapin::uri::AMQPUri::from_str(url)
            .map_err(|e| anyhow::anyhow!("invalid AMQP URL: {e}"))?;
        if exchange.trim().is_empty() {
            anyhow::bail!("the exchange name must not be empty");
        }
        let target = format!(
            "{}:{}/{}",
            uri.authority.host, uri.authority.port, uri.vhost
        );
        let (state, _) = watch::channel(None);
        let (stop, _) = watch::channel(false);
        let (done, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            url: url.to_string(),
            target,
            exchange: exchange.to_string(),
            prefetch,
            state,
            stop,
            done,
            topology: std::sync::Mutex::new(Vec::new()),
        });
        match shared.open().await {
            Ok(conn) => {
                tracing::info!(target = %shared.target, exchange, "connected to RabbitMQ");
                shared.state.send_replace(Some(conn));
            }
            Err(e) => {
                tracing::warn!(error = %e, "RabbitMQ not reachable yet; will keep trying");
            }
        }
        tokio::spawn(shared.clone().supervise());
        Ok(AmqpBus {
            _owner: Arc::new(Owner {
                shared: shared.clone(),
            }),
            shared,
        })
    }

    /// Waits until connected, at most `timeout`.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), BusError> {
        match tokio::time::timeout(timeout, self.shared.wait_connection()).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(unavailable("the bus is closed")),
            Err(_) => Err(unavailable(format!(
                "not connected to RabbitMQ at {} after {timeout:?}",
                self.shared.target
            ))),
        }
    }

    pub fn exchange(&self) -> &str {
        &self.shared.exchange
    }

    /// The queue that holds the log `log` ([`EventBus::subscribe_log`]).
    pub fn log_queue(&self, log: &str) -> String {
        self.shared.log_queue(log)
    }

    /// How many messages are ready in `queue` (tests, operators); an error when
    /// it does not exist.
    pub async fn queue_depth(&self, queue: &str) -> Result<u32, BusError> {
        let (_conn, ch) = self.admin_channel().await?;
        let declared = op(
            &format!("inspecting {queue}"),
            ch.queue_declare(
                queue,
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            ),
        )
        .await;
        close_channel(&ch, "done").await;
        Ok(declared?.message_count())
    }

    /// Closes the connection; publishing fails and subscriptions end afterwards.
    /// Does not wait: see [`EventBus::shutdown`].
    pub fn close(&self) {
        self.shared.stop.send_replace(true);
    }

    /// Whether the connection was closed for good (after [`AmqpBus::close`]).
    pub fn is_closed(&self) -> bool {
        *self.shared.done.borrow()
    }

    /// Declares and consumes `target` (now when connected, so the bindings exist
    /// when this returns and a mistake such as a queue declared with other
    /// arguments shows here; otherwise once connected).
    async fn consume(&self, target: Target) -> Result<Subscription, BusError> {
        let first = match self.shared.current() {
            Some(conn) if conn.alive() => {
                Some(self.shared.start_consumer(&conn, &target, None).await?)
            }
            _ => {
                tracing::warn!(
                    queue = %target.queue,
                    "not connected to RabbitMQ; will subscribe once connected"
                );
                None
            }
        };
        let is_log = target.kind == Kind::Log;
        let capacity = if is_log {
            LOG_PREFETCH
        } else {
            self.shared.prefetch.max(1)
        };
        let (tx, rx) = mpsc::channel(usize::from(capacity));
        let queue = target.queue.clone();
        let task = tokio::spawn(self.shared.clone().consume(target, tx, first));
        Ok(Subscription::items(queue, rx, Some(task), !is_log))
    }

    async fn admin_channel(&self) -> Result<(Arc<Conn>, Channel), BusError> {
        let conn = self
            .shared
            .current()
            .ok_or_else(|| unavailable("not connected to RabbitMQ"))?;
        let ch = op("opening a channel", conn.connection.create_channel()).await?;
        Ok((conn, ch))
    }

    /// Drops the current connection as if the broker had gone away (tests of the
    /// reconnect path). The supervisor reconnects with backoff.
    #[doc(hidden)]
    pub async fn force_disconnect(&self) {
        if let Some(conn) = self.shared.current() {
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                conn.connection.close(320, "forced disconnect"),
            )
            .await;
            conn.failed.notify_one();
        }
    }

    /// Publishes a raw body to the exchange under `routing_key`, confirmed (tests
    /// of malformed messages, tools).
    pub async fn publish_bytes(&self, routing_key: &str, body: &[u8]) -> Result<(), BusError> {
        let props = BasicProperties::default().with_delivery_mode(2);
        self.shared
            .publish_raw(&self.shared.exchange, routing_key, false, body, props)
            .await
    }

    /// Removes and returns up to `max` messages of the dead-letter queue of
    /// `queue` (for tests and operators).
    pub async fn take_dead_letters(
        &self,
        queue: &str,
        max: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        let (_conn, ch) = self.admin_channel().await?;
        let dlq = dead_letter_queue(queue);
        let mut out = Vec::new();
        while out.len() < max {
            let msg = op(
                &format!("reading {dlq}"),
                ch.basic_get(&dlq, BasicGetOptions { no_ack: true }),
            )
            .await?;
            let Some(msg) = msg else { break };
            let d = msg.delivery;
            let headers = d.properties.headers().as_ref();
            out.push(DeadLetter {
                reason: header_string(headers, DEATH_REASON_HEADER).unwrap_or_default(),
                routing_key: header_string(headers, ORIGINAL_ROUTING_KEY_HEADER)
                    .unwrap_or_else(|| d.routing_key.as_str().to_string()),
                body: d.data,
            });
        }
        close_channel(&ch, "done").await;
        Ok(out)
    }

    /// Deletes `queue` and its dead-letter queue (tests, decommissioning).
    pub async fn delete_queue(&self, queue: &str) -> Result<(), BusError> {
        let (_conn, ch) = self.admin_channel().await?;
        for q in [queue.to_string(), dead_letter_queue(queue)] {
            op(
                &format!("deleting {q}"),
                ch.queue_delete(&q, QueueDeleteOptions::default()),
            )
            .await?;
        }
        close_channel(&ch, "done").await;
        Ok(())
    }

    /// Deletes the exchange (tests).
    pub async fn delete_exchange(&self) -> Result<(), BusError> {
        let (_conn, ch) = self.admin_channel().await?;
        op(
            "deleting the exchange",
            ch.exchange_delete(&self.shared.exchange, ExchangeDeleteOptions::default()),
        )
        .await?;
        close_channel(&ch, "done").await;
        Ok(())
    }
}

#[async_trait]
impl EventBus for AmqpBus {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        let (body, props) = message_of(event)?;
        self.shared
            .publish_raw(&self.shared.exchange, &event.kind, false, &body, props)
            .await
    }

    async fn publish_batch(&self, events: &[Envelope]) -> (usize, Option<BusError>) {
        let mut messages = Vec::with_capacity(events.len());
        for event in events {
            match message_of(event) {
                Ok((body, props)) => messages.push((event.kind.clone(), body, props)),
                Err(e) => {
                    // Publish what comes before it; the caller stops there.
                    let (n, err) = self
                        .shared
                        .publish_pipelined(&self.shared.exchange, messages)
                        .await;
                    return (n, Some(err.unwrap_or(e)));
                }
            }
        }
        self.shared
            .publish_pipelined(&self.shared.exchange, messages)
            .await
    }

    async fn subscribe(&self, queue: &str, bindings: &[&str]) -> Result<Subscription, BusError> {
        validate_queue(queue)?;
        let target = self.shared.target(&QueueSpec::queue(queue, bindings));
        self.consume(target).await
    }

    async fn declare(&self, topology: &[QueueSpec]) -> Result<(), BusError> {
        for spec in topology {
            validate_queue(spec.name())?;
        }
        let targets: Vec<Target> = topology.iter().map(|s| self.shared.target(s)).collect();
        // Remembered first, so that a reconnect from now on declares them too
        // (once each: every service of an embedded platform declares the same).
        {
            let mut known = match self.shared.topology.lock() {
                Ok(t) => t,
                Err(p) => p.into_inner(),
            };
            for t in &targets {
                if !known.contains(t) {
                    known.push(t.clone());
                }
            }
        }
        match self.shared.current() {
            Some(conn) if conn.alive() => {
                self.shared
                    .declare_targets(&conn.connection, &targets)
                    .await
            }
            _ => {
                tracing::warn!("not connected to RabbitMQ; the topology is declared on connect");
                Ok(())
            }
        }
    }

    async fn subscribe_log(&self, log: &str, bindings: &[&str]) -> Result<Subscription, BusError> {
        validate_queue(log)?;
        let target = self.shared.target(&QueueSpec::log(log, bindings));
        self.consume(target).await
    }

    /// Stops the supervisor and waits (at most a few seconds) until it closed the
    /// connection. Before, a process that returned from `main` right after its
    /// server stopped dropped the bus with the runtime: lapin's connection closed
    /// while the runtime was shutting down, and lapin logged errors ("A Tokio 1.x
    /// context was found, but it is being shutdown") on every clean stop.
    async fn shutdown(&self) {
        self.shared.stop.send_replace(true);
        let mut done = self.shared.done.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(5), done.wait_for(|d| *d)).await;
    }

    async fn health(&self) -> Result<(), String> {
        match self.shared.current() {
            Some(c) if c.alive() => Ok(()),
            _ => Err(format!(
                "not connected to RabbitMQ at {}",
                self.shared.target
            )),
        }
    }
}
