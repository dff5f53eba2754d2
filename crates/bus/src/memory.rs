//! The in-process bus of the embedded default.
//!
//! It has no broker to hold messages, so it gives the same guarantee another way:
//! `publish` returns only once every queue whose bindings match has had the event
//! acknowledged (or dead-lettered) by one of its consumers. An outbox relay
//! therefore marks an event sent only after its consumers applied it; if the
//! process dies first the outbox row stays unsent and is published again on
//! restart (consumers dedupe by event id).
//!
//! Queues exist while they have a live consumer: a queue whose subscriptions were
//! all dropped counts as not bound, so a publish never waits for a consumer that is
//! gone. A delivery dropped unsettled is redelivered to another consumer of its
//! queue; when none is left the publish fails (the outbox retries it later).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::{
    topic_matches, validate_queue, BusError, DeadLetter, Delivery, Envelope, EventBus, Settle,
    Subscription,
};

/// How many deliveries a subscription buffers before a publish waits.
const SUBSCRIPTION_BUFFER: usize = 64;
/// How many dead letters each queue keeps (the oldest are dropped, after logging).
const DEAD_LETTER_CAPACITY: usize = 1000;

/// The in-process event bus. Clones share the same queues.
#[derive(Clone, Default)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    queues: Mutex<HashMap<String, Arc<Queue>>>,
    dead: Mutex<HashMap<String, VecDeque<DeadLetter>>>,
}

struct Queue {
    name: String,
    bindings: Mutex<Vec<String>>,
    consumers: Mutex<Vec<mpsc::Sender<Delivery>>>,
    next: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Queue {
    fn matches(&self, key: &str) -> bool {
        lock(&self.bindings).iter().any(|b| topic_matches(b, key))
    }

    /// A live consumer, round robin; forgets the ones that are gone.
    fn pick(&self) -> Option<mpsc::Sender<Delivery>> {
        let mut consumers = lock(&self.consumers);
        consumers.retain(|c| !c.is_closed());
        if consumers.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % consumers.len();
        consumers.get(i).cloned()
    }

    fn has_consumer(&self) -> bool {
        lock(&self.consumers).iter().any(|c| !c.is_closed())
    }
}

enum Outcome {
    Done,
    Retry(Duration),
}

struct MemorySettle {
    tx: oneshot::Sender<Outcome>,
    inner: Arc<Inner>,
    queue: String,
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(self: Box<Self>) {
        let _ = self.tx.send(Outcome::Done);
    }

    async fn retry(self: Box<Self>, delay: Duration) {
        let _ = self.tx.send(Outcome::Retry(delay));
    }

    async fn dead_letter(self: Box<Self>, body: &[u8], routing_key: &str, reason: &str) {
        let dlq = crate::dead_letter_queue(&self.queue);
        tracing::warn!(queue = %self.queue, dlq = %dlq, routing_key, reason, "message dead-lettered");
        {
            let mut dead = lock(&self.inner.dead);
            let q = dead.entry(dlq).or_default();
            if q.len() >= DEAD_LETTER_CAPACITY {
                q.pop_front();
            }
            q.push_back(DeadLetter {
                body: body.to_vec(),
                routing_key: routing_key.to_string(),
                reason: reason.to_string(),
            });
        }
        let _ = self.tx.send(Outcome::Done);
    }
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes and returns up to `max` messages of the dead-letter queue of `queue`
    /// (for tests and operators).
    pub async fn take_dead_letters(
        &self,
        queue: &str,
        max: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        let mut dead = lock(&self.inner.dead);
        let Some(q) = dead.get_mut(&crate::dead_letter_queue(queue)) else {
            return Ok(Vec::new());
        };
        let n = max.min(q.len());
        Ok(q.drain(..n).collect())
    }

    /// Publishes a raw body under `routing_key` (tests of malformed messages),
    /// with the same waiting as [`EventBus::publish`].
    pub async fn publish_bytes(&self, routing_key: &str, body: &[u8]) -> Result<(), BusError> {
        let queues = self.matching_queues(routing_key);
        let results = futures::future::join_all(
            queues
                .into_iter()
                .map(|q| self.deliver(q, body.to_vec(), routing_key.to_string())),
        )
        .await;
        results.into_iter().collect::<Result<Vec<()>, BusError>>()?;
        Ok(())
    }

