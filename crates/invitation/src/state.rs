//! The state every handler shares (`Data<AppState>`, one for all workers).

use std::sync::Arc;

use idp_runtime::authz::Authz;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::work::Work;
use sea_orm::DatabaseConnection;
use time::OffsetDateTime;

use crate::mail::Mailer;
use crate::settings::{InvitationSettings, MailSettings};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Every change: `work.begin()`, then `commit()` (rows, events, relay wake-up,
    /// and the mailer's wake-up as an after-commit effect).
    pub work: Work,
    pub authz: Authz,
    /// Whether a caller may give the default roles an acceptance grants.
    pub grant_checks: idp_runtime::grant_check::GrantChecks,
    /// The organization service, asked about organizations not seen yet.
    pub organizations: idp_runtime::organizations::OrganizationOwner,
    pub mailer: Mailer,
    pub flow_tokens: FlowTokens,
    /// Verifies the ID tokens that prove the login completing an acceptance.
    pub id_tokens: Arc<idp_bearer::oidc::IdTokenVerifier>,
    pub invitations: Arc<InvitationSettings>,
    pub mail: Arc<MailSettings>,
}

impl AppState {
    /// Now, to the microsecond (what PostgreSQL keeps), so that an answer equals
    /// what a later read of the stored row shows.
    pub fn now(&self) -> OffsetDateTime {
        self.work.now()
    }
}
