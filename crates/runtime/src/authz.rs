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
//!
//! Concurrent lookups of one identity's permissions share one load (single flight:
//! a restarted authorization service under load gets one request per identity, not
//! one per request); a failed load is answered to the callers that waited on it and
//! not kept. An invalidation that arrives while a load is under way marks what that
//! load brings as stale: it is not reused.
//!
//! The rule of every check of a change ([`change_access`]): holding the action on
//! the resource is enough to perform it; a resource of a scope where the caller
//! holds no action at all on its type is answered as if it did not exist (404); one
//! where it holds some other action, 403. Reads need `read`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use idp_bus::EventBus;
use idp_model::authz::EffectivePermission;
use idp_model::events::{types, Envelope, Event};
use idp_model::{IdentityId, OrganizationId};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

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
                unavailable("the authorization service is unavailable")
            })?;
        let status = res.status();
        if !status.is_success() {
            tracing::error!(%status, "authorization service refused the permissions request");
            return Err(unavailable("the authorization service refused the request"));
        }
        // The body may be cut (the client's timeout, a dropped connection) or not be
        // what the service answers: either way no complete answer, so 503 like an
        // unreachable service, never a 500.
        let body = res.bytes().await.map_err(|e| {
            tracing::error!(error = %e, "authorization service answer cut short");
            unavailable("the authorization service did not answer in full")
        })?;
        serde_json::from_slice::<Vec<EffectivePermission>>(&body).map_err(|e| {
            tracing::error!(error = %e, "authorization service answer unreadable");
            unavailable("the authorization service answered what is not a list of permissions")
        })
    }
}

fn unavailable(detail: &str) -> ApiError {
    ApiError::Problem(Box::new(idp_model::Problem::service_unavailable(detail)))
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

/// What a caller may do to an existing resource of some type and scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAccess {
    /// It holds the action.
    Allowed,
    /// It holds some other action on the type there: it may know the resource
    /// exists, so 403.
    Forbidden,
    /// It holds no action at all on the type there: the resource is hidden, 404.
    Hidden,
}

impl ChangeAccess {
    /// `Ok`, 403, or 404 with `not_found` as its detail (say what a missing
    /// resource of this kind says, so that hidden and missing look the same).
    pub fn into_result(self, resource_type: &str, action: &str, not_found: &str) -> ApiResult<()> {
        match self {
            ChangeAccess::Allowed => Ok(()),
            ChangeAccess::Forbidden => Err(ApiError::forbidden(format!(
                "not allowed to {action} {resource_type} here"
            ))),
            ChangeAccess::Hidden => Err(ApiError::not_found(not_found)),
        }
    }
}

/// Whether `perms` hold any action at all on `resource_type` whose scope covers
/// `organization` (None: a platform-level resource) and `path`.
pub fn holds_any(
    perms: &[EffectivePermission],
    resource_type: &str,
    organization: Option<OrganizationId>,
    path: &[String],
) -> bool {
    perms
        .iter()
        .any(|p| p.covers(resource_type, &p.action, organization, path))
}

/// The rule for acting on an existing resource: the action itself is enough
/// (no `read` needed); without it, 403 when the caller holds another action on the
/// type in that scope, else the resource is hidden (404).
pub fn change_access(
    perms: &[EffectivePermission],
    resource_type: &str,
    action: &str,
    organization: Option<OrganizationId>,
    path: &[String],
) -> ChangeAccess {
    if perms
        .iter()
        .any(|p| p.covers(resource_type, action, organization, path))
    {
        ChangeAccess::Allowed
    } else if holds_any(perms, resource_type, organization, path) {
        ChangeAccess::Forbidden
    } else {
        ChangeAccess::Hidden
    }
}

/// One identity's permissions as cached.
#[derive(Clone)]
struct Entry {
    perms: Arc<Vec<EffectivePermission>>,
    /// Set when the identity's permissions were invalidated after this load began:
    /// the entry is not reused.
    stale: Arc<AtomicBool>,
}

/// The stale flag of each identity's latest load (cached or under way), so that
/// [`Authz::invalidate`] can mark it without waiting. Weak: an entry the cache
/// dropped lets its flag go; dead ones are swept as the map grows.
#[derive(Default)]
struct Flags {
    map: HashMap<IdentityId, Weak<AtomicBool>>,
    sweep_at: usize,
}

