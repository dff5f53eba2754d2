//! The organization service: organizations, their identity providers, default
//! roles, OpenID providers and preferences.
//!
//! Every endpoint maps to one resource action of the authorization service:
//!
//! | endpoint | action |
//! | --- | --- |
//! | `GET /organizations`, `GET /organizations/{id}`, `GET /organizations/label/{label}` | `organization:read` (lists filtered to the readable organizations; single reads 404 otherwise) |
//! | `POST /organizations` | `organization:create`, platform-wide |
//! | `PUT /organizations/{id}/{activate,deactivate}` | `organization:update` |
//! | `DELETE /organizations/{id}` | `organization:delete` |
//! | `POST /organizations/{id}/identity-providers` (deprecated) | `identity-provider:create` |
//! | `POST /organizations/authorize-initiate` | public |
//! | `GET /identity-providers[/{id}]` | `identity-provider:read` |
//! | `POST /identity-providers` | `identity-provider:create` |
//! | `PUT /identity-providers/{id}[/{activate,deactivate}]` | `identity-provider:update` |
//! | `DELETE /identity-providers/{id}` | `identity-provider:delete` |
//! | `GET /default-roles[/{id}]` | `default-role:read` |
//! | `POST /default-roles` | `default-role:create`, plus the right to grant the role |
//! | `DELETE /default-roles/{id}` | `default-role:delete` |
//! | `POST /default-roles/{id}/grant` | `default-role:update` |
//! | `GET /open-id-providers[/{id}]` | `open-id-provider:read` |
//! | `POST /open-id-providers` | `open-id-provider:create` |
//! | `PATCH /open-id-providers/{id}` | `open-id-provider:update` |
//! | `DELETE /open-id-providers/{id}` | `open-id-provider:delete` |
//! | `GET /organization-preferences[/{id}]` | `organization-preference:read` |
//! | `POST /organization-preferences` | `organization-preference:create` |
//! | `PUT /organization-preferences/{id}` | `organization-preference:update` |
//! | `DELETE /organization-preferences/{id}` | `organization-preference:delete` |
//!
//! Every scope is the resource's organization. A change to a resource the caller
//! cannot read answers 404, one it can read but not change 403.

pub mod default_roles;
pub mod events;
pub mod identity_providers;
pub mod open_id_providers;
pub mod organizations;
pub mod preferences;
pub mod query;
pub mod settings;
pub mod state;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::service::{Foundation, ServiceApp};
use idp_runtime::web::{Data, ServiceConfig};

pub use idp_runtime::server::Deps;
pub use settings::Settings;
use state::AppState;

/// Builds the service: storage (with the root organization on first start), outbox
/// relay, flow-token secret, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let flow_tokens = FlowTokens::from_settings(&settings.flow_tokens)?;
    let f = Foundation::prepare::<store::migrations::Migrator>(&settings.common, deps).await?;
    store::bootstrap::ensure_root_organization(&f.db, f.clock.now(), &f.relay).await?;
    let state = Data::new(AppState {
        db: f.db.clone(),
        work: idp_runtime::work::Work::new(
            f.db.clone(),
            f.relay.clone(),
            f.clock.clone(),
            events::SOURCE,
        ),
        authz: f.authz.clone(),
        flow_tokens,
        oidc: Arc::new(settings.open_id_providers.clone()),
        authz_url: Arc::from(settings.common.authz.url.trim_end_matches('/')),
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(settings.common.authz.timeout_ms))
            .build()?,
        grant_checks: idp_runtime::grant_check::GrantChecks::new(&settings.common.authz)?,
    });
    Ok(f.into_app(move |cfg| routes(cfg, state.clone()), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them): each
/// resource registers its own below `/identity/v1`.
pub fn routes(cfg: &mut ServiceConfig, state: Data<AppState>) {
    cfg.app_data(state).service(
        web::scope("/identity/v1")
            .configure(organizations::routes::configure)
            .configure(identity_providers::routes::configure)
            .configure(default_roles::routes::configure)
            .configure(open_id_providers::routes::configure)
            .configure(preferences::routes::configure),
    );
}
