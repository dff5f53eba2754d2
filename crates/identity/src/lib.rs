//! The identity service: identities (user and API-account), their preferences, and
//! the platform's token issuer (token endpoint, JWKS, OpenID discovery).

pub mod access;
pub mod bootstrap;
pub mod clients;
pub mod events;
pub mod exchange;
pub mod files;
pub mod keys;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod store;
pub mod validate;
pub mod views;

use std::sync::Arc;

use idp_runtime::service::{Foundation, ServiceApp};

pub use idp_runtime::server::Deps;
pub use settings::IdentitySettings;
use state::AppState;

/// Builds the identity service: storage, keys, pepper, first-start bootstrap, routes.
pub async fn build(mut settings: IdentitySettings, deps: Deps) -> anyhow::Result<ServiceApp> {
    // This service accepts exactly the tokens it issues.
    settings.common.verifier.issuer = settings.token.issuer();
    settings.common.verifier.audiences = vec![settings.token.audience.clone()];
    let f = Foundation::prepare::<store::migrations::Migrator>(&settings.common, deps).await?;
    let keys = keys::KeyRing::load_or_create(
        settings.token.signing_key_pem.expose(),
        &settings.token.key_file,
        &settings.token.published_key_files,
    )?;
    let hasher = secrets::SecretHasher::load_or_create(
        settings.secrets.pepper.expose(),
        &settings.secrets.pepper_file,
    )?;
    let state = AppState {
        db: f.db.clone(),
        keys,
        hasher: Arc::new(hasher),
        verifier: f.verifier.clone(),
        token: Arc::new(settings.token.clone()),
        clock: f.clock.clone(),
        relay: f.relay.clone(),
        authz: f.authz.clone(),
        grant_checks: idp_runtime::grant_check::GrantChecks::new(&settings.common.authz)?,
        organizations: f.organizations.clone(),
        jwks: Arc::new(exchange::JwksCache::with_settings(
            &settings.open_id_providers,
        )?),
        flow_tokens: Arc::new(idp_runtime::flow_token::FlowTokens::from_settings(
            &settings.flow_tokens,
        )?),
        clients: Arc::default(),
    };
    if settings.bootstrap.enabled {
        bootstrap::ensure_super_admin(&state, &settings.bootstrap).await?;
    }
    // Consumers subscribe before the relays start (the platform opens the start
    // gate once every service has built).
    events::spawn_consumers(&state, &settings, f.bus.clone(), f.shutdown.clone()).await?;
    Ok(f.into_axum_app(routes::router(state), Vec::new()))
}
