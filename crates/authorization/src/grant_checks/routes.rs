//! `/auth/v1/grant-checks`.

use actix_web::web;
use idp_model::authorization::{GrantCheck, GrantCheckAllowed};
use idp_runtime::web::{ApiResult, Caller, Data, Json, ServiceConfig};

use super::service;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/grant-checks").post(check));
}

async fn check(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<GrantCheck>,
) -> ApiResult<Json<GrantCheckAllowed>> {
    Ok(Json(service::check(&s, &caller, body).await?))
}
