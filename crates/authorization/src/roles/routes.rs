//! `/auth/v1/roles/**`.

use actix_web::{web, HttpResponse};
use idp_model::authorization::{NewRole, Role, RoleUpdate};
use idp_model::RoleId;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use serde_json::Value;

use super::service;
use super::types::RoleFilter;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/roles").get(list).post(create))
        .service(
            web::resource("/roles/{id}")
                .get(get)
                .put(update)
                .delete(delete),
        );
}

async fn list(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<RoleFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
) -> ApiResult<Json<Role>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<NewRole>,
) -> ApiResult<Created<Role>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
    Json(body): Json<RoleUpdate>,
) -> ApiResult<Json<Role>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
) -> ApiResult<HttpResponse> {
    service::delete(&s, &caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
