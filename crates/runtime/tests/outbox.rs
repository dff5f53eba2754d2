#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The transactional outbox, the relay, the idempotent inbox and the consumer loop,
//! on SQLite and on the real PostgreSQL (skipped outside CI when unreachable), with
//! the in-process bus, a failing test double, and the real RabbitMQ.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use idp_bus::{AmqpBus, BusError, Envelope, EventBus, MemoryBus, Subscription};
use idp_model::events::{types, Event};
use idp_model::ids::EventId;
use idp_runtime::outbox::{
    self, apply_once, enqueue, Applied, ConsumerOptions, Relay, RelayHandle,
};
use idp_runtime::testing::{amqp_url, skip_or_fail, TestDatabase};
use idp_runtime::Shutdown;
use sea_orm::sea_query::{Alias, ColumnDef, Expr, Query, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        outbox::migrations()
    }
}

/// SQLite always; PostgreSQL when reachable (required in CI).
async fn backends() -> Vec<TestDatabase> {
    let mut v = vec![TestDatabase::sqlite().unwrap()];
    if let Some(pg) = TestDatabase::postgres().await {
        v.push(pg);
    }
    v
}

/// Connects, migrates (twice: migrations are idempotent) and adds a `work` table
/// the test handlers write to.
async fn setup(tdb: &TestDatabase) -> DatabaseConnection {
    let db = idp_runtime::db::connect_and_migrate::<Migrator>(&tdb.settings)
        .await
        .unwrap();
    Migrator::up(&db, None).await.unwrap();
    let create = Table::create()
        .table(Alias::new("work"))
        .col(ColumnDef::new(Alias::new("event_id")).string().not_null())
        .col(ColumnDef::new(Alias::new("note")).string().not_null())
        .to_owned();
    db.execute(db.get_database_backend().build(&create))
        .await
        .unwrap();
    db
}

async fn record_work<C: ConnectionTrait>(
    conn: &C,
    event: &Envelope,
    note: &str,
) -> anyhow::Result<()> {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("work"))
        .columns([Alias::new("event_id"), Alias::new("note")])
        .values([event.id.to_string().into(), note.into()])?;
    conn.execute(conn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}

/// event id → how many `work` rows it has.
async fn work(db: &DatabaseConnection) -> HashMap<String, usize> {
    let mut q = Query::select();
    q.column(Alias::new("event_id")).from(Alias::new("work"));
    let rows = db
        .query_all(db.get_database_backend().build(&q))
        .await
        .unwrap();
    let mut m = HashMap::new();
    for r in rows {
        let id: String = r.try_get("", "event_id").unwrap();
        *m.entry(id).or_insert(0) += 1;
    }
    m
}

/// (published_at is set, attempts, last_error) of the outbox row of `id`.
async fn outbox_row(db: &DatabaseConnection, id: EventId) -> (bool, i32, Option<String>) {
    let mut q = Query::select();
    q.columns([
        Alias::new("published_at"),
        Alias::new("attempts"),
        Alias::new("last_error"),
    ])
    .expr_as(
        Expr::col(Alias::new("published_at")).is_not_null(),
        Alias::new("sent"),
    )
    .from(Alias::new("outbox"))
    .and_where(Expr::col(Alias::new("event_id")).eq(id.as_uuid()));
    let row = db
        .query_one(db.get_database_backend().build(&q))
        .await
        .unwrap()
        .expect("outbox row");
    (
        row.try_get::<bool>("", "sent").unwrap(),
        row.try_get("", "attempts").unwrap(),
        row.try_get("", "last_error").unwrap(),
    )
}

fn event(kind: &str, data: serde_json::Value) -> Envelope {
    Envelope::new(
        kind,
        "test",
        Some(idp_model::ids::OrganizationId::new()),
        data,
        time::OffsetDateTime::now_utc(),
    )
}

async fn eventually<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A bus that records what it is given and fails the first `fail` publishes.
#[derive(Default)]
struct RecordingBus {
    published: Mutex<Vec<Envelope>>,
    fail: AtomicU32,
}

