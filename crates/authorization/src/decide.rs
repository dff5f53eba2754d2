//! The decision path: "may identity I do action A on resource type T in organization
//! O at path P?", answered in memory.
//!
//! Each identity's effective permissions are loaded from the store on first use and
//! kept as a [`Snapshot`] indexed by resource type, then action, each leading to the
//! short list of scopes (organization, path) that give it. A warm decision is two
//! hash lookups and a scan of that list; no allocation.
//!
//! The cache is exact, not a time-to-live cache: every grant or role write this
//! service makes drops what it changes after its transaction committed
//! ([`Decider::invalidate`], [`Decider::invalidate_all`]), and the `grant.*` and
//! `role.*` events (another replica's writes, and the grants the event consumer
//! gives) drop it too ([`listen`]). A load that overlaps an invalidation is
//! answered but not kept (an epoch per shard, checked under the shard's lock), so a
//! revoked grant is refused on the very next check.
//!
//! Concurrent misses of one identity share one load (single flight): right after a
//! restart under load, each identity costs the store one query, not one per
//! request. A failed load answers its waiters and is not kept; an invalidation
//! lets later callers start a load of their own rather than join one under way.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use idp_model::authorization::standard_roles;
use idp_model::authz::EffectivePermission;
use idp_model::events::Event;
use idp_model::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId};
use idp_runtime::error::ApiError;
use sea_orm::DatabaseConnection;

/// Routing keys of the role events this service emits (a role's actions changed).
pub use idp_model::events::types::ROLE_UPDATED;

/// The events that change someone's effective permissions.
pub const BINDINGS: [&str; 2] = ["grant.*", "role.*"];

const SHARDS: usize = 64;
/// Identities kept by default.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Where snapshots come from: the store, or (benchmarks, tests) anything else.
#[async_trait]
pub trait Loader: Send + Sync + 'static {
    async fn load(&self, identity: IdentityId) -> Result<Vec<EffectivePermission>, ApiError>;
}

/// Loads from this service's store ([`crate::domain::effective_permissions`]).
pub struct StoreLoader(pub DatabaseConnection);

#[async_trait]
impl Loader for StoreLoader {
    async fn load(&self, identity: IdentityId) -> Result<Vec<EffectivePermission>, ApiError> {
        crate::domain::effective_permissions(&self.0, identity).await
    }
}

/// One permission, compactly: codes and role names shared within the snapshot.
#[derive(Clone, Debug)]
struct Entry {
    resource_type: Arc<str>,
    action: Arc<str>,
    resource_action_id: ResourceActionId,
    organization_id: Option<OrganizationId>,
    path: Arc<[String]>,
    grant_id: GrantId,
    role_id: Option<RoleId>,
    role_name: Option<Arc<str>>,
}

impl Entry {
    /// The scope rule of [`EffectivePermission::covers`] (type and action already
    /// matched by the index).
    #[inline]
    fn in_scope(&self, organization: Option<OrganizationId>, path: &[String]) -> bool {
        match (self.organization_id, organization) {
            (None, _) => {}
            (Some(mine), Some(theirs)) if mine == theirs => {}
            _ => return false,
        }
        self.path.len() <= path.len() && self.path.iter().zip(path).all(|(a, b)| a == b)
    }
}

/// What allowed a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub grant_id: GrantId,
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
}

/// One identity's effective permissions, indexed for decisions.
#[derive(Debug)]
pub struct Snapshot {
    identity: IdentityId,
    /// In the store's order (grants by creation, then each role's actions).
    entries: Vec<Entry>,
    /// type → action → indexes into `entries`, in that order.
    index: HashMap<Arc<str>, HashMap<Arc<str>, Vec<u32>>>,
    super_admin: bool,
}

