//! `/auth/v1/resource-actions/**`.

use actix_web::web;
use idp_model::authorization::{NewResourceAction, ResourceAction};
use idp_model::ResourceActionId;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use serde_json::Value;

use super::service;
use super::types::ActionFilter;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/resource-actions").get(list).post(create))
        .service(web::resource("/resource-actions/{id}").get(get));
}

async fn list(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<ActionFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<ResourceActionId>,
) -> ApiResult<Json<ResourceAction>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<NewResourceAction>,
) -> ApiResult<Created<ResourceAction>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}
