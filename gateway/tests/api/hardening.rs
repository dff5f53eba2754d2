//! What a client can send to confuse the gateway: broken bodies, refusals on a
//! kept-alive connection, dot-segments, identity headers, bursts on public routes.

use std::time::Duration;

use idp_gateway::{PublicRoute, Route};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// One HTTP/1.1 response read off a raw connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    /// Lower-cased header names, values as sent.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one response (head and a `Content-Length` body) from `s`, keeping what
/// follows in `buf`; `None` when the connection ends or fails first.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RawResponse> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + len {
        let n = tokio::time::timeout_at(deadline, s.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(RawResponse {
        status,
        headers,
        body,
    })
}

/// Sends `raw` on a new connection and reads one response.
async fn send_raw(addr: std::net::SocketAddr, raw: &[u8]) -> RawResponse {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut buf = Vec::new();
    read_response(&mut s, &mut buf)
        .await
        .unwrap_or_else(|| panic!("no response to {}", String::from_utf8_lossy(raw)))
}

fn assert_raw_problem(r: &RawResponse, status: u16) -> Value {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{r:?}"
    );
    let body = r.json();
    assert_eq!(body["status"], status);
    body
}

async fn metrics(gw: &TestGateway) -> String {
    client()
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_chunked_body_is_the_clients_fault() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    // A public route: no token needed to get this far. One good chunk, then a
    // chunk size that is not hexadecimal.
    let r = send_raw(
        gw.addr,
        b"POST /public/upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n\
          5\r\nhello\r\nzz\r\nnot a chunk\r\n0\r\n\r\n",
    )
    .await;
    let body = assert_raw_problem(&r, 400);
    assert!(body["detail"].as_str().unwrap().contains("body"), "{body}");
    assert!(r.closes(), "the connection cannot be reused: {r:?}");
    let text = metrics(&gw).await;
    assert!(
        text.contains("gateway_requests_total{route=\"api\",status=\"4xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gateway_requests_total{route=\"api\",status=\"5xx\"} 0"),
        "{text}"
    );
}

/// A refusal either says `Connection: close` (and closes), or keeps the
/// connection usable: the next request on it is answered.
async fn next_request_works_or_close_was_announced(
    gw: &TestGateway,
    first: &[u8],
    expect: u16,
) -> bool {
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(first).await.unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf)
        .await
        .unwrap_or_else(|| panic!("no answer to {}", String::from_utf8_lossy(first)));
    assert_eq!(r.status, expect, "{r:?}");
    if r.closes() {
        // Announced: the gateway closes; nothing more comes.
        assert!(read_response(&mut s, &mut buf).await.is_none());
        return true;
    }
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let second = read_response(&mut s, &mut buf).await;
    assert!(
        second.as_ref().is_some_and(|r| r.status == 200),
        "after {expect} without `Connection: close`, the next request on the \
         connection failed: {second:?} (first: {})",
        String::from_utf8_lossy(first)
    );
    false
}

#[tokio::test]
async fn refusals_keep_the_connection_usable_or_say_close() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let auth = format!("authorization: Bearer {}\r\n", token());

    // 401 with an unread body.
    next_request_works_or_close_was_announced(
        &gw,
        b"POST /api/x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
        401,
    )
    .await;
    // 401 with an unread chunked body.
    next_request_works_or_close_was_announced(
        &gw,
        b"POST /api/x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        401,
    )
    .await;
    // 401 to a client that waits for `100 Continue` before sending its body.
    let closed = next_request_works_or_close_was_announced(
        &gw,
        b"PUT /api/x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
        401,
    )
    .await;
    assert!(
        closed,
        "the body was never sent: the connection cannot be reused"
    );
    // 404 with an unread body.
    next_request_works_or_close_was_announced(
        &gw,
        b"POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
        404,
    )
    .await;
    // 413 on Content-Length alone: the body is not even sent.
    let req = format!("POST /api/x HTTP/1.1\r\nhost: x\r\n{auth}content-length: 4096\r\n\r\n");
    let closed = next_request_works_or_close_was_announced(&gw, req.as_bytes(), 413).await;
    assert!(closed, "a 413 on Content-Length cannot keep the connection");
    // 429 with an unread body (the token endpoint's burst is 3).
    for _ in 0..3 {
        send_raw(
            gw.addr,
            b"POST /identity/v1/oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
    }
    next_request_works_or_close_was_announced(
        &gw,
        b"POST /identity/v1/oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
        429,
    )
    .await;
    next_request_works_or_close_was_announced(
        &gw,
        b"POST /identity/v1/oauth/token HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
        429,
    )
    .await;
    // 400 on an ambiguous path, and 404, to a client waiting for `100 Continue`.
    for (path, status) in [("/public/../api/x", 400), ("/nowhere", 404)] {
        let req = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n"
        );
        next_request_works_or_close_was_announced(&gw, req.as_bytes(), status).await;
    }

    // A refusal of a request without a body keeps the connection.
    let closed = next_request_works_or_close_was_announced(
        &gw,
        b"GET /api/x HTTP/1.1\r\nhost: x\r\n\r\n",
        401,
    )
    .await;
    assert!(!closed, "a bodyless refusal keeps the connection alive");
    // So does a forwarded request whose body the upstream read.
    let req = format!("POST /api/x HTTP/1.1\r\nhost: x\r\n{auth}content-length: 5\r\n\r\nhello");
    let closed = next_request_works_or_close_was_announced(&gw, req.as_bytes(), 200).await;
    assert!(!closed, "a forwarded request keeps the connection alive");
    let req = format!(
        "POST /api/x HTTP/1.1\r\nhost: x\r\n{auth}transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    let closed = next_request_works_or_close_was_announced(&gw, req.as_bytes(), 200).await;
    assert!(
        !closed,
        "a forwarded chunked request keeps the connection alive"
    );
}

