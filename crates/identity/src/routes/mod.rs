//! The identity service's HTTP routes (full public paths, as the gateway forwards them).

pub mod discovery;
pub mod identities;
pub mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/identity/v1/oauth/token", post(token::issue))
        .route("/identity/v1/.well-known/jwks.json", get(discovery::jwks))
        .route(
            "/identity/v1/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/identity/v1/identities/self", get(identities::get_self))
        .with_state(state)
}
