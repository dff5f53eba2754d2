//! `/identity/v1/identity-preferences/**`.

use actix_web::web;
use idp_model::identity::IdentityPreference;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, ServiceConfig,
};
use uuid::Uuid;

use super::service;
use super::types::{CreatePreference, UpdatePreference};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/identity-preferences")
            .get(find)
            .post(create),
    )
    .service(
        web::resource("/identity-preferences/{id}")
            .get(get)
            .put(update)
            .delete(delete),
    );
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
) -> ApiResult<Paged<IdentityPreference>> {
    service::find(&s, &caller, params).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<IdentityPreference>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreatePreference>,
) -> ApiResult<Created<IdentityPreference>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(body): Json<UpdatePreference>,
) -> ApiResult<Json<IdentityPreference>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<IdentityPreference>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}
