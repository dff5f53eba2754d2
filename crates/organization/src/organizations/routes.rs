//! `/identity/v1/organizations/**`.

use actix_web::web;
use idp_model::organization::{AuthorizeInitiate, Organization};
use idp_model::OrganizationId;
use idp_runtime::web::{
    Activation, ApiResult, Caller, Created, Data, IdAction, Json, PageParams, Paged, PathId, Query,
    ServiceConfig,
};

use super::types::{
    AddIdentityProvider, AuthorizeInitiateRequest, CreateOrganization, FindOrganizations,
};
use super::{login, service};
use crate::state::AppState;

/// Literal segments before `{id}`, and `{id}/identity-providers` before
/// `{id}/{action}`: the first match wins.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/organizations").get(find).post(create))
        .service(web::resource("/organizations/authorize-initiate").post(authorize_initiate))
        .service(web::resource("/organizations/label/{label}").get(get_by_label))
        .service(web::resource("/organizations/{id}").get(get).delete(delete))
        .service(
            web::resource("/organizations/{id}/identity-providers").post(add_identity_provider),
        )
        .service(web::resource("/organizations/{id}/{action}").put(set_active));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindOrganizations>,
) -> ApiResult<Paged<Organization>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OrganizationId>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn get_by_label(
    s: Data<AppState>,
    caller: Caller,
    label: web::Path<String>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(service::get_by_label(&s, &caller, &label).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateOrganization>,
) -> ApiResult<Created<Organization>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn set_active(
    s: Data<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction<OrganizationId, Activation>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(
        service::set_active(&s, &caller, id, action.active()).await?,
    ))
}

async fn delete(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OrganizationId>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(service::delete(&s, &caller, id).await?))
}

/// Deprecated: `POST /identity-providers` does the same.
async fn add_identity_provider(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<OrganizationId>,
    Json(body): Json<AddIdentityProvider>,
) -> ApiResult<Created<Organization>> {
    Ok(Created(
        login::add_identity_provider(&s, &caller, id, body).await?,
    ))
}

/// Public: the login flow's first step.
async fn authorize_initiate(
    s: Data<AppState>,
    Json(body): Json<AuthorizeInitiateRequest>,
) -> ApiResult<Json<AuthorizeInitiate>> {
    Ok(Json(login::authorize_initiate(&s, body).await?))
}
