//! The state every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use idp_bearer::Verifier;
use idp_model::events::Envelope;
use idp_model::OrganizationId;
use idp_runtime::authz::Authz;
use idp_runtime::clock::SharedClock;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::outbox::RelayHandle;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use time::OffsetDateTime;

use crate::mail::Mailer;
use crate::settings::{InvitationSettings, MailSettings};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub verifier: Verifier,
    pub authz: Authz,
    /// Whether a caller may give the default roles an acceptance grants.
    pub grant_checks: idp_runtime::grant_check::GrantChecks,
    /// The organization service, asked about organizations not seen yet.
    pub organizations: idp_runtime::organizations::OrganizationOwner,
    pub clock: SharedClock,
    pub relay: RelayHandle,
    pub mailer: Mailer,
    pub flow_tokens: FlowTokens,
    /// Verifies the ID tokens that prove the login completing an acceptance.
    pub id_tokens: Arc<idp_bearer::oidc::IdTokenVerifier>,
    pub invitations: Arc<InvitationSettings>,
    pub mail: Arc<MailSettings>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(s: &AppState) -> Verifier {
        s.verifier.clone()
    }
}

impl AppState {
    /// Now, to the microsecond (what PostgreSQL keeps), so that an answer equals
    /// what a later read of the stored row shows.
    pub fn now(&self) -> OffsetDateTime {
        idp_runtime::clock::to_micros(self.clock.now())
    }

    /// Writes one event into the outbox, in the caller's transaction.
    pub async fn enqueue<C: ConnectionTrait, T: Serialize>(
        &self,
        conn: &C,
        kind: &str,
        org: OrganizationId,
        data: &T,
    ) -> ApiResult<()> {
        let data = serde_json::to_value(data).map_err(ApiError::internal)?;
        let event = Envelope::new(kind, "invitation", Some(org), data, self.now());
        idp_runtime::outbox::enqueue(conn, &event)
            .await
            .map_err(ApiError::internal)?;
        Ok(())
    }

    /// After a commit: publish the events and send the mail now.
    pub fn wake(&self) {
        self.relay.wake();
        self.mailer.wake();
    }
}
