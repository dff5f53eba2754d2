//! The authorization service: resource types and actions, roles, grants, checks.
//!
//! One folder per resource (`routes`, `service`, `store`, `types`), mounted below
//! `/auth/v1` by [`routes`]; the resource action each endpoint requires is listed
//! in `ENDPOINT_ACTIONS.md`. The decision engine (`decide`), the grant rule
//! (`grant_rule`), the catalog and the event consumer (`events`) stay modules of
//! their own.

pub mod acl;
pub mod catalog;
pub mod checks;
pub mod decide;
pub mod domain;
pub mod events;
pub mod grant_checks;
pub mod grant_rule;
pub mod grants;
pub mod identities;
pub mod permissions;
pub mod query;
pub mod resource_actions;
pub mod resource_types;
pub mod roles;
pub mod settings;
pub mod state;
pub mod store;
pub mod validate;

use actix_web::web;
use idp_runtime::service::{Foundation, ServiceApp};
use idp_runtime::web::{Data, ServiceConfig};

pub use idp_runtime::server::Deps;
pub use settings::Settings;

/// Builds the service: storage (the catalog seeded on first start), the event
/// consumer, outbox relay, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let f = Foundation::prepare::<store::Migrator>(&settings.common, deps).await?;
    catalog::seed(&f.db, f.clock.now()).await?;
    let decider = decide::Decider::over_store(f.db.clone());
    let authz = state::local_authz(decider.clone());
    // Grant and role events (this replica's consumer, other replicas) drop what
    // they change; subscribed before the relay opens.
    decide::listen(f.bus.clone(), decider.clone()).await?;
    events::spawn(
        f.db.clone(),
        f.bus.clone(),
        &settings.common.bus.exchange,
        authz.clone(),
        decider.clone(),
        f.relay.clone(),
        f.shutdown.clone(),
    )
    .await?;
    let state = Data::new(state::AppState {
        db: f.db.clone(),
        work: idp_runtime::work::Work::new(
            f.db.clone(),
            f.relay.clone(),
            f.clock.clone(),
            domain::SOURCE,
        ),
        authz,
        decider,
        identities: identities::IdentityLookup::new(
            &settings.identity_url,
            std::time::Duration::from_millis(settings.common.authz.timeout_ms),
        )?,
    });
    Ok(f.into_app(move |cfg| routes(cfg, state.clone()), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them): the
/// API documents at `/auth/v1/docs`, then each resource's below `/auth/v1`.
pub fn routes(cfg: &mut ServiceConfig, state: Data<state::AppState>) {
    // Before the scope: a scope answers every path below its prefix itself.
    cfg.configure(idp_openapi::docs::authorization_docs);
    cfg.app_data(state).service(
        web::scope("/auth/v1")
            .configure(resource_types::routes::configure)
            .configure(resource_actions::routes::configure)
            .configure(roles::routes::configure)
            .configure(grants::routes::configure)
            .configure(checks::routes::configure)
            .configure(grant_checks::routes::configure)
            .configure(permissions::routes::configure)
            .configure(acl::routes::configure),
    );
}