impl RecordingBus {
    fn failing(n: u32) -> Arc<Self> {
        Arc::new(RecordingBus {
            published: Mutex::new(Vec::new()),
            fail: AtomicU32::new(n),
        })
    }
    fn published(&self) -> Vec<Envelope> {
        self.published.lock().unwrap().clone()
    }
}

#[async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, event: &Envelope) -> Result<(), BusError> {
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(BusError::Unavailable("broker down (test)".into()));
        }
        self.published.lock().unwrap().push(event.clone());
        Ok(())
    }
    async fn subscribe(&self, _: &str, _: &[&str]) -> Result<Subscription, BusError> {
        Err(BusError::Invalid("not supported by the test double".into()))
    }
    async fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

async fn stop(shutdown: &Shutdown, relay: &RelayHandle) {
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), relay.join())
        .await
        .expect("relay stops on shutdown");
}

#[tokio::test]
async fn only_committed_events_are_published_exactly_once() {
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let rolled_back = event(types::IDENTITY_CREATED, serde_json::json!({"n": 1}));
        let committed = event(types::IDENTITY_CREATED, serde_json::json!({"n": 2}));

        let txn = db.begin().await.unwrap();
        record_work(&txn, &rolled_back, "change").await.unwrap();
        enqueue(&txn, &rolled_back).await.unwrap();
        txn.rollback().await.unwrap();

        let txn = db.begin().await.unwrap();
        record_work(&txn, &committed, "change").await.unwrap();
        enqueue(&txn, &committed).await.unwrap();
        txn.commit().await.unwrap();

        let bus = RecordingBus::failing(0);
        let shutdown = Shutdown::new();
        // A long poll: the wake is what makes it prompt.
        let relay = Relay::spawn(
            db.clone(),
            bus.clone(),
            Duration::from_secs(30),
            shutdown.clone(),
        );
        relay.wake();
        eventually("the relay to publish", Duration::from_secs(5), || async {
            relay.depth().await == 0
        })
        .await;
        // Give a duplicate a chance to show up.
        relay.wake();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            bus.published(),
            vec![committed.clone()],
            "{:?}",
            tdb.backend
        );
        let (sent, attempts, last_error) = outbox_row(&db, committed.id).await;
        assert!(sent);
        assert_eq!(attempts, 1);
        assert_eq!(last_error, None);

        // Enqueued later and woken: prompt, and in order.
        let later: Vec<Envelope> = (0..40)
            .map(|i| event(types::GRANT_CREATED, serde_json::json!({"i": i})))
            .collect();
        let txn = db.begin().await.unwrap();
        outbox::enqueue_all(&txn, &later).await.unwrap();
        txn.commit().await.unwrap();
        relay.wake();
        eventually("the later events", Duration::from_secs(5), || async {
            bus.published().len() == 41
        })
        .await;
        assert_eq!(&bus.published()[1..], &later[..]);
        stop(&shutdown, &relay).await;
    }
}

