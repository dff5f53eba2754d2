//! Verifying ID tokens of external OpenID providers (an organization's login
//! providers): the token exchange of the identity service and the invitation
//! acceptance of the invitation service both prove a login this way.
//!
//! - algorithm allow-list (RSA and ECDSA signatures only: no `none`, no HMAC);
//! - the token's `iss` picks the candidate providers; for each, the signature is
//!   checked against that provider's JWKS, fetched and cached per URL (reused for
//!   five minutes; refetched at most every ten seconds when a `kid` is unknown;
//!   the cached keys still count while the provider is briefly unreachable);
//! - `iss` must equal the provider's issuer, `aud` its client id; `exp` is
//!   required and checked with a small leeway; `sub` is required.
//!
//! Why a token fails is told in [`IdTokenError`] for logs; clients should learn
//! no more than "invalid".

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

/// How long a provider's keys are reused.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// At most one refetch per provider in this interval on an unknown `kid`.
const MIN_REFETCH: Duration = Duration::from_secs(10);
const LEEWAY_SECS: u64 = 5;
/// ID tokens longer than this are refused without parsing.
const MAX_TOKEN_LEN: usize = 16 * 1024;

const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// An OpenID provider as a verifier needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenIdProvider {
    pub id: uuid::Uuid,
    pub organization_id: uuid::Uuid,
    pub issuer: String,
    /// The audience its ID tokens must name.
    pub client_id: String,
    pub jwks_uri: String,
}

/// The claims of a verified ID token that the platform uses.
#[derive(Clone, Debug, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

/// Why an ID token was not accepted (for logs).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    #[error("the ID token's algorithm {0} is not allowed")]
    DisallowedAlgorithm(String),
    #[error("no candidate OpenID provider has the issuer {0}")]
    UnknownIssuer(String),
    #[error("the provider's keys are unavailable: {0}")]
    KeysUnavailable(String),
    #[error("the ID token does not verify: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

/// The header's algorithm (if allowed) and the unverified `iss` of a token: what
/// picks the providers to try. Nothing here is trusted yet.
pub fn peek(token: &str) -> Result<(Algorithm, Option<String>, String), IdTokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(IdTokenError::Malformed("too long".into()));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| IdTokenError::Malformed(format!("not a JWT: {e}")))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(IdTokenError::DisallowedAlgorithm(format!(
            "{:?}",
            header.alg
        )));
    }
    let iss = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Unverified>(&b).ok())
        .ok_or_else(|| IdTokenError::Malformed("unreadable claims".into()))?
        .iss
        .ok_or_else(|| IdTokenError::Malformed("no issuer".into()))?;
    Ok((header.alg, header.kid, iss))
}

/// The unverified issuer of a token whose algorithm is allowed.
pub fn unverified_issuer(token: &str) -> Result<String, IdTokenError> {
    peek(token).map(|(_, _, iss)| iss)
}

struct Keys {
    fetched: Instant,
    by_kid: HashMap<String, Arc<DecodingKey>>,
    /// Keys without a `kid` (used when the token names none).
    anonymous: Vec<Arc<DecodingKey>>,
}

impl Keys {
    fn pick(&self, kid: Option<&str>) -> Vec<Arc<DecodingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned().into_iter().collect(),
            None => self
                .anonymous
                .iter()
                .cloned()
                .chain(self.by_kid.values().cloned())
                .collect(),
        }
    }
}

/// Verifies ID tokens against their providers' key sets, which it caches by JWKS
/// URL. Share one per process (behind an `Arc`).
pub struct IdTokenVerifier {
    http: reqwest::Client,
    sets: Mutex<HashMap<String, Keys>>,
}

