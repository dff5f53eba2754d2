//! The token-exchange grant (RFC 8693): an ID token from one of an organization's
//! active OpenID providers, verified against that provider's JWKS (fetched and
//! cached), issuer, audience (the provider's client id) and expiry, then mapped
//! through identity mappings (external subject + OpenID provider id) to an active
//! user identity of the provider's organization. Nothing is created here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::state::AppState;
use crate::store::{identity, mapping, open_id_provider_seen, organization_seen};

/// How long a provider's keys are reused.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// At most one refetch per provider in this interval on an unknown `kid`.
const MIN_REFETCH: Duration = Duration::from_secs(10);
const LEEWAY_SECS: u64 = 5;

struct Keys {
    fetched: Instant,
    by_kid: HashMap<String, Arc<DecodingKey>>,
    /// Keys without a `kid` (used when the token names none).
    anonymous: Vec<Arc<DecodingKey>>,
}

/// Provider key sets by JWKS URL.
pub struct JwksCache {
    http: reqwest::Client,
    sets: Mutex<HashMap<String, Keys>>,
}

impl JwksCache {
    pub fn new() -> anyhow::Result<Self> {
        Ok(JwksCache {
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

    /// The keys that may have signed a token with `kid` (refetching once when the
    /// cached set is stale or lacks the kid, rate-limited).
    async fn keys_for(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Vec<Arc<DecodingKey>>, String> {
        let mut sets = self.sets.lock().await;
        let pick = |k: &Keys| -> Vec<Arc<DecodingKey>> {
            match kid {
                Some(kid) => k.by_kid.get(kid).cloned().into_iter().collect(),
                None => k
                    .anonymous
                    .iter()
                    .cloned()
                    .chain(k.by_kid.values().cloned())
                    .collect(),
            }
        };
        if let Some(k) = sets.get(url) {
            let found = pick(k);
            let fresh = k.fetched.elapsed() < JWKS_TTL;
            if fresh && (!found.is_empty() || k.fetched.elapsed() < MIN_REFETCH) {
                return Ok(found);
            }
        }
        match self.fetch(url).await {
            Ok(k) => {
                let found = pick(&k);
                sets.insert(url.to_string(), k);
                Ok(found)
            }
            // A provider briefly unreachable: the keys we have still count.
            Err(e) => match sets.get(url) {
                Some(k) => Ok(pick(k)),
                None => Err(e),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
struct Unverified {
    iss: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
}

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

/// The user identity an ID token stands for, or why it stands for none (the
/// reason is logged, never told to the client beyond `invalid_grant`).
/// `bound`: the organization an `nfToken` bound the login to; only its providers count.
pub async fn subject_identity(
    st: &AppState,
    token: &str,
    bound: Option<idp_model::OrganizationId>,
) -> Result<identity::Model, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    if !ALLOWED.contains(&header.alg) {
        return Err(format!("algorithm {:?} not allowed", header.alg));
    }
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Unverified>(&b).ok())
        .ok_or("unreadable claims")?;
    let iss = payload.iss.ok_or("no issuer")?;
    let providers = open_id_provider_seen::Entity::find()
        .filter(open_id_provider_seen::Column::Issuer.eq(iss.as_str()))
        .filter(open_id_provider_seen::Column::Active.eq(true))
        .filter(open_id_provider_seen::Column::Deleted.eq(false))
        .all(&st.db)
        .await
        .map_err(|e| format!("provider lookup failed: {e}"))?;
    let providers: Vec<_> = providers
        .into_iter()
        .filter(|p| bound.is_none_or(|o| o.as_uuid() == p.organization_id))
        .collect();
    if providers.is_empty() {
        return Err(format!(
            "no active OpenID provider with issuer {iss} (in the bound organization)"
        ));
    }
    let mut last = String::from("no provider accepted the token");
    for p in providers {
        let (Some(client_id), Some(jwks_uri)) = (p.client_id.as_deref(), p.jwks_uri.as_deref())
        else {
            continue;
        };
        let keys = match st.jwks.keys_for(jwks_uri, header.kid.as_deref()).await {
            Ok(k) => k,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[iss.as_str()]);
        v.set_audience(&[client_id]);
        v.leeway = LEEWAY_SECS;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = keys
            .iter()
            .find_map(|k| jsonwebtoken::decode::<IdClaims>(token, k, &v).ok());
        let Some(claims) = claims else {
            last = format!("the token does not verify for provider {}", p.id);
            continue;
        };
        return map_subject(st, &p, &claims.claims.sub).await;
    }
    Err(last)
}

async fn map_subject(
    st: &AppState,
    p: &open_id_provider_seen::Model,
    sub: &str,
) -> Result<identity::Model, String> {
    let db_err = |e: sea_orm::DbErr| format!("lookup failed: {e}");
    let org = organization_seen::Entity::find_by_id(p.organization_id)
        .one(&st.db)
        .await
        .map_err(db_err)?;
    if org.is_some_and(|o| !o.active || o.deleted) {
        return Err("the provider's organization is not active".into());
    }
    let m = mapping::Entity::find()
        .filter(mapping::Column::ExternalSubject.eq(sub))
        .filter(mapping::Column::IdentityProviderId.eq(p.id))
        .one(&st.db)
        .await
        .map_err(db_err)?
        .ok_or_else(|| format!("no identity mapped to subject {sub} of provider {}", p.id))?;
    let ident = identity::Entity::find_by_id(m.identity_id)
        .one(&st.db)
        .await
        .map_err(db_err)?
        .ok_or("the mapped identity is gone")?;
    if !ident.active
        || ident.deleted_at.is_some()
        || ident.organization_id != p.organization_id
        || ident.kind != idp_model::token::IdentityType::UserIdentity.as_str()
    {
        return Err("the mapped identity may not sign in".into());
    }
    Ok(ident)
}
