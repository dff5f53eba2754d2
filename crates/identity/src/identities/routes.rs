//! `/identity/v1/identities/**`.

use actix_web::web;
use idp_model::identity::AnyIdentity;
use idp_runtime::web::{
    ApiResult, Caller, Data, Json, PageParams, Paged, PathId, Query, ServiceConfig,
};
use uuid::Uuid;

use super::service;
use super::types::FindIdentities;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    // `self` before `{id}`.
    cfg.service(web::resource("/identities").get(find))
        .service(web::resource("/identities/self").get(get_self))
        .service(web::resource("/identities/{id}").get(get));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    Query(f): Query<FindIdentities>,
    params: PageParams,
) -> ApiResult<Paged<AnyIdentity>> {
    service::find(&s, &caller, f, params).await
}

async fn get_self(s: Data<AppState>, caller: Caller) -> ApiResult<Json<AnyIdentity>> {
    Ok(Json(service::get_self(&s, &caller).await?))
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<AnyIdentity>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}