impl Snapshot {
    /// Indexes a list of effective permissions (those of one identity).
    pub fn new(identity: IdentityId, perms: Vec<EffectivePermission>) -> Snapshot {
        let mut strings: HashMap<String, Arc<str>> = HashMap::new();
        let mut intern = |s: String| -> Arc<str> {
            strings
                .entry(s)
                .or_insert_with_key(|k| Arc::from(k.as_str()))
                .clone()
        };
        let mut paths: HashMap<Vec<String>, Arc<[String]>> = HashMap::new();
        let mut entries = Vec::with_capacity(perms.len());
        let mut index: HashMap<Arc<str>, HashMap<Arc<str>, Vec<u32>>> = HashMap::new();
        let mut super_admin = false;
        for p in perms {
            super_admin |= p.role_id == Some(standard_roles::SUPER_ADMIN)
                && p.organization_id.is_none()
                && p.path.is_empty();
            let path = paths
                .entry(p.path)
                .or_insert_with_key(|k| Arc::from(k.as_slice()))
                .clone();
            let e = Entry {
                resource_type: intern(p.resource_type),
                action: intern(p.action),
                resource_action_id: p.resource_action_id,
                organization_id: p.organization_id,
                path,
                grant_id: p.grant_id,
                role_id: p.role_id,
                role_name: p.role_name.map(&mut intern),
            };
            let at = u32::try_from(entries.len()).unwrap_or(u32::MAX);
            index
                .entry(e.resource_type.clone())
                .or_default()
                .entry(e.action.clone())
                .or_default()
                .push(at);
            entries.push(e);
        }
        Snapshot {
            identity,
            entries,
            index,
            super_admin,
        }
    }

    pub fn identity(&self) -> IdentityId {
        self.identity
    }

