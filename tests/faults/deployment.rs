//! Deployment mode: every service and the gateway its own process, configured by
//! environment, on PostgreSQL and RabbitMQ. The cross-service flows through the
//! gateway (default roles for new identities, a default role's grant request,
//! revocation of a deactivated identity's or organization's tokens everywhere),
//! grant and role events dropping the permission caches of other services, a restarted
//! gateway learning the revocations it missed, and the authorization service
//! stopped while identities are created.

use std::time::{Duration, Instant};

use idp_model::authorization::standard_roles as sr;
use idp_runtime::outbox::topology::queue_name;
use reqwest::Method;
use serde_json::{json, Value};

use crate::deploy::{Deployment, Options};
use crate::support::*;

/// Polls until `f` answers `want`, at most `within`; returns the last answer.
async fn eventually<F, Fut>(what: &str, within: Duration, want: u16, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let deadline = Instant::now() + within;
    loop {
        let (st, v) = f().await;
        if st == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {st} {v}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    send(client.get(url).bearer_auth(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_service_flows_with_every_service_its_own_process() {
    let Some((_pg, amqp)) = servers().await else {
        return;
    };
    // Permissions cached for ten minutes in the organization service: only the
    // grant events can make a grant change visible there quickly.
    let mut d = Deployment::start(Options {
        amqp_url: amqp.clone(),
        broker_url: amqp.clone(),
        extra: vec![(
            "organization",
            "ORGANIZATION__AUTHZ__CACHE_TTL_MS".into(),
            "600000".into(),
        )],
    })
    .await;
    let api = &d.api;

    // Flow 1: identities created in an organization with a default role get it,
    // once; an API account without grantDefaultRoles does not.
    let role = sr::ORGANIZATION_READ_ONLY;
    let org = api.organization_with_default_roles(&[]).await;
    let (st, dr) = api
        .call(
            Method::POST,
            "/identity/v1/default-roles",
            Some(json!({"organizationId": org, "roleType": "Standard", "roleId": role})),
        )
        .await;
    assert_eq!(st, 201, "{dr}");
    let user = api.create_user(&org).await;
    let (with, with_client, with_secret) = api.create_api_account(&org, true).await;
    let (plain, plain_client, plain_secret) = api.create_api_account(&org, false).await;
    api.wait_for_default_grants(
        &org,
        &[role],
        &[user.clone(), with.clone()],
        Duration::from_secs(20),
    )
    .await;
    d.events.wait_quiet(Duration::from_secs(20)).await;
    api.assert_exact_grants(&org, &[role], &[user.clone(), with.clone()])
        .await;

    // Flow 2: the default role's grant request reaches the plain account and
    // duplicates nothing.
    let (st, granted) = api
        .call(
            Method::POST,
            &format!(
                "/identity/v1/default-roles/{}/grant",
                dr["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(st, 200, "{granted}");
    let everyone = [user.clone(), with.clone(), plain.clone()];
    api.wait_for_default_grants(&org, &[role], &everyone, Duration::from_secs(20))
        .await;
    d.events.wait_quiet(Duration::from_secs(20)).await;
    api.assert_exact_grants(&org, &[role], &everyone).await;

    // Grant events drop other services' caches: an account without grants reads
    // nothing of the organization (and the organization service caches that for
    // ten minutes here); granted, it reads it; revoked, it no longer does.
    let (reader, reader_client, reader_secret) = api.create_api_account(&org, false).await;
    let reader_token = api.token_of(&reader_client, &reader_secret).await;
    let org_path = format!("/identity/v1/organizations/{org}");
    let (st, _) = api
        .call_as(&reader_token, Method::GET, &org_path, None)
        .await;
    assert_eq!(st, 404);
    let (st, grant) = api
        .call(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": reader, "roleId": role, "organizationId": org})),
        )
        .await;
    assert_eq!(st, 201, "{grant}");
    eventually("read after the grant", Duration::from_secs(5), 200, || {
        api.call_as(&reader_token, Method::GET, &org_path, None)
    })
    .await;
    let (st, _) = api
        .call(
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{}", grant["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(st == 200 || st == 204, "revoke: {st}");
    eventually(
        "refused after the revocation",
        Duration::from_secs(5),
        404,
        || api.call_as(&reader_token, Method::GET, &org_path, None),
    )
    .await;

    // A role whose actions change drops the other services' caches too
    // (`role.updated`): granted a custom role that reads the organization, the
    // account reads it; once the role no longer holds that action, it does not.
    let org_read = idp_model::authorization::seeded_id("organization:read");
    let ui_read = idp_model::authorization::seeded_id("user-identity:read");
    let (st, custom) = api
        .call(
            Method::POST,
            "/auth/v1/roles",
            Some(
                json!({"name": "Readers", "organizationId": org, "resourceActionIds": [org_read]}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{custom}");
    let custom_path = format!("/auth/v1/roles/{}", custom["id"].as_str().unwrap());
    let (st, grant) = api
        .call(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": reader, "roleId": custom["id"], "organizationId": org})),
        )
        .await;
    assert_eq!(st, 201, "{grant}");
    eventually(
        "read through the custom role",
        Duration::from_secs(5),
        200,
        || api.call_as(&reader_token, Method::GET, &org_path, None),
    )
    .await;
    let (st, changed) = api
        .call(
            Method::PUT,
            &custom_path,
            Some(json!({"resourceActionIds": [ui_read]})),
        )
        .await;
    assert_eq!(st, 200, "{changed}");
    eventually(
        "refused once the role lost the action",
        Duration::from_secs(5),
        404,
        || api.call_as(&reader_token, Method::GET, &org_path, None),
    )
    .await;

    // Flow 4: a deactivated identity's token is refused by the gateway and by
    // every service; activated again, a new token works.
    let token = api.token_of(&with_client, &with_secret).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let direct = [
        d.service_url("identity", "/identity/v1/identities/self"),
        d.service_url("organization", &org_path),
        d.service_url("invitation", "/identity/v1/invitations"),
        d.service_url(
            "authorization",
            &format!("/auth/v1/identities/{with}/permissions"),
        ),
    ];
    // (Its default role arrived by event; the organization service may still
    // hold the empty answer of before for up to its cache's lifetime, so wait.)
    eventually(
        "the account reads its organization",
        Duration::from_secs(5),
        200,
        || api.call_as(&token, Method::GET, &org_path, None),
    )
    .await;
    for url in &direct {
        let (st, v) = get(&client, url, &token).await;
        assert_eq!(st, 200, "{url}: {v}");
    }
    let (st, v) = api
        .call(
            Method::PUT,
            &format!("/identity/v1/api-account-identities/{with}/deactivate"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    eventually("gateway refuses", Duration::from_secs(5), 401, || {
        api.call_as(&token, Method::GET, &org_path, None)
    })
    .await;
    for url in &direct {
        eventually(url, Duration::from_secs(5), 401, || {
            get(&client, url, &token)
        })
        .await;
    }
    assert_eq!(api.token(&with_client, &with_secret).await.status(), 401);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (st, v) = api
        .call(
            Method::PUT,
            &format!("/identity/v1/api-account-identities/{with}/activate"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let fresh = api.token_of(&with_client, &with_secret).await;
    let (st, v) = api.call_as(&fresh, Method::GET, &org_path, None).await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = api.call_as(&token, Method::GET, &org_path, None).await;
    assert_eq!(st, 401, "the old token stays refused");

    // A gateway restarted after a deactivation still refuses the tokens issued
    // before it: it replays the revocation log. The organization service is
    // stopped too, so only the gateway itself can answer 401.
    let admin = api.admin_token().await;
    let plain_token = api.token_of(&plain_client, &plain_secret).await;
    eventually(
        "the plain account reads its organization",
        Duration::from_secs(5),
        200,
        || api.call_as(&plain_token, Method::GET, &org_path, None),
    )
    .await;
    d.stop_part("gateway").await;
    let (st, v) = send(
        client
            .put(d.service_url(
                "identity",
                &format!("/identity/v1/api-account-identities/{plain}/deactivate"),
            ))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    d.stop_part("organization").await;
    d.start_part("gateway").await;
    let api = &d.api;
    eventually(
        "the restarted gateway refuses",
        Duration::from_secs(5),
        401,
        || api.call_as(&plain_token, Method::GET, &org_path, None),
    )
    .await;
    d.start_part("organization").await;

    // Flow 4, organization: deactivated, its identities' tokens are refused.
    let api = &d.api;
    let (st, v) = api
        .call(
            Method::PUT,
            &format!("/identity/v1/organizations/{org}/deactivate"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    eventually(
        "organization deactivated",
        Duration::from_secs(5),
        401,
        || api.call_as(&fresh, Method::GET, "/identity/v1/identities/self", None),
    )
    .await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_created_while_the_authorization_service_is_stopped_get_their_roles_once() {
    let Some((_pg, amqp)) = servers().await else {
        return;
    };
    // The identity service asks the authorization service for callers'
    // permissions; with a long cache it keeps the admin's while that is down.
    let mut d = Deployment::start(Options {
        amqp_url: amqp.clone(),
        broker_url: amqp.clone(),
        extra: vec![(
            "identity",
            "IDENTITY__AUTHZ__CACHE_TTL_MS".into(),
            "600000".into(),
        )],
    })
    .await;
    let roles = [sr::ORGANIZATION_READ_ONLY, sr::IDENTITY_ADMIN];
    let org = d.api.organization_with_default_roles(&roles).await;
    let mut expected = vec![d.api.create_user(&org).await];
    d.api
        .wait_for_default_grants(&org, &roles, &expected, Duration::from_secs(20))
        .await;

    d.stop_part("authorization").await;
    let mut created: u32 = 0;
    for _ in 0..12 {
        expected.push(d.api.create_user(&org).await);
        created += 1;
    }
    for _ in 0..4 {
        expected.push(d.api.create_api_account(&org, true).await.0);
        created += 1;
    }
    let _without = d.api.create_api_account(&org, false).await;
    created += 1;
    // Their events wait in the stopped service's queue.
    let bus = d.events.bus().await;
    let queue = queue_name(&d.events.exchange, "authorization");
    let deadline = Instant::now() + Duration::from_secs(20);
    while bus.queue_depth(&queue).await.unwrap() < created {
        assert!(Instant::now() < deadline, "events did not reach {queue}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bus.close();

    d.start_part("authorization").await;
    d.api
        .wait_for_default_grants(&org, &roles, &expected, Duration::from_secs(30))
        .await;
    d.events.wait_quiet(Duration::from_secs(30)).await;
    d.api.assert_exact_grants(&org, &roles, &expected).await;
    d.stop().await;
}

/// Polls `f` until it answers `want` (at most `within`); answers the last body.
async fn until_status<F, Fut>(what: &str, within: Duration, want: u16, mut f: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let deadline = Instant::now() + within;
    loop {
        let (st, v) = f().await;
        if st == want {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: {st} {v}, not {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A gateway and a service restarted while the broker is unreachable (cut through
/// the proxy) cannot replay the revocation log: they accept no token (503, as
/// their `/readyz` says) instead of accepting a deactivated account's token; once
/// the broker is back and they replayed the log, the revoked token is refused
/// (401) and the others work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_restarted_while_the_broker_is_away_accept_no_token_before_the_replay() {
    let Some((_pg, amqp)) = servers().await else {
        return;
    };
    let proxy = crate::proxy::Proxy::start(amqp_addr(&amqp)).await;
    let mut d = Deployment::start(Options {
        amqp_url: amqp_via(&amqp, proxy.addr()),
        broker_url: amqp.clone(),
        extra: vec![],
    })
    .await;
    let org = d.api.organization_with_default_roles(&[]).await;
    let (victim, client_id, secret) = d.api.create_api_account(&org, false).await;
    let token = d.api.token_of(&client_id, &secret).await;
    let admin = d.api.admin_token().await;
    let org_path = format!("/identity/v1/organizations/{org}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let at_gateway = d.api.url(&org_path);
    let at_service = d.service_url("organization", &org_path);
    // Accepted (no grant: the organization is not visible to it).
    let (st, v) = get(&client, &at_gateway, &token).await;
    assert_eq!(st, 404, "{v}");

    // A burst of 10,000 revocations (of other identities) ahead in the log.
    let bus = idp_bus::AmqpBus::connect(&amqp, &d.events.exchange, 16)
        .await
        .unwrap();
    bus.wait_connected(Duration::from_secs(10)).await.unwrap();
    let burst: Vec<idp_model::events::Envelope> = (0..10_000)
        .map(|_| {
            idp_model::events::Envelope::new(
                idp_model::events::types::IDENTITY_DEACTIVATED,
                "identity",
                None,
                json!({"identityId": uuid::Uuid::new_v4()}),
                time::OffsetDateTime::now_utc(),
            )
        })
        .collect();
    for chunk in burst.chunks(1000) {
        let (n, e) = idp_bus::EventBus::publish_batch(&bus, chunk).await;
        assert_eq!(n, chunk.len(), "{e:?}");
    }
    bus.close();
    // A deactivation behind the burst is refused at the gateway within a second
    // or so (it took 8-9 s when the replay logged every event).
    let (st, v) = d
        .api
        .call(
            Method::PUT,
            &format!("/identity/v1/api-account-identities/{victim}/deactivate"),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let deactivated = Instant::now();
    until_status(
        "revoked at the gateway",
        Duration::from_secs(5),
        401,
        || get(&client, &at_gateway, &token),
    )
    .await;
    let took = deactivated.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");

    // A gateway restarted behind that burst forwards no token before it applied
    // the replay: the revoked token is never accepted (404), only 503 then 401.
    d.stop_part("gateway").await;
    d.spawn_part("gateway", &[]);
    d.wait_healthy("gateway").await;
    let restarted = Instant::now();
    loop {
        let (st, v) = get(&client, &at_gateway, &token).await;
        assert!(st == 503 || st == 401, "restarted gateway: {st} {v}");
        if st == 401 {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(20),
            "never replayed"
        );
    }
    println!(
        "the restarted gateway replayed the log in {:?}",
        restarted.elapsed()
    );
    until_status(
        "revoked at the service",
        Duration::from_secs(5),
        401,
        || get(&client, &at_service, &token),
    )
    .await;

    proxy.cut();
    for part in ["gateway", "organization"] {
        d.stop_part(part).await;
        d.spawn_part(part, &[]);
        d.wait_healthy(part).await;
    }
    // Give them time to try: still nothing to replay from.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for url in [&at_gateway, &at_service] {
        let (st, v) = get(&client, url, &token).await;
        assert_eq!(
            st, 503,
            "{url}: the revoked token while the log cannot be read: {v}"
        );
        let (st, v) = get(&client, url, &admin).await;
        assert_eq!(
            st, 503,
            "{url}: any token while the log cannot be read: {v}"
        );
    }

    proxy.restore();
    for url in [&at_gateway, &at_service] {
        until_status(
            "the revoked token after the replay",
            Duration::from_secs(30),
            401,
            || get(&client, url, &token),
        )
        .await;
        until_status(
            "another token after the replay",
            Duration::from_secs(30),
            200,
            || get(&client, url, &admin),
        )
        .await;
    }
    d.stop().await;
}
