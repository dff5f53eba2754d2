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

pub mod events;
pub mod invitations;
pub mod mail;
pub mod settings;
pub mod state;
pub mod store;
pub mod support_requests;

use std::sync::Arc;

use actix_web::web;
use idp_runtime::flow_token::FlowTokens;
use idp_runtime::service::{Foundation, ServiceApp};
use idp_runtime::web::{Data, ServiceConfig};

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
    let state = Data::new(AppState {
        db: f.db.clone(),
        work: idp_runtime::work::Work::new(
            f.db.clone(),
            f.relay.clone(),
            f.clock.clone(),
            events::SOURCE,
        ),
        authz: f.authz.clone(),
        grant_checks: idp_runtime::grant_check::GrantChecks::new(&settings.common.authz)?,
        organizations: f.organizations.clone(),
        mailer,
        flow_tokens,
        id_tokens: Arc::new(idp_bearer::oidc::IdTokenVerifier::with_settings(
            &settings.open_id_providers,
        )?),
        invitations: Arc::new(settings.invitations.clone()),
        mail: Arc::new(settings.mail.clone()),
    });
    // Consumers subscribe before the relays start.
    events::spawn_consumers(
        f.db.clone(),
        &settings.common.bus.exchange,
        f.bus.clone(),
        f.shutdown.clone(),
    )
    .await?;
    Ok(f.into_app(move |cfg| routes(cfg, state.clone()), Vec::new()))
}

/// The service's routes (full public paths, as the gateway forwards them): each
/// resource registers its own below `/identity/v1`.
pub fn routes(cfg: &mut ServiceConfig, state: Data<AppState>) {
    cfg.app_data(state).service(
        web::scope("/identity/v1")
            .configure(invitations::routes::configure)
            .configure(support_requests::routes::configure),
    );
}