    /// The first permission (in store order) covering `resource_type:action` on a
    /// resource of `organization` (None: platform-level) at `path`.
    #[inline]
    fn find(
        &self,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> Option<&Entry> {
        self.index
            .get(resource_type)?
            .get(action)?
            .iter()
            .filter_map(|&i| self.entries.get(i as usize))
            .find(|e| e.in_scope(organization, path))
    }

    /// Whether the identity may do `resource_type:action` there.
    #[inline]
    pub fn allows(
        &self,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> bool {
        self.find(resource_type, action, organization, path)
            .is_some()
    }

    /// The grant (and role) that allows it, if any.
    pub fn decide(
        &self,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> Option<Allowed> {
        self.find(resource_type, action, organization, path)
            .map(|e| Allowed {
                grant_id: e.grant_id,
                role_id: e.role_id,
                role_name: e.role_name.as_deref().map(str::to_string),
            })
    }

    /// Whether the identity holds `resource_type:action` in some scope.
    pub fn holds_anywhere(&self, resource_type: &str, action: &str) -> bool {
        self.index
            .get(resource_type)
            .and_then(|a| a.get(action))
            .is_some_and(|l| !l.is_empty())
    }

    /// Holds the Super Admin role platform-wide.
    pub fn is_super_admin(&self) -> bool {
        self.super_admin
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The permissions in their wire form, in store order.
    pub fn permissions(&self) -> Vec<EffectivePermission> {
        self.entries
            .iter()
            .map(|e| EffectivePermission {
                identity_id: self.identity,
                resource_type: e.resource_type.to_string(),
                action: e.action.to_string(),
                resource_action_id: e.resource_action_id,
                organization_id: e.organization_id,
                path: e.path.to_vec(),
                grant_id: e.grant_id,
                role_id: e.role_id,
                role_name: e.role_name.as_deref().map(str::to_string),
            })
            .collect()
    }
}

/// One load under way, shared by every caller that missed meanwhile.
type Flight = futures::future::Shared<
    futures::future::BoxFuture<'static, Result<Arc<Snapshot>, Arc<ApiError>>>,
>;

#[derive(Default)]
struct Shard {
    map: HashMap<IdentityId, Arc<Snapshot>>,
    /// Loads under way, by identity, each with its number.
    loading: HashMap<IdentityId, (u64, Flight)>,
    /// Bumped by every invalidation that touches this shard.
    epoch: u64,
    /// Numbers the loads.
    flights: u64,
}

struct Inner {
    loader: Arc<dyn Loader>,
    shards: Vec<RwLock<Shard>>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

/// The decision cache. Cheap to clone.
#[derive(Clone)]
pub struct Decider {
    inner: Arc<Inner>,
}

impl Decider {
    pub fn new(loader: Arc<dyn Loader>, capacity: usize) -> Decider {
        Decider {
            inner: Arc::new(Inner {
                loader,
                shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
                per_shard: capacity.div_ceil(SHARDS).max(1),
                hasher: Default::default(),
            }),
        }
    }

    /// Over this service's store.
    pub fn over_store(db: DatabaseConnection) -> Decider {
        Decider::new(Arc::new(StoreLoader(db)), DEFAULT_CAPACITY)
    }

    fn shard(&self, identity: IdentityId) -> &RwLock<Shard> {
        let i = (self.inner.hasher.hash_one(identity) as usize) % self.inner.shards.len();
        &self.inner.shards[i]
    }

    /// The identity's snapshot when cached (the warm path: no await, no I/O).
    #[inline]
    pub fn cached(&self, identity: IdentityId) -> Option<Arc<Snapshot>> {
        self.shard(identity)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .get(&identity)
            .cloned()
    }

    /// The identity's snapshot, loaded when not cached (one load for concurrent
    /// callers).
    pub async fn snapshot(&self, identity: IdentityId) -> Result<Arc<Snapshot>, ApiError> {
        if let Some(s) = self.cached(identity) {
            return Ok(s);
        }
        let flight = {
            let mut s = self
                .shard(identity)
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(snap) = s.map.get(&identity) {
                return Ok(snap.clone());
            }
            match s.loading.get(&identity) {
                Some((_, f)) => f.clone(),
                None => {
                    s.flights = s.flights.wrapping_add(1);
                    let (n, epoch) = (s.flights, s.epoch);
                    let f = self.load(identity, n, epoch);
                    s.loading.insert(identity, (n, f.clone()));
                    f
                }
            }
        };
        flight
            .await
            .map_err(|e| idp_runtime::authz::shared_error(&e))
    }

    /// Load number `n` of `identity`, begun at `epoch`: kept when nothing was
    /// invalidated meanwhile (the load may have read what a concurrent write has
    /// since changed). It owns a clone of the decider only while under way.
    fn load(&self, identity: IdentityId, n: u64, epoch: u64) -> Flight {
        use futures::FutureExt;
        let this = self.clone();
        async move {
            let got = this.inner.loader.load(identity).await;
            let mut s = this
                .shard(identity)
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if s.loading.get(&identity).is_some_and(|(m, _)| *m == n) {
                s.loading.remove(&identity);
            }
            let snap = Arc::new(Snapshot::new(identity, got.map_err(Arc::new)?));
            if s.epoch == epoch {
                if s.map.len() >= this.inner.per_shard {
                    if let Some(k) = s.map.keys().next().copied() {
                        s.map.remove(&k);
                    }
                }
                s.map.insert(identity, snap.clone());
            }
            Ok(snap)
        }
        .boxed()
        .shared()
    }

    /// Decides one question (loads the identity's permissions when not cached).
    pub async fn decide(
        &self,
        identity: IdentityId,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> Result<Option<Allowed>, ApiError> {
        Ok(self
            .snapshot(identity)
            .await?
            .decide(resource_type, action, organization, path))
    }

    /// Drops one identity's snapshot (its grants changed). Call after the change
    /// committed.
    pub fn invalidate(&self, identity: IdentityId) {
        let mut s = self
            .shard(identity)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        s.epoch = s.epoch.wrapping_add(1);
        s.map.remove(&identity);
        // Later callers load anew rather than join a load that began before.
        s.loading.remove(&identity);
    }

    /// Drops everything (a role's actions changed). Call after the change committed.
    pub fn invalidate_all(&self) {
        for shard in &self.inner.shards {
            let mut s = shard.write().unwrap_or_else(PoisonError::into_inner);
            s.epoch = s.epoch.wrapping_add(1);
            s.map.clear();
            s.loading.clear();
        }
    }

    /// Identities cached.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).map.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one event: a grant's identity, or every identity on a role change.
    /// Returns whether it invalidated anything.
    pub fn apply(&self, kind: &str, data: &serde_json::Value) -> bool {
        let grant_or_role = kind.starts_with("role.") || kind.starts_with("grant.");
        match Event::from_envelope(kind, data) {
            Ok(Event::GrantCreated(g) | Event::GrantRevoked(g)) => {
                self.invalidate(g.identity_id);
                true
            }
            Ok(Event::RoleUpdated(_)) => {
                self.invalidate_all();
                true
            }
            // A grant or role event of a later version, or one that does not
            // parse: drop everything rather than risk a stale answer.
            Ok(Event::Unknown { .. }) | Err(_) if grant_or_role => {
                self.invalidate_all();
                true
            }
            _ => false,
        }
    }
}

/// Subscribes this process to the `grant.*` and `role.*` events (a broadcast
/// subscription: every replica gets every event) and drops what they change, until
/// the bus closes. Subscribes before returning.
pub async fn listen(
    bus: Arc<dyn idp_bus::EventBus>,
    decider: Decider,
) -> Result<tokio::task::JoinHandle<()>, idp_bus::BusError> {
    let mut sub = bus.subscribe_broadcast(&BINDINGS).await?;
    Ok(tokio::spawn(async move {
        while let Some(delivery) = sub.next().await {
            match delivery.envelope() {
                Ok(event) => {
                    decider.apply(&event.kind, &event.data);
                }
                Err(e) => {
                    // Unreadable: drop everything rather than risk a stale answer.
                    tracing::warn!(error = %e, "unreadable grant/role event; decision cache cleared");
                    decider.invalidate_all();
                }
            }
            delivery.ack().await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use idp_model::events::types;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn perm(
        id: IdentityId,
        t: &str,
        a: &str,
        org: Option<OrganizationId>,
        path: &[&str],
        role: Option<RoleId>,
    ) -> EffectivePermission {
        EffectivePermission {
            identity_id: id,
            resource_type: t.into(),
            action: a.into(),
            resource_action_id: ResourceActionId::new(),
            organization_id: org,
            path: path.iter().map(|s| s.to_string()).collect(),
            grant_id: GrantId::new(),
            role_id: role,
            role_name: role.map(|_| "r".into()),
        }
    }

    #[test]
    fn snapshot_answers_like_covers() {
        let id = IdentityId::new();
        let a = OrganizationId::new();
        let b = OrganizationId::new();
        let perms = vec![
            perm(id, "user-identity", "read", Some(a), &[], None),
            perm(id, "user-identity", "update", Some(a), &["x"], None),
            perm(id, "organization", "read", None, &[], None),
            perm(id, "user-identity", "update", Some(b), &[], None),
        ];
        let s = Snapshot::new(id, perms.clone());
        let orgs = [Some(a), Some(b), None];
        let paths: [Vec<String>; 4] = [
            vec![],
            vec!["x".into()],
            vec!["x".into(), "y".into()],
            vec!["z".into()],
        ];
        for t in ["user-identity", "organization", "grant"] {
            for act in ["read", "update", "delete"] {
                for o in orgs {
                    for p in &paths {
                        let old = perms.iter().find(|q| q.covers(t, act, o, p));
                        let new = s.decide(t, act, o, p);
                        assert_eq!(old.map(|q| q.grant_id), new.map(|n| n.grant_id));
                    }
                }
            }
        }
        assert!(s.holds_anywhere("user-identity", "update"));
        assert!(!s.holds_anywhere("grant", "read"));
        assert!(!s.is_super_admin());
        assert_eq!(s.permissions(), perms);
    }

    struct Counting {
        perms: std::sync::Mutex<Vec<EffectivePermission>>,
        loads: AtomicUsize,
    }

    #[async_trait]
    impl Loader for Counting {
        async fn load(&self, _: IdentityId) -> Result<Vec<EffectivePermission>, ApiError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Ok(self.perms.lock().unwrap().clone())
        }
    }

    #[tokio::test]
    async fn caches_until_invalidated_by_call_or_event() {
        let id = IdentityId::new();
        let org = OrganizationId::new();
        let loader = Arc::new(Counting {
            perms: std::sync::Mutex::new(vec![perm(id, "t", "a", Some(org), &[], None)]),
            loads: AtomicUsize::new(0),
        });
        let d = Decider::new(loader.clone(), 10);
        assert!(d
            .decide(id, "t", "a", Some(org), &[])
            .await
            .unwrap()
            .is_some());
        assert!(d
            .decide(id, "t", "a", Some(org), &[])
            .await
            .unwrap()
            .is_some());
        assert_eq!(loader.loads.load(Ordering::SeqCst), 1);
        loader.perms.lock().unwrap().clear();
        d.invalidate(id);
        assert!(d
            .decide(id, "t", "a", Some(org), &[])
            .await
            .unwrap()
            .is_none());
        assert_eq!(loader.loads.load(Ordering::SeqCst), 2);
        *loader.perms.lock().unwrap() = vec![perm(id, "t", "a", None, &[], None)];
        assert!(d.apply(
            types::GRANT_CREATED,
            &serde_json::json!({"id": idp_model::GrantId::new(), "identityId": id})
        ));
        assert!(d.decide(id, "t", "a", None, &[]).await.unwrap().is_some());
        loader.perms.lock().unwrap().clear();
        assert!(d.apply(ROLE_UPDATED, &serde_json::json!({"id": RoleId::new()})));
        assert!(d.cached(id).is_none());
        assert!(!d.apply(types::IDENTITY_CREATED, &serde_json::json!({})));
    }

    /// A load that overlaps an invalidation answers but is not kept.
    #[tokio::test]
    async fn a_load_overlapping_an_invalidation_is_not_cached() {
        struct Gated {
            entered: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
            gate: tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<()>>>,
        }
        #[async_trait]
        impl Loader for Gated {
            async fn load(&self, _: IdentityId) -> Result<Vec<EffectivePermission>, ApiError> {
                let entered = self.entered.lock().unwrap().take();
                if let Some(tx) = entered {
                    let _ = tx.send(());
                }
                if let Some(rx) = self.gate.lock().await.take() {
                    let _ = rx.await;
                }
                Ok(Vec::new())
            }
        }
        let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let d = Decider::new(
            Arc::new(Gated {
                entered: std::sync::Mutex::new(Some(entered_tx)),
                gate: tokio::sync::Mutex::new(Some(rx)),
            }),
            10,
        );
        let id = IdentityId::new();
        let d2 = d.clone();
        let load = tokio::spawn(async move { d2.snapshot(id).await.map(|s| s.len()) });
        // The load has read the epoch and is inside the loader.
        entered_rx.await.unwrap();
        d.invalidate(id);
        tx.send(()).unwrap();
        assert_eq!(load.await.unwrap().unwrap(), 0);
        assert!(d.cached(id).is_none());
        d.snapshot(id).await.unwrap();
        assert!(d.cached(id).is_some());
    }

    /// Counts its loads, each slow enough for every caller to miss meanwhile; the
    /// first `fail` fail.
    struct Slow {
        loads: AtomicUsize,
        fail: usize,
    }

    #[async_trait]
    impl Loader for Slow {
        async fn load(&self, id: IdentityId) -> Result<Vec<EffectivePermission>, ApiError> {
            let n = self.loads.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            if n <= self.fail {
                return Err(ApiError::internal(anyhow::anyhow!("store down")));
            }
            Ok(vec![perm(id, "t", "a", None, &[], None)])
        }
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load_and_a_failure_is_not_kept() {
        let loader = Arc::new(Slow {
            loads: AtomicUsize::new(0),
            fail: 1,
        });
        let d = Decider::new(loader.clone(), 1000);
        let id = IdentityId::new();
        let failed = futures::future::join_all((0..50).map(|_| d.snapshot(id))).await;
        assert!(failed.iter().all(|r| r.is_err()));
        assert_eq!(loader.loads.load(Ordering::SeqCst), 1, "one failed load");
        let got = futures::future::join_all((0..200).map(|_| d.snapshot(id))).await;
        assert!(got.iter().all(|r| r.as_ref().is_ok_and(|s| s.len() == 1)));
        assert_eq!(loader.loads.load(Ordering::SeqCst), 2, "one load for 200");
        assert!(d.cached(id).is_some());
        // Concurrent callers across threads, too.
        let other = IdentityId::new();
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let d = d.clone();
                tokio::spawn(async move { d.snapshot(other).await.map(|s| s.len()) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 1);
        }
        assert_eq!(loader.loads.load(Ordering::SeqCst), 3);
    }

    /// An invalidation during a load: later callers do not join it.
    #[tokio::test]
    async fn callers_after_an_invalidation_do_not_join_the_load_before_it() {
        let loader = Arc::new(Slow {
            loads: AtomicUsize::new(0),
            fail: 0,
        });
        let d = Decider::new(loader.clone(), 1000);
        let id = IdentityId::new();
        let first = tokio::spawn({
            let d = d.clone();
            async move { d.snapshot(id).await.map(|_| ()) }
        });
        while loader.loads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        d.invalidate(id);
        d.snapshot(id).await.unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(loader.loads.load(Ordering::SeqCst), 2);
        assert!(
            d.cached(id).is_some(),
            "the load after the invalidation is kept"
        );
    }

    #[tokio::test]
    async fn capacity_is_bounded() {
        let loader = Arc::new(Counting {
            perms: std::sync::Mutex::new(Vec::new()),
            loads: AtomicUsize::new(0),
        });
        let d = Decider::new(loader, 64);
        for _ in 0..1000 {
            d.snapshot(IdentityId::new()).await.unwrap();
        }
        assert!(d.len() <= 64, "{}", d.len());
    }
}