#[tokio::test]
async fn dot_segments_and_empty_segments_are_refused_before_routing() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    for path in [
        "/public/../api/x",
        "/public/./x",
        "/public/..",
        "/public/%2e%2e/api/x",
        "/public/%2E%2E/api/x",
        "/public/.%2e/api/x",
        "/public/%2e./api/x",
        "/public/%2e/x",
        "/public//x",
        "//public/x",
        "/public/%2f../api/x",
        "/public/%2F%2E%2E/api/x",
        "/public/..%5capi/x",
        "/public/..\\api/x",
        "/api/x/..",
    ] {
        let raw = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let r = send_raw(gw.addr, raw.as_bytes()).await;
        if r.status == 400 && path.contains('\\') && r.header("content-type").is_none() {
            // The HTTP server itself may refuse a raw backslash in the request line.
            continue;
        }
        let body = assert_raw_problem(&r, 400);
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("path"), "{path}: {detail}");
        assert!(!detail.contains("api/x"), "{path}: the path is not echoed");
    }
    assert_eq!(backend.count(), 0, "nothing reached the backend");
    // Dots inside a segment, a trailing slash and other escapes are fine.
    for path in [
        "/public/a.b",
        "/public/.well",
        "/public/...",
        "/public/x/",
        "/public/a%20b",
    ] {
        let raw = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        let r = send_raw(gw.addr, raw.as_bytes()).await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.json()["uri"], path);
    }
}

#[tokio::test]
async fn identity_headers_from_clients_never_reach_a_backend() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let spoofed = [
        "x-organization-id",
        "x-org-id",
        "x-tenant-id",
        "x-tenant",
        "x-user-id",
        "x-user",
        "x-username",
        "x-user-email",
        "x-email",
        "x-identity-id",
        "x-identity-type",
        "x-real-ip",
        "x-client-ip",
        "x-cluster-client-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "x-forwarded-user",
        "x-forwarded-email",
        "x-forwarded-groups",
        "x-remote-user",
        "x-remote-addr",
        "remote-user",
        "x-auth-user",
        "x-auth-request-user",
        "x-authenticated-user",
        "x-authenticated-userid",
        "x-principal",
        "x-roles",
        "x-role",
        "x-groups",
        "x-permissions",
        "x-scopes",
        "x-account-id",
        "x-api-account-id",
        "x-subject",
        "x-internal-user",
        "x-original-url",
        "x-rewrite-url",
        "x-ssl-client-cert",
        "x-client-cert",
        "x-jwt-claims",
        "x-token-subject",
        "x-impersonate-user",
        "x-on-behalf-of",
    ];
    for route in ["/api/x", "/public/x"] {
        let mut req = client()
            .get(gw.url(route))
            .header("authorization", format!("Bearer {}", token()))
            .header("x-custom", "kept")
            .header("x-request-id", "rid-1");
        for h in spoofed {
            req = req.header(h, "00000000-0000-0000-0000-000000000001");
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let echo: Value = resp.json().await.unwrap();
        let h = &echo["headers"];
        for name in spoofed {
            assert!(
                h.get(name).is_none(),
                "{route}: {name} reached the backend: {h}"
            );
        }
        assert_eq!(h["x-custom"], "kept");
        assert_eq!(h["x-request-id"], "rid-1");
        assert_eq!(h["x-forwarded-for"], "127.0.0.1", "set by the gateway");
    }
}