impl Flags {
    fn register(&mut self, id: IdentityId) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        if let Some(old) = self.map.insert(id, Arc::downgrade(&flag)) {
            // A load only starts when the previous entry is gone, expired or stale.
            if let Some(old) = old.upgrade() {
                old.store(true, Ordering::SeqCst);
            }
        }
        if self.map.len() > self.sweep_at {
            self.map.retain(|_, w| w.strong_count() > 0);
            self.sweep_at = (self.map.len() * 2).max(1024);
        }
        flag
    }

    fn mark(&mut self, id: IdentityId) {
        if let Some(flag) = self.map.remove(&id).and_then(|w| w.upgrade()) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    fn mark_all(&mut self) {
        for (_, w) in self.map.drain() {
            if let Some(flag) = w.upgrade() {
                flag.store(true, Ordering::SeqCst);
            }
        }
        self.sweep_at = 1024;
    }
}

/// How many identities' permissions are kept at most.
const CAPACITY: u64 = 50_000;

/// How often one lookup loads again when invalidations keep overtaking its load;
/// then it answers the last load (as fresh as any concurrent request's).
const ATTEMPTS: usize = 3;

/// The client: cheap to clone.
#[derive(Clone)]
pub struct Authz {
    source: Arc<dyn PermissionSource>,
    cache: moka::future::Cache<IdentityId, Entry>,
    flags: Arc<Mutex<Flags>>,
}

impl Authz {
    pub fn new(source: Arc<dyn PermissionSource>, ttl: Duration) -> Self {
        Authz {
            source,
            cache: moka::future::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
            flags: Arc::new(Mutex::new(Flags::default())),
        }
    }

    pub fn over_http(settings: &AuthzSettings) -> anyhow::Result<Self> {
        Ok(Self::new(
            Arc::new(HttpSource::new(settings)?),
            Duration::from_millis(settings.cache_ttl_ms),
        ))
    }

    fn flags(&self) -> std::sync::MutexGuard<'_, Flags> {
        self.flags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The caller's effective permissions (cached for the TTL). Concurrent callers
    /// for one identity wait on one load; a failed load is not kept.
    pub async fn permissions(
        &self,
        caller: &Caller,
    ) -> Result<Arc<Vec<EffectivePermission>>, ApiError> {
        let id = caller.identity_id();
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let entry = self
                .cache
                .try_get_with(id, async {
                    let stale = self.flags().register(id);
                    let perms = self.source.permissions(caller).await?;
                    Ok::<_, ApiError>(Entry {
                        perms: Arc::new(perms),
                        stale,
                    })
                })
                .await
                .map_err(|e| shared_error(&e))?;
            if !entry.stale.load(Ordering::SeqCst) {
                return Ok(entry.perms);
            }
            // Invalidated after its load began: drop it (unless another caller
            // already replaced it) and load again.
            let flag = entry.stale.clone();
            self.cache
                .entry(id)
                .and_compute_with(|cur| async move {
                    match cur {
                        Some(e) if Arc::ptr_eq(&e.value().stale, &flag) => {
                            moka::ops::compute::Op::Remove
                        }
                        _ => moka::ops::compute::Op::Nop,
                    }
                })
                .await;
            last = Some(entry.perms);
        }
        last.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no permissions load attempted")))
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

    /// Whether the caller holds any action at all on `resource_type` in
    /// `organization`: whether it may learn that such a resource exists there.
    pub async fn holds_any(
        &self,
        caller: &Caller,
        resource_type: &str,
        organization: Option<OrganizationId>,
    ) -> Result<bool, ApiError> {
        let perms = self.permissions(caller).await?;
        Ok(holds_any(&perms, resource_type, organization, &[]))
    }

    /// What the caller may do to an existing resource: see [`change_access`].
    pub async fn change_access(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
    ) -> Result<ChangeAccess, ApiError> {
        let perms = self.permissions(caller).await?;
        Ok(change_access(
            &perms,
            resource_type,
            action,
            organization,
            &[],
        ))
    }

    /// For every change of an existing resource (an update, a delete, an
    /// `{action}`): Ok when the caller holds the action there — nothing else is
    /// needed; 404 when it holds no action at all on `resource_type` there (existence
    /// does not leak); else 403.
    pub async fn require_change(
        &self,
        caller: &Caller,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
    ) -> Result<(), ApiError> {
        self.change_access(caller, resource_type, action, organization)
            .await?
            .into_result(resource_type, action, "no such resource")
    }

