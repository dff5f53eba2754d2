//! The authorization client every service uses to enforce its resource actions.
//!
//! It asks the authorization service for the caller's effective permissions
//! (`GET /auth/v1/identities/{id}/permissions`, with the caller's own token: an
//! identity may always read its own permissions), keeps them for a short time,
//! and answers checks locally. A grant given or revoked takes effect within the
//! cache's lifetime (1 s by default), and at once where `invalidate` is called on
//! `grant.*` events.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use idp_model::authz::EffectivePermission;
use idp_model::{IdentityId, OrganizationId};
use serde::{Deserialize, Serialize};

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
}
