//! What one token costs: signing (the token endpoint's floor) and verification in
//! the shared bearer extractor, cold (a token never seen: an RS256 signature check)
//! and warm (the verified-token cache). Wall-clock time per operation on one thread,
//! the process otherwise idle. `cargo bench -p idp-identity --bench token_costs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use idp_bearer::{Verifier, VerifierSettings};
use idp_identity::keys::{generate_pem, KeyRing};
use idp_model::token::{AccessClaims, IdentityType};
use idp_model::{IdentityId, OrganizationId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISSUER: &str = "http://bench/identity/v1";

fn claims(i: u64) -> AccessClaims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    AccessClaims {
        iss: ISSUER.into(),
        sub: IdentityId::new(),
        aud: "platform".into(),
        iat: now,
        nbf: None,
        exp: now + 3600,
        jti: format!("bench-{i}"),
        organization_id: OrganizationId::new(),
        identity_type: IdentityType::ApiAccountIdentity,
    }
}

/// A loopback HTTP server answering every request with the JWKS.
async fn serve_jwks(body: Vec<u8>) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}/jwks.json")
}

fn report(what: &str, n: u64, took: Duration) {
    let us = took.as_secs_f64() * 1e6 / n as f64;
    println!("{what}: {us:.2} µs/op ({:.0} ops/s, {n} ops)", 1e6 / us);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` this runs as a
    // smoke test with a handful of operations.
    let measuring = std::env::args().any(|a| a == "--bench");
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let n: u64 = match (measuring, quick) {
        (false, _) => 3,
        (true, true) => 300,
        (true, false) => 3000,
    };
    let ring = KeyRing::from_pem(&generate_pem().unwrap()).unwrap();
    let jwks_url = serve_jwks(ring.jwks_json().to_vec()).await;
    let verifier = Verifier::new(VerifierSettings {
        issuer: ISSUER.into(),
        jwks_url,
        ..Default::default()
    });

    // Signing: the floor of the client-credentials grant.
    let started = Instant::now();
    let tokens: Vec<String> = (0..n).map(|i| ring.sign(&claims(i)).unwrap()).collect();
    report("sign RS256 (token endpoint floor)", n, started.elapsed());

    // Warm the JWKS once, so the cold figure is the signature check alone.
    verifier.verify(&tokens[0]).await.unwrap();
    let started = Instant::now();
    for t in &tokens[1..] {
        verifier.verify(t).await.unwrap();
    }
    report(
        "verify, cold (new token: RS256 check, claims)",
        n - 1,
        started.elapsed(),
    );

    let warm = if measuring { n * 100 } else { 3 };
    let t = &tokens[1];
    let started = Instant::now();
    for _ in 0..warm {
        verifier.verify(t).await.unwrap();
    }
    report(
        "verify, warm (verified-token cache hit)",
        warm,
        started.elapsed(),
    );
}