#[tokio::test]
async fn a_failing_bus_delays_events_but_never_loses_them() {
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let events: Vec<Envelope> = (0..3)
            .map(|i| event(types::ORGANIZATION_CREATED, serde_json::json!({"i": i})))
            .collect();
        let txn = db.begin().await.unwrap();
        outbox::enqueue_all(&txn, &events).await.unwrap();
        txn.commit().await.unwrap();

        // 1. RabbitMQ unreachable: nothing goes out, the failures are recorded.
        let down = AmqpBus::connect("amqp://guest:guest@127.0.0.1:1/%2f", "idp.test.down", 1)
            .await
            .unwrap();
        let shutdown = Shutdown::new();
        let relay = Relay::spawn(
            db.clone(),
            Arc::new(down),
            Duration::from_millis(20),
            shutdown.clone(),
        );
        eventually(
            "failed attempts to be recorded",
            Duration::from_secs(5),
            || async { outbox_row(&db, events[0].id).await.1 >= 2 },
        )
        .await;
        assert_eq!(relay.depth().await, 3);
        let (sent, _, last_error) = outbox_row(&db, events[0].id).await;
        assert!(!sent);
        assert!(last_error.unwrap().contains("unavailable"));
        // Stopped at the first failure: later rows were not tried.
        assert_eq!(outbox_row(&db, events[1].id).await.1, 0);
        stop(&shutdown, &relay).await;

        // 2. After a restart, with a bus that fails three more times then works:
        //    everything goes out once, in order.
        let bus = RecordingBus::failing(3);
        let shutdown = Shutdown::new();
        let relay = Relay::spawn(
            db.clone(),
            bus.clone(),
            Duration::from_millis(20),
            shutdown.clone(),
        );
        eventually("the events to go out", Duration::from_secs(10), || async {
            relay.depth().await == 0
        })
        .await;
        assert_eq!(bus.published(), events, "{:?}", tdb.backend);
        let (sent, _, _) = outbox_row(&db, events[2].id).await;
        assert!(sent);
        stop(&shutdown, &relay).await;

        // publish_pending: nothing left.
        assert_eq!(Relay::publish_pending(&db, &*bus).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn two_relays_on_one_database_publish_each_event_once() {
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let bus = RecordingBus::failing(0);
        let s1 = Shutdown::new();
        let s2 = Shutdown::new();
        let r1 = Relay::spawn(
            db.clone(),
            bus.clone(),
            Duration::from_millis(10),
            s1.clone(),
        );
        let db2 = idp_runtime::db::connect(&tdb.settings).await.unwrap();
        let r2 = if tdb.backend == sea_orm::DbBackend::Postgres {
            // Replicas: only on PostgreSQL (SQLite is one process per file).
            Some(Relay::spawn(
                db2,
                bus.clone(),
                Duration::from_millis(10),
                s2.clone(),
            ))
        } else {
            None
        };
        let events: Vec<Envelope> = (0..30)
            .map(|i| event(types::GRANT_REVOKED, serde_json::json!({"i": i})))
            .collect();
        for e in &events {
            let txn = db.begin().await.unwrap();
            enqueue(&txn, e).await.unwrap();
            txn.commit().await.unwrap();
        }
        eventually("all events", Duration::from_secs(10), || async {
            r1.depth().await == 0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(bus.published(), events, "{:?}", tdb.backend);
        stop(&s1, &r1).await;
        if let Some(r2) = r2 {
            stop(&s2, &r2).await;
        }
    }
}

#[tokio::test]
async fn apply_once_runs_the_work_once() {
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let e = event(types::IDENTITY_CREATED, serde_json::json!({}));
        let runs = Arc::new(AtomicU32::new(0));

        let apply = |fail: bool| {
            let db = db.clone();
            let e = e.clone();
            let runs = runs.clone();
            async move {
                apply_once(&db, "consumer-a", e.id, move |txn| {
                    Box::pin(async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        record_work(txn, &e, "applied").await?;
                        if fail {
                            anyhow::bail!("failed after doing the work");
                        }
                        Ok(())
                    })
                })
                .await
            }
        };

        // A failure rolls back the work and the inbox row: it can run again.
        assert!(apply(true).await.is_err());
        assert!(work(&db).await.is_empty());
        assert_eq!(apply(false).await.unwrap(), Applied::Applied);
        assert_eq!(apply(false).await.unwrap(), Applied::Duplicate);
        assert!(apply(false).await.unwrap().is_duplicate());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(work(&db).await.get(&e.id.to_string()), Some(&1));

        // Another consumer applies the same event on its own.
        let again = apply_once(&db, "consumer-b", e.id, |_txn| Box::pin(async { Ok(()) }))
            .await
            .unwrap();
        assert_eq!(again, Applied::Applied);

        // Concurrent attempts: exactly one applies.
        let e2 = event(types::IDENTITY_CREATED, serde_json::json!({}));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                let e2 = e2.clone();
                tokio::spawn(async move {
                    loop {
                        let e3 = e2.clone();
                        let r = apply_once(&db, "consumer-a", e2.id, move |txn| {
                            Box::pin(async move { record_work(txn, &e3, "race").await })
                        })
                        .await;
                        match r {
                            Ok(a) => return a,
                            // SQLite may report the file busy; a consumer retries.
                            Err(err) if format!("{err:#}").contains("locked") => {
                                tokio::time::sleep(Duration::from_millis(20)).await
                            }
                            Err(err) => panic!("{err:#}"),
                        }
                    }
                })
            })
            .collect();
        let mut applied = 0;
        for t in tasks {
            if t.await.unwrap() == Applied::Applied {
                applied += 1;
            }
        }
        assert_eq!(applied, 1);
        assert_eq!(work(&db).await.get(&e2.id.to_string()), Some(&1));
    }
}

