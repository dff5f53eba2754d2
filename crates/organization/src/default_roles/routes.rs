//! `/identity/v1/default-roles/**`.

use std::collections::BTreeMap;

use actix_web::web;
use idp_model::organization::DefaultRole;
use idp_model::DefaultRoleId;
use idp_runtime::web::{
    ApiResult, Body, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};

use super::service;
use super::types::{CreateDefaultRole, FindDefaultRoles};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/default-roles").get(find).post(create))
        .service(web::resource("/default-roles/{id}").get(get).delete(delete))
        .service(web::resource("/default-roles/{id}/grant").post(grant));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindDefaultRoles>,
) -> ApiResult<Paged<DefaultRole>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<DefaultRoleId>,
) -> ApiResult<Json<DefaultRole>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateDefaultRole>,
) -> ApiResult<Created<DefaultRole>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<DefaultRoleId>,
) -> ApiResult<Json<DefaultRole>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}

/// The body is optional (no body: the whole organization).
async fn grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<DefaultRoleId>,
    body: Body,
) -> ApiResult<Json<BTreeMap<String, bool>>> {
    Ok(Json(service::grant(&s, &caller, id, body).await?))
}
