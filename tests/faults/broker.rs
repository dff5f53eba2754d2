//! The broker goes away (the platform's connections to it are cut by a proxy and
//! new ones refused) while identities are created; once it is back every default
//! role is granted, none twice.

use std::time::{Duration, Instant};

use futures::StreamExt;
use idp_model::authorization::standard_roles as sr;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::proxy::Proxy;
use crate::support::*;

async fn create_users(p: &Embedded, org: &str, n: usize) -> Vec<String> {
    futures::stream::iter(0..n)
        .map(|_| p.api.create_user(org))
        .buffer_unordered(4)
        .collect()
        .await
}

async fn unpublished(db_url: &str) -> i64 {
    let db = Database::connect(db_url).await.unwrap();
    let row = db
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get("", "n").unwrap();
    let _ = db.close().await;
    n
}

/// Polls `url` until it answers `status`.
async fn wait_status(url: &str, status: u16) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = client.get(url).send().await.unwrap();
        let got = res.status().as_u16();
        let body = res.text().await.unwrap();
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "{url}: {got} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_created_while_the_broker_is_away_get_every_default_role_once() {
    let Some((pg, amqp)) = servers().await else {
        return;
    };
    let proxy = Proxy::start(amqp_addr(&amqp)).await;
    let p = Embedded::start(&pg, &amqp_via(&amqp, proxy.addr()), &amqp).await;
    let platform = p.platform.as_ref().unwrap();
    let identity_ready = format!("http://{}/readyz", platform.service_addrs[0]);
    let gateway_ready = format!("http://{}/readyz", platform.gateway_addr);
    let roles = [sr::ORGANIZATION_READ_ONLY, sr::IDENTITY_ADMIN];
    let org = p.api.organization_with_default_roles(&roles).await;
    // The authorization service knows the default roles once a first user has them.
    let mut users = vec![p.api.create_user(&org).await];
    p.api
        .wait_for_default_grants(&org, &roles, &users, Duration::from_secs(20))
        .await;

    // The broker is away: readiness says so, creating identities still works, and
    // their events wait in the identity service's outbox.
    proxy.cut();
    let body = wait_status(&identity_ready, 503).await;
    assert!(body.contains("bus"), "{body}");
    let body = wait_status(&gateway_ready, 503).await;
    assert!(body.contains("event bus"), "{body}");
    let during = create_users(&p, &org, 15).await;
    let identity_db = &p.events.databases[0];
    assert!(
        unpublished(identity_db).await >= 15,
        "the events of identities created while the broker is away wait in the outbox"
    );
    users.extend(during);

    // Back; then away again twice while identities are being created and their
    // events are on the move (published, queued, being consumed).
    proxy.restore();
    for (delay_ms, down_ms) in [(100, 1000), (40, 500)] {
        wait_status(&identity_ready, 200).await;
        let (more, ()) = tokio::join!(create_users(&p, &org, 15), async {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            proxy.cut();
            tokio::time::sleep(Duration::from_millis(down_ms)).await;
            proxy.restore();
        });
        users.extend(more);
    }
    wait_status(&identity_ready, 200).await;
    wait_status(&gateway_ready, 200).await;

    p.api
        .wait_for_default_grants(&org, &roles, &users, Duration::from_secs(60))
        .await;
    p.events.wait_quiet(Duration::from_secs(30)).await;
    p.api.assert_exact_grants(&org, &roles, &users).await;
    assert!(p.events.healthy().await);
    p.stop().await;
}
