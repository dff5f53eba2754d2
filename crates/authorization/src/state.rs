//! The state every handler shares (`Data<AppState>`, one for all workers).

use std::sync::Arc;

use async_trait::async_trait;
use idp_model::authz::EffectivePermission;
use idp_model::IdentityId;
use idp_runtime::auth::Caller;
use idp_runtime::authz::{Authz, PermissionSource};
use idp_runtime::error::ApiError;
use idp_runtime::work::{UnitOfWork, Work};
use sea_orm::DatabaseConnection;

use crate::decide::Decider;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Enforcement inside this service: the callers' permissions from `decider`
    /// (exact, so `Authz` keeps nothing itself).
    pub authz: Authz,
    /// Decisions and effective permissions, cached per identity and exact.
    pub decider: Decider,
    /// Every change: `work.begin()`, then `commit()` (rows, events, relay wake-up,
    /// then the cache drops registered with `after_commit`).
    pub work: Work,
    /// Which identities a grant may name.
    pub identities: crate::identities::IdentityLookup,
}

impl AppState {
    /// Once `w`, a change of `identity`'s grants, is committed: its permissions
    /// are dropped from the caches (the next request here loads them anew).
    pub fn grants_changed(&self, w: &mut UnitOfWork, identity: IdentityId) {
        let (decider, authz) = (self.decider.clone(), self.authz.clone());
        w.after_commit(move || {
            decider.invalidate(identity);
            authz.invalidate(identity);
        });
    }

    /// Once `w`, a change of a role's actions, is committed: every holder's
    /// permissions are dropped from the caches.
    pub fn roles_changed(&self, w: &mut UnitOfWork) {
        let (decider, authz) = (self.decider.clone(), self.authz.clone());
        w.after_commit(move || {
            decider.invalidate_all();
            authz.invalidate_all();
        });
    }
}

/// The local permission source: the decision cache over this service's store.
pub struct DeciderSource {
    pub decider: Decider,
}

#[async_trait]
impl PermissionSource for DeciderSource {
    async fn permissions(&self, caller: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
        Ok(self
            .decider
            .snapshot(caller.identity_id())
            .await?
            .permissions())
    }
}

/// `Authz` over the decision cache, keeping nothing itself (the decider is exact:
/// a revoked grant is refused on the next request).
pub fn local_authz(decider: Decider) -> Authz {
    Authz::new(
        Arc::new(DeciderSource { decider }),
        std::time::Duration::ZERO,
    )
}
