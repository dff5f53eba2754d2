//! `/identity/v1/user-identities/**`.

use actix_web::{web, HttpResponse};
use idp_model::identity::UserIdentity;
use idp_runtime::web::{
    Activation, ApiResult, Caller, Created, Data, IdAction, Json, PageParams, Paged, PathId, Query,
    ServiceConfig,
};
use uuid::Uuid;

use super::service;
use super::types::{CreateUserIdentity, FindUserIdentities, MapLogin, UpdateUserIdentity};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    // The literal segments before `/{id}/{action}`.
    cfg.service(web::resource("/user-identities").get(find).post(create))
        .service(web::resource("/user-identities/mapping/{subject}/{provider}").get(get_by_mapping))
        .service(
            web::resource("/user-identities/{id}")
                .get(get)
                .put(update)
                .delete(delete),
        )
        .service(web::resource("/user-identities/{id}/reset-mfa").put(reset_mfa))
        .service(web::resource("/user-identities/{id}/mapping").post(map))
        .service(web::resource("/user-identities/{id}/{action}").put(set_active));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<FindUserIdentities>,
    params: PageParams,
) -> ApiResult<Paged<UserIdentity>> {
    service::find(&s, &caller, f, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<UserIdentity>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn get_by_mapping(
    s: Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> ApiResult<Json<UserIdentity>> {
    let (subject, provider) = path.into_inner();
    Ok(Json(
        service::get_by_mapping(&s, &caller, &subject, &provider).await?,
    ))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateUserIdentity>,
) -> ApiResult<Created<UserIdentity>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(body): Json<UpdateUserIdentity>,
) -> ApiResult<Json<UserIdentity>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn set_active(
    s: Data<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction<Uuid, Activation>,
) -> ApiResult<Json<UserIdentity>> {
    Ok(Json(
        service::set_active(&s, &caller, id, action.active()).await?,
    ))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<UserIdentity>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}

/// 200 without a body.
async fn reset_mfa(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<HttpResponse> {
    service::reset_mfa(&s, &caller, id).await?;
    Ok(HttpResponse::Ok().finish())
}

/// 200 without a body.
async fn map(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(body): Json<MapLogin>,
) -> ApiResult<HttpResponse> {
    service::map(&s, &caller, id, body).await?;
    Ok(HttpResponse::Ok().finish())
}