/// The handler of the consumer tests: records the work; an event with
/// `failOnce` fails on its first attempt after writing; one with `poison`
/// always fails.
fn test_handler(calls: Arc<Mutex<HashMap<EventId, u32>>>) -> outbox::Handler {
    outbox::handler(move |event: Envelope, txn: &DatabaseTransaction| {
        let calls = calls.clone();
        Box::pin(async move {
            let n = {
                let mut c = calls.lock().unwrap();
                let n = c.entry(event.id).or_insert(0);
                *n += 1;
                *n
            };
            record_work(txn, &event, "consumed").await?;
            if event.data["poison"] == true {
                anyhow::bail!("poison event");
            }
            if event.data["failOnce"] == true && n == 1 {
                anyhow::bail!("transient failure after the work");
            }
            Ok(())
        })
    })
}

/// Exercises the consumer loop over `bus`: malformed → DLQ and the loop goes on;
/// fail-once → rolled back then applied exactly once; duplicates skipped; poison
/// → DLQ after max attempts. `publish_raw` sends a raw body; `dead` reads the DLQ.
async fn consumer_scenario<P, PF, D, DF>(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    queue: &str,
    publish_raw: P,
    dead: D,
) where
    P: Fn(Vec<u8>) -> PF,
    PF: std::future::Future<Output = ()>,
    D: Fn() -> DF,
    DF: std::future::Future<Output = Vec<idp_bus::DeadLetter>>,
{
    let calls = Arc::new(Mutex::new(HashMap::new()));
    let shutdown = Shutdown::new();
    let consumer = outbox::spawn_consumer(
        db.clone(),
        bus.clone(),
        ConsumerOptions::new(queue, &["identity.*", "grant.#"])
            .max_attempts(3)
            .retry_delay(Duration::from_millis(20)),
        test_handler(calls.clone()),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let relay = Relay::spawn(
        db.clone(),
        bus.clone(),
        Duration::from_millis(20),
        shutdown.clone(),
    );

    // A malformed message is dead-lettered; the consumer keeps going.
    publish_raw(b"{\"not\": \"an envelope\"".to_vec()).await;

    let plain = event(types::IDENTITY_CREATED, serde_json::json!({}));
    let fail_once = event(types::GRANT_CREATED, serde_json::json!({"failOnce": true}));
    let poison = event(types::IDENTITY_DELETED, serde_json::json!({"poison": true}));
    let unbound = event(types::ORGANIZATION_CREATED, serde_json::json!({}));
    let txn = db.begin().await.unwrap();
    outbox::enqueue_all(
        &txn,
        &[
            plain.clone(),
            fail_once.clone(),
            poison.clone(),
            unbound.clone(),
        ],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    relay.wake();

    eventually(
        "the events to be applied",
        Duration::from_secs(20),
        || async {
            let w = work(&db).await;
            w.get(&plain.id.to_string()) == Some(&1) && w.get(&fail_once.id.to_string()) == Some(&1)
        },
    )
    .await;
    eventually("the outbox to drain", Duration::from_secs(20), || async {
        relay.depth().await == 0
    })
    .await;

    // Duplicates (a redelivery, a re-publish) change nothing, and do not run the
    // handler. (Before them a handler may have run more than once for an event
    // when a batch it was in failed and rolled back: the work counts above are
    // what committed.)
    let calls_before = calls.lock().unwrap().clone();
    bus.publish(&plain).await.unwrap();
    bus.publish(&fail_once).await.unwrap();

    let mut dead_letters = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while dead_letters.len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for two dead letters: {dead_letters:?}"
        );
        dead_letters.extend(dead().await);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    dead_letters.extend(dead().await);
    assert_eq!(dead_letters.len(), 2, "{dead_letters:?}");
    let malformed = dead_letters
        .iter()
        .find(|d| d.reason.starts_with("malformed: "))
        .expect("the malformed message in the DLQ");
    assert_eq!(malformed.body, b"{\"not\": \"an envelope\"");
    let poisoned = dead_letters
        .iter()
        .find(|d| d.reason.contains("poison event"))
        .expect("the poison event in the DLQ");
    assert_eq!(
        serde_json::from_slice::<Envelope>(&poisoned.body).unwrap(),
        poison
    );
    assert!(poisoned.reason.contains("3 times"), "{}", poisoned.reason);

    let w = work(&db).await;
    assert_eq!(w.get(&plain.id.to_string()), Some(&1));
    assert_eq!(w.get(&fail_once.id.to_string()), Some(&1));
    assert_eq!(
        w.get(&poison.id.to_string()),
        None,
        "poison work rolled back"
    );
    assert_eq!(w.get(&unbound.id.to_string()), None);
    {
        let calls = calls.lock().unwrap();
        assert_eq!(
            calls.get(&plain.id),
            calls_before.get(&plain.id),
            "duplicate ran the handler"
        );
        assert_eq!(
            calls.get(&fail_once.id),
            calls_before.get(&fail_once.id),
            "duplicate ran the handler"
        );
        assert_eq!(calls.get(&fail_once.id), Some(&2));
        assert_eq!(calls.get(&poison.id), Some(&3));
    }

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), consumer)
        .await
        .expect("consumer stops on shutdown")
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), relay.join())
        .await
        .unwrap();
}

