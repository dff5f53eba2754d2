//! `/identity/v1/nfconsole/support/requests`.

use actix_web::web;
use actix_web::HttpResponse;
use idp_runtime::web::{ApiResult, Data, Json, MaybeCaller, ServiceConfig};

use super::service;
use super::types::SupportRequest;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/nfconsole/support/requests").post(create));
}

/// 200 with no body.
async fn create(
    s: Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Json(body): Json<SupportRequest>,
) -> ApiResult<HttpResponse> {
    service::create(&s, caller.as_ref(), body).await?;
    Ok(HttpResponse::Ok().finish())
}
