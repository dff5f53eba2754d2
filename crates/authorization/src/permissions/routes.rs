//! `/auth/v1/identities/{id}/permissions`.

use actix_web::web;
use idp_model::authz::EffectivePermission;
use idp_model::IdentityId;
use idp_runtime::web::{ApiResult, Caller, Data, Json, PathId, ServiceConfig};

use super::service;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/identities/{id}/permissions").get(permissions));
}

async fn permissions(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<IdentityId>,
) -> ApiResult<Json<Vec<EffectivePermission>>> {
    Ok(Json(service::permissions(&s, &caller, id).await?))
}