    fn matching_queues(&self, key: &str) -> Vec<Arc<Queue>> {
        let mut queues = lock(&self.inner.queues);
        // Forget queues nobody consumes any more.
        queues.retain(|_, q| q.has_consumer());
        queues
            .values()
            .filter(|q| q.matches(key))
            .cloned()
            .collect()
    }

    async fn deliver(&self, queue: Arc<Queue>, body: Vec<u8>, key: String) -> Result<(), BusError> {
        let mut redelivered = false;
        loop {
            let Some(consumer) = queue.pick() else {
                if redelivered {
                    return Err(BusError::Unavailable(format!(
                        "the consumers of queue {} went away before settling the event",
                        queue.name
                    )));
                }
                // Nobody consumes this queue (any more): not bound.
                return Ok(());
            };
            let (tx, rx) = oneshot::channel();
            let delivery = Delivery::new(
                body.clone(),
                redelivered,
                key.clone(),
                queue.name.clone(),
                Box::new(MemorySettle {
                    tx,
                    inner: self.inner.clone(),
                    queue: queue.name.clone(),
                }),
            );
            if consumer.send(delivery).await.is_err() {
                // That consumer is gone between pick and send; it never saw it.
                continue;
            }
            match rx.await {
                Ok(Outcome::Done) => return Ok(()),
                Ok(Outcome::Retry(delay)) => {
                    tokio::time::sleep(delay).await;
                    redelivered = true;
                }
                Err(_) => {
                    // Dropped unsettled (consumer stopped): give it to another one.
                    tracing::debug!(queue = %queue.name, routing_key = %key, "delivery dropped unsettled; redelivering");
                    redelivered = true;
                }
            }
        }
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        let body = serde_json::to_vec(event)?;
        self.publish_bytes(&event.kind, &body).await
    }

    async fn subscribe(&self, queue: &str, bindings: &[&str]) -> Result<Subscription, BusError> {
        validate_queue(queue)?;
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_BUFFER);
        let mut queues = lock(&self.inner.queues);
        let q = queues
            .entry(queue.to_string())
            .or_insert_with(|| {
                Arc::new(Queue {
                    name: queue.to_string(),
                    bindings: Mutex::new(Vec::new()),
                    consumers: Mutex::new(Vec::new()),
                    next: AtomicUsize::new(0),
                })
            })
            .clone();
        drop(queues);
        {
            let mut b = lock(&q.bindings);
            for binding in bindings {
                if !b.iter().any(|x| x == binding) {
                    b.push(binding.to_string());
                }
            }
        }
        lock(&q.consumers).push(tx);
        Ok(Subscription::new(queue.to_string(), rx, None))
    }

    async fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;

    use super::*;
    use idp_model::events::types;

    fn event(kind: &str) -> Envelope {
        Envelope::new(
            kind,
            "test",
            None,
            serde_json::json!({"n": 1}),
            time::OffsetDateTime::now_utc(),
        )
    }

    #[tokio::test]
    async fn publish_without_subscriber_returns_at_once() {
        let bus = MemoryBus::new();
        tokio::time::timeout(
            Duration::from_millis(200),
            bus.publish(&event(types::IDENTITY_CREATED)),
        )
        .await
        .expect("publish did not wait")
        .unwrap();

        // A subscription that does not match does not hold it either.
        let _sub = bus.subscribe("q", &["grant.*"]).await.unwrap();
        tokio::time::timeout(
            Duration::from_millis(200),
            bus.publish(&event(types::IDENTITY_CREATED)),
        )
        .await
        .expect("publish did not wait")
        .unwrap();
    }