#[tokio::test]
async fn consumer_over_the_memory_bus() {
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let bus = MemoryBus::new();
        let raw = bus.clone();
        let dlq = bus.clone();
        consumer_scenario(
            db,
            Arc::new(bus),
            "test.consumer",
            |body| {
                let raw = raw.clone();
                async move { raw.publish_bytes("identity.created", &body).await.unwrap() }
            },
            || {
                let dlq = dlq.clone();
                async move { dlq.take_dead_letters("test.consumer", 100).await.unwrap() }
            },
        )
        .await;
    }
}

/// A connection to the real RabbitMQ on an exchange of the test's own (and the
/// suffix naming it), or `None` after reporting the skip (a failure in CI).
async fn rabbitmq(prefetch: u16) -> Option<(AmqpBus, String)> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let bus = AmqpBus::connect(&amqp_url(), &format!("idp.test.{suffix}"), prefetch)
        .await
        .unwrap();
    if let Err(e) = bus.wait_connected(Duration::from_secs(3)).await {
        skip_or_fail("RabbitMQ", &e.to_string());
        return None;
    }
    Some((bus, suffix))
}

#[tokio::test]
async fn consumer_over_rabbitmq() {
    for tdb in backends().await {
        let Some((bus, suffix)) = rabbitmq(8).await else {
            return;
        };
        let queue = format!("test.consumer.{suffix}");
        let db = setup(&tdb).await;
        let raw = bus.clone();
        let dlq = bus.clone();
        let q = queue.clone();
        consumer_scenario(
            db,
            Arc::new(bus.clone()),
            &queue,
            |body| {
                let raw = raw.clone();
                async move { raw.publish_bytes("identity.created", &body).await.unwrap() }
            },
            || {
                let dlq = dlq.clone();
                let q = q.clone();
                async move { dlq.take_dead_letters(&q, 100).await.unwrap() }
            },
        )
        .await;
        bus.delete_queue(&queue).await.unwrap();
        bus.delete_exchange().await.unwrap();
    }
}

