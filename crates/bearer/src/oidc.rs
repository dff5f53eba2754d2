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
//!
//! Providers are read over HTTPS (rustls on aws-lc-rs, HTTP/1.1, no proxy, no
//! redirects, 5 s per request, answers up to 1 MiB) trusting the built-in Mozilla
//! roots plus the CA certificates of [`OpenIdClientSettings::ca_file`]. Plain
//! `http://` is only reached when a provider was registered so (the organization
//! service allows that for loopback in development only).
//!
//! [`IdTokenVerifier::verified_email`] establishes the email address a provider
//! vouches for: the ID token's `email` when its `email_verified` is true, else the
//! provider's userinfo endpoint (from its OpenID discovery document) called with
//! the login's access token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::Mutex;

/// How long a provider's keys are reused.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// At most one refetch per provider in this interval on an unknown `kid`.
const MIN_REFETCH: Duration = Duration::from_secs(10);
const LEEWAY_SECS: u64 = 5;
/// ID tokens longer than this are refused without parsing.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// One request to a provider (connect, TLS, answer) takes at most this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Larger answers of a provider are refused.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

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
    /// `true`, `false`, or absent (some providers send the strings "true"/"false").
    #[serde(default, deserialize_with = "lenient_bool")]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

/// A boolean claim that some providers send as a string.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// How the platform reaches OpenID providers (the identity and invitation
/// services' `open_id_providers` settings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenIdClientSettings {
    /// A PEM file of further CA certificates trusted for OpenID providers, beside
    /// the built-in Mozilla roots (a provider behind a private CA). Default empty.
    pub ca_file: String,
}

/// Why the client for OpenID providers could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("open_id_providers.ca_file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("TLS setup for OpenID providers failed: {0}")]
    Tls(String),
}

/// Why a provider could not vouch for the login's email address (for logs).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the ID token has no verified email and no access token was given for the userinfo endpoint")]
    NoSource,
    #[error("the provider does not say the email is verified ({0})")]
    Unverified(&'static str),
    #[error("the userinfo endpoint could not be used: {0}")]
    UserInfo(String),
}

