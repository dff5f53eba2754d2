//! The state every handler of the identity service shares.

use std::sync::Arc;

use axum::extract::FromRef;
use idp_bearer::Verifier;
use idp_runtime::authz::Authz;
use idp_runtime::clock::SharedClock;
use idp_runtime::outbox::RelayHandle;
use sea_orm::DatabaseConnection;

use crate::keys::KeyRing;
use crate::secrets::SecretHasher;
use crate::settings::TokenSettings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: KeyRing,
    pub hasher: Arc<SecretHasher>,
    pub verifier: Verifier,
    pub token: Arc<TokenSettings>,
    pub clock: SharedClock,
    pub relay: RelayHandle,
    /// Enforcement of resource actions.
    pub authz: Authz,
    /// Whether a caller may give the roles a change would grant by event.
    pub grant_checks: idp_runtime::grant_check::GrantChecks,
    /// The organization service, asked about organizations not seen yet.
    pub organizations: idp_runtime::organizations::OrganizationOwner,
    /// OpenID providers' keys, for the token-exchange grant.
    pub jwks: Arc<crate::exchange::JwksCache>,
    /// Verifies `nfToken`s (authorize-initiate) that bind a login to an organization.
    pub flow_tokens: Arc<idp_runtime::flow_token::FlowTokens>,
    /// The token endpoint's memory of clients read this second.
    pub clients: Arc<crate::clients::ClientCache>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(s: &AppState) -> Verifier {
        s.verifier.clone()
    }
}

impl AppState {
    /// The current time at the database's precision (microseconds), so that what a
    /// change answers equals what a later read answers.
    pub fn now(&self) -> time::OffsetDateTime {
        idp_runtime::clock::to_micros(self.clock.now())
    }
}
