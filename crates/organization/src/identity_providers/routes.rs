//! `/identity/v1/identity-providers/**`.

use actix_web::web;
use idp_model::organization::IdentityProvider;
use idp_model::IdentityProviderId;
use idp_runtime::web::{
    Activation, ApiResult, Caller, Created, Data, IdAction, Json, PageParams, Paged, PathId, Query,
    ServiceConfig,
};

use super::service;
use super::types::{CreateIdentityProvider, FindIdentityProviders, UpdateIdentityProvider};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/identity-providers").get(find).post(create))
        .service(
            web::resource("/identity-providers/{id}")
                .get(get)
                .put(update)
                .delete(delete),
        )
        .service(web::resource("/identity-providers/{id}/{action}").put(set_active));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindIdentityProviders>,
) -> ApiResult<Paged<IdentityProvider>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<IdentityProviderId>,
) -> ApiResult<Json<IdentityProvider>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateIdentityProvider>,
) -> ApiResult<Created<IdentityProvider>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<IdentityProviderId>,
    Json(body): Json<UpdateIdentityProvider>,
) -> ApiResult<Json<IdentityProvider>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn set_active(
    s: Data<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction<IdentityProviderId, Activation>,
) -> ApiResult<Json<IdentityProvider>> {
    Ok(Json(
        service::set_active(&s, &caller, id, action.active()).await?,
    ))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<IdentityProviderId>,
) -> ApiResult<Json<IdentityProvider>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}
