//! `GET /identities/self`: the caller's own identity, in its type's representation.

use axum::extract::State;
use axum::Json;
use idp_model::identity::AnyIdentity;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::EntityTrait;

use crate::state::AppState;
use crate::store::identity;
use crate::views;

pub async fn get_self(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<AnyIdentity>> {
    let row = identity::Entity::find_by_id(caller.identity_id().as_uuid())
        .one(&st.db)
        .await?;
    match row {
        Some(m) if m.deleted_at.is_none() && m.active => {
            Ok(Json(views::any(&m, &st.token.token_endpoint())))
        }
        // A valid signature for an identity that is gone or deactivated: the token
        // no longer stands for anyone who may act.
        _ => Err(ApiError::Unauthenticated {
            challenge:
                r#"Bearer error="invalid_token", error_description="the identity is not active""#
                    .into(),
            detail: "the identity of this token is not active".into(),
        }),
    }
}
