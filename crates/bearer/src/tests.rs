#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const KEY_A: &str = include_str!("../testdata/a.pem");
const KEY_B: &str = include_str!("../testdata/b.pem");
const PUB_A: &str = include_str!("../testdata/a.pub.pem");
const N_A: &str = include_str!("../testdata/a.n");
const N_B: &str = include_str!("../testdata/b.n");
const ISS: &str = "http://issuer.test/identity/v1";

fn jwk(kid: &str, n: &str) -> serde_json::Value {
    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n.trim(), "e": "AQAB"})
}

/// A tiny JWKS server: answers every request with the current document and counts.
struct Jwks {
    url: String,
    doc: Arc<Mutex<serde_json::Value>>,
    hits: Arc<AtomicUsize>,
    /// Milliseconds the server waits before it answers.
    delay_ms: Arc<AtomicU64>,
}

async fn jwks_server(keys: Vec<serde_json::Value>) -> Jwks {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let doc = Arc::new(Mutex::new(json!({ "keys": keys })));
    let hits = Arc::new(AtomicUsize::new(0));
    let delay_ms = Arc::new(AtomicU64::new(0));
    let (d, h, w) = (doc.clone(), hits.clone(), delay_ms.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (d, h, w) = (d.clone(), h.clone(), w.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(w.load(Ordering::SeqCst))).await;
                let body = d.lock().unwrap().to_string();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    Jwks {
        url: format!("http://{addr}/jwks.json"),
        doc,
        hits,
        delay_ms,
    }
}

fn settings(url: &str) -> VerifierSettings {
    VerifierSettings {
        issuer: ISS.to_string(),
        audiences: vec!["platform".into(), "other".into()],
        jwks_url: url.to_string(),
        leeway_secs: 5,
        cache_capacity: 1000,
        jwks_min_refetch_secs: 10,
        jwks_timeout_ms: 1000,
        max_token_lifetime_secs: 3600,
    }
}

fn claims() -> serde_json::Value {
    let now = now_secs();
    json!({
        "iss": ISS,
        "sub": uuid::Uuid::new_v4(),
        "aud": "platform",
        "iat": now,
        "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
        "organizationId": uuid::Uuid::new_v4(),
        "identityType": "ApiAccountIdentity",
    })
}

fn sign_with(pem: &str, kid: Option<&str>, claims: &serde_json::Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = kid.map(str::to_string);
    encode(
        &h,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn sign(claims: &serde_json::Value) -> String {
    sign_with(KEY_A, Some("a"), claims)
}

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

async fn setup() -> (Jwks, Verifier) {
    let jwks = jwks_server(vec![jwk("a", N_A)]).await;
    let v = Verifier::new(settings(&jwks.url));
    (jwks, v)
}

#[tokio::test]
async fn valid_token_verifies_and_is_cached() {
    let (jwks, v) = setup().await;
    let c = claims();
    let t = sign(&c);
    let got = v.verify(&t).await.unwrap();
    assert_eq!(got.sub.to_string(), c["sub"].as_str().unwrap());
    assert_eq!(got.aud, "platform");
    let again = v.verify(&t).await.unwrap();
    assert!(Arc::ptr_eq(&got, &again), "second call served from cache");
    let s = v.stats();
    assert_eq!((s.cache_hits, s.cache_misses, s.cached_tokens), (1, 1, 1));
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn any_configured_audience_is_accepted() {
    let (_jwks, v) = setup().await;
    let mut c = claims();
    c["aud"] = json!("other");
    assert!(v.verify(&sign(&c)).await.is_ok());
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (jwks, v) = setup().await;
    let h = b64(br#"{"alg":"none","typ":"JWT","kid":"a"}"#);
    let p = b64(claims().to_string().as_bytes());
    for t in [format!("{h}.{p}."), format!("{h}.{p}.sig")] {
        assert_eq!(v.verify(&t).await, Err(TokenError::DisallowedAlgorithm));
    }
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        0,
        "no key lookup for none"
    );
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_is_refused() {
    let (_jwks, v) = setup().await;
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("a".into());
    let t = encode(&h, &claims(), &EncodingKey::from_secret(PUB_A.as_bytes())).unwrap();
    assert_eq!(v.verify(&t).await, Err(TokenError::DisallowedAlgorithm));
    let mut h = Header::new(Algorithm::RS512);
    h.kid = Some("a".into());
    let t = encode(
        &h,
        &claims(),
        &EncodingKey::from_rsa_pem(KEY_A.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(v.verify(&t).await, Err(TokenError::DisallowedAlgorithm));
}

#[tokio::test]
async fn wrong_signature_is_refused() {
    let (_jwks, v) = setup().await;
    let t = sign_with(KEY_B, Some("a"), &claims());
    assert_eq!(v.verify(&t).await, Err(TokenError::BadSignature));
    // Tampered payload with the original signature.
    let good = sign(&claims());
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims();
    c["aud"] = json!("platform");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(c.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(v.verify(&forged).await, Err(TokenError::BadSignature));
}

#[tokio::test]
async fn kid_is_required() {
    let (_jwks, v) = setup().await;
    let t = sign_with(KEY_A, None, &claims());
    assert_eq!(v.verify(&t).await, Err(TokenError::Malformed));
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let (_jwks, v) = setup().await;
    for t in ["abc", "a.b", "a.b.c.d", "!!!.e30.x", "e30.e30.x"] {
        assert_eq!(v.verify(t).await, Err(TokenError::Malformed), "{t}");
    }
    assert_eq!(v.verify("  ").await, Err(TokenError::Missing));
    assert_eq!(
        v.verify(&"x".repeat(MAX_TOKEN_LEN + 1)).await,
        Err(TokenError::Malformed)
    );
    // Signed, but the claims are not platform claims.
    let t = sign(&json!({"iss": ISS, "aud": "platform", "exp": now_secs() + 60, "sub": "x"}));
    assert_eq!(v.verify(&t).await, Err(TokenError::Malformed));
}

#[tokio::test]
async fn time_claims_are_checked_with_leeway() {
    let (_jwks, v) = setup().await;
    let now = now_secs();
    let mut c = claims();
    c["exp"] = json!(now - 60);
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::Expired));
    c["exp"] = json!(now - 2);
    assert!(v.verify(&sign(&c)).await.is_ok(), "inside the leeway");
    let mut c = claims();
    c["nbf"] = json!(now + 60);
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::NotYetValid));
    c["nbf"] = json!(now + 2);
    assert!(v.verify(&sign(&c)).await.is_ok(), "inside the leeway");
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::Malformed));
}

#[tokio::test]
async fn issuer_and_audience_are_checked() {
    let (_jwks, v) = setup().await;
    let mut c = claims();
    c["iss"] = json!("http://evil.test");
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::WrongIssuer));
    let mut c = claims();
    c["aud"] = json!("someone-else");
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::WrongAudience));
}

