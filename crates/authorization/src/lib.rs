//! The authorization service: resource types and actions, roles, grants, checks.

pub mod catalog;
pub mod decide;
pub mod domain;
pub mod events;
pub mod grant_rule;
pub mod identities;
pub mod routes;
pub mod settings;
pub mod state;
pub mod store;

use idp_runtime::service::{Foundation, ServiceApp};

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
    let state = state::AppState {
        db: f.db.clone(),
        verifier: f.verifier.clone(),
        authz,
        decider,
        clock: f.clock.clone(),
        relay: f.relay.clone(),
        identities: identities::IdentityLookup::new(
            &settings.identity_url,
            std::time::Duration::from_millis(settings.common.authz.timeout_ms),
        )?,
    };
    Ok(f.into_axum_app(routes::router(state), Vec::new()))
}
