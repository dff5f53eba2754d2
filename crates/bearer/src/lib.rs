//! Bearer-token verification shared by the gateway and every service.
//!
//! A [`Verifier`] checks platform access tokens (RS256 JWTs issued by the identity
//! service) against the issuer's JWKS:
//!
//! - algorithm allow-list: RS256 only (`none`, HMAC — including the "HMAC keyed with
//!   the public key" confusion — and everything else are refused before any key is
//!   looked up); a `kid` is required;
//! - `exp` required, `nbf` honoured, both with a small leeway; an `iat` in the future
//!   (beyond the leeway) is refused too, since no revocation (`iat <= revoked_before`)
//!   could ever cover such a token; so is a token that lives (`exp - iat`) longer than
//!   `max_token_lifetime_secs`; `iss` must equal the configured issuer, `aud` must be
//!   one of the configured audiences;
//! - the JWKS is fetched lazily and cached; an unknown `kid` triggers a refetch,
//!   rate-limited (concurrent misses share one fetch);
//! - tokens already verified are kept in a bounded, sharded cache keyed by the
//!   SHA-256 of the token (the raw token is never stored), so the hot path is a hash,
//!   a read lock on one shard and an `Arc` clone, without JSON parsing or RSA;
//! - revocations (an identity's or an organization's tokens issued up to a moment)
//!   are checked on every call, also for cached tokens; a revocation is forgotten
//!   once every token it covers has expired (older than the longest token lifetime
//!   plus the leeway), so the memory holds about one token lifetime of revocations.
//!
//! No database, no web framework: the gateway and the services wrap it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use idp_model::token::AccessClaims;
use idp_model::{IdentityId, OrganizationId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Tokens longer than this are refused as malformed without hashing them.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Number of shards of the verified-token cache (a power of two).
const SHARDS: usize = 64;
/// After a failed JWKS fetch, the next attempt waits at most this long (even when
/// `jwks_min_refetch_secs` is longer), so a gateway started before the issuer heals fast.
const FAILED_FETCH_BACKOFF: Duration = Duration::from_secs(1);
/// The revocation memory is pruned when it reaches this many entries (and then
/// again whenever it doubled since the last pruning).
const PRUNE_MIN: usize = 1024;

/// How to verify tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifierSettings {
    /// The only accepted `iss`. Default: `http://127.0.0.1:8080/identity/v1`.
    pub issuer: String,
    /// Accepted `aud` values (one must match). Default: `["platform"]`.
    pub audiences: Vec<String>,
    /// Where the issuer publishes its keys.
    /// Default: `http://127.0.0.1:8081/identity/v1/.well-known/jwks.json`.
    pub jwks_url: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds. Default: `5`.
    pub leeway_secs: u64,
    /// Maximum number of verified tokens kept in memory; `0` disables the cache.
    /// Default: `100000`.
    pub cache_capacity: usize,
    /// Minimum interval between two JWKS fetches triggered by unknown `kid`s, in
    /// seconds. Default: `10`.
    pub jwks_min_refetch_secs: u64,
    /// Timeout of one JWKS fetch, in milliseconds. Default: `2000`.
    pub jwks_timeout_ms: u64,
    /// The longest lifetime (`exp - iat`) of an accepted token, in seconds: longer
    /// lived tokens are refused, and revocations older than this (plus the leeway)
    /// are forgotten, as every token they cover has expired. At least the identity
    /// service's `token.lifetime_secs`. Default: `86400` (the revocation log's
    /// retention).
    pub max_token_lifetime_secs: u64,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        VerifierSettings {
            issuer: "http://127.0.0.1:8080/identity/v1".to_string(),
            audiences: vec!["platform".to_string()],
            jwks_url: "http://127.0.0.1:8081/identity/v1/.well-known/jwks.json".to_string(),
            leeway_secs: 5,
            cache_capacity: 100_000,
            jwks_min_refetch_secs: 10,
            jwks_timeout_ms: 2000,
            max_token_lifetime_secs: 86_400,
        }
    }
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token was sent")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token's signing algorithm is not allowed")]
    DisallowedAlgorithm,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by an unexpected issuer")]
    WrongIssuer,
    #[error("the token is not meant for this audience")]
    WrongAudience,
    #[error("the token has been revoked")]
    Revoked,
    #[error("the signing keys are unavailable")]
    JwksUnavailable,
    #[error("the revocations are not known yet")]
    RevocationsUnavailable,
}