    /// 403 unless allowed: for creations, where the caller names the scope.
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

    /// Drops what is cached for one identity (on its `grant.*` events), and marks
    /// a load of it under way as stale.
    pub fn invalidate(&self, identity: IdentityId) {
        self.flags().mark(identity);
    }

    /// Drops everything (a role's actions changed), loads under way included.
    pub fn invalidate_all(&self) {
        self.flags().mark_all();
        self.cache.invalidate_all();
    }
    /// Applies one grant event (drops the cached permissions of the identity it
    /// names) or `role.updated` (a role's actions changed: every holder's
    /// permissions did, so it drops everything). Answers what it dropped.
    pub fn apply_grant_event(&self, event: &Envelope) -> Option<Dropped> {
        match Event::of(event) {
            Ok(Event::RoleUpdated(_)) => {
                self.invalidate_all();
                Some(Dropped::All)
            }
            Ok(Event::GrantCreated(g) | Event::GrantRevoked(g)) => {
                self.invalidate(g.identity_id);
                Some(Dropped::Identity(g.identity_id))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable grant event ignored");
                None
            }
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

/// The same error for each caller that waited on one failed load (a single-flight
/// load's error is shared).
pub fn shared_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Problem(p) => ApiError::Problem(p.clone()),
        ApiError::Unauthenticated { challenge, detail } => ApiError::Unauthenticated {
            challenge: challenge.clone(),
            detail: detail.clone(),
        },
        ApiError::Internal(e) => ApiError::internal(anyhow::anyhow!("{e:#}")),
    }
}

/// The events that change identities' permissions (those whose
/// `Event::drops_permission_caches`; a test checks it).
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

    fn caller() -> Caller {
        Caller::new(
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
        )
    }

    fn perm(
        resource_type: &str,
        action: &str,
        org: Option<OrganizationId>,
        path: &[&str],
    ) -> EffectivePermission {
        EffectivePermission {
            identity_id: IdentityId::new(),
            resource_type: resource_type.into(),
            action: action.into(),
            resource_action_id: idp_model::ResourceActionId::new(),
            organization_id: org,
            path: path.iter().map(|p| p.to_string()).collect(),
            grant_id: idp_model::GrantId::new(),
            role_id: None,
            role_name: None,
        }
    }

    /// The guide's grant alone: `update-reset-mfa` on `user-identity` in one
    /// organization.
    #[test]
    fn the_action_alone_is_enough_and_only_holders_of_nothing_get_404() {
        let (a, b) = (OrganizationId::new(), OrganizationId::new());
        let perms = [perm("user-identity", "update-reset-mfa", Some(a), &[])];
        let at = |rt: &str, action: &str, org| change_access(&perms, rt, action, org, &[]);
        assert_eq!(
            at("user-identity", "update-reset-mfa", Some(a)),
            ChangeAccess::Allowed,
            "no read needed"
        );
        // Other changes of the same type there: it may know the user exists.
        assert_eq!(
            at("user-identity", "update", Some(a)),
            ChangeAccess::Forbidden
        );
        assert_eq!(
            at("user-identity", "delete", Some(a)),
            ChangeAccess::Forbidden
        );
        // Another organization, another type, the platform level: it holds nothing.
        assert_eq!(
            at("user-identity", "update-reset-mfa", Some(b)),
            ChangeAccess::Hidden
        );
        assert_eq!(
            at("api-account-identity", "update", Some(a)),
            ChangeAccess::Hidden
        );
        assert_eq!(
            at("user-identity", "update-reset-mfa", None),
            ChangeAccess::Hidden
        );
        assert!(holds_any(&perms, "user-identity", Some(a), &[]));
        assert!(!holds_any(&perms, "user-identity", Some(b), &[]));

        // A platform-wide grant covers every organization.
        let wide = [perm("organization", "read", None, &[])];
        assert_eq!(
            change_access(&wide, "organization", "update", Some(b), &[]),
            ChangeAccess::Forbidden
        );
        assert_eq!(
            change_access(&wide, "organization", "read", None, &[]),
            ChangeAccess::Allowed
        );
        // A grant narrowed to a path holds nothing outside it.
        let narrow = [perm("user-identity", "update", Some(a), &["team-1"])];
        assert_eq!(
            change_access(&narrow, "user-identity", "update", Some(a), &[]),
            ChangeAccess::Hidden
        );
        let team_1 = ["team-1".to_string(), "u1".to_string()];
        assert_eq!(
            change_access(&narrow, "user-identity", "update", Some(a), &team_1),
            ChangeAccess::Allowed
        );
        assert_eq!(
            change_access(&narrow, "user-identity", "delete", Some(a), &team_1),
            ChangeAccess::Forbidden
        );
        assert_eq!(
            change_access(&[], "user-identity", "read", Some(a), &[]),
            ChangeAccess::Hidden
        );
    }

