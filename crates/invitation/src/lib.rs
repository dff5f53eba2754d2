//! The invitation service: invitations into organizations (and the key-based flow),
//! support requests.
//!
//! Every endpoint maps to one resource action of the authorization service (scope:
//! the invitation's target organization):
//!
//! | endpoint | action |
//! | --- | --- |
//! | `GET /invitations` | `invitation:read` (filtered to the readable organizations) |
//! | `GET /invitations/{id}` | `invitation:read` (404 otherwise) |
//! | `POST /invitations` | `invitation:create` in `toOrganizationId` |
//! | `PUT /invitations/{id}/{accept,decline,revoke}` | `invitation:update` (404 when not readable, 403 when readable) |
//! | `GET /invitations/key/{key}`, `PUT /invitations/key/{key}/decline`, `POST /invitations/key/{key}/accept-initiate`, `POST /invitations/key/{key}/accept-complete` | public (the key is the credential; completion also needs the `nfToken` of accept-initiate and an ID token of the organization's OpenID provider) |
//! | `POST /nfconsole/support/requests` | public (a valid token attaches the caller) |
//!
//! States: `Open` → `Accepted` | `Declined` (only while open and unexpired);
//! `Open`, `Declined`, `Expired` → `Revoked` (terminal); an open invitation past its
//! expiration reads as `Expired`. A forbidden change is a 409. Every change is one
//! conditional UPDATE, so two racing requests cannot both win.

pub mod by_key;
pub mod events;
pub mod invitations;
pub mod keys;
pub mod mail;
pub mod settings;
pub mod state;
pub mod store;
pub mod support;

use std::sync::Arc;

use axum::routing::{get, post, put};
use axum::Router;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::service::{Foundation, ServiceApp};

pub use idp_runtime::server::Deps;
pub use settings::Settings;
use state::AppState;

/// Builds the service: storage, consumers, mailer, outbox relay, routes.
pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<ServiceApp> {
    let flow_tokens = FlowTokens::from_settings(&settings.flow_tokens)?;
    let f = Foundation::prepare::<store::Migrator>(&settings.common, deps).await?;
    let mailer = mail::Mailer::spawn(
        f.db.clone(),
        &settings.mail,
        f.clock.clone(),
        f.shutdown.clone(),
    )?;
    let state = AppState {
        db: f.db.clone(),
        verifier: f.verifier.clone(),
        authz: f.authz.clone(),
        grant_checks: idp_runtime::grant_check::GrantChecks::new(&settings.common.authz)?,
        organizations: f.organizations.clone(),
        clock: f.clock.clone(),
        relay: f.relay.clone(),
        mailer,
        flow_tokens,
        id_tokens: Arc::new(idp_bearer::oidc::IdTokenVerifier::with_settings(
            &settings.open_id_providers,
        )?),
        invitations: Arc::new(settings.invitations.clone()),
        mail: Arc::new(settings.mail.clone()),
    };
    // Consumers subscribe before the relays start.
    events::spawn_consumers(
        f.db.clone(),
        &settings.common.bus.exchange,
        f.bus.clone(),
        f.shutdown.clone(),
    )
    .await?;
    Ok(f.into_axum_app(router(state), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them).
pub fn router(state: AppState) -> Router {
    const V1: &str = "/identity/v1";
    let r = |p: &str| format!("{V1}{p}");
    Router::new()
        .route(
            &r("/invitations"),
            get(invitations::find).post(invitations::create),
        )
        .route(&r("/invitations/{id}"), get(invitations::get))
        .route(&r("/invitations/{id}/{action}"), put(invitations::respond))
        .route(&r("/invitations/key/{key}"), get(by_key::get))
        .route(&r("/invitations/key/{key}/decline"), put(by_key::decline))
        .route(
            &r("/invitations/key/{key}/accept-initiate"),
            post(by_key::accept_initiate),
        )
        .route(
            &r("/invitations/key/{key}/accept-complete"),
            post(by_key::accept_complete),
        )
        .route(&r("/nfconsole/support/requests"), post(support::create))
        .with_state(state)
}