impl TokenError {
    /// Every variant, in a stable order (for metrics tables).
    pub const ALL: [TokenError; 12] = [
        TokenError::Missing,
        TokenError::Malformed,
        TokenError::UnknownKey,
        TokenError::BadSignature,
        TokenError::DisallowedAlgorithm,
        TokenError::Expired,
        TokenError::NotYetValid,
        TokenError::WrongIssuer,
        TokenError::WrongAudience,
        TokenError::Revoked,
        TokenError::JwksUnavailable,
        TokenError::RevocationsUnavailable,
    ];

    /// The value of a `WWW-Authenticate` header for a 401 answer (RFC 6750 §3).
    pub fn www_authenticate(&self) -> String {
        match self {
            TokenError::Missing => "Bearer".to_string(),
            other => format!("Bearer error=\"invalid_token\", error_description=\"{other}\""),
        }
    }

    /// A short stable label (`missing`, `bad_signature`, ...) for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Missing => "missing",
            TokenError::Malformed => "malformed",
            TokenError::UnknownKey => "unknown_key",
            TokenError::BadSignature => "bad_signature",
            TokenError::DisallowedAlgorithm => "disallowed_algorithm",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::WrongIssuer => "wrong_issuer",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::Revoked => "revoked",
            TokenError::JwksUnavailable => "jwks_unavailable",
            TokenError::RevocationsUnavailable => "revocations_unavailable",
        }
    }

    /// Position in [`TokenError::ALL`].
    pub fn index(&self) -> usize {
        *self as usize
    }

    /// True when the fault is on the server side (the keys could not be fetched,
    /// the revocations are not known yet), not in the token: callers may answer
    /// 503 instead of 401.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            TokenError::JwksUnavailable | TokenError::RevocationsUnavailable
        )
    }
}

/// The token of an `Authorization: Bearer <token>` header value (scheme
/// case-insensitive), or `None` for another scheme or an empty token.
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let v = header_value.trim_start();
    let (scheme, rest) = v.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("bearer") || !rest.starts_with([' ', '\t']) {
        return None;
    }
    let token = rest.trim();
    if token.is_empty() {
        None
    } else {
        Some(token)
    }
}

/// Verifies access tokens. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.settings.issuer)
            .field("jwks_url", &self.inner.settings.jwks_url)
            .finish_non_exhaustive()
    }
}

struct Inner {
    settings: VerifierSettings,
    validation: Validation,
    http: reqwest::Client,
    keys: RwLock<Arc<HashMap<String, Arc<DecodingKey>>>>,
    fetch: tokio::sync::Mutex<FetchState>,
    jwks_fetches: AtomicU64,
    cache: Vec<Shard>,
    shard_capacity: usize,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    revoked_any: AtomicBool,
    revocations: RwLock<Revocations>,
    /// False from the moment a revocation listener starts until it has applied
    /// every revocation its log held: no token is accepted meanwhile.
    revocations_known: AtomicBool,
}

/// The revocations in force: for an identity or an organization, the latest
/// `issued_before` (epoch seconds).
struct Revocations {
    identities: HashMap<IdentityId, i64>,
    organizations: HashMap<OrganizationId, i64>,
    /// The number of entries at which the next insertion prunes first.
    prune_at: usize,
}

impl Revocations {
    fn len(&self) -> usize {
        self.identities.len() + self.organizations.len()
    }

    /// Forgets the revocations older than `horizon`.
    fn prune(&mut self, horizon: i64) {
        self.identities.retain(|_, t| *t >= horizon);
        self.organizations.retain(|_, t| *t >= horizon);
        self.prune_at = (self.len() * 2).max(PRUNE_MIN);
    }
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    last_ok: bool,
}

/// Counters of a verifier, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifierStats {
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cached_tokens: usize,
    pub jwks_fetches: u64,
}

