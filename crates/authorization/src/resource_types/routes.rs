//! `/auth/v1/resource-types/**`.

use actix_web::web;
use idp_model::authorization::{NewResourceType, ResourceType};
use idp_model::ResourceTypeId;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use serde_json::Value;

use super::service;
use super::types::TypeFilter;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/resource-types").get(list).post(create))
        .service(web::resource("/resource-types/{id}").get(get));
}

async fn list(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<TypeFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<ResourceTypeId>,
) -> ApiResult<Json<ResourceType>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<NewResourceType>,
) -> ApiResult<Created<ResourceType>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}
