//! The authorization client every service uses to enforce its resource actions.
//!
//! It asks the authorization service for the caller's effective permissions
//! (`GET /auth/v1/identities/{id}/permissions`, with the caller's own token: an
//! identity may always read its own permissions), keeps them for a short time,
//! and answers checks locally. A grant given or revoked takes effect within the
//! cache's lifetime (1 s by default), and as soon as its `grant.created` /
//! `grant.revoked` event reaches the process: [`Authz::listen_for_grants`] (started
//! by every service's foundation) drops the cached permissions of the identity the
//! event names.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use idp_bus::EventBus;
use idp_model::authz::EffectivePermission;
use idp_model::events::payload::uuid_of;
use idp_model::events::{types, Envelope};
use idp_model::{IdentityId, OrganizationId};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::auth::Caller;
use crate::error::ApiError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthzSettings {
    /// Base URL of the authorization service. Default `http://127.0.0.1:8084`.
    pub url: String,
    /// How long an identity's permissions are reused, in milliseconds. Default 1000.
    pub cache_ttl_ms: u64,
    /// Timeout of one call to the authorization service. Default 2000 ms.
    pub timeout_ms: u64,
}

impl Default for AuthzSettings {
    fn default() -> Self {
        AuthzSettings {
            url: "http://127.0.0.1:8084".into(),
            cache_ttl_ms: 1000,
            timeout_ms: 2000,
        }
    }
}

/// Where permissions come from: the authorization service over HTTP, or (inside
/// the authorization service) its own store.
#[async_trait]
pub trait PermissionSource: Send + Sync + 'static {
    async fn permissions(&self, caller: &Caller) -> Result<Vec<EffectivePermission>, ApiError>;
}

/// Reads permissions from the authorization service with the caller's token.
pub struct HttpSource {
    base: String,
    http: reqwest::Client,
}

impl HttpSource {
    pub fn new(settings: &AuthzSettings) -> anyhow::Result<Self> {
        Ok(HttpSource {
            base: settings.url.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_millis(settings.timeout_ms))
                .build()?,
        })
    }
}

#[async_trait]
impl PermissionSource for HttpSource {
    async fn permissions(&self, caller: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
        let url = format!(
            "{}/auth/v1/identities/{}/permissions",
            self.base,
            caller.identity_id()
        );
        let res = self
            .http
            .get(&url)
            .bearer_auth(caller.token())
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "authorization service unreachable");
                ApiError::Problem(Box::new(idp_model::Problem::service_unavailable(
                    "the authorization service is unavailable",
                )))
            })?;
        let status = res.status();
        if !status.is_success() {
            tracing::error!(%status, "authorization service refused the permissions request");
            return Err(ApiError::Problem(Box::new(
                idp_model::Problem::service_unavailable(
                    "the authorization service refused the request",
                ),
            )));
        }
        res.json::<Vec<EffectivePermission>>()
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("bad permissions answer: {e}")))
    }
}

/// Which organizations a caller may do something in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every organization (a platform-wide grant).
    All,
    /// Only these (possibly none).
    Organizations(HashSet<OrganizationId>),
}

impl Scope {
    pub fn contains(&self, org: OrganizationId) -> bool {
        match self {
            Scope::All => true,
            Scope::Organizations(s) => s.contains(&org),
        }
    }
}

struct Entry {
    at: Instant,
    perms: Arc<Vec<EffectivePermission>>,
}

/// The client: cheap to clone.
#[derive(Clone)]
pub struct Authz {
    source: Arc<dyn PermissionSource>,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<IdentityId, Entry>>>,
}

impl Authz {
    pub fn new(source: Arc<dyn PermissionSource>, ttl: Duration) -> Self {
        Authz {
            source,
            ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn over_http(settings: &AuthzSettings) -> anyhow::Result<Self> {
        Ok(Self::new(
            Arc::new(HttpSource::new(settings)?),
            Duration::from_millis(settings.cache_ttl_ms),
        ))
    }

    /// The caller's effective permissions (cached for the TTL).
    pub async fn permissions(
        &self,
        caller: &Caller,
    ) -> Result<Arc<Vec<EffectivePermission>>, ApiError> {
        let id = caller.identity_id();
        if let Ok(cache) = self.cache.lock() {
            if let Some(e) = cache.get(&id) {
                if e.at.elapsed() < self.ttl {
                    return Ok(e.perms.clone());
                }
            }
        }
        let perms = Arc::new(self.source.permissions(caller).await?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 50_000 {
                cache.retain(|_, e| e.at.elapsed() < self.ttl);
            }
            cache.insert(
                id,
                Entry {
                    at: Instant::now(),
                    perms: perms.clone(),
                },
            );
        }
        Ok(perms)
    }

    /// Whether the caller may do `resource_type:action` on a resource of
    /// `organization` (None: a platform-level resource) at `path`.
    pub async fn allowed(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> Result<bool, ApiError> {
        let perms = self.permissions(caller).await?;
        Ok(perms
            .iter()
            .any(|p| p.covers(resource_type, action, organization, path)))
    }

    /// 403 unless allowed: for changes, where the caller already knows the resource.
    pub async fn require(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
    ) -> Result<(), ApiError> {
        if self
            .allowed(caller, resource_type, action, organization, &[])
            .await?
        {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "not allowed to {action} {resource_type} here"
            )))
        }
    }

    /// 404 unless allowed: for reads, so that a resource of an organization the
    /// caller cannot read looks like one that does not exist.
    pub async fn require_visible(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
    ) -> Result<(), ApiError> {
        if self
            .allowed(caller, resource_type, action, organization, &[])
            .await?
        {
            Ok(())
        } else {
            Err(ApiError::not_found("no such resource"))
        }
    }