    /// Answers the same permissions to everyone.
    struct Fixed(Vec<EffectivePermission>);

    #[async_trait]
    impl PermissionSource for Fixed {
        async fn permissions(&self, _: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
            Ok(self.0.clone())
        }
    }

    fn status(r: Result<(), ApiError>) -> u16 {
        match r {
            Ok(()) => 200,
            Err(ApiError::Problem(p)) => p.status,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[tokio::test]
    async fn require_change_answers_ok_403_or_404_by_the_rule() {
        let (a, b) = (OrganizationId::new(), OrganizationId::new());
        let authz = Authz::new(
            Arc::new(Fixed(vec![perm(
                "user-identity",
                "update-reset-mfa",
                Some(a),
                &[],
            )])),
            Duration::from_secs(60),
        );
        let me = caller();
        let rt = "user-identity";
        let go = |action: &'static str, org| {
            let (authz, me) = (authz.clone(), me.clone());
            async move { status(authz.require_change(&me, rt, action, Some(org)).await) }
        };
        assert_eq!(go("update-reset-mfa", a).await, 200);
        assert_eq!(go("update", a).await, 403);
        assert_eq!(go("update-reset-mfa", b).await, 404);
        assert!(authz.holds_any(&me, rt, Some(a)).await.unwrap());
        assert!(!authz.holds_any(&me, rt, Some(b)).await.unwrap());
        // Reads keep needing `read`.
        assert_eq!(
            status(authz.require_visible(&me, rt, "read", Some(a)).await),
            404
        );
    }

    /// Counts its loads; each takes a while, and answers one permission naming the
    /// load (`v1`, `v2`, …) so that a test sees which load an answer came from.
    /// The first `fail` loads fail; while `hold` is set, loads wait for it to clear.
    struct Slow {
        loads: AtomicUsize,
        fail: usize,
        hold: tokio::sync::watch::Sender<bool>,
    }

    impl Slow {
        fn new(fail: usize, hold: bool) -> Arc<Slow> {
            Arc::new(Slow {
                loads: AtomicUsize::new(0),
                fail,
                hold: tokio::sync::watch::channel(hold).0,
            })
        }
        fn loads(&self) -> usize {
            self.loads.load(Ordering::SeqCst)
        }
        async fn started(&self, n: usize) {
            while self.loads() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }

    #[async_trait]
    impl PermissionSource for Slow {
        async fn permissions(&self, _: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
            let n = self.loads.fetch_add(1, Ordering::SeqCst) + 1;
            let mut hold = self.hold.subscribe();
            hold.wait_for(|h| !*h).await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            if n <= self.fail {
                return Err(unavailable("down"));
            }
            Ok(vec![perm("user-identity", &format!("v{n}"), None, &[])])
        }
    }

    fn version(perms: &[EffectivePermission]) -> &str {
        &perms[0].action
    }

    #[tokio::test]
    async fn concurrent_lookups_of_one_identity_share_one_load() {
        let source = Slow::new(0, false);
        let authz = Authz::new(source.clone(), Duration::from_secs(60));
        let me = caller();
        let answers = futures::future::join_all((0..200).map(|_| authz.permissions(&me))).await;
        assert!(answers.iter().all(|a| a.is_ok()));
        assert_eq!(source.loads(), 1, "one load for 200 concurrent lookups");
        // Another identity has its own load.
        authz.permissions(&caller()).await.unwrap();
        assert_eq!(source.loads(), 2);

        // Also with no lifetime at all (the authorization service's own client).
        let source = Slow::new(0, false);
        let authz = Authz::new(source.clone(), Duration::ZERO);
        let answers = futures::future::join_all((0..200).map(|_| authz.permissions(&me))).await;
        assert!(answers.iter().all(|a| a.is_ok()));
        assert_eq!(source.loads(), 1);
    }

    #[tokio::test]
    async fn a_failed_load_fails_its_waiters_and_is_not_kept() {
        let source = Slow::new(1, false);
        let authz = Authz::new(source.clone(), Duration::from_secs(60));
        let me = caller();
        let answers = futures::future::join_all((0..50).map(|_| authz.permissions(&me))).await;
        assert_eq!(source.loads(), 1);
        for a in &answers {
            match a {
                Err(ApiError::Problem(p)) => assert_eq!(p.status, 503),
                other => panic!("{other:?}"),
            }
        }
        // Not cached: the next lookup loads again, and that answer is kept.
        let perms = authz.permissions(&me).await.unwrap();
        assert_eq!(version(&perms), "v2");
        authz.permissions(&me).await.unwrap();
        assert_eq!(source.loads(), 2);
    }

    /// An invalidation while a load is under way: what that load read may predate
    /// the change, so it is not kept, and the callers get a load begun after it.
    #[tokio::test]
    async fn an_invalidation_during_a_load_is_not_undone_by_it() {
        for all in [false, true] {
            let source = Slow::new(0, true);
            let authz = Authz::new(source.clone(), Duration::from_secs(60));
            let me = caller();
            let waiting = {
                let (authz, me) = (authz.clone(), me.clone());
                tokio::spawn(async move {
                    futures::future::join_all((0..20).map(|_| authz.permissions(&me))).await
                })
            };
            source.started(1).await;
            if all {
                authz.invalidate_all();
            } else {
                authz.invalidate(me.identity_id());
            }
            source.hold.send_replace(false);
            for a in waiting.await.unwrap() {
                assert_eq!(version(&a.unwrap()), "v2", "all={all}");
            }
            assert_eq!(source.loads(), 2, "all={all}");
            // The second load is kept.
            assert_eq!(version(&authz.permissions(&me).await.unwrap()), "v2");
            assert_eq!(source.loads(), 2, "all={all}");
            // An invalidation of another identity leaves it alone.
            authz.invalidate(IdentityId::new());
            assert_eq!(version(&authz.permissions(&me).await.unwrap()), "v2");
            // A later one drops it.
            authz.invalidate(me.identity_id());
            assert_eq!(version(&authz.permissions(&me).await.unwrap()), "v3");
        }
    }

    /// A stand-in authorization service that sends the headers and part of the
    /// body of an answer, then stalls past the client's timeout.
    async fn stalling_service(body: &'static str, length: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf).await;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n{body}"
                    );
                    let _ = conn.write_all(head.as_bytes()).await;
                    let _ = conn.flush().await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn an_answer_cut_by_the_timeout_is_503() {
        for (body, length) in [("[{\"identityId\"", 500), ("", 500)] {
            let url = stalling_service(body, length).await;
            let source = HttpSource::new(&AuthzSettings {
                url,
                cache_ttl_ms: 0,
                timeout_ms: 300,
            })
            .unwrap();
            match source.permissions(&caller()).await {
                Err(ApiError::Problem(p)) => assert_eq!(p.status, 503, "{p:?}"),
                other => panic!("{other:?}"),
            }
        }
        // A complete answer that is not a list of permissions: 503 too.
        let url = stalling_service("{}", 2).await;
        let source = HttpSource::new(&AuthzSettings {
            url,
            cache_ttl_ms: 0,
            timeout_ms: 300,
        })
        .unwrap();
        match source.permissions(&caller()).await {
            Err(ApiError::Problem(p)) => assert_eq!(p.status, 503, "{p:?}"),
            other => panic!("{other:?}"),
        }
    }

    fn grant_event(kind: &str, identity: IdentityId) -> Envelope {
        Envelope::new(
            kind,
            "authorization",
            None,
            serde_json::json!({"id": uuid::Uuid::new_v4(), "identityId": identity}),
            time::OffsetDateTime::now_utc(),
        )
    }

    #[test]
    fn the_grant_bindings_are_the_types_that_drop_permission_caches() {
        let derived: Vec<&str> = Event::permission_cache_types().collect();
        assert_eq!(GRANT_BINDINGS.as_slice(), derived.as_slice());
    }

    #[tokio::test]
    async fn grant_events_drop_the_cached_permissions_of_their_identity() {
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        // A lifetime no test outlives: only the events can refresh the cache.
        let authz = Authz::new(source.clone(), Duration::from_secs(3600));
        let bus: Arc<dyn EventBus> = Arc::new(idp_bus::MemoryBus::new());
        let _task = authz.listen_for_grants(bus.clone()).await.unwrap();
        let me = caller();
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
