//! `/auth/v1/acl`.

use actix_web::web;
use idp_runtime::web::{ApiResult, Caller, Data, PageParams, Paged, Query, ServiceConfig};
use serde_json::Value;

use super::service;
use super::types::AclQuery;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/acl").get(acl));
}

async fn acl(
    s: Data<AppState>,
    caller: Caller,
    Query(q): Query<AclQuery>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::acl(&s, &caller, q, params).await
}