impl Verifier {
    pub fn new(settings: VerifierSettings) -> Verifier {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = settings.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&settings.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.jwks_timeout_ms.max(1)))
            .build()
            .unwrap_or_default();
        let shard_capacity = settings.cache_capacity.div_ceil(SHARDS);
        let shards = if settings.cache_capacity == 0 {
            0
        } else {
            SHARDS
        };
        let cache = (0..shards).map(|_| Shard::default()).collect();
        Verifier {
            inner: Arc::new(Inner {
                settings,
                validation,
                http,
                keys: RwLock::new(Arc::new(HashMap::new())),
                fetch: tokio::sync::Mutex::new(FetchState::default()),
                jwks_fetches: AtomicU64::new(0),
                cache,
                shard_capacity,
                cache_hits: AtomicU64::new(0),
                cache_misses: AtomicU64::new(0),
                revoked_any: AtomicBool::new(false),
                revocations: RwLock::new(Revocations {
                    identities: HashMap::new(),
                    organizations: HashMap::new(),
                    prune_at: PRUNE_MIN,
                }),
                revocations_known: AtomicBool::new(true),
            }),
        }
    }

    pub fn settings(&self) -> &VerifierSettings {
        &self.inner.settings
    }

    /// Verifies a token (the part after `Bearer `) and answers its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        if !self.inner.revocations_known.load(Ordering::Acquire) {
            return Err(TokenError::RevocationsUnavailable);
        }
        let now = now_secs();
        let key = TokenKey::of(token);
        if let Some(claims) = self.inner.cache_get(&key, now) {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
            self.inner.check_revoked(&claims)?;
            return Ok(claims);
        }
        self.inner.cache_misses.fetch_add(1, Ordering::Relaxed);
        let claims = Arc::new(self.verify_uncached(token).await?);
        self.inner.check_revoked(&claims)?;
        self.inner.cache_put(key, &claims, now);
        Ok(claims)
    }

    async fn verify_uncached(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = parse_header(token)?;
        if header.alg != "RS256" {
            return Err(TokenError::DisallowedAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::Malformed)?;
        let key = self.key_for(&kid).await?;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key, &self.inner.validation)
            .map(|data| data.claims)
            .map_err(|e| map_jwt_error(e.kind()))?;
        self.inner.check_times(&claims, now_secs())?;
        Ok(claims)
    }

    async fn key_for(&self, kid: &str) -> Result<Arc<DecodingKey>, TokenError> {
        if let Some(k) = self.inner.key(kid) {
            return Ok(k);
        }
        let mut state = self.inner.fetch.lock().await;
        // Another caller may have fetched while we waited for the lock.
        if let Some(k) = self.inner.key(kid) {
            return Ok(k);
        }
        if let Some(last) = state.last_attempt {
            let min = Duration::from_secs(self.inner.settings.jwks_min_refetch_secs);
            let gap = if state.last_ok {
                min
            } else {
                min.min(FAILED_FETCH_BACKOFF)
            };
            if last.elapsed() < gap {
                return Err(if state.last_ok {
                    TokenError::UnknownKey
                } else {
                    TokenError::JwksUnavailable
                });
            }
        }
        self.fetch_locked(&mut state).await?;
        self.inner.key(kid).ok_or(TokenError::UnknownKey)
    }

    async fn fetch_locked(&self, state: &mut FetchState) -> Result<usize, TokenError> {
        state.last_attempt = Some(Instant::now());
        self.inner.jwks_fetches.fetch_add(1, Ordering::Relaxed);
        // The fetch runs in a task of its own, so it ends and stores the keys even
        // when the caller gives up halfway (a client's timeout): otherwise the
        // refetch interval would refuse the new key to every caller after it.
        let inner = self.inner.clone();
        let fetch = tokio::spawn(async move {
            let url = &inner.settings.jwks_url;
            match fetch_jwks(&inner.http, url).await {
                Ok(keys) => {
                    let n = keys.len();
                    tracing::debug!(keys = n, url = %url, "JWKS fetched");
                    *write(&inner.keys) = Arc::new(keys);
                    Ok(n)
                }
                Err(e) => {
                    tracing::warn!(error = %e, url = %url, "JWKS fetch failed");
                    Err(TokenError::JwksUnavailable)
                }
            }
        });
        let answer = fetch.await.unwrap_or(Err(TokenError::JwksUnavailable));
        state.last_ok = answer.is_ok();
        answer
    }

    /// Fetches the JWKS now (e.g. at start-up, so the first request does not wait),
    /// answering the number of usable keys. Counts as a fetch for the rate limit.
    pub async fn refresh_keys(&self) -> Result<usize, TokenError> {
        let mut state = self.inner.fetch.lock().await;
        self.fetch_locked(&mut state).await
    }

    /// Whether a token of `identity` in `organization` issued at `iat` is revoked.
    pub fn is_revoked(&self, identity: IdentityId, organization: OrganizationId, iat: i64) -> bool {
        self.inner.is_revoked(identity, organization, iat)
    }

    /// Refuses every token of `identity` whose `iat <= issued_before` (epoch seconds),
    /// including tokens already in the verified cache.
    pub fn revoke_identity(&self, identity: IdentityId, issued_before: i64) {
        self.inner
            .revoke(Target::Identity(identity), issued_before, now_secs());
    }

    /// Refuses every token of an identity of `organization` whose `iat <= issued_before`.
    pub fn revoke_organization(&self, organization: OrganizationId, issued_before: i64) {
        self.inner.revoke(
            Target::Organization(organization),
            issued_before,
            now_secs(),
        );
    }

    /// Forgets revocations whose `issued_before` is older than `epoch_secs`.
    pub fn prune_revocations(&self, epoch_secs: i64) {
        self.inner.prune(epoch_secs);
    }

    /// Forgets the revocations whose tokens have all expired (older than
    /// `max_token_lifetime_secs` plus the leeway). Insertions prune as the memory
    /// grows; the revocation listener also calls this now and then.
    pub fn prune_expired_revocations(&self) {
        self.inner.prune(self.inner.horizon(now_secs()));
    }

    /// Whether the revocations are known: `false` makes every [`Verifier::verify`]
    /// answer [`TokenError::RevocationsUnavailable`]. The revocation listener sets
    /// it `false` when it subscribes and `true` once it has applied the replay of
    /// the log ([`crate::revocation::listen`]).
    pub fn set_revocations_known(&self, known: bool) {
        self.inner.revocations_known.store(known, Ordering::Release);
    }

    pub fn revocations_known(&self) -> bool {
        self.inner.revocations_known.load(Ordering::Acquire)
    }

    /// How many revocations are held (identities and organizations).
    pub fn revocation_count(&self) -> usize {
        read(&self.inner.revocations).len()
    }

    pub fn stats(&self) -> VerifierStats {
        VerifierStats {
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.inner.cache_misses.load(Ordering::Relaxed),
            cached_tokens: self.inner.cache.iter().map(|s| read(&s.map).len()).sum(),
            jwks_fetches: self.inner.jwks_fetches.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    fn key(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        read(&self.keys).get(kid).cloned()
    }

    fn shard(&self, key: &TokenKey) -> Option<&Shard> {
        if self.cache.is_empty() {
            return None;
        }
        self.cache.get(usize::from(key.0[31]) % self.cache.len())
    }

    fn cache_get(&self, key: &TokenKey, now: i64) -> Option<Arc<AccessClaims>> {
        let shard = self.shard(key)?;
        let map = read(&shard.map);
        let e = map.get(key)?;
        (now < e.exp).then(|| e.claims.clone())
    }

    fn cache_put(&self, key: TokenKey, claims: &Arc<AccessClaims>, now: i64) {
        if claims.exp <= now {
            return;
        }
        let Some(shard) = self.shard(&key) else {
            return;
        };
        let mut map = write(&shard.map);
        if map.len() >= self.shard_capacity && !map.contains_key(&key) {
            map.retain(|_, e| e.exp > now);
            if map.len() >= self.shard_capacity {
                // Still full of live tokens: drop the shard's contents. Cheap, bounded,
                // and the dropped tokens are merely re-verified on their next use.
                map.clear();
            }
        }
        map.insert(
            key,
            Entry {
                claims: claims.clone(),
                exp: claims.exp,
            },
        );
    }

    fn check_revoked(&self, claims: &AccessClaims) -> Result<(), TokenError> {
        if self.is_revoked(claims.sub, claims.organization_id, claims.iat) {
            Err(TokenError::Revoked)
        } else {
            Ok(())
        }
    }

    /// What the JWT library does not check: an `iat` in the future (a revocation,
    /// `iat <= issued_before`, could never cover it, and pruning assumes tokens end
    /// within `max_token_lifetime_secs` of their `iat`), and that lifetime.
    fn check_times(&self, claims: &AccessClaims, now: i64) -> Result<(), TokenError> {
        let leeway = i64::try_from(self.settings.leeway_secs).unwrap_or(i64::MAX);
        if claims.iat > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid);
        }
        let max = i64::try_from(self.settings.max_token_lifetime_secs).unwrap_or(i64::MAX);
        if claims.exp.saturating_sub(claims.iat) > max {
            return Err(TokenError::Malformed);
        }
        Ok(())
    }

    /// Revocations older than this cover only expired tokens at `now`.
    fn horizon(&self, now: i64) -> i64 {
        let max = i64::try_from(self.settings.max_token_lifetime_secs).unwrap_or(i64::MAX);
        let leeway = i64::try_from(self.settings.leeway_secs).unwrap_or(i64::MAX);
        now.saturating_sub(max).saturating_sub(leeway)
    }

    fn revoke(&self, target: Target, issued_before: i64, now: i64) {
        let horizon = self.horizon(now);
        if issued_before < horizon {
            return; // every token it covers has expired
        }
        let mut r = write(&self.revocations);
        if r.len() >= r.prune_at {
            r.prune(horizon);
        }
        let e = match target {
            Target::Identity(id) => r.identities.entry(id).or_insert(issued_before),
            Target::Organization(id) => r.organizations.entry(id).or_insert(issued_before),
        };
        *e = (*e).max(issued_before);
        self.revoked_any.store(true, Ordering::Release);
    }

    fn prune(&self, horizon: i64) {
        let mut r = write(&self.revocations);
        r.prune(horizon);
        self.revoked_any.store(r.len() > 0, Ordering::Release);
    }

    fn is_revoked(&self, sub: IdentityId, org: OrganizationId, iat: i64) -> bool {
        if !self.revoked_any.load(Ordering::Acquire) {
            return false;
        }
        let r = read(&self.revocations);
        r.identities.get(&sub).is_some_and(|&before| iat <= before)
            || r.organizations
                .get(&org)
                .is_some_and(|&before| iat <= before)
    }
}

