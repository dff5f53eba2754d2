//! The identity service: identities (user and API-account), their preferences, and
//! the platform's token issuer (token endpoint, JWKS, OpenID discovery).
//!
//! Resource actions required (scope: the identity's organization; an identity may
//! always read itself and manage its own preferences):
//!
//! | endpoint | action |
//! | --- | --- |
//! | `GET /identities`, `GET /identities/{id}` | `user-identity:read` / `api-account-identity:read` by type |
//! | `GET /user-identities[/{id}]`, `GET /user-identities/mapping/{sub}/{provider}` | `user-identity:read` |
//! | `POST /user-identities` | `user-identity:create` |
//! | `PUT /user-identities/{id}`, `PUT …/{id}/activate|deactivate`, `POST …/{id}/mapping` | `user-identity:update` |
//! | `PUT /user-identities/{id}/reset-mfa` | `user-identity:update-reset-mfa` |
//! | `DELETE /user-identities/{id}` | `user-identity:delete` |
//! | `GET /api-account-identities[/{id}]`, `GET …/mapping/{clientId}` | `api-account-identity:read` |
//! | `POST /api-account-identities` | `api-account-identity:create` |
//! | `PUT /api-account-identities/{id}`, `PUT …/{id}/activate|deactivate` | `api-account-identity:update` |
//! | `DELETE /api-account-identities/{id}` | `api-account-identity:delete` |
//! | `GET/POST/PUT/DELETE /identity-preferences…` | `identity-preference:read|create|update|delete` |
//!
//! Public: `POST /oauth/token`, `/.well-known/*` (JWKS, discovery), the docs.
//!
//! One folder per resource (`identities`, `user_identities`, `api_accounts`,
//! `preferences`, `token`, `discovery`), each with its `routes` (paths and thin
//! handlers) and `service` (what the endpoints do), and `store`/`types` where it
//! has queries or bodies of its own.

pub mod access;
pub mod api_accounts;
pub mod bootstrap;
pub mod clients;
pub mod discovery;
pub mod events;
pub mod exchange;
pub mod files;
pub mod identities;
pub mod keys;
pub mod preferences;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod store;
pub mod token;
pub mod user_identities;
pub mod validate;
pub mod views;

use std::sync::Arc;

use actix_web::web;
use idp_runtime::service::{Foundation, ServiceApp};
use idp_runtime::web::{Data, ServiceConfig};

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
        work: idp_runtime::work::Work::new(
            f.db.clone(),
            f.relay.clone(),
            f.clock.clone(),
            events::SOURCE,
        ),
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
    let state = Data::new(state);
    Ok(f.into_app(move |cfg| routes(cfg, state.clone()), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them): the
/// docs and the RFC 8414 metadata at the top level (absolute paths, registered
/// before the scope that would take them), then each resource below
/// `/identity/v1`.
pub fn routes(cfg: &mut ServiceConfig, state: Data<AppState>) {
    let rfc8414 = discovery::service::rfc8414_path(&state.token.issuer());
    cfg.app_data(state)
        .configure(idp_openapi::docs::identity_docs)
        .configure(discovery::routes::configure_rfc8414(rfc8414))
        .service(
            web::scope("/identity/v1")
                .configure(token::routes::configure)
                .configure(discovery::routes::configure)
                .configure(identities::routes::configure)
                .configure(api_accounts::routes::configure)
                .configure(user_identities::routes::configure)
                .configure(preferences::routes::configure),
        );
}