/// Events that queued up while no consumer ran: the relay sends them as pipelined
/// batches (in order), the consumer applies them several to a transaction. Each
/// is applied exactly once, in order; one that fails once sends its batch back to
/// one-by-one and still lands once; a duplicate in the queue is skipped; a
/// malformed message among them is dead-lettered. On PostgreSQL the handler notes
/// its transaction id, which shows that batches formed.
#[tokio::test]
async fn queued_events_are_relayed_and_applied_in_batches_over_rabbitmq() {
    for tdb in backends().await {
        let Some((bus, suffix)) = rabbitmq(32).await else {
            return;
        };
        let queue = format!("test.batch.{suffix}");
        let bindings = ["identity.*", "grant.#"];
        // The queue exists before anything is published (as every service declares
        // the platform's queues), so the backlog waits in it.
        bus.declare(&[idp_bus::QueueSpec::queue(queue.clone(), &bindings)])
            .await
            .unwrap();
        let db = setup(&tdb).await;
        let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;

        let mut events: Vec<Envelope> = (0..300)
            .map(|i| event(types::IDENTITY_CREATED, serde_json::json!({ "n": i })))
            .collect();
        events[150] = event(
            types::GRANT_CREATED,
            serde_json::json!({ "n": 150, "failOnce": true }),
        );
        let txn = db.begin().await.unwrap();
        outbox::enqueue_all(&txn, &events).await.unwrap();
        txn.commit().await.unwrap();
        let sent = Relay::publish_pending(&db, &bus).await.unwrap();
        assert_eq!(sent, events.len(), "every event relayed");
        for e in &events {
            assert!(outbox_row(&db, e.id).await.0, "{} marked sent", e.id);
        }
        // A duplicate and a malformed message behind them.
        bus.publish(&events[10]).await.unwrap();
        bus.publish_bytes("identity.created", b"not json")
            .await
            .unwrap();

        let calls: Arc<Mutex<HashMap<EventId, u32>>> = Arc::new(Mutex::new(HashMap::new()));
        let order: Arc<Mutex<Vec<(i64, String)>>> = Arc::new(Mutex::new(Vec::new()));
        let (c2, o2) = (calls.clone(), order.clone());
        let handler = outbox::handler(move |event: Envelope, txn: &DatabaseTransaction| {
            let (calls, order) = (c2.clone(), o2.clone());
            Box::pin(async move {
                let n = {
                    let mut c = calls.lock().unwrap();
                    let n = c.entry(event.id).or_insert(0);
                    *n += 1;
                    *n
                };
                let tx = if postgres {
                    let row = txn
                        .query_one(sea_orm::Statement::from_string(
                            sea_orm::DbBackend::Postgres,
                            "SELECT txid_current()::text AS tx",
                        ))
                        .await?
                        .expect("a row");
                    row.try_get::<String>("", "tx")?
                } else {
                    String::new()
                };
                record_work(txn, &event, &tx).await?;
                if event.data["failOnce"] == true && n == 1 {
                    anyhow::bail!("transient failure after the work");
                }
                order
                    .lock()
                    .unwrap()
                    .push((event.data["n"].as_i64().unwrap_or(-1), tx));
                Ok(())
            })
        });
        let shutdown = Shutdown::new();
        let consumer = outbox::spawn_consumer(
            db.clone(),
            Arc::new(bus.clone()),
            ConsumerOptions::new(queue.clone(), &bindings)
                .max_attempts(3)
                .retry_delay(Duration::from_millis(20)),
            handler,
            shutdown.clone(),
        )
        .await
        .unwrap();

        eventually("every event applied", Duration::from_secs(30), || async {
            work(&db).await.len() == events.len()
        })
        .await;
        let mut dead = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while dead.is_empty() && tokio::time::Instant::now() < deadline {
            dead.extend(bus.take_dead_letters(&queue, 10).await.unwrap());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        dead.extend(bus.take_dead_letters(&queue, 10).await.unwrap());
        assert_eq!(dead.len(), 1, "only the malformed message: {dead:?}");
        assert!(
            dead[0].reason.starts_with("malformed: "),
            "{}",
            dead[0].reason
        );

        let w = work(&db).await;
        for e in &events {
            assert_eq!(w.get(&e.id.to_string()), Some(&1), "{} applied once", e.id);
        }
        assert!(calls.lock().unwrap()[&events[150].id] >= 2);
        // Handled in publish order: a batch that falls back goes one by one in the
        // same order. (The fail-once event itself may be retried later when it
        // happened to arrive alone, so it is left out.)
        let attempts = order.lock().unwrap().clone();
        let firsts: Vec<i64> = {
            let mut seen = std::collections::HashSet::new();
            let mut v = Vec::new();
            for (n, _) in &attempts {
                if *n != 150 && seen.insert(*n) {
                    v.push(*n);
                }
            }
            v
        };
        let expected: Vec<i64> = (0..300).filter(|n| *n != 150).collect();
        assert_eq!(firsts, expected, "applied in order");
        if postgres {
            let mut per_tx: HashMap<String, usize> = HashMap::new();
            for (_, tx) in &attempts {
                *per_tx.entry(tx.clone()).or_insert(0) += 1;
            }
            assert!(
                per_tx.len() * 2 < events.len(),
                "expected batches: {} transactions for {} events",
                per_tx.len(),
                events.len()
            );
        }

        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), consumer)
            .await
            .expect("consumer stops on shutdown")
            .unwrap()
            .unwrap();
        bus.delete_queue(&queue).await.unwrap();
        bus.delete_exchange().await.unwrap();
    }
}

