//! The state every handler shares (`Data<AppState>`, one for all workers), and the
//! helpers the resources' services use for access checks, events and transactions.

use std::sync::Arc;

use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::authz::{Authz, Scope};
use idp_runtime::error::ApiResult;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::work::Work;
use sea_orm::DatabaseConnection;
use time::OffsetDateTime;

use crate::settings::OpenIdProviderSettings;
use idp_model::catalog::action;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Every change: `work.begin()`, then `commit()` (rows, events, relay wake-up).
    pub work: Work,
    pub authz: Authz,
    pub flow_tokens: FlowTokens,
    pub oidc: Arc<OpenIdProviderSettings>,
    /// Base URL of the authorization service (roles of default roles).
    pub authz_url: Arc<str>,
    pub http: reqwest::Client,
    /// Whether a caller may give the role a default role grants in its name.
    pub grant_checks: idp_runtime::grant_check::GrantChecks,
}

impl AppState {
    /// "Now" at database precision.
    pub fn now(&self) -> OffsetDateTime {
        self.work.now()
    }

    /// 403 unless the caller may do `resource:action` in `org` (None: platform-wide).
    pub async fn require(
        &self,
        caller: &Caller,
        resource: &str,
        action: &str,
        org: Option<OrganizationId>,
    ) -> ApiResult<()> {
        self.authz.require(caller, resource, action, org).await
    }

    /// 404 unless the caller may read `resource` in `org`.
    pub async fn require_visible(
        &self,
        caller: &Caller,
        resource: &str,
        org: OrganizationId,
    ) -> ApiResult<()> {
        self.authz
            .require_visible(caller, resource, action::READ, Some(org))
            .await
    }

    // Changes of existing resources: `authz.require_change` (the action is enough;
    // 404 only for a caller holding nothing on the resource type there).

    /// The organizations whose `resource` the caller may read.
    pub async fn read_scope(&self, caller: &Caller, resource: &str) -> ApiResult<Scope> {
        self.authz.scope(caller, resource, action::READ).await
    }
}
