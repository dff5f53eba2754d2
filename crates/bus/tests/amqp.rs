#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The RabbitMQ bus against the real broker on this machine (`TEST_AMQP_URL`,
//! default `amqp://guest:guest@127.0.0.1:5672/%2f`). Skipped when the broker is
//! unreachable, except in CI (`CI=true`) where these tests must run.
//! Every test uses its own exchange and queues and deletes them at the end.

use std::time::Duration;

use idp_bus::{AmqpBus, BusError, Envelope, EventBus, QueueSpec};
use idp_model::events::types;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};

fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// A bus on a fresh exchange, or `None` (skipped) when RabbitMQ is unreachable.
async fn bus() -> Option<(AmqpBus, String)> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let exchange = format!("idp.test.{suffix}");
    let bus = AmqpBus::connect(&amqp_url(), &exchange, 8)
        .await
        .expect("valid url");
    match bus.wait_connected(Duration::from_secs(3)).await {
        Ok(()) => Some((bus, suffix)),
        Err(e) => {
            if in_ci() {
                panic!("RabbitMQ is required in CI but not available: {e}");
            }
            eprintln!("SKIPPED: RabbitMQ not available ({e}); this test did not run");
            None
        }
    }
}

async fn cleanup(bus: &AmqpBus, queues: &[&str]) {
    for q in queues {
        bus.delete_queue(q).await.unwrap();
    }
    bus.delete_exchange().await.unwrap();
}

fn event(kind: &str) -> Envelope {
    Envelope::new(
        kind,
        "test",
        Some(idp_model::ids::OrganizationId::new()),
        serde_json::json!({"hello": "world"}),
        time::OffsetDateTime::now_utc(),
    )
}

async fn next(sub: &mut idp_bus::Subscription) -> idp_bus::Delivery {
    tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("a delivery within 5 s")
        .expect("subscription open")
}

async fn nothing_within(sub: &mut idp_bus::Subscription, d: Duration) {
    if let Ok(Some(x)) = tokio::time::timeout(d, sub.next()).await {
        panic!("unexpected delivery {x:?}");
    }
}