    #[tokio::test]
    async fn publish_waits_for_the_ack() {
        let bus = MemoryBus::new();
        let mut sub = bus.subscribe("q", &["identity.*"]).await.unwrap();
        let acked = Arc::new(AtomicBool::new(false));
        let acked2 = acked.clone();
        let consumer = tokio::spawn(async move {
            let d = sub.next().await.unwrap();
            assert!(!d.redelivered);
            assert_eq!(d.routing_key, types::IDENTITY_CREATED);
            assert_eq!(d.envelope().unwrap().kind, types::IDENTITY_CREATED);
            tokio::time::sleep(Duration::from_millis(150)).await;
            acked2.store(true, Ordering::SeqCst);
            d.ack().await;
            sub
        });
        let started = Instant::now();
        bus.publish(&event(types::IDENTITY_CREATED)).await.unwrap();
        assert!(
            acked.load(Ordering::SeqCst),
            "publish returned before the ack"
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
        consumer.await.unwrap();
    }

    #[tokio::test]
    async fn every_matching_queue_must_settle() {
        let bus = MemoryBus::new();
        let mut a = bus.subscribe("a", &["#"]).await.unwrap();
        let mut b = bus.subscribe("b", &["identity.created"]).await.unwrap();
        let pub_bus = bus.clone();
        let publish =
            tokio::spawn(async move { pub_bus.publish(&event(types::IDENTITY_CREATED)).await });
        a.next().await.unwrap().ack().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!publish.is_finished(), "publish must wait for queue b too");
        b.next().await.unwrap().ack().await;
        publish.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn retry_redelivers_after_a_delay() {
        let bus = MemoryBus::new();
        let mut sub = bus.subscribe("q", &["#"]).await.unwrap();
        let pub_bus = bus.clone();
        let publish =
            tokio::spawn(async move { pub_bus.publish(&event(types::GRANT_CREATED)).await });
        let first = sub.next().await.unwrap();
        assert!(!first.redelivered);
        let body = first.body.clone();
        let t = Instant::now();
        first.retry().await;
        let second = tokio::time::timeout(Duration::from_secs(2), sub.next())
            .await
            .unwrap()
            .unwrap();
        assert!(t.elapsed() >= crate::DEFAULT_RETRY_DELAY / 2);
        assert!(second.redelivered);
        assert_eq!(second.body, body);
        assert!(!publish.is_finished());
        second.ack().await;
        publish.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn dead_letter_settles_and_keeps_the_reason() {
        let bus = MemoryBus::new();
        let mut sub = bus.subscribe("q", &["#"]).await.unwrap();
        let pub_bus = bus.clone();
        let e = event(types::GRANT_REVOKED);
        let e2 = e.clone();
        let publish = tokio::spawn(async move { pub_bus.publish(&e2).await });
        sub.next()
            .await
            .unwrap()
            .dead_letter("malformed: test")
            .await;
        publish.await.unwrap().unwrap();
        let dead = bus.take_dead_letters("q", 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].reason, "malformed: test");
        assert_eq!(dead[0].routing_key, types::GRANT_REVOKED);
        let back: Envelope = serde_json::from_slice(&dead[0].body).unwrap();
        assert_eq!(back, e);
        assert!(bus.take_dead_letters("q", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_dropped_subscription_counts_as_not_bound() {
        let bus = MemoryBus::new();
        let sub = bus.subscribe("q", &["#"]).await.unwrap();
        drop(sub);
        tokio::time::timeout(
            Duration::from_millis(200),
            bus.publish(&event(types::IDENTITY_CREATED)),
        )
        .await
        .expect("publish must not wait for a dropped subscription")
        .unwrap();
    }

    #[tokio::test]
    async fn a_consumer_that_goes_away_mid_delivery_fails_the_publish() {
        let bus = MemoryBus::new();
        let mut sub = bus.subscribe("q", &["#"]).await.unwrap();
        let pub_bus = bus.clone();
        let publish =
            tokio::spawn(async move { pub_bus.publish(&event(types::IDENTITY_CREATED)).await });
        let d = sub.next().await.unwrap();
        drop(d);
        drop(sub);
        let res = tokio::time::timeout(Duration::from_secs(1), publish)
            .await
            .expect("publish must not wait forever")
            .unwrap();
        assert!(matches!(res, Err(BusError::Unavailable(_))), "{res:?}");
    }

    #[tokio::test]
    async fn an_unsettled_delivery_goes_to_another_consumer_of_the_queue() {
        let bus = MemoryBus::new();
        let mut one = bus.subscribe("q", &["#"]).await.unwrap();
        let mut two = bus.subscribe("q", &["#"]).await.unwrap();
        let pub_bus = bus.clone();
        let publish =
            tokio::spawn(async move { pub_bus.publish(&event(types::IDENTITY_CREATED)).await });
        // Round robin starts with the first consumer.
        let first = one.next().await.unwrap();
        assert!(!first.redelivered);
        drop(first);
        drop(one);
        let again = tokio::time::timeout(Duration::from_secs(1), two.next())
            .await
            .unwrap()
            .unwrap();
        assert!(again.redelivered);
        again.ack().await;
        publish.await.unwrap().unwrap();
    }
}
