//! The identity service's HTTP routes (full public paths, as the gateway forwards them).
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

pub mod api_accounts;
pub mod discovery;
pub mod identities;
pub mod preferences;
pub mod token;
pub mod users;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use axum::Router;
use idp_model::events::types;
use idp_model::token::IdentityType;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel, TransactionTrait};
use uuid::Uuid;

use crate::access;
use crate::events;
use crate::state::AppState;
use crate::store::identity;

pub fn router(state: AppState) -> Router {
    let rfc8414 = discovery::rfc8414_path(&state.token.issuer());
    Router::new()
        .route("/identity/v1/oauth/token", post(token::issue))
        .route("/identity/v1/.well-known/jwks.json", get(discovery::jwks))
        .route(
            "/identity/v1/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/identity/v1/.well-known/oauth-authorization-server",
            get(discovery::oauth_authorization_server),
        )
        .route(&rfc8414, get(discovery::oauth_authorization_server))
        .route("/identity/v1/identities", get(identities::find))
        .route("/identity/v1/identities/self", get(identities::get_self))
        .route("/identity/v1/identities/{id}", get(identities::get))
        .route(
            "/identity/v1/api-account-identities",
            get(api_accounts::find).post(api_accounts::create),
        )
        .route(
            "/identity/v1/api-account-identities/{id}",
            get(api_accounts::get)
                .put(api_accounts::update)
                .delete(api_accounts::delete),
        )
        .route(
            "/identity/v1/api-account-identities/mapping/{client_id}",
            get(api_accounts::get_by_mapping),
        )
        .route(
            "/identity/v1/api-account-identities/{id}/{action}",
            put(api_accounts::activation),
        )
        .route(
            "/identity/v1/user-identities",
            get(users::find).post(users::create),
        )
        .route(
            "/identity/v1/user-identities/{id}",
            get(users::get).put(users::update).delete(users::delete),
        )
        .route(
            "/identity/v1/user-identities/mapping/{subject}/{provider}",
            get(users::get_by_mapping),
        )
        .route(
            "/identity/v1/user-identities/{id}/reset-mfa",
            put(users::reset_mfa),
        )
        .route(
            "/identity/v1/user-identities/{id}/mapping",
            post(users::map),
        )
        .route(
            "/identity/v1/user-identities/{id}/{action}",
            put(users::activation),
        )
        .route(
            "/identity/v1/identity-preferences",
            get(preferences::find).post(preferences::create),
        )
        .route(
            "/identity/v1/identity-preferences/{id}",
            get(preferences::get)
                .put(preferences::update)
                .delete(preferences::delete),
        )
        .with_state(state)
        .merge(idp_openapi::docs::identity_router())
}

/// `/{id}/{action}` with a UUID id (else 404).
pub struct IdAction(pub Uuid, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdAction {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((id, action)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no such resource"))?;
        let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("no such resource"))?;
        Ok(IdAction(id, action))
    }
}

/// An identity cannot deactivate or delete itself: the last administrator (the
/// bootstrap super admin, say) would lock everyone out. Another identity with the
/// action does it.
fn not_oneself(caller: &Caller, id: Uuid, what: &str) -> ApiResult<()> {
    if caller.identity_id().as_uuid() == id {
        return Err(ApiError::conflict(format!(
            "an identity cannot {what} itself; ask another administrator"
        )));
    }
    Ok(())
}

/// `activate` / `deactivate` an identity: idempotent; a change emits its event, and
/// a deactivation refuses the identity's tokens here at once (other services on
/// the event).
pub async fn set_active(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: IdentityType,
    action: &str,
) -> ApiResult<identity::Model> {
    let active = match action {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(ApiError::not_found("no such resource")),
    };
    let row = access::changeable(st, caller, id, kind, "update").await?;
    if !active {
        not_oneself(caller, id, "deactivate")?;
    }
    if row.active == active {
        return Ok(row);
    }
    let now = st.now();
    let mut am = row.into_active_model();
    am.active = Set(active);
    am.updated_at = Set(Some(now));
    let txn = st.db.begin().await?;
    let m = am.update(&txn).await?;
    let kind_event = if active {
        types::IDENTITY_ACTIVATED
    } else {
        types::IDENTITY_DEACTIVATED
    };
    events::emit(&txn, kind_event, &m, serde_json::json!({}), now).await?;
    txn.commit().await?;
    if !active {
        st.verifier
            .revoke_identity(idp_model::IdentityId(m.id), now.unix_timestamp());
    }
    st.clients.forget(m.client_id.as_deref());
    st.relay.wake();
    Ok(m)
}

/// Marks an identity deleted (hidden from finds unless `includeDeleted=true`),
/// inactive, and refuses its tokens.
pub async fn soft_delete(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: IdentityType,
) -> ApiResult<identity::Model> {
    let row = access::changeable(st, caller, id, kind, "delete").await?;
    not_oneself(caller, id, "delete")?;
    let now = st.now();
    let mut am = row.into_active_model();
    am.active = Set(false);
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(Some(now));
    let txn = st.db.begin().await?;
    let m = am.update(&txn).await?;
    events::emit(
        &txn,
        types::IDENTITY_DELETED,
        &m,
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    st.verifier
        .revoke_identity(idp_model::IdentityId(m.id), now.unix_timestamp());
    st.clients.forget(m.client_id.as_deref());
    st.relay.wake();
    Ok(m)
}
