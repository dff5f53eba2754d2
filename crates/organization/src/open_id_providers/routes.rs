//! `/identity/v1/open-id-providers/**`.

use actix_web::web;
use idp_model::organization::OpenIdProvider;
use idp_model::OpenIdProviderId;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};

use super::service;
use super::types::{CreateOpenIdProvider, FindOpenIdProviders, UpdateOpenIdProvider};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/open-id-providers").get(find).post(create))
        .service(
            web::resource("/open-id-providers/{id}")
                .get(get)
                .patch(update)
                .delete(delete),
        );
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindOpenIdProviders>,
) -> ApiResult<Paged<OpenIdProvider>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OpenIdProviderId>,
) -> ApiResult<Json<OpenIdProvider>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateOpenIdProvider>,
) -> ApiResult<Created<OpenIdProvider>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OpenIdProviderId>,
    Json(body): Json<UpdateOpenIdProvider>,
) -> ApiResult<Json<OpenIdProvider>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OpenIdProviderId>,
) -> ApiResult<Json<OpenIdProvider>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}
