//! What every handler shares.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::FromRef;
use idp_bearer::Verifier;
use idp_model::authz::EffectivePermission;
use idp_model::IdentityId;
use idp_runtime::auth::Caller;
use idp_runtime::authz::{Authz, PermissionSource};
use idp_runtime::clock::SharedClock;
use idp_runtime::error::ApiError;
use idp_runtime::outbox::RelayHandle;
use sea_orm::DatabaseConnection;

use crate::decide::Decider;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Verifier,
    /// Enforcement inside this service: the callers' permissions from `decider`
    /// (exact, so `Authz` keeps nothing itself).
    pub authz: Authz,
    /// Decisions and effective permissions, cached per identity and exact.
    pub decider: Decider,
    pub clock: SharedClock,
    pub relay: RelayHandle,
    /// Which identities a grant may name.
    pub identities: crate::identities::IdentityLookup,
}

impl AppState {
    /// After a committed change of `identity`'s grants.
    pub fn grants_changed(&self, identity: IdentityId) {
        self.decider.invalidate(identity);
        self.authz.invalidate(identity);
    }

    /// After a committed change of a role's actions (every holder changes).
    pub fn roles_changed(&self) {
        self.decider.invalidate_all();
        self.authz.invalidate_all();
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(s: &AppState) -> Verifier {
        s.verifier.clone()
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
