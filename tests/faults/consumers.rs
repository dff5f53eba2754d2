//! Consumers under faults: a malformed message goes to the consumer's dead-letter
//! queue with the reason and the consumer keeps consuming; a consumer that dies
//! after applying an event but before acknowledging it gets the event again, and
//! the redelivery changes nothing.

use std::time::{Duration, Instant};

use idp_model::authorization::standard_roles as sr;
use idp_runtime::outbox::topology::queue_name;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::deploy::{Deployment, Options};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_message_is_dead_lettered_with_its_reason_and_consuming_goes_on() {
    let Some((pg, amqp)) = servers().await else {
        return;
    };
    let p = Embedded::start(&pg, &amqp, &amqp).await;
    let roles = [sr::ORGANIZATION_READ_ONLY];
    let org = p.api.organization_with_default_roles(&roles).await;
    let bus = p.events.bus().await;
    // Somebody publishes garbage under a routing key two services consume.
    let garbage = b"{\"id\": \"not an event\"".to_vec();
    bus.publish_bytes("identity.created", &garbage)
        .await
        .unwrap();

    for service in ["authorization", "invitation"] {
        let queue = queue_name(&p.events.exchange, service);
        let deadline = Instant::now() + Duration::from_secs(20);
        let dead = loop {
            let dead = bus.take_dead_letters(&queue, 10).await.unwrap();
            if !dead.is_empty() {
                break dead;
            }
            assert!(Instant::now() < deadline, "nothing in {queue}.dlq");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert_eq!(dead[0].body, garbage);
        assert_eq!(dead[0].routing_key, "identity.created");
        assert!(
            dead[0].reason.starts_with("malformed: "),
            "{}",
            dead[0].reason
        );
    }

    // The consumers go on: the next identity gets its default role.
    let user = p.api.create_user(&org).await;
    p.api
        .wait_for_default_grants(
            &org,
            &roles,
            std::slice::from_ref(&user),
            Duration::from_secs(20),
        )
        .await;
    p.events.wait_quiet(Duration::from_secs(20)).await;
    p.api.assert_exact_grants(&org, &roles, &[user]).await;
    bus.close();
    p.stop().await;
}

async fn grants_in_database(db_url: &str, identity: &str) -> i64 {
    let db = Database::connect(db_url).await.unwrap();
    let row = db
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM grants WHERE identity_id = '{}' AND revoked_at IS NULL",
                uuid::Uuid::parse_str(identity).unwrap()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get("", "n").unwrap();
    let _ = db.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_dies_between_commit_and_ack_changes_nothing_on_redelivery() {
    let Some((_pg, amqp)) = servers().await else {
        return;
    };
    let mut d = Deployment::start(Options {
        amqp_url: amqp.clone(),
        broker_url: amqp.clone(),
        extra: Vec::new(),
    })
    .await;
    let roles = [sr::ORGANIZATION_READ_ONLY, sr::IDENTITY_ADMIN];
    let org = d.api.organization_with_default_roles(&roles).await;
    let first = d.api.create_user(&org).await;
    d.api
        .wait_for_default_grants(
            &org,
            &roles,
            std::slice::from_ref(&first),
            Duration::from_secs(20),
        )
        .await;

    // The authorization service again, now dying right after it applied the next
    // `identity.created` and committed, before it acknowledges the message.
    d.stop_part("authorization").await;
    d.spawn_part(
        "authorization",
        &[(
            idp_runtime::outbox::ABORT_AFTER_COMMIT_VAR,
            idp_model::events::types::IDENTITY_CREATED,
        )],
    );
    d.wait_healthy("authorization").await;
    let victim = d.api.create_user(&org).await;
    let status = d.wait_exit("authorization", Duration::from_secs(30)).await;
    assert!(!status.success(), "the consumer was to abort: {status}");
    // It had committed its work: the grants are in its database...
    let authz_db = d.databases["authorization"].clone();
    assert_eq!(grants_in_database(&authz_db, &victim).await, 2);
    // ...and the message, never acknowledged, is back in its queue.
    let bus = d.events.bus().await;
    let queue = queue_name(&d.events.exchange, "authorization");
    let deadline = Instant::now() + Duration::from_secs(20);
    while bus.queue_depth(&queue).await.unwrap() == 0 {
        assert!(
            Instant::now() < deadline,
            "the unacked event was not requeued"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Restarted, it gets the event again and changes nothing.
    d.start_part("authorization").await;
    d.events.wait_quiet(Duration::from_secs(30)).await;
    assert_eq!(grants_in_database(&authz_db, &victim).await, 2);
    d.api
        .assert_exact_grants(&org, &roles, &[first, victim])
        .await;
    bus.close();
    d.stop().await;
}