#[tokio::test]
async fn publish_consume_ack() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.ack.{s}");
    let mut sub = bus.subscribe(&queue, &["identity.*"]).await.unwrap();
    // Subscribing again is idempotent (same declaration).
    drop(bus.subscribe(&queue, &["identity.*"]).await.unwrap());

    let e = event(types::IDENTITY_CREATED);
    bus.publish(&e).await.unwrap();
    // Not bound: published, confirmed, routed nowhere.
    bus.publish(&event(types::GRANT_CREATED)).await.unwrap();

    let d = next(&mut sub).await;
    assert!(!d.redelivered);
    assert_eq!(d.routing_key, types::IDENTITY_CREATED);
    assert_eq!(d.queue, queue);
    assert_eq!(d.envelope().unwrap(), e);
    d.ack().await;
    nothing_within(&mut sub, Duration::from_millis(300)).await;

    // Acked means gone: a fresh consumer of the queue sees nothing.
    drop(sub);
    let mut again = bus.subscribe(&queue, &["identity.*"]).await.unwrap();
    nothing_within(&mut again, Duration::from_millis(500)).await;
    drop(again);
    assert!(bus.health().await.is_ok());
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn retry_redelivers_with_the_redelivered_flag() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.retry.{s}");
    let mut sub = bus.subscribe(&queue, &["grant.#"]).await.unwrap();
    let e = event(types::GRANT_CREATED);
    bus.publish(&e).await.unwrap();

    let first = next(&mut sub).await;
    assert!(!first.redelivered);
    first.retry().await;
    let second = next(&mut sub).await;
    assert!(second.redelivered);
    assert_eq!(second.envelope().unwrap(), e);
    second.retry_after(Duration::ZERO).await;
    let third = next(&mut sub).await;
    assert!(third.redelivered);
    third.ack().await;
    nothing_within(&mut sub, Duration::from_millis(300)).await;
    drop(sub);
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn malformed_message_is_dead_lettered_with_its_reason() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.dlq.{s}");
    let mut sub = bus.subscribe(&queue, &["#"]).await.unwrap();

    // Somebody publishes garbage straight to the exchange.
    let conn = Connection::connect(
        &amqp_url(),
        ConnectionProperties::default()
            .with_executor(tokio_executor_trait::Tokio::current())
            .with_reactor(tokio_reactor_trait::Tokio),
    )
    .await
    .unwrap();
    let ch = conn.create_channel().await.unwrap();
    // Two connections give no order between them: wait for the broker's confirm of
    // the garbage (it is then in the queue) before the good event is published.
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let confirm = ch
        .basic_publish(
            bus.exchange(),
            "identity.created",
            BasicPublishOptions::default(),
            b"{not json",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack(), "{confirm:?}");
    let good = event(types::IDENTITY_CREATED);
    bus.publish(&good).await.unwrap();

    let d = next(&mut sub).await;
    assert_eq!(d.body, b"{not json");
    let err = d.envelope().unwrap_err();
    d.dead_letter(&format!("malformed: {err}")).await;
    // The consumer keeps going.
    let d = next(&mut sub).await;
    assert_eq!(d.envelope().unwrap(), good);
    d.ack().await;

    let mut dead = Vec::new();
    for _ in 0..20 {
        dead.extend(bus.take_dead_letters(&queue, 10).await.unwrap());
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, b"{not json");
    assert!(
        dead[0].reason.starts_with("malformed: "),
        "{}",
        dead[0].reason
    );
    assert_eq!(dead[0].routing_key, "identity.created");
    // And it left the main queue.
    nothing_within(&mut sub, Duration::from_millis(300)).await;

    let _ = conn.close(200, "done").await;
    drop(sub);
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn publisher_confirms_and_recovery() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.confirm.{s}");
    let mut sub = bus.subscribe(&queue, &["#"]).await.unwrap();

    // Confirmed publishes are in the queue, in order.
    let events: Vec<Envelope> = (0..20)
        .map(|_| event(types::ORGANIZATION_CREATED))
        .collect();
    for e in &events {
        bus.publish(e).await.unwrap();
    }
    for e in &events {
        let d = next(&mut sub).await;
        assert_eq!(&d.envelope().unwrap(), e);
        d.ack().await;
    }

    // The exchange disappears: the broker refuses, publish fails (never a silent Ok),
    // and the bus recovers (reconnects, declares the exchange again).
    bus.delete_exchange().await.unwrap();
    let res = bus.publish(&event(types::ORGANIZATION_CREATED)).await;
    assert!(res.is_err(), "publishing to a missing exchange must fail");
    bus.wait_connected(Duration::from_secs(10)).await.unwrap();
    let e = event(types::ORGANIZATION_CREATED);
    let mut published = false;
    for _ in 0..50 {
        if bus.publish(&e).await.is_ok() {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "the bus did not recover");
    // The subscription re-declared its bindings after the reconnect... the queue
    // kept its binding only if the exchange existed; it was deleted, so the
    // consumer's re-declaration restores it. Publish until routed.
    let mut got = None;
    for _ in 0..50 {
        if let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
            got = Some(d);
            break;
        }
        bus.publish(&e).await.ok();
    }
    let d = got.expect("subscription resumed after the reconnect");
    assert_eq!(d.envelope().unwrap().id, e.id);
    d.ack().await;
    drop(sub);
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn subscriptions_resume_after_the_connection_drops() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.reconnect.{s}");
    let mut sub = bus.subscribe(&queue, &["invitation.*"]).await.unwrap();

    // An unacked delivery at disconnect time comes back, redelivered.
    let e = event(types::INVITATION_ACCEPTED);
    bus.publish(&e).await.unwrap();
    let held = next(&mut sub).await;
    assert!(!held.redelivered);

    bus.force_disconnect().await;
    held.ack().await; // fails quietly: the channel is gone
    let res = bus.publish(&event(types::INVITATION_CREATED)).await;
    assert!(res.is_err() || bus.health().await.is_ok());
    bus.wait_connected(Duration::from_secs(10)).await.unwrap();
    assert!(bus.health().await.is_ok());

    let again = tokio::time::timeout(Duration::from_secs(15), sub.next())
        .await
        .expect("redelivery after reconnect")
        .unwrap();
    assert!(again.redelivered);
    assert_eq!(again.envelope().unwrap().id, e.id);
    again.ack().await;

    let e2 = event(types::INVITATION_DECLINED);
    bus.publish(&e2).await.unwrap();
    let d = next(&mut sub).await;
    assert_eq!(d.envelope().unwrap().id, e2.id);
    d.ack().await;
    drop(sub);
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn unreachable_broker_fails_publish_and_health() {
    let bus = AmqpBus::connect("amqp://guest:guest@127.0.0.1:1/%2f", "idp.test.none", 4)
        .await
        .unwrap();
    assert!(bus.health().await.is_err());
    let started = std::time::Instant::now();
    let res = bus.publish(&event(types::IDENTITY_CREATED)).await;
    assert!(matches!(res, Err(BusError::Unavailable(_))), "{res:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // An invalid URL is an error at once.
    assert!(AmqpBus::connect("not a url", "x", 1).await.is_err());
    // The factory picks the in-process bus for an empty URL.
    let mem = idp_bus::connect("", "x", 1).await.unwrap();
    mem.publish(&event(types::IDENTITY_CREATED)).await.unwrap();
    assert!(mem.health().await.is_ok());
}

#[tokio::test]
async fn broadcast_subscriptions_each_get_every_event() {
    let Some((bus, _s)) = bus().await else { return };
    let mut a = bus.subscribe_broadcast(&["identity.*"]).await.unwrap();
    let mut b = bus.subscribe_broadcast(&["identity.*"]).await.unwrap();
    assert_ne!(a.queue(), b.queue());
    let e = event(types::IDENTITY_DEACTIVATED);
    bus.publish(&e).await.unwrap();
    for sub in [&mut a, &mut b] {
        let d = next(sub).await;
        assert_eq!(d.envelope().unwrap().id, e.id);
        d.ack().await;
    }
    // Not bound to other keys.
    bus.publish(&event(types::GRANT_CREATED)).await.unwrap();
    nothing_within(&mut a, Duration::from_millis(300)).await;
    drop((a, b));
    bus.delete_exchange().await.unwrap();
}

#[tokio::test]
async fn declared_queues_keep_events_published_before_their_consumer_subscribes() {
    let Some((bus, s)) = bus().await else { return };
    let queue = format!("test.declared.{s}");
    bus.declare(&[QueueSpec::queue(&queue, &["identity.*"])])
        .await
        .unwrap();
    // Nobody consumes yet: without the declaration RabbitMQ would drop these.
    let first = event(types::IDENTITY_CREATED);
    bus.publish(&first).await.unwrap();
    bus.publish(&event(types::GRANT_CREATED)).await.unwrap(); // not bound
    assert_eq!(bus.queue_depth(&queue).await.unwrap(), 1);
    let mut sub = bus.subscribe(&queue, &["identity.*"]).await.unwrap();
    let d = next(&mut sub).await;
    assert_eq!(d.envelope().unwrap(), first);
    d.ack().await;
    drop(sub);

    // The topology is declared again on every connect: the queue vanishes, the
    // connection drops, and after the reconnect the queue is back before any
    // publish can happen.
    bus.delete_queue(&queue).await.unwrap();
    assert!(bus.queue_depth(&queue).await.is_err());
    bus.force_disconnect().await;
    bus.wait_connected(Duration::from_secs(10)).await.unwrap();
    let second = event(types::IDENTITY_DEACTIVATED);
    bus.publish(&second).await.unwrap();
    let mut sub = bus.subscribe(&queue, &["identity.*"]).await.unwrap();
    let d = next(&mut sub).await;
    assert_eq!(d.envelope().unwrap(), second);
    d.ack().await;
    drop(sub);
    cleanup(&bus, &[&queue]).await;
}

#[tokio::test]
async fn a_log_is_replayed_to_each_new_subscriber_then_followed() {
    let Some((bus, s)) = bus().await else { return };
    let log = format!("test-log-{s}");
    bus.declare(&[QueueSpec::log(&log, &["identity.deactivated"])])
        .await
        .unwrap();
    // Published before anyone reads the log.
    let early: Vec<Envelope> = (0..3).map(|_| event(types::IDENTITY_DEACTIVATED)).collect();
    for e in &early {
        bus.publish(e).await.unwrap();
    }
    bus.publish(&event(types::IDENTITY_CREATED)).await.unwrap(); // not bound

    let mut a = bus
        .subscribe_log(&log, &["identity.deactivated"])
        .await
        .unwrap();
    let mut b = bus
        .subscribe_log(&log, &["identity.deactivated"])
        .await
        .unwrap();
    // Behind until the replay has been handed out.
    assert!(!*a.caught_up().borrow());
    for sub in [&mut a, &mut b] {
        for e in &early {
            assert!(
                !*sub.caught_up().borrow(),
                "caught up before the replay ended"
            );
            let d = next(sub).await;
            assert_eq!(&d.envelope().unwrap(), e);
            d.ack().await;
        }
    }
    // Then live, to every reader; caught up by then.
    let live = event(types::IDENTITY_DEACTIVATED);
    bus.publish(&live).await.unwrap();
    for sub in [&mut a, &mut b] {
        let d = next(sub).await;
        assert_eq!(d.envelope().unwrap(), live);
        assert!(*sub.caught_up().borrow(), "caught up after the replay");
        d.ack().await;
    }
    // After a reconnect a reader resumes after what it read, without replaying it.
    bus.force_disconnect().await;
    bus.wait_connected(Duration::from_secs(10)).await.unwrap();
    let after = event(types::IDENTITY_DEACTIVATED);
    let mut published = false;
    for _ in 0..50 {
        if bus.publish(&after).await.is_ok() {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published);
    let d = tokio::time::timeout(Duration::from_secs(15), a.next())
        .await
        .expect("the log resumed after the reconnect")
        .unwrap();
    assert_eq!(d.envelope().unwrap(), after);
    d.ack().await;
    nothing_within(&mut a, Duration::from_millis(300)).await;
    assert!(
        *a.caught_up().borrow(),
        "caught up again after the reconnect"
    );
    // The log keeps what was read: a new reader sees everything (not the markers).
    let mut c = bus
        .subscribe_log(&log, &["identity.deactivated"])
        .await
        .unwrap();
    for e in early.iter().chain([&live, &after]) {
        let d = next(&mut c).await;
        assert_eq!(&d.envelope().unwrap(), e);
        d.ack().await;
    }
    drop((a, b, c));
    bus.delete_queue(&bus.log_queue(&log)).await.unwrap();
    bus.delete_exchange().await.unwrap();
}

#[tokio::test]
async fn the_memory_bus_declares_nothing_and_logs_are_broadcasts() {
    let bus = idp_bus::MemoryBus::new();
    bus.declare(&[QueueSpec::queue("q", &["#"]), QueueSpec::log("l", &["#"])])
        .await
        .unwrap();
    let mut sub = bus.subscribe_log("l", &["identity.*"]).await.unwrap();
    assert!(sub.queue().starts_with(idp_bus::BROADCAST_PREFIX));
    let e = event(types::IDENTITY_DELETED);
    let publisher = {
        let bus = bus.clone();
        let e = e.clone();
        tokio::spawn(async move { bus.publish(&e).await })
    };
    let d = next(&mut sub).await;
    assert_eq!(d.envelope().unwrap(), e);
    d.ack().await;
    publisher.await.unwrap().unwrap();
}