#[tokio::test]
async fn unknown_kid_refetches_at_most_once_per_interval() {
    let (jwks, v) = setup().await;
    assert!(v.verify(&sign(&claims())).await.is_ok());
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
    let t = sign_with(KEY_B, Some("b"), &claims());
    assert_eq!(v.verify(&t).await, Err(TokenError::UnknownKey));
    // The miss comes right after the initial fetch: rate-limited, no refetch.
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
    for _ in 0..5 {
        assert_eq!(v.verify(&t).await, Err(TokenError::UnknownKey));
    }
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rotation_is_picked_up_on_unknown_kid() {
    let jwks = jwks_server(vec![jwk("a", N_A)]).await;
    let mut s = settings(&jwks.url);
    s.jwks_min_refetch_secs = 0;
    let v = Verifier::new(s);
    assert!(v.verify(&sign(&claims())).await.is_ok());
    *jwks.doc.lock().unwrap() = json!({"keys": [jwk("a", N_A), jwk("b", N_B)]});
    let t = sign_with(KEY_B, Some("b"), &claims());
    assert!(v.verify(&t).await.is_ok());
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_fetch_whose_caller_gave_up_still_brings_the_keys() {
    let jwks = jwks_server(vec![jwk("a", N_A)]).await;
    let mut s = settings(&jwks.url);
    s.jwks_min_refetch_secs = 1;
    let v = Verifier::new(s);
    assert!(v.verify(&sign(&claims())).await.is_ok());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    *jwks.doc.lock().unwrap() = json!({"keys": [jwk("a", N_A), jwk("b", N_B)]});
    jwks.delay_ms.store(300, Ordering::SeqCst);
    let t = sign_with(KEY_B, Some("b"), &claims());
    // The first caller with the new key gives up (its request timed out) halfway
    // through the fetch.
    let cut = tokio::time::timeout(Duration::from_millis(50), v.verify(&t)).await;
    assert!(cut.is_err(), "the verification was expected to be cut");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The fetch ran to its end: the next caller finds the key without a refetch
    // (which the one-second interval would refuse).
    assert!(v.verify(&t).await.is_ok());
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn concurrent_misses_share_one_fetch() {
    let (jwks, v) = setup().await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let v = v.clone();
        let t = sign(&claims());
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unreachable_jwks_is_reported() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let v = Verifier::new(settings(&format!("http://{addr}/jwks.json")));
    assert_eq!(
        v.verify(&sign(&claims())).await,
        Err(TokenError::JwksUnavailable)
    );
    assert!(TokenError::JwksUnavailable.is_server_error());
}

#[tokio::test]
async fn non_rsa_and_foreign_keys_are_ignored() {
    let keys = parse_keys(vec![
        json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"}),
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": N_A.trim(), "e": "AQAB"}),
        json!({"kty": "RSA", "kid": "nokid-missing-n", "e": "AQAB"}),
        json!("garbage"),
        jwk("a", N_A),
    ]);
    assert_eq!(keys.len(), 1);
    assert!(keys.contains_key("a"));
}

#[tokio::test]
async fn revoked_identity_is_refused_even_when_cached() {
    let (_jwks, v) = setup().await;
    let c = claims();
    let t = sign(&c);
    let claims = v.verify(&t).await.unwrap();
    v.revoke_identity(claims.sub, claims.iat);
    assert_eq!(v.verify(&t).await, Err(TokenError::Revoked));
    // A token issued after the revocation is fine.
    let mut later = c.clone();
    later["iat"] = json!(claims.iat + 1);
    assert!(v.verify(&sign(&later)).await.is_ok());
    // Another identity is not affected.
    assert!(v.verify(&sign(&self::claims())).await.is_ok());
    v.prune_revocations(claims.iat + 1);
    assert!(v.verify(&t).await.is_ok());
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let (_jwks, v) = setup().await;
    let now = now_secs();
    // Within the leeway (clock skew): accepted.
    let mut c = claims();
    c["iat"] = json!(now + 4);
    assert!(v.verify(&sign(&c)).await.is_ok());
    // Beyond it: refused, cached or not, and no revocation would ever cover it.
    let mut c = claims();
    c["iat"] = json!(now + 120);
    c["exp"] = json!(now + 600);
    let t = sign(&c);
    assert_eq!(v.verify(&t).await, Err(TokenError::NotYetValid));
    assert_eq!(v.verify(&t).await, Err(TokenError::NotYetValid));
    assert_eq!(v.stats().cached_tokens, 1, "only the first token is cached");
    // A token that lives longer than the longest lifetime is refused too (pruning
    // revocations relies on that bound).
    let mut c = claims();
    c["exp"] = json!(now + 3600 + 10);
    assert_eq!(v.verify(&sign(&c)).await, Err(TokenError::Malformed));
}

#[tokio::test]
async fn revocations_are_forgotten_once_their_tokens_expired() {
    let (_jwks, v) = setup().await;
    let t0 = now_secs();
    // max lifetime 3600 + leeway 5: a revocation lasts until 3605 s after it.
    let window = 3605;
    let old: Vec<IdentityId> = (0..PRUNE_MIN).map(|_| IdentityId::new()).collect();
    for id in &old {
        v.inner.revoke(Target::Identity(*id), t0, t0);
    }
    assert_eq!(v.revocation_count(), PRUNE_MIN);
    // One window later, a new revocation (inside the window) prunes the old ones
    // as the memory is full.
    let later = t0 + window + 1;
    let recent = IdentityId::new();
    let org = OrganizationId::new();
    v.inner.revoke(Target::Identity(recent), later - 10, later);
    v.inner
        .revoke(Target::Organization(org), later - window, later);
    assert_eq!(
        v.revocation_count(),
        2,
        "the expired revocations are pruned"
    );
    assert!(v.is_revoked(recent, OrganizationId::new(), later - 10));
    assert!(!v.is_revoked(recent, OrganizationId::new(), later - 9));
    assert!(v.is_revoked(IdentityId::new(), org, later - window));
    assert!(!v.is_revoked(old[0], OrganizationId::new(), t0));
    // A revocation that covers only expired tokens is not even kept.
    v.inner.revoke(
        Target::Identity(IdentityId::new()),
        later - window - 1,
        later,
    );
    assert_eq!(v.revocation_count(), 2);
    // Pruning by the clock keeps what is inside the window.
    v.inner.prune(v.inner.horizon(later + 9));
    assert_eq!(v.revocation_count(), 1);
    assert!(v.is_revoked(recent, OrganizationId::new(), later - 10));
    v.prune_expired_revocations();
    assert_eq!(v.revocation_count(), 1, "nothing expired at the real now");
    v.inner.prune(v.inner.horizon(later + window));
    assert_eq!(v.revocation_count(), 0);
    assert!(!v.is_revoked(recent, OrganizationId::new(), later - 10));
}

#[tokio::test]
async fn no_token_is_accepted_while_the_revocations_are_not_known() {
    let (_jwks, v) = setup().await;
    let t = sign(&claims());
    assert!(v.verify(&t).await.is_ok());
    v.set_revocations_known(false);
    // Cached or not: refused as a server-side condition (503), not a bad token.
    assert_eq!(v.verify(&t).await, Err(TokenError::RevocationsUnavailable));
    assert_eq!(
        v.verify(&sign(&claims())).await,
        Err(TokenError::RevocationsUnavailable)
    );
    assert!(TokenError::RevocationsUnavailable.is_server_error());
    v.set_revocations_known(true);
    assert!(v.verify(&t).await.is_ok());
}

#[tokio::test]
async fn revoked_organization_is_refused() {
    let (_jwks, v) = setup().await;
    let t = sign(&claims());
    let c = v.verify(&t).await.unwrap();
    v.revoke_organization(c.organization_id, c.iat - 1);
    assert!(v.verify(&t).await.is_ok(), "issued after the cut-off");
    v.revoke_organization(c.organization_id, c.iat);
    assert_eq!(v.verify(&t).await, Err(TokenError::Revoked));
    // A fresh (uncached) token of the organization is refused too.
    let mut other = claims();
    other["organizationId"] = json!(c.organization_id);
    other["iat"] = json!(c.iat);
    assert_eq!(v.verify(&sign(&other)).await, Err(TokenError::Revoked));
}

#[tokio::test]
async fn cache_is_bounded_and_entries_end_at_exp() {
    let jwks = jwks_server(vec![jwk("a", N_A)]).await;
    let mut s = settings(&jwks.url);
    s.cache_capacity = 64; // one entry per shard
    let v = Verifier::new(s);
    for _ in 0..300 {
        assert!(v.verify(&sign(&claims())).await.is_ok());
    }
    assert!(v.stats().cached_tokens <= 64, "{:?}", v.stats());

    let (_jwks, v) = setup().await;
    let t = sign(&claims());
    let c = v.verify(&t).await.unwrap();
    let key = TokenKey::of(&t);
    assert!(v.inner.cache_get(&key, c.exp - 1).is_some());
    assert!(v.inner.cache_get(&key, c.exp).is_none());

    // A disabled cache still verifies.
    let mut s = settings(&_jwks.url);
    s.cache_capacity = 0;
    let v = Verifier::new(s);
    assert!(v.verify(&t).await.is_ok());
    assert!(v.verify(&t).await.is_ok());
    assert_eq!(v.stats().cached_tokens, 0);
}

#[test]
fn bearer_header_parsing() {
    assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
    assert_eq!(bearer_token("bearer   abc "), Some("abc"));
    assert_eq!(bearer_token("BEARER abc"), Some("abc"));
    assert_eq!(bearer_token("Bearer"), None);
    assert_eq!(bearer_token("Bearer "), None);
    assert_eq!(bearer_token("Bearerabc"), None);
    assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
    assert_eq!(bearer_token(""), None);
    assert_eq!(bearer_token("Beär x"), None);
}

#[test]
fn www_authenticate_values() {
    assert_eq!(TokenError::Missing.www_authenticate(), "Bearer");
    assert_eq!(
        TokenError::Expired.www_authenticate(),
        "Bearer error=\"invalid_token\", error_description=\"the token has expired\""
    );
    for (i, e) in TokenError::ALL.iter().enumerate() {
        assert_eq!(e.index(), i);
        assert!(!e.www_authenticate().contains('\n'));
    }
}

#[test]
fn settings_defaults_and_unknown_fields() {
    let s: VerifierSettings = serde_json::from_value(json!({})).unwrap();
    assert_eq!(s, VerifierSettings::default());
    assert_eq!(s.leeway_secs, 5);
    assert_eq!(s.cache_capacity, 100_000);
    assert_eq!(s.jwks_min_refetch_secs, 10);
    assert!(serde_json::from_value::<VerifierSettings>(json!({"isuer": "x"})).is_err());
}
