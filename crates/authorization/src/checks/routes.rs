//! `/auth/v1/checks`.

use actix_web::web;
use idp_runtime::web::{ApiResult, Caller, Data, Json, ServiceConfig};
use serde_json::Value;

use super::service::{self, Checked};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/checks").post(check));
}

/// One check (an object), or a batch (an array, or `{"checks": [...]}`).
async fn check(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<Json<Checked>> {
    Ok(Json(service::check(&s, &caller, body).await?))
}
