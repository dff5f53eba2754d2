//! `/auth/v1/identity-roles/**` (role grants), `/auth/v1/identity-resource-actions/**`
//! (single-action grants) and `/auth/v1/grants/**` (either).

use actix_web::{web, HttpResponse};
use idp_model::authorization::{Grant, NewActionGrant, NewRoleGrant, RoleGrantReplacement};
use idp_model::GrantId;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use serde_json::Value;

use super::service;
use super::types::{GrantFilter, Kind};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/identity-roles")
            .get(list_role_grants)
            .post(create_role_grant),
    )
    .service(
        web::resource("/identity-roles/{id}")
            .get(get_role_grant)
            .put(replace_role_grant)
            .delete(delete_role_grant),
    )
    .service(
        web::resource("/identity-resource-actions")
            .get(list_action_grants)
            .post(create_action_grant),
    )
    .service(
        web::resource("/identity-resource-actions/{id}")
            .get(get_action_grant)
            .delete(delete_action_grant),
    )
    .service(web::resource("/grants").get(list_grants))
    .service(web::resource("/grants/{id}").get(get_grant));
}

async fn list_role_grants(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params, Kind::Role).await
}

async fn list_action_grants(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params, Kind::Action).await
}

async fn list_grants(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    service::list(&s, &caller, f, params, Kind::Any).await
}

async fn get_role_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(service::get(&s, &caller, id, Kind::Role).await?))
}

async fn get_action_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(service::get(&s, &caller, id, Kind::Action).await?))
}

async fn get_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(service::get(&s, &caller, id, Kind::Any).await?))
}

async fn create_role_grant(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<NewRoleGrant>,
) -> ApiResult<Created<Grant>> {
    Ok(Created(
        service::create_role_grant(&s, &caller, body).await?,
    ))
}

async fn create_action_grant(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<NewActionGrant>,
) -> ApiResult<Created<Grant>> {
    Ok(Created(
        service::create_action_grant(&s, &caller, body).await?,
    ))
}

/// `PUT /identity-roles/{id}` `{roleId}`: the new grant (200).
async fn replace_role_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
    Json(body): Json<RoleGrantReplacement>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(
        service::replace_role_grant(&s, &caller, id, body).await?,
    ))
}

async fn delete_role_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<HttpResponse> {
    service::revoke(&s, &caller, id, Kind::Role).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_action_grant(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<HttpResponse> {
    service::revoke(&s, &caller, id, Kind::Action).await?;
    Ok(HttpResponse::NoContent().finish())
}