#[tokio::test]
async fn authorize_initiate_is_rate_limited_per_client_by_default() {
    let backend = Backend::start().await;
    let up = backend.url();
    // The default public routes and rate limits; the organizations route at the
    // stand-in backend.
    let mut s = settings(&backend);
    s.routes = vec![Route::new(
        "/identity/v1/organizations",
        &up,
        "organization",
    )];
    s.public = idp_gateway::settings::default_public();
    let defaults = idp_gateway::Settings::default();
    s.token_rate_per_sec = defaults.token_rate_per_sec;
    s.token_burst = defaults.token_burst;
    assert!(s.public.contains(&PublicRoute::new(
        Some("POST"),
        "/identity/v1/organizations/authorize-initiate"
    )));
    let gw = TestGateway::start(s).await;
    let c = client();
    let mut limited = None;
    for i in 0..200 {
        let resp = c
            .post(gw.url("/identity/v1/organizations/authorize-initiate"))
            .json(&serde_json::json!({"label": format!("guess-{i}")}))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            assert_eq!(resp.headers()["retry-after"], "1");
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            limited = Some(i);
            break;
        }
        assert_eq!(resp.status(), 200, "request {i}");
    }
    let limited = limited.expect("a burst of 200 from one client was never limited");
    assert!(limited >= 1, "the first requests pass");
    assert_eq!(backend.count(), limited, "the refused one never reached it");
    // Other routes of the same client are not limited by it.
    let resp = c
        .get(gw.url("/identity/v1/organizations/x"))
        .header("authorization", format!("Bearer {}", token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn expect_continue_is_answered_only_once_the_request_is_admitted() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let head = format!(
        "PUT /api/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
        token()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let first = read_response(&mut s, &mut buf).await.unwrap();
    assert_eq!(first.status, 100, "{first:?}");
    assert_eq!(backend.count(), 0, "nothing forwarded before the body");
    s.write_all(b"hello").await.unwrap();
    let r = read_response(&mut s, &mut buf).await.unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let echo = r.json();
    assert_eq!(echo["bodyLen"], 5);
    assert!(
        echo["headers"].get("expect").is_none(),
        "answered by this hop: {echo}"
    );
    assert_eq!(backend.count(), 1);
    // The connection goes on.
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut buf).await.unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    // Decided once, before `100 Continue`: the handler did not check the token
    // (nor take a rate-limit token) again.
    let text = metrics(&gw).await;
    assert!(
        text.contains("gateway_token_validations_total{outcome=\"valid\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_over_its_limit_gets_a_token_back_each_second() {
    let backend = Backend::start().await;
    // The test settings: the token endpoint at 1 per second, burst 3.
    let gw = TestGateway::start(settings(&backend)).await;
    let c = client();
    let call = || {
        c.post(gw.url("/identity/v1/oauth/token"))
            .body("grant_type=client_credentials")
            .send()
    };
    for i in 0..3 {
        assert_eq!(call().await.unwrap().status(), 200, "request {i}");
    }
    let refused = call().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        call().await.unwrap().status(),
        200,
        "refilled after a second"
    );
    assert_eq!(
        call().await.unwrap().status(),
        429,
        "one token, not the burst"
    );
    assert_eq!(backend.count(), 4);
}

#[tokio::test]
async fn bodies_keep_their_framing_upstream() {
    let backend = Backend::start().await;
    let gw = TestGateway::start(settings(&backend)).await;
    let auth = format!("authorization: Bearer {}\r\n", token());
    let cases = [
        // No body: none upstream either.
        ("GET", "", "", None, None),
        // An empty body said so, and a sized one keeps its length.
        ("POST", "content-length: 0\r\n", "", Some("0"), None),
        ("POST", "content-length: 5\r\n", "hello", Some("5"), None),
        // Chunks stay chunks.
        (
            "POST",
            "transfer-encoding: chunked\r\n",
            "5\r\nhello\r\n0\r\n\r\n",
            None,
            Some("chunked"),
        ),
    ];
    for (method, framing, body, len, te) in cases {
        let raw = format!(
            "{method} /api/x HTTP/1.1\r\nhost: x\r\n{auth}{framing}connection: close\r\n\r\n{body}"
        );
        let r = send_raw(gw.addr, raw.as_bytes()).await;
        assert_eq!(r.status, 200, "{r:?}");
        let e = r.json();
        let h = &e["headers"];
        assert_eq!(
            h.get("content-length").and_then(Value::as_str),
            len,
            "{method} {framing}: {e}"
        );
        assert_eq!(
            h.get("transfer-encoding").and_then(Value::as_str),
            te,
            "{method} {framing}: {e}"
        );
        assert_eq!(e["bodyLen"], if body.is_empty() { 0 } else { 5 });
    }
}
