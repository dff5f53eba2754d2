//! `/identity/v1/organization-preferences/**`.

use actix_web::web;
use idp_model::organization::OrganizationPreference;
use idp_runtime::web::{
    ApiResult, Caller, Created, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use uuid::Uuid;

use super::service;
use super::types::{CreatePreference, FindPreferences, UpdatePreference};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/organization-preferences")
            .get(find)
            .post(create),
    )
    .service(
        web::resource("/organization-preferences/{id}")
            .get(get)
            .put(update)
            .delete(delete),
    );
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindPreferences>,
) -> ApiResult<Paged<OrganizationPreference>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<OrganizationPreference>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreatePreference>,
) -> ApiResult<Created<OrganizationPreference>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn update(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(body): Json<UpdatePreference>,
) -> ApiResult<Json<OrganizationPreference>> {
    Ok(Json(service::update(&s, &caller, id, body).await?))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<OrganizationPreference>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}