    /// The organizations in which the caller may do `resource_type:action`: what a
    /// list is filtered to.
    pub async fn scope(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
    ) -> Result<Scope, ApiError> {
        let perms = self.permissions(caller).await?;
        let mut orgs = HashSet::new();
        for p in perms.iter() {
            if p.resource_type != resource_type || p.action != action || !p.path.is_empty() {
                continue;
            }
            match p.organization_id {
                None => return Ok(Scope::All),
                Some(o) => {
                    orgs.insert(o);
                }
            }
        }
        Ok(Scope::Organizations(orgs))
    }

    /// Drops what is cached for one identity (on its `grant.*` events).
    pub fn invalidate(&self, identity: IdentityId) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&identity);
        }
    }

    /// Drops everything (a role's actions changed).
    pub fn invalidate_all(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Applies one grant event (drops the cached permissions of the identity it
    /// names) or `role.updated` (a role's actions changed: every holder's
    /// permissions did, so it drops everything). Answers what it dropped.
    pub fn apply_grant_event(&self, event: &Envelope) -> Option<Dropped> {
        match event.kind.as_str() {
            types::ROLE_UPDATED => {
                self.invalidate_all();
                Some(Dropped::All)
            }
            types::GRANT_CREATED | types::GRANT_REVOKED => {
                let id = IdentityId(uuid_of(&event.data, &["identityId"])?);
                self.invalidate(id);
                Some(Dropped::Identity(id))
            }
            _ => None,
        }
    }

    /// Subscribes this process to `grant.created` / `grant.revoked` (a broadcast
    /// subscription: every process gets every event) and drops the cached
    /// permissions of each event's identity, until the bus closes. Subscribes
    /// before returning. An event missed while the broker was away costs at most
    /// the cache's lifetime.
    pub async fn listen_for_grants(
        &self,
        bus: Arc<dyn EventBus>,
    ) -> Result<JoinHandle<()>, idp_bus::BusError> {
        let mut sub = bus.subscribe_broadcast(&GRANT_BINDINGS).await?;
        let authz = self.clone();
        Ok(tokio::spawn(async move {
            while let Some(delivery) = sub.next().await {
                match delivery.envelope() {
                    Ok(event) => {
                        if let Some(dropped) = authz.apply_grant_event(&event) {
                            tracing::debug!(event_type = %event.kind, ?dropped, "cached permissions dropped");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable grant event ignored"),
                }
                delivery.ack().await;
            }
        }))
    }
}

/// The events that change identities' permissions.
pub const GRANT_BINDINGS: [&str; 3] = [
    types::GRANT_CREATED,
    types::GRANT_REVOKED,
    types::ROLE_UPDATED,
];

/// What a grant or role event dropped from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    Identity(IdentityId),
    All,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts how often the permissions are read; answers none.
    struct Counting(AtomicUsize);

    #[async_trait]
    impl PermissionSource for Counting {
        async fn permissions(&self, _: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Vec::new())
        }
    }

    fn grant_event(kind: &str, identity: IdentityId) -> Envelope {
        Envelope::new(
            kind,
            "authorization",
            None,
            serde_json::json!({"id": uuid::Uuid::new_v4(), "identityId": identity}),
            chrono::Utc::now(),
        )
    }

    #[tokio::test]
    async fn grant_events_drop_the_cached_permissions_of_their_identity() {
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        // A lifetime no test outlives: only the events can refresh the cache.
        let authz = Authz::new(source.clone(), Duration::from_secs(3600));
        let bus: Arc<dyn EventBus> = Arc::new(idp_bus::MemoryBus::new());
        let _task = authz.listen_for_grants(bus.clone()).await.unwrap();
        let me = Caller::new(
            Arc::new(idp_model::token::AccessClaims {
                iss: "test".into(),
                sub: IdentityId::new(),
                aud: "platform".into(),
                iat: 0,
                nbf: None,
                exp: i64::MAX,
                jti: "j".into(),
                organization_id: OrganizationId::new(),
                identity_type: idp_model::token::IdentityType::ApiAccountIdentity,
            }),
            "token",
        );
        let other = IdentityId::new();
        authz.permissions(&me).await.unwrap();
        authz.permissions(&me).await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), 1, "cached");
        // Another identity's grant leaves this cache alone. (The in-process bus
        // returns once the listener acknowledged the event.)
        bus.publish(&grant_event(types::GRANT_CREATED, other))
            .await
            .unwrap();
        authz.permissions(&me).await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), 1);
        for kind in [types::GRANT_CREATED, types::GRANT_REVOKED] {
            bus.publish(&grant_event(kind, me.identity_id()))
                .await
                .unwrap();
            let before = source.0.load(Ordering::SeqCst);
            authz.permissions(&me).await.unwrap();
            assert_eq!(source.0.load(Ordering::SeqCst), before + 1, "{kind}");
        }
        // A role's actions changed: every holder's permissions did, whoever the
        // event names.
        bus.publish(&grant_event(types::ROLE_UPDATED, other))
            .await
            .unwrap();
        let before = source.0.load(Ordering::SeqCst);
        authz.permissions(&me).await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), before + 1, "role.updated");
        // Other events change nothing.
        assert_eq!(
            authz.apply_grant_event(&grant_event(types::IDENTITY_CREATED, me.identity_id())),
            None
        );
        authz.permissions(&me).await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), before + 1);
    }
}
