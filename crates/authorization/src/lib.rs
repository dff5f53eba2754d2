//! The authorization service: resource types and actions, roles, grants, checks.

pub mod settings;
pub mod store;

use axum::Router;
use idp_runtime::service::{Foundation, ServiceApp};

pub use idp_runtime::server::Deps;
pub use settings::Settings;

/// Builds the service: storage, outbox relay, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let f = Foundation::prepare::<store::Migrator>(&settings.common, deps).await?;
    Ok(f.into_app(Router::new(), Vec::new()))
}
