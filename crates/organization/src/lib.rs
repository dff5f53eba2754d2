//! The organization service: organizations, their identity providers, default
//! roles, OpenID providers and preferences.

pub mod settings;
pub mod store;

use axum::Router;
use idp_runtime::service::{Foundation, ServiceApp};

pub use idp_runtime::server::Deps;
pub use settings::Settings;

/// Builds the service: storage (with the root organization on first start), outbox
/// relay, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let f = Foundation::prepare::<store::migrations::Migrator>(&settings.common, deps).await?;
    store::bootstrap::ensure_root_organization(&f.db, f.clock.now(), &f.relay).await?;
    Ok(f.into_app(Router::new(), Vec::new()))
}