/// The unit of work: a commit writes the change and its events, wakes the relay
/// (the poll is long: only the wake makes it prompt) and then runs the
/// after-commit effects; a unit dropped without commit leaves no row, no event and
/// runs nothing. (Its transitions are tested through the services' conflicts.)
#[tokio::test]
async fn a_unit_of_work_commits_its_events_and_effects_together() {
    use idp_runtime::work::Work;
    use std::sync::atomic::AtomicBool;
    for tdb in backends().await {
        let db = setup(&tdb).await;
        let bus = RecordingBus::failing(0);
        let shutdown = Shutdown::new();
        let relay = Relay::spawn(
            db.clone(),
            bus.clone(),
            Duration::from_secs(30),
            shutdown.clone(),
        );
        let units = Work::new(
            db.clone(),
            relay.clone(),
            idp_runtime::clock::system(),
            "test",
        );
        let org = Some(idp_model::ids::OrganizationId::new());
        // The n-th identity.created of this test (its name tells them apart).
        let created = |n: u32| {
            Event::IdentityCreated(idp_model::events::IdentityData {
                identity_id: idp_model::ids::IdentityId::new(),
                name: Some(format!("n{n}")),
                ..Default::default()
            })
        };

        let ran = Arc::new(AtomicBool::new(false));
        let mut w = units.begin().await.unwrap();
        let marker = event(types::IDENTITY_CREATED, serde_json::json!({}));
        record_work(w.txn(), &marker, "dropped").await.unwrap();
        w.enqueue_event(org, &created(0)).unwrap();
        let flag = ran.clone();
        w.after_commit(move || flag.store(true, Ordering::SeqCst));
        drop(w);
        assert!(
            !ran.load(Ordering::SeqCst),
            "an effect ran without a commit"
        );
        assert!(work(&db).await.is_empty(), "{:?}", tdb.backend);
        assert_eq!(relay.depth().await, 0);

        let mut w = units.begin().await.unwrap();
        assert_eq!(w.now().nanosecond() % 1000, 0, "microseconds");
        record_work(w.txn(), &marker, "committed").await.unwrap();
        let kept = created(1);
        w.enqueue_event(org, &kept).unwrap();
        let flag = ran.clone();
        w.after_commit(move || flag.store(true, Ordering::SeqCst));
        let now = w.now();
        w.commit().await.unwrap();
        assert!(ran.load(Ordering::SeqCst), "the effect did not run");
        assert_eq!(work(&db).await.get(&marker.id.to_string()), Some(&1));
        eventually(
            "the woken relay to publish",
            Duration::from_secs(5),
            || async { bus.published().len() == 1 },
        )
        .await;
        let published = &bus.published()[0];
        assert_eq!(published.kind, types::IDENTITY_CREATED);
        assert_eq!(published.source, "test");
        assert_eq!(published.organization_id, org);
        assert_eq!(published.occurred_at, now);
        assert_eq!(Event::of(published).unwrap(), kept);

        stop(&shutdown, &relay).await;
    }
}
