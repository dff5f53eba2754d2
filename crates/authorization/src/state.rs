//! What every handler shares.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::FromRef;
use idp_bearer::Verifier;
use idp_model::authz::EffectivePermission;
use idp_runtime::auth::Caller;
use idp_runtime::authz::{Authz, PermissionSource};
use idp_runtime::clock::SharedClock;
use idp_runtime::error::ApiError;
use idp_runtime::outbox::RelayHandle;
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Verifier,
    /// Enforcement inside this service: permissions read from its own store.
    pub authz: Authz,
    pub clock: SharedClock,
    pub relay: RelayHandle,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(s: &AppState) -> Verifier {
        s.verifier.clone()
    }
}

/// The local permission source: this service's own store.
pub struct StoreSource {
    pub db: DatabaseConnection,
}

#[async_trait]
impl PermissionSource for StoreSource {
    async fn permissions(&self, caller: &Caller) -> Result<Vec<EffectivePermission>, ApiError> {
        crate::domain::effective_permissions(&self.db, caller.identity_id()).await
    }
}

pub fn local_authz(db: DatabaseConnection) -> Authz {
    Authz::new(
        Arc::new(StoreSource { db }),
        std::time::Duration::from_millis(1000),
    )
}
