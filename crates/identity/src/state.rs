//! The state every handler of the identity service shares (`Data<AppState>`, one
//! for all workers).

use std::sync::Arc;

use idp_bearer::Verifier;
use idp_runtime::authz::Authz;
use idp_runtime::clock::SharedClock;
use idp_runtime::outbox::RelayHandle;
use idp_runtime::work::Work;
use sea_orm::DatabaseConnection;

use crate::keys::KeyRing;
use crate::secrets::SecretHasher;
use crate::settings::TokenSettings;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Every change: `work.begin()`, then `commit()` (rows, events, relay wake-up,
    /// what must follow the commit).
    pub work: Work,
    pub keys: KeyRing,
    pub hasher: Arc<SecretHasher>,
    pub verifier: Verifier,
    pub token: Arc<TokenSettings>,
    pub clock: SharedClock,
    /// The outbox relay, woken by the event consumer after its commits.
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

impl AppState {
    /// The current time at the database's precision (microseconds), so that what a
    /// change answers equals what a later read answers.
    pub fn now(&self) -> time::OffsetDateTime {
        self.work.now()
    }
}