impl IdTokenVerifier {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(IdTokenVerifier {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .build()?,
            sets: Mutex::new(HashMap::new()),
        })
    }

    async fn fetch(&self, url: &str) -> Result<Keys, String> {
        let set: JwkSet = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("JWKS fetch failed: {e}"))?
            .json()
            .await
            .map_err(|e| format!("JWKS unreadable: {e}"))?;
        let mut by_kid = HashMap::new();
        let mut anonymous = Vec::new();
        for jwk in &set.keys {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match &jwk.common.key_id {
                Some(kid) => {
                    by_kid.insert(kid.clone(), Arc::new(key));
                }
                None => anonymous.push(Arc::new(key)),
            }
        }
        Ok(Keys {
            fetched: Instant::now(),
            by_kid,
            anonymous,
        })
    }

    /// The keys that may have signed a token with `kid` (refetching when the cached
    /// set is stale, or lacks the kid and was fetched long enough ago).
    async fn keys_for(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Vec<Arc<DecodingKey>>, String> {
        let mut sets = self.sets.lock().await;
        if let Some(k) = sets.get(url) {
            let found = k.pick(kid);
            let age = k.fetched.elapsed();
            if age < JWKS_TTL && (!found.is_empty() || age < MIN_REFETCH) {
                return Ok(found);
            }
        }
        match self.fetch(url).await {
            Ok(k) => {
                let found = k.pick(kid);
                sets.insert(url.to_string(), k);
                Ok(found)
            }
            // A provider briefly unreachable: the keys we have still count.
            Err(e) => match sets.get(url) {
                Some(k) => Ok(k.pick(kid)),
                None => Err(e),
            },
        }
    }

    /// Verifies `token` against the `candidates` whose issuer is the token's, and
    /// answers the provider that signed it with the token's claims.
    pub async fn verify<'p>(
        &self,
        token: &str,
        candidates: &'p [OpenIdProvider],
    ) -> Result<(&'p OpenIdProvider, IdTokenClaims), IdTokenError> {
        let (alg, kid, iss) = peek(token)?;
        let mut providers: Vec<&'p OpenIdProvider> = Vec::new();
        for p in candidates {
            if p.issuer == iss {
                providers.push(p);
            }
        }
        if providers.is_empty() {
            return Err(IdTokenError::UnknownIssuer(iss));
        }
        let mut last = IdTokenError::Invalid("no provider accepted the token".into());
        for p in providers {
            let keys = match self.keys_for(&p.jwks_uri, kid.as_deref()).await {
                Ok(k) => k,
                Err(e) => {
                    last = IdTokenError::KeysUnavailable(e);
                    continue;
                }
            };
            let mut v = Validation::new(alg);
            v.set_issuer(&[p.issuer.as_str()]);
            v.set_audience(&[p.client_id.as_str()]);
            v.leeway = LEEWAY_SECS;
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            let mut reason = format!("no key of provider {} signed it", p.id);
            for k in &keys {
                match jsonwebtoken::decode::<IdTokenClaims>(token, k, &v) {
                    Ok(data) => return Ok((p, data.claims)),
                    Err(e) => reason = format!("provider {}: {e}", p.id),
                }
            }
            last = IdTokenError::Invalid(reason);
        }
        Err(last)
    }
}