/// GET of JSON documents from providers (reqwest with the rustls configuration
/// below: HTTP/1.1, no proxy, no redirects).
struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    fn new(settings: &OpenIdClientSettings) -> Result<Self, ClientSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let path = settings.ca_file.trim();
        if !path.is_empty() {
            let ca_err = |reason: String| ClientSetupError::CaFile {
                path: path.to_string(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_err(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ca_err(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_err("holds no PEM certificate".into()));
            }
            for c in certs {
                roots.add(c).map_err(|e| ca_err(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientSetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .http1_only()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent("idp-platform")
            .build()
            .map_err(|e| ClientSetupError::Tls(e.to_string()))?;
        Ok(ProviderHttp { client })
    }

    /// The JSON answer of `GET url` (2xx only), with `Authorization: Bearer` when given.
    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<T, String> {
        let body = tokio::time::timeout(REQUEST_TIMEOUT, self.get(url, bearer))
            .await
            .map_err(|_| format!("{} timed out", redacted(url)))??;
        serde_json::from_slice(&body).map_err(|e| format!("unreadable answer: {e}"))
    }

    async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Vec<u8>, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL".to_string())?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err("not an http(s) URL".into());
        }
        let host = parsed.host_str().unwrap_or_default().to_string();
        let mut req = self
            .client
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        // The error's text may name the URL with its query; say the host only.
        let mut res = req
            .send()
            .await
            .map_err(|e| format!("request to {host} failed: {}", without_url(e)))?;
        let status = res.status();
        if !status.is_success() {
            return Err(format!("answered HTTP {}", status.as_u16()));
        }
        if res.content_length().unwrap_or(0) > MAX_ANSWER_BYTES as u64 {
            return Err("reading the answer: length limit exceeded".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| format!("reading the answer: {}", without_url(e)))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err("reading the answer: length limit exceeded".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A reqwest error's text without the URL it carries (whose query might hold a
/// secret), with its causes (what failed: connect, TLS, ...).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The URL without its query (which might carry a secret), for messages.
fn redacted(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// What the verifier reads of a provider's OpenID discovery document.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

/// What the verifier reads of a userinfo answer.
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: Option<bool>,
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
    http: ProviderHttp,
    sets: Mutex<HashMap<String, Keys>>,
    /// Userinfo endpoints by issuer, with when they were discovered.
    userinfo: Mutex<HashMap<String, (Instant, String)>>,
}

impl IdTokenVerifier {
    /// A verifier trusting the built-in roots only.
    pub fn new() -> Result<Self, ClientSetupError> {
        Self::with_settings(&OpenIdClientSettings::default())
    }

    /// A verifier trusting the built-in roots and the CA file of `settings`
    /// (an error names the file when it cannot be read or holds no certificate).
    pub fn with_settings(settings: &OpenIdClientSettings) -> Result<Self, ClientSetupError> {
        Ok(IdTokenVerifier {
            http: ProviderHttp::new(settings)?,
            sets: Mutex::new(HashMap::new()),
            userinfo: Mutex::new(HashMap::new()),
        })
    }

    async fn fetch(&self, url: &str) -> Result<Keys, String> {
        let set: JwkSet = self
            .http
            .get_json(url, None)
            .await
            .map_err(|e| format!("JWKS fetch failed: {e}"))?;
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

impl IdTokenVerifier {
    /// The email address `provider` vouches for as the login of `claims` (an ID
    /// token it signed): the token's `email` when its `email_verified` is true;
    /// otherwise, given the login's `access_token`, the `email` of the provider's
    /// userinfo endpoint when that answer is for the same `sub` and says
    /// `email_verified: true`. Anything else vouches for nothing.
    pub async fn verified_email(
        &self,
        provider: &OpenIdProvider,
        claims: &IdTokenClaims,
        access_token: Option<&str>,
    ) -> Result<String, EmailError> {
        let from_token = claims
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if let (Some(email), Some(true)) = (from_token, claims.email_verified) {
            return Ok(email.to_string());
        }
        let Some(access_token) = access_token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(match from_token {
                Some(_) => EmailError::Unverified("the ID token's email_verified is not true"),
                None => EmailError::NoSource,
            });
        };
        let endpoint = self
            .userinfo_endpoint(provider)
            .await
            .map_err(EmailError::UserInfo)?;
        let info: UserInfo = self
            .http
            .get_json(&endpoint, Some(access_token))
            .await
            .map_err(EmailError::UserInfo)?;
        // OpenID Connect Core §5.3.2: the answer counts only for the same subject.
        if info.sub != claims.sub {
            return Err(EmailError::UserInfo("its sub is not the ID token's".into()));
        }
        match (info.email.as_deref().map(str::trim), info.email_verified) {
            (Some(e), Some(true)) if !e.is_empty() => Ok(e.to_string()),
            (Some(e), _) if !e.is_empty() => Err(EmailError::Unverified(
                "the userinfo email_verified is not true",
            )),
            _ => Err(EmailError::Unverified("the userinfo answer has no email")),
        }
    }

    /// The provider's userinfo endpoint, from its OpenID discovery document
    /// (`{issuer}/.well-known/openid-configuration`, whose `issuer` must be the
    /// provider's), cached per issuer like the keys.
    async fn userinfo_endpoint(&self, provider: &OpenIdProvider) -> Result<String, String> {
        if let Some((at, url)) = self.userinfo.lock().await.get(&provider.issuer) {
            if at.elapsed() < JWKS_TTL {
                return Ok(url.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            provider.issuer.trim_end_matches('/')
        );
        let doc: Discovery = self
            .http
            .get_json(&url, None)
            .await
            .map_err(|e| format!("discovery: {e}"))?;
        if doc.issuer != provider.issuer {
            return Err("the discovery document names another issuer".into());
        }
        let endpoint = doc
            .userinfo_endpoint
            .filter(|u| !u.is_empty())
            .ok_or_else(|| "the provider publishes no userinfo_endpoint".to_string())?;
        // An access token goes over TLS only (unless the provider itself was
        // registered on plain http, which only development allows).
        if !(endpoint.starts_with("https://")
            || (endpoint.starts_with("http://") && provider.issuer.starts_with("http://")))
        {
            return Err("the userinfo_endpoint is not an https URL".into());
        }
        self.userinfo
            .lock()
            .await
            .insert(provider.issuer.clone(), (Instant::now(), endpoint.clone()));
        Ok(endpoint)
    }
}

/// A stand-in OpenID provider for tests: an RSA key that signs ID tokens, and a
/// minimal HTTP/1.1 responder on loopback serving its JWKS (`/jwks`), its OpenID
/// discovery document (`/.well-known/openid-configuration`) and a userinfo
/// endpoint (`/userinfo`), over plain HTTP or over real TLS with a certificate of
/// a CA generated for it. Enabled by the `testing` feature (dev-dependencies only).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, RwLock};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::{json, Value};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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
        userinfo_calls: AtomicUsize,
        /// The discovery document's `issuer` and `userinfo_endpoint`.
        issuer: String,
        base: String,
        /// Userinfo answers by access token.
        userinfo: RwLock<HashMap<String, Value>>,
    }

    /// A running stand-in provider. Dropping it stops the server.
    pub struct TestOpenIdProvider {
        pub issuer: String,
        pub jwks_uri: String,
        /// Where it serves (`http://127.0.0.1:…` or `https://127.0.0.1:…`).
        pub base_url: String,
        /// With TLS: the PEM certificate of the CA that issued its server
        /// certificate (what a client must trust).
        pub ca_pem: Option<String>,
        state: Arc<State>,
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for TestOpenIdProvider {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    /// A CA and a server certificate for 127.0.0.1 and localhost issued by it.
    fn tls_acceptor() -> Result<(tokio_rustls::TlsAcceptor, String), String> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair as CertKey};
        let e = |e: rcgen::Error| e.to_string();
        let ca_key = CertKey::generate().map_err(e)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test OpenID provider CA");
        let ca = ca_params.self_signed(&ca_key).map_err(e)?;
        let leaf_key = CertKey::generate().map_err(e)?;
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(e)?
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(e)?;
        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .map_err(|e| e.to_string())?;
        Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem()))
    }

    /// Answers one request on `conn`.
    async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(mut conn: S, st: Arc<State>) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let bearer = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            let value = value.trim();
            (name.eq_ignore_ascii_case("authorization")
                && value.len() > 7
                && value[..7].eq_ignore_ascii_case("bearer "))
            .then(|| value[7..].to_string())
        });
        let (status, body) = if head.starts_with("GET /jwks ") {
            st.fetches.fetch_add(1, Ordering::SeqCst);
            let keys: Vec<Value> = st
                .published
                .read()
                .map(|k| k.iter().map(|k| k.jwk()).collect())
                .unwrap_or_default();
            ("200 OK", json!({ "keys": keys }).to_string())
        } else if head.starts_with("GET /.well-known/openid-configuration ") {
            (
                "200 OK",
                json!({
                    "issuer": st.issuer,
                    "jwks_uri": format!("{}/jwks", st.base),
                    "userinfo_endpoint": format!("{}/userinfo", st.base),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                })
                .to_string(),
            )
        } else if head.starts_with("GET /userinfo ") {
            st.userinfo_calls.fetch_add(1, Ordering::SeqCst);
            let found = bearer.and_then(|t| st.userinfo.read().ok()?.get(&t).cloned());
            match found {
                Some(v) => ("200 OK", v.to_string()),
                None => (
                    "401 Unauthorized",
                    r#"{"error":"invalid_token"}"#.to_string(),
                ),
            }
        } else {
            ("404 Not Found", "{}".to_string())
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(response.as_bytes()).await;
        let _ = conn.shutdown().await;
    }

    impl TestOpenIdProvider {
        /// Serves plain HTTP on a free loopback port; its tokens name `issuer`
        /// (which need not be where it serves).
        pub async fn start(issuer: &str) -> Result<TestOpenIdProvider, String> {
            Self::serve(Some(issuer), false).await
        }

        /// Serves HTTPS on a free loopback port with a certificate of a CA made
        /// for it ([`TestOpenIdProvider::ca_pem`]); its issuer is where it serves
        /// (`https://127.0.0.1:{port}`), so its discovery document is found there.
        pub async fn start_tls() -> Result<TestOpenIdProvider, String> {
            Self::serve(None, true).await
        }

        /// Serves plain HTTP; its issuer is where it serves (`http://127.0.0.1:{port}`).
        pub async fn start_at_own_address() -> Result<TestOpenIdProvider, String> {
            Self::serve(None, false).await
        }

        async fn serve(issuer: Option<&str>, tls: bool) -> Result<TestOpenIdProvider, String> {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let (acceptor, ca_pem) = if tls {
                let (a, pem) = tls_acceptor()?;
                (Some(a), Some(pem))
            } else {
                (None, None)
            };
            let base = format!("{}://{addr}", if tls { "https" } else { "http" });
            let issuer = issuer.map(str::to_string).unwrap_or_else(|| base.clone());
            let state = Arc::new(State {
                published: RwLock::new(vec![Arc::new(Key::generate()?)]),
                fetches: AtomicUsize::new(0),
                userinfo_calls: AtomicUsize::new(0),
                issuer: issuer.clone(),
                base: base.clone(),
                userinfo: RwLock::new(HashMap::new()),
            });
            let st = state.clone();
            let server = tokio::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    let st = st.clone();
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor {
                            Some(a) => {
                                if let Ok(tls) = a.accept(conn).await {
                                    serve_one(tls, st).await;
                                }
                            }
                            None => serve_one(conn, st).await,
                        }
                    });
                }
            });
            Ok(TestOpenIdProvider {
                issuer,
                jwks_uri: format!("{base}/jwks"),
                base_url: base,
                ca_pem,
                state,
                server,
            })
        }

        /// Writes [`TestOpenIdProvider::ca_pem`] to `dir` and answers the file's path.
        pub fn write_ca_file(&self, dir: &std::path::Path) -> Result<String, String> {
            let pem = self.ca_pem.as_deref().ok_or("not a TLS provider")?;
            let path = dir.join(format!("oidc-ca-{}.pem", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, pem).map_err(|e| e.to_string())?;
            Ok(path.display().to_string())
        }

        /// Its userinfo endpoint answers `claims` for `access_token` (401 for others).
        pub fn set_userinfo(&self, access_token: &str, claims: Value) -> Result<(), String> {
            self.state
                .userinfo
                .write()
                .map_err(|_| "poisoned".to_string())?
                .insert(access_token.to_string(), claims);
            Ok(())
        }

        /// How often the userinfo endpoint was called.
        pub fn userinfo_calls(&self) -> usize {
            self.state.userinfo_calls.load(Ordering::SeqCst)
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
        /// expiring in `exp_in` seconds, with `email` and `email_verified: true`
        /// when `email` is given.
        pub fn id_token(
            &self,
            audience: &str,
            sub: &str,
            email: Option<&str>,
            exp_in: i64,
        ) -> Result<String, String> {
            let mut extra = json!({});
            if let (Some(e), Some(o)) = (email, extra.as_object_mut()) {
                o.insert("email".into(), Value::from(e));
                o.insert("email_verified".into(), Value::from(true));
            }
            self.id_token_with(audience, sub, &extra, exp_in)
        }

        /// An ID token as [`TestOpenIdProvider::id_token`] with the members of
        /// `extra` (an object) added to its claims.
        pub fn id_token_with(
            &self,
            audience: &str,
            sub: &str,
            extra: &Value,
            exp_in: i64,
        ) -> Result<String, String> {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let mut claims = json!({
                "iss": self.issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + exp_in,
            });
            if let (Some(o), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    o.insert(k.clone(), v.clone());
                }
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
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
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

    #[tokio::test]
    async fn providers_are_read_over_tls_trusting_the_configured_ca_only() {
        let idp = TestOpenIdProvider::start_tls().await.unwrap();
        assert!(
            idp.jwks_uri.starts_with("https://127.0.0.1:"),
            "{}",
            idp.jwks_uri
        );
        let providers = vec![idp.provider(CLIENT, uuid::Uuid::new_v4())];
        let tok = idp.id_token(CLIENT, "s", None, 300).unwrap();
        // The built-in roots do not know the provider's CA: no keys.
        let err = IdTokenVerifier::new()
            .unwrap()
            .verify(&tok, &providers)
            .await
            .unwrap_err();
        assert!(matches!(err, IdTokenError::KeysUnavailable(_)), "{err:?}");
        assert_eq!(idp.jwks_fetches(), 0);
        // Trusting it by the CA file: verified over TLS.
        let dir = tempfile::tempdir().unwrap();
        let settings = OpenIdClientSettings {
            ca_file: idp.write_ca_file(dir.path()).unwrap(),
        };
        let v = IdTokenVerifier::with_settings(&settings).unwrap();
        let (_, claims) = v.verify(&tok, &providers).await.unwrap();
        assert_eq!(claims.sub, "s");
        assert_eq!(idp.jwks_fetches(), 1);
        // Another provider's CA is no substitute.
        let other = TestOpenIdProvider::start_tls().await.unwrap();
        let v = IdTokenVerifier::with_settings(&OpenIdClientSettings {
            ca_file: other.write_ca_file(dir.path()).unwrap(),
        })
        .unwrap();
        assert!(v.verify(&tok, &providers).await.is_err());
    }

    #[test]
    fn a_bad_ca_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        for path in [
            empty.display().to_string(),
            "/nonexistent/ca.pem".to_string(),
        ] {
            let err = IdTokenVerifier::with_settings(&OpenIdClientSettings {
                ca_file: path.clone(),
            })
            .err()
            .unwrap();
            assert!(err.to_string().contains(&path), "{err}");
        }
    }

    #[tokio::test]
    async fn a_verified_email_comes_from_the_token_or_the_userinfo_endpoint() {
        let idp = TestOpenIdProvider::start_tls().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let v = IdTokenVerifier::with_settings(&OpenIdClientSettings {
            ca_file: idp.write_ca_file(dir.path()).unwrap(),
        })
        .unwrap();
        let p = idp.provider(CLIENT, uuid::Uuid::new_v4());
        let providers = vec![p.clone()];
        let claims = |extra: serde_json::Value| {
            let tok = idp.id_token_with(CLIENT, "ext-1", &extra, 300).unwrap();
            let v = &v;
            let providers = &providers;
            async move { v.verify(&tok, providers).await.unwrap().1 }
        };
        // In the token, verified (also as the string some providers send).
        for verified in [json!(true), json!("true")] {
            let c = claims(json!({"email": "A@b.co", "email_verified": verified})).await;
            assert_eq!(v.verified_email(&p, &c, None).await.unwrap(), "A@b.co");
        }
        // Not verified, or no email, and no access token: nothing vouches.
        let unverified = claims(json!({"email": "a@b.co", "email_verified": false})).await;
        let no_email = claims(json!({})).await;
        let absent = claims(json!({"email": "a@b.co"})).await;
        for c in [&unverified, &absent] {
            assert!(matches!(
                v.verified_email(&p, c, None).await,
                Err(EmailError::Unverified(_))
            ));
        }
        assert_eq!(
            v.verified_email(&p, &no_email, None).await,
            Err(EmailError::NoSource)
        );
        // The userinfo endpoint (found by discovery), with the login's access token.
        idp.set_userinfo(
            "at-good",
            json!({"sub": "ext-1", "email": "a@b.co", "email_verified": true}),
        )
        .unwrap();
        idp.set_userinfo(
            "at-unverified",
            json!({"sub": "ext-1", "email": "a@b.co", "email_verified": false}),
        )
        .unwrap();
        idp.set_userinfo(
            "at-other-sub",
            json!({"sub": "ext-2", "email": "a@b.co", "email_verified": true}),
        )
        .unwrap();
        idp.set_userinfo("at-no-email", json!({"sub": "ext-1"}))
            .unwrap();
        for c in [&no_email, &unverified, &absent] {
            assert_eq!(
                v.verified_email(&p, c, Some("at-good")).await.unwrap(),
                "a@b.co"
            );
        }
        for (why, at) in [
            ("unverified", "at-unverified"),
            ("another subject", "at-other-sub"),
            ("no email", "at-no-email"),
            ("unknown access token", "at-unknown"),
        ] {
            assert!(
                v.verified_email(&p, &no_email, Some(at)).await.is_err(),
                "{why}"
            );
        }
        // A provider whose discovery document is not at its issuer: refused.
        let elsewhere = OpenIdProvider {
            issuer: "https://127.0.0.1:1".into(),
            ..p.clone()
        };
        let err = v
            .verified_email(&elsewhere, &no_email, Some("at-good"))
            .await
            .unwrap_err();
        assert!(matches!(err, EmailError::UserInfo(_)), "{err:?}");
    }
}
