#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The gateway end to end: a real listener, a test backend (which also serves the
//! JWKS), real HTTP clients.

mod events;
mod hardening;
mod support;

use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn assert_problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["requestId"], rid.as_str());
    body
}

#[tokio::test]
async fn invalid_tokens_are_refused_before_the_backend() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let c = client();

    let now = now();
    let mut expired = claims();
    expired["exp"] = json!(now - 120);
    expired["iat"] = json!(now - 600);
    let mut future = claims();
    future["nbf"] = json!(now + 600);
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("http://evil.test/identity/v1");
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("someone-else");
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"a"}"#),
        b64(claims().to_string().as_bytes())
    );
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("a".into());
    let hmac_confusion =
        encode(&hs, &claims(), &EncodingKey::from_secret(PUB_A.as_bytes())).unwrap();

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "Bearer"),
        ("not bearer", Some("Basic dXNlcjpwdw==".into()), "Bearer"),
        (
            "malformed",
            Some("Bearer not.a.jwt".into()),
            "invalid_token",
        ),
        (
            "wrong signature",
            Some(format!("Bearer {}", sign_with(KEY_B, "a", &claims()))),
            "invalid_token",
        ),
        (
            "unknown kid",
            Some(format!("Bearer {}", sign_with(KEY_B, "b", &claims()))),
            "invalid_token",
        ),
        ("alg none", Some(format!("Bearer {none}")), "invalid_token"),
        (
            "hmac with the public key",
            Some(format!("Bearer {hmac_confusion}")),
            "invalid_token",
        ),
        (
            "expired",
            Some(format!("Bearer {}", sign_with(KEY_A, "a", &expired))),
            "expired",
        ),
        (
            "not yet valid",
            Some(format!("Bearer {}", sign_with(KEY_A, "a", &future))),
            "not valid yet",
        ),
        (
            "wrong issuer",
            Some(format!("Bearer {}", sign_with(KEY_A, "a", &wrong_iss))),
            "issuer",
        ),
        (
            "wrong audience",
            Some(format!("Bearer {}", sign_with(KEY_A, "a", &wrong_aud))),
            "audience",
        ),
    ];
    for (what, auth, expect) in cases {
        let mut req = c.get(gw.url("/api/things"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        let www = resp
            .headers()
            .get("www-authenticate")
            .unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"))
            .to_str()
            .unwrap()
            .to_string();
        assert!(www.starts_with("Bearer"), "{what}: {www}");
        assert!(www.contains(expect), "{what}: {www}");
        assert_problem(resp, 401).await;
        assert_eq!(backend.count(), 0, "{what}: the backend was contacted");
    }
}

#[tokio::test]
async fn valid_token_is_forwarded_with_clean_headers() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let t = token();
    let resp = client()
        .get(gw.url("/api/things?page=2"))
        .header("authorization", format!("Bearer {t}"))
        .header("connection", "keep-alive, x-hop-header")
        .header("x-hop-header", "must go")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic eDp5")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.test")
        .header("forwarded", "for=6.6.6.6")
        .header("x-internal-user", "admin")
        .header("x-identity-id", "00000000-0000-0000-0000-000000000000")
        .header("x-custom", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&rid).is_ok(), "generated id {rid}");
    assert!(
        resp.headers().get("x-backend-hop").is_none(),
        "response hop-by-hop stripped"
    );
    assert!(resp.headers().get("keep-alive").is_none());
    let echo: Value = resp.json().await.unwrap();
    let h = &echo["headers"];
    assert_eq!(echo["uri"], "/api/things?page=2");
    assert_eq!(h["authorization"], format!("Bearer {t}"));
    assert_eq!(h["x-request-id"], rid.as_str());
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], gw.addr.to_string());
    assert_eq!(h["x-custom"], "kept");
    assert_eq!(h["host"], backend.addr.to_string());
    for gone in [
        "x-hop-header",
        "keep-alive",
        "proxy-authorization",
        "forwarded",
        "x-internal-user",
        "x-identity-id",
    ] {
        assert!(h.get(gone).is_none(), "{gone} was forwarded: {h}");
    }
    assert!(h
        .get("connection")
        .is_none_or(|v| !v.as_str().unwrap().contains("x-hop")));
    assert_eq!(backend.count(), 1);

    // The second use of the token comes from the cache and still works.
    let resp = client()
        .get(gw.url("/api/things"))
        .header("authorization", format!("bearer {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gw.verifier.stats().cache_hits, 1);
}

#[tokio::test]
async fn client_request_id_is_echoed_and_insane_ones_replaced() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let resp = client()
        .get(gw.url("/api/x"))
        .header("authorization", format!("Bearer {}", token()))
        .header("x-request-id", "client-id_1.2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "client-id_1.2");
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["headers"]["x-request-id"], "client-id_1.2");
    // Also on errors.
    let resp = client()
        .get(gw.url("/nowhere"))
        .header("x-request-id", "err-id")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "err-id");
    let resp = client()
        .get(gw.url("/nowhere"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let resp = client()
        .put(gw.url("/public/key/abc"))
        .header("authorization", "Bearer whatever")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["headers"]["authorization"], "Bearer whatever");
    // Rewritten well-known route.
    let resp = client()
        .get(gw.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["uri"], "/identity/v1/.well-known/jwks.json");
    // Method matters: GET on the token endpoint is not public.
    let resp = client()
        .get(gw.url("/identity/v1/oauth/token"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401).await;
    assert_eq!(backend.count(), 2);
}

#[tokio::test]
async fn unknown_route_is_404() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let resp = client().get(gw.url("/nowhere")).send().await.unwrap();
    assert_problem(resp, 404).await;
    let resp = client().get(gw.url("/apix")).send().await.unwrap();
    assert_problem(resp, 404).await;
    assert_eq!(backend.count(), 0);
}