/// A stand-in OpenID provider for tests: an RSA key that signs ID tokens and a
/// JWKS served over HTTP on loopback (a minimal HTTP/1.1 responder). Enabled by
/// the `testing` feature (dev-dependencies only).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, RwLock};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Key {
        pair: RsaKeyPair,
        kid: String,
    }

    impl Key {
        fn generate() -> Result<Key, String> {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| "RSA key generation failed".to_string())?;
            Ok(Key {
                pair,
                kid: uuid::Uuid::new_v4().simple().to_string(),
            })
        }

        fn jwk(&self) -> Value {
            let public = self.pair.public_key();
            json!({
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": self.kid,
                "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            })
        }

        fn sign(&self, header: &Value, claims: &Value) -> Result<String, String> {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let mut sig = vec![0u8; self.pair.public_modulus_len()];
            self.pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(|_| "signing failed".to_string())?;
            Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(&sig)))
        }
    }

    struct State {
        /// Published keys; the last one signs.
        published: RwLock<Vec<Arc<Key>>>,
        fetches: AtomicUsize,
    }

    /// A running stand-in provider. Dropping it stops the server.
    pub struct TestOpenIdProvider {
        pub issuer: String,
        pub jwks_uri: String,
        state: Arc<State>,
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for TestOpenIdProvider {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    impl TestOpenIdProvider {
        /// Starts serving `GET /jwks` on a free loopback port.
        pub async fn start(issuer: &str) -> Result<TestOpenIdProvider, String> {
            let state = Arc::new(State {
                published: RwLock::new(vec![Arc::new(Key::generate()?)]),
                fetches: AtomicUsize::new(0),
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let st = state.clone();
            let server = tokio::spawn(async move {
                while let Ok((mut conn, _)) = listener.accept().await {
                    let st = st.clone();
                    tokio::spawn(async move {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 1024];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
                            match conn.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let head = String::from_utf8_lossy(&buf);
                        let (status, body) = if head.starts_with("GET /jwks ") {
                            st.fetches.fetch_add(1, Ordering::SeqCst);
                            let keys: Vec<Value> = st
                                .published
                                .read()
                                .map(|k| k.iter().map(|k| k.jwk()).collect())
                                .unwrap_or_default();
                            ("200 OK", json!({ "keys": keys }).to_string())
                        } else {
                            ("404 Not Found", "{}".to_string())
                        };
                        let response = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = conn.write_all(response.as_bytes()).await;
                        let _ = conn.shutdown().await;
                    });
                }
            });
            Ok(TestOpenIdProvider {
                issuer: issuer.to_string(),
                jwks_uri: format!("http://{addr}/jwks"),
                state,
                server,
            })
        }

        fn signing_key(&self) -> Result<Arc<Key>, String> {
            self.state
                .published
                .read()
                .map_err(|_| "poisoned".to_string())?
                .last()
                .cloned()
                .ok_or_else(|| "no key".to_string())
        }

        /// Signs `claims` as an RS256 JWT with the current key (its `kid` in the header).
        pub fn sign(&self, claims: &Value) -> Result<String, String> {
            let key = self.signing_key()?;
            key.sign(
                &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}),
                claims,
            )
        }

        /// Signs with the current key under any header (for algorithm-confusion tests).
        pub fn sign_with_header(&self, header: &Value, claims: &Value) -> Result<String, String> {
            self.signing_key()?.sign(header, claims)
        }

        /// An ID token of this provider for `audience` (the client id) and `sub`,
        /// expiring in `exp_in` seconds, with `email` when given.
        pub fn id_token(
            &self,
            audience: &str,
            sub: &str,
            email: Option<&str>,
            exp_in: i64,
        ) -> Result<String, String> {
            let now = chrono::Utc::now().timestamp();
            let mut claims = json!({
                "iss": self.issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + exp_in,
            });
            if let (Some(e), Some(o)) = (email, claims.as_object_mut()) {
                o.insert("email".into(), Value::from(e));
                o.insert("email_verified".into(), Value::from(true));
            }
            self.sign(&claims)
        }

        /// Publishes a new key, which signs from now on (the old one stays published).
        pub fn rotate(&self) -> Result<(), String> {
            let key = Arc::new(Key::generate()?);
            self.state
                .published
                .write()
                .map_err(|_| "poisoned".to_string())?
                .push(key);
            Ok(())
        }

        /// How often the JWKS was fetched.
        pub fn jwks_fetches(&self) -> usize {
            self.state.fetches.load(Ordering::SeqCst)
        }

        /// The provider as a verifier sees it.
        pub fn provider(
            &self,
            client_id: &str,
            organization_id: uuid::Uuid,
        ) -> super::OpenIdProvider {
            super::OpenIdProvider {
                id: uuid::Uuid::new_v4(),
                organization_id,
                issuer: self.issuer.clone(),
                client_id: client_id.to_string(),
                jwks_uri: self.jwks_uri.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::TestOpenIdProvider;
    use super::*;
    use serde_json::json;

    const CLIENT: &str = "acme-client";

    #[tokio::test]
    async fn verifies_tokens_of_the_right_provider_only() {
        let idp = TestOpenIdProvider::start("https://login.acme.test")
            .await
            .unwrap();
        let org = uuid::Uuid::new_v4();
        let p = idp.provider(CLIENT, org);
        let providers = vec![p.clone()];
        let v = IdTokenVerifier::new().unwrap();

        let tok = idp.id_token(CLIENT, "ext-1", Some("a@b.co"), 300).unwrap();
        let (got, claims) = v.verify(&tok, &providers).await.unwrap();
        assert_eq!(got.id, p.id);
        assert_eq!(claims.sub, "ext-1");
        assert_eq!(claims.email.as_deref(), Some("a@b.co"));
        // The keys are cached: a second token costs no fetch.
        let before = idp.jwks_fetches();
        v.verify(
            &idp.id_token(CLIENT, "ext-2", None, 300).unwrap(),
            &providers,
        )
        .await
        .unwrap();
        assert_eq!(idp.jwks_fetches(), before);

        let other = TestOpenIdProvider::start("https://login.acme.test")
            .await
            .unwrap();
        let now = chrono::Utc::now().timestamp();
        for (why, token, want) in [
            (
                "wrong audience",
                idp.id_token("someone-else", "ext-1", None, 300).unwrap(),
                "Invalid",
            ),
            (
                "expired",
                idp.id_token(CLIENT, "ext-1", None, -60).unwrap(),
                "Invalid",
            ),
            (
                "another key",
                other.id_token(CLIENT, "ext-1", None, 300).unwrap(),
                "Invalid",
            ),
            (
                "unknown issuer",
                idp.sign(&json!({"iss": "https://evil.test", "aud": CLIENT, "sub": "x", "exp": now + 300}))
                    .unwrap(),
                "UnknownIssuer",
            ),
            (
                "no subject",
                idp.sign(&json!({"iss": idp.issuer, "aud": CLIENT, "exp": now + 300}))
                    .unwrap(),
                "Invalid",
            ),
            (
                "HMAC header",
                idp.sign_with_header(
                    &json!({"alg": "HS256", "typ": "JWT"}),
                    &json!({"iss": idp.issuer, "aud": CLIENT, "sub": "x", "exp": now + 300}),
                )
                .unwrap(),
                "DisallowedAlgorithm",
            ),
            ("not a JWT", "garbage".to_string(), "Malformed"),
        ] {
            let err = v.verify(&token, &providers).await.unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "{why}: {err:?}");
        }
        // alg=none: refused before any key is looked up.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(
                json!({"iss": idp.issuer, "aud": CLIENT, "sub": "x", "exp": now + 300}).to_string()
            )
        );
        assert!(v.verify(&none, &providers).await.is_err());
    }

    #[tokio::test]
    async fn an_unknown_kid_right_after_a_fetch_is_refused_without_refetching() {
        let idp = TestOpenIdProvider::start("https://rot.test").await.unwrap();
        let providers = vec![idp.provider(CLIENT, uuid::Uuid::new_v4())];
        let v = IdTokenVerifier::new().unwrap();
        v.verify(&idp.id_token(CLIENT, "s", None, 300).unwrap(), &providers)
            .await
            .unwrap();
        assert_eq!(idp.jwks_fetches(), 1);
        idp.rotate().unwrap();
        // The new kid is unknown, but the set was fetched less than the minimum
        // interval ago: refused without a fetch (no amplification by bad kids).
        let tok = idp.id_token(CLIENT, "s", None, 300).unwrap();
        assert!(v.verify(&tok, &providers).await.is_err());
        assert_eq!(idp.jwks_fetches(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_reported() {
        let providers = vec![OpenIdProvider {
            id: uuid::Uuid::new_v4(),
            organization_id: uuid::Uuid::new_v4(),
            issuer: "https://down.test".into(),
            client_id: CLIENT.into(),
            jwks_uri: "http://127.0.0.1:1/jwks".into(),
        }];
        let idp = TestOpenIdProvider::start("https://down.test")
            .await
            .unwrap();
        let v = IdTokenVerifier::new().unwrap();
        let err = v
            .verify(&idp.id_token(CLIENT, "s", None, 300).unwrap(), &providers)
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::KeysUnavailable(_)), "{err:?}");
    }
}
