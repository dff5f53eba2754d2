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

use axum::routing::{get, post, put};
use axum::Router;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::service::{Foundation, ServiceApp};

pub use idp_runtime::server::Deps;
pub use settings::Settings;
use state::AppState;

/// Builds the service: storage (with the root organization on first start), outbox
/// relay, flow-token secret, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let flow_tokens = FlowTokens::from_settings(&settings.flow_tokens)?;
    let f = Foundation::prepare::<store::migrations::Migrator>(&settings.common, deps).await?;
    store::bootstrap::ensure_root_organization(&f.db, f.clock.now(), &f.relay).await?;
    let state = AppState {
        db: f.db.clone(),
        verifier: f.verifier.clone(),
        authz: f.authz.clone(),
        clock: f.clock.clone(),
        relay: f.relay.clone(),
        flow_tokens,
        oidc: Arc::new(settings.open_id_providers.clone()),
        authz_url: Arc::from(settings.common.authz.url.trim_end_matches('/')),
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(settings.common.authz.timeout_ms))
            .build()?,
        grant_checks: idp_runtime::grant_check::GrantChecks::new(&settings.common.authz)?,
    };
    Ok(f.into_app(router(state), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them).
pub fn router(state: AppState) -> Router {
    use default_roles::routes as dr;
    use identity_providers::routes as ip;
    use open_id_providers::routes as op;
    use organizations::routes as org;
    use preferences::routes as pref;
    const V1: &str = "/identity/v1";
    let r = |p: &str| format!("{V1}{p}");
    Router::new()
        .route(&r("/organizations"), get(org::find).post(org::create))
        .route(
            &r("/organizations/authorize-initiate"),
            post(organizations::providers::authorize_initiate),
        )
        .route(&r("/organizations/label/{label}"), get(org::get_by_label))
        .route(&r("/organizations/{id}"), get(org::get).delete(org::delete))
        .route(
            &r("/organizations/{id}/identity-providers"),
            post(organizations::providers::add_identity_provider),
        )
        .route(&r("/organizations/{id}/{action}"), put(org::set_active))
        .route(&r("/identity-providers"), get(ip::find).post(ip::create))
        .route(
            &r("/identity-providers/{id}"),
            get(ip::get).put(ip::update).delete(ip::delete),
        )
        .route(&r("/identity-providers/{id}/{action}"), put(ip::set_active))
        .route(&r("/default-roles"), get(dr::find).post(dr::create))
        .route(&r("/default-roles/{id}"), get(dr::get).delete(dr::delete))
        .route(&r("/default-roles/{id}/grant"), post(dr::grant))
        .route(&r("/open-id-providers"), get(op::find).post(op::create))
        .route(
            &r("/open-id-providers/{id}"),
            get(op::get).patch(op::update).delete(op::delete),
        )
        .route(
            &r("/organization-preferences"),
            get(pref::find).post(pref::create),
        )
        .route(
            &r("/organization-preferences/{id}"),
            get(pref::get).put(pref::update).delete(pref::delete),
        )
        .with_state(state)
}
