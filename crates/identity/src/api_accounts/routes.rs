//! `/identity/v1/api-account-identities/**`.

use actix_web::web;
use idp_model::identity::{ApiAccountIdentity, CreatedApiAccount};
use idp_runtime::web::{
    Activation, ApiResult, Caller, Created, Data, IdAction, Json, PageParams, Paged, PathId, Query,
    ServiceConfig,
};
use uuid::Uuid;

use super::service;
use super::types::{CreateApiAccount, FindApiAccounts, UpdateApiAccount};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    // `mapping/{clientId}` before `/{id}/{action}`.
    cfg.service(
        web::resource("/api-account-identities")
            .get(find)
            .post(create),
    )
    .service(web::resource("/api-account-identities/mapping/{client_id}").get(get_by_mapping))
    .service(
        web::resource("/api-account-identities/{id}")
            .get(get)
            .put(update)
            .delete(delete),
    )
    .service(web::resource("/api-account-identities/{id}/{action}").put(set_active));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<FindApiAccounts>,
    params: PageParams,
) -> ApiResult<Paged<ApiAccountIdentity>> {
    service::find(&s, &caller, f, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<ApiAccountIdentity>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn get_by_mapping(
    s: Data<AppState>,
    caller: Caller,
    client_id: web::Path<String>,
) -> ApiResult<Json<ApiAccountIdentity>> {
    Ok(Json(
        service::get_by_mapping(&s, &caller, &client_id).await?,
    ))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateApiAccount>,
) -> ApiResult<Created<CreatedApiAccount>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(body): Json<UpdateApiAccount>,
) -> ApiResult<Json<ApiAccountIdentity>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn set_active(
    s: Data<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction<Uuid, Activation>,
) -> ApiResult<Json<ApiAccountIdentity>> {
    Ok(Json(
        service::set_active(&s, &caller, id, action.active()).await?,
    ))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<ApiAccountIdentity>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}
