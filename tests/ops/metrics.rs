//! `GET /metrics` on every service (scraped directly, not through the gateway):
//! per-route counters by route template and status, token validations, the outbox
//! and consumer series; the page parses as the OpenMetrics text format.

use std::time::{Duration, Instant};

use idp_common::metrics::{parse_text, Sample};
use idp_platform::{Platform, PlatformSettings};
use idp_runtime::Shutdown;
use serde_json::{json, Value};

use crate::child::{client, send};

async fn scrape(client: &reqwest::Client, addr: std::net::SocketAddr) -> Vec<Sample> {
    let res = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        ct.starts_with("application/openmetrics-text; version=1.0.0"),
        "{ct}"
    );
    let text = res.text().await.unwrap();
    assert!(
        text.ends_with("# EOF\n"),
        "an OpenMetrics page ends in # EOF"
    );
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    parse_text(&text).unwrap_or_else(|e| panic!("not the text format: {e}\n{text}"))
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .map(|s| s.value)
}

#[tokio::test]
async fn every_service_serves_metrics_by_route_template_with_outbox_and_consumer_series() {
    idp_common::telemetry::init_for_tests();
    let dir = tempfile::tempdir().unwrap();
    let settings = PlatformSettings {
        data_dir: dir.path().join("data").display().to_string(),
        listen: "127.0.0.1:0".into(),
        identity_port: 0,
        organization_port: 0,
        invitation_port: 0,
        authorization_port: 0,
        ..Default::default()
    };
    let platform = Platform::start(settings, Shutdown::new()).await.unwrap();
    let c = client();
    let gw = |p: &str| format!("http://{}{}", platform.gateway_addr, p);
    let creds: Value =
        serde_json::from_slice(&std::fs::read(&platform.credentials_file).unwrap()).unwrap();
    let token = crate::child::token(
        &c,
        &gw("/identity/v1/oauth/token"),
        creds["clientId"].as_str().unwrap(),
        creds["password"].as_str().unwrap(),
    )
    .await;

    // A few requests through the gateway: reads by id, a refused token, and a
    // creation whose event the authorization service consumes.
    let (st, me) = send(
        c.get(gw("/identity/v1/identities/self"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    let me_id = me["id"].as_str().unwrap().to_string();
    let org_id = me["organizationId"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let (st, _) = send(
            c.get(gw(&format!("/identity/v1/identities/{me_id}")))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(st, 200);
    }
    let missing = uuid::Uuid::new_v4();
    let (st, _) = send(
        c.get(gw(&format!("/identity/v1/identities/{missing}")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(st, 404);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, created) = send(
        c.post(gw("/identity/v1/user-identities"))
            .bearer_auth(&token)
            .json(&json!({"organizationId": org_id, "firstName": "Met", "lastName": "Rics", "email": format!("m-{tag}@example.com")})),
    )
    .await;
    assert_eq!(st, 201, "{created}");
    let created_id = created["id"].as_str().unwrap().to_string();
    // Straight to the services (as Prometheus would), each one's probes.
    for addr in platform.service_addrs {
        let res = c
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // A token the identity service itself refuses (the gateway would stop it).
    let res = c
        .get(format!(
            "http://{}/identity/v1/identities/self",
            platform.service_addrs[0]
        ))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let [identity, organization, invitation, authorization] = platform.service_addrs;
    let s = scrape(&c, identity).await;
    let requests = |s: &[Sample], route: &str, status: &str| {
        value(
            s,
            "idp_http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!(
        requests(&s, "/identity/v1/identities/{id}", "200"),
        Some(2.0)
    );
    assert_eq!(
        requests(&s, "/identity/v1/identities/{id}", "404"),
        Some(1.0)
    );
    assert_eq!(
        requests(&s, "/identity/v1/identities/self", "401"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "idp_http_request_duration_seconds_count",
            &[("route", "/identity/v1/identities/{id}"), ("status", "200")]
        ),
        Some(2.0)
    );
    assert!(
        value(&s, "idp_token_validations_total", &[("outcome", "valid")]).unwrap() >= 4.0,
        "valid tokens counted"
    );
    assert_eq!(
        value(
            &s,
            "idp_token_validations_total",
            &[("outcome", "malformed")]
        ),
        Some(1.0)
    );
    // Never a raw path: no label carries an id.
    for sample in &s {
        for v in sample.labels.values() {
            for id in [&me_id, &created_id, &missing.to_string()] {
                assert!(!v.contains(id.as_str()), "raw id in {sample:?}");
            }
        }
    }
    assert!(value(&s, "idp_outbox_depth", &[]).is_some());
    assert!(value(&s, "idp_token_cache_hits_total", &[]).is_some());

    // The identity.created event reaches the authorization service's consumer.
    let deadline = Instant::now() + Duration::from_secs(15);
    let s = loop {
        let s = scrape(&c, authorization).await;
        let applied = s.iter().any(|x| {
            x.name == "idp_events_consumed_total"
                && x.label("type") == Some("identity.created")
                && x.label("outcome") == Some("applied")
                && x.label("queue")
                    .is_some_and(|q| q.ends_with(".authorization"))
                && x.value >= 1.0
        });
        if applied {
            break s;
        }
        assert!(Instant::now() < deadline, "identity.created never consumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        value(
            &s,
            "idp_outbox_published_total",
            &[("type", "identity.created")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(value(&s, "idp_outbox_publish_duration_seconds_count", &[]).unwrap() >= 1.0);
    assert!(s.iter().any(|x| x.name == "idp_consumer_lag_seconds_count"
        && x.label("queue")
            .is_some_and(|q| q.ends_with(".authorization"))
        && x.value >= 1.0));
    assert!(s
        .iter()
        .any(|x| x.name == "idp_dead_lettered_total" && x.label("reason") == Some("malformed")));
    assert!(value(&s, "idp_outbox_depth", &[]).is_some());
    assert!(value(&s, "idp_outbox_publish_failures_total", &[]).is_some());

    for addr in [organization, invitation, authorization] {
        let s = scrape(&c, addr).await;
        assert_eq!(requests(&s, "/healthz", "200"), Some(1.0), "{addr}");
        assert!(value(&s, "idp_http_requests_in_flight", &[]).is_some());
    }

    // The gateway answers its own /metrics; it never routes it to a service.
    let text = c
        .get(gw("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("gateway_requests_total"), "{text}");
    assert!(!text.contains("idp_http_requests_total"), "{text}");

    platform.stop().await.unwrap();
}