#[derive(Clone, Copy)]
enum Target {
    Identity(IdentityId),
    Organization(OrganizationId),
}

fn map_jwt_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => TokenError::DisallowedAlgorithm,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => TokenError::UnknownKey,
        _ => TokenError::Malformed,
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Reads the JOSE header ourselves, so that `alg` values jsonwebtoken cannot even
/// represent (`none`, ...) are reported as a disallowed algorithm.
fn parse_header(token: &str) -> Result<RawHeader, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("not a JWKS: {0}")]
    Json(#[from] serde_json::Error),
}

async fn fetch_jwks(
    http: &reqwest::Client,
    url: &str,
) -> Result<HashMap<String, Arc<DecodingKey>>, FetchError> {
    let body = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let jwks: RawJwks = serde_json::from_slice(&body)?;
    Ok(parse_keys(jwks.keys))
}

fn parse_keys(values: Vec<serde_json::Value>) -> HashMap<String, Arc<DecodingKey>> {
    let mut keys = HashMap::new();
    for v in values {
        let Ok(jwk) = serde_json::from_value::<RawJwk>(v) else {
            continue;
        };
        if jwk.kty != "RSA"
            || jwk.use_.as_deref().is_some_and(|u| u != "sig")
            || jwk.alg.as_deref().is_some_and(|a| a != "RS256")
        {
            continue;
        }
        let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
            continue;
        };
        match DecodingKey::from_rsa_components(&n, &e) {
            Ok(k) => {
                keys.insert(kid, Arc::new(k));
            }
            Err(err) => tracing::warn!(kid = %kid, error = %err, "unusable JWKS key skipped"),
        }
    }
    keys
}

/// SHA-256 of a token: the cache key (the raw token is never stored).
#[derive(Clone, Copy, PartialEq, Eq)]
struct TokenKey([u8; 32]);

impl TokenKey {
    fn of(token: &str) -> TokenKey {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        TokenKey(k)
    }
}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a uniformly distributed digest: its first 8 bytes are the hash.
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(b));
    }
}

/// A hasher that passes a precomputed `u64` through (see `TokenKey`'s `Hash`).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Entry {
    claims: Arc<AccessClaims>,
    exp: i64,
}

#[derive(Default)]
struct Shard {
    map: RwLock<HashMap<TokenKey, Entry, BuildHasherDefault<PassThrough>>>,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

pub mod oidc;
pub mod revocation;
#[cfg(test)]
mod tests;