#[tokio::test]
async fn backend_down_is_502() {
    let backend = Backend::start().await;
    let mut s = settings(&backend);
    s.routes
        .push(idp_gateway::Route::new("/down", &dead_url(), "down"));
    let gw = TestGateway::start(s).await;
    let resp = client()
        .get(gw.url("/down/x"))
        .header("authorization", format!("Bearer {}", token()))
        .send()
        .await
        .unwrap();
    let body = assert_problem(resp, 502).await;
    assert!(body["detail"].as_str().unwrap().contains("down"));
}

#[tokio::test]
async fn slow_backend_is_504() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let started = std::time::Instant::now();
    let resp = client()
        .get(gw.url("/slow/x"))
        .header("authorization", format!("Bearer {}", token()))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 504).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let auth = format!("Bearer {}", token());
    let resp = client()
        .post(gw.url("/api/upload"))
        .header("authorization", &auth)
        .body(vec![b'x'; 2048])
        .send()
        .await
        .unwrap();
    assert_problem(resp, 413).await;
    assert_eq!(backend.count(), 0, "refused on Content-Length alone");
    // At the limit it passes.
    let resp = client()
        .post(gw.url("/api/upload"))
        .header("authorization", &auth)
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo: Value = resp.json().await.unwrap();
    assert_eq!(echo["bodyLen"], 1024);

    // A chunked body without Content-Length is counted while it streams.
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let mut req = format!(
        "POST /api/upload HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..4 {
        req.extend_from_slice(b"200\r\n");
        req.extend_from_slice(&[b'y'; 0x200]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    s.write_all(&req).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
}

#[tokio::test]
async fn token_endpoint_is_rate_limited_per_client() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let c = client();
    for i in 0..3 {
        let resp = c
            .post(gw.url("/identity/v1/oauth/token"))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "request {i} within the burst");
    }
    let resp = c
        .post(gw.url("/identity/v1/oauth/token"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_problem(resp, 429).await;
    assert_eq!(backend.count(), 3);
    // Other routes are not limited.
    let resp = c
        .get(gw.url("/api/x"))
        .header("authorization", format!("Bearer {}", token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn health_and_readiness() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let resp = client().get(gw.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-request-id").is_some());
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let resp = client().get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let mut s = settings(&backend);
    let dead = dead_url();
    s.routes
        .push(idp_gateway::Route::new("/down", &dead, "down"));
    let gw = TestGateway::start(s).await;
    let resp = client().get(gw.url("/readyz")).send().await.unwrap();
    let body = assert_problem(resp, 503).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("down") && detail.contains(&dead),
        "{detail}"
    );
    assert!(!detail.contains("api"), "{detail}");
}

#[tokio::test]
async fn revoked_identity_is_refused() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let c = claims();
    let t = sign_with(KEY_A, "a", &c);
    let auth = format!("Bearer {t}");
    let resp = client()
        .get(gw.url("/api/x"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sub: idp_model::IdentityId = c["sub"].as_str().unwrap().parse().unwrap();
    gw.verifier.revoke_identity(sub, c["iat"].as_i64().unwrap());
    let resp = client()
        .get(gw.url("/api/x"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("revoked"));
    assert_problem(resp, 401).await;
    assert_eq!(backend.count(), 1);
}

#[tokio::test]
async fn metrics_count_requests_and_validations() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let c = client();
    c.get(gw.url("/api/x"))
        .header("authorization", format!("Bearer {}", token()))
        .send()
        .await
        .unwrap();
    c.get(gw.url("/api/x")).send().await.unwrap();
    c.get(gw.url("/nowhere")).send().await.unwrap();
    let text = c
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("gateway_requests_total{route=\"api\",status=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_requests_total{route=\"api\",status=\"4xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_requests_total{route=\"unmatched\",status=\"4xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_token_validations_total{outcome=\"valid\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_token_validations_total{outcome=\"missing\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_request_duration_seconds_count 3"),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_stops_the_gateway() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let resp = client().get(gw.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    gw.shutdown.trigger();
    let addr = gw.addr;
    let mut gw = gw;
    let task = std::mem::replace(&mut gw.task, tokio::spawn(async { Ok(()) }));
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("run returned")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let backend = Backend::start().await;
    let mut s = settings(&backend);
    // The backend answers /slow after 2 s; the grace is 3 s + 1 s.
    s.request_timeout_ms = 3000;
    let gw = TestGateway::start(s).await;
    let url = gw.url("/slow/x");
    let auth = format!("Bearer {}", token());
    let in_flight = tokio::spawn(async move {
        client()
            .get(url)
            .header("authorization", auth)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(backend.count(), 1, "the request reached the backend");
    gw.shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(gw.addr).await.is_err(),
        "no longer accepting"
    );
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        200,
        "finished, not dropped"
    );
    let mut gw = gw;
    let task = std::mem::replace(&mut gw.task, tokio::spawn(async { Ok(()) }));
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("run returned")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn upstream_connections_are_kept_alive_and_reused() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let c = client();
    let auth = format!("Bearer {}", token());
    for i in 0..20 {
        let resp = c
            .post(gw.url("/api/x"))
            .header("authorization", &auth)
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "request {i}");
        resp.bytes().await.unwrap();
    }
    assert_eq!(backend.count(), 20);
    // One pool per gateway worker, and the JWKS fetch: a handful, not 20.
    let n = backend
        .connections
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(n <= 4, "{n} upstream connections for 20 requests");
}
