//! `/identity/v1/invitations/**`.

use actix_web::http::StatusCode;
use actix_web::web;
use idp_model::invitation::{CreateInvitation, FlowInitiated, Invitation, InvitationByKey};
use idp_runtime::web::{
    ApiResult, Body, Caller, Created, Data, IdAction, Json, PageParams, Paged, PathId, Query,
    ServiceConfig,
};

use super::types::{Change, Completion, FindInvitations, InvitationRef};
use super::{by_key, service};
use crate::state::AppState;

/// The literal `key` segment before `{id}`: the first match wins.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/invitations").get(find).post(create))
        .service(web::resource("/invitations/key/{key}").get(get_by_key))
        .service(web::resource("/invitations/key/{key}/decline").put(decline_by_key))
        .service(web::resource("/invitations/key/{key}/accept-initiate").post(accept_initiate))
        .service(web::resource("/invitations/key/{key}/accept-complete").post(accept_complete))
        .service(web::resource("/invitations/{id}").get(get))
        .service(web::resource("/invitations/{id}/{action}").put(respond));
}

async fn find(
    s: Data<AppState>,
    caller: Caller,
    params: PageParams,
    Query(f): Query<FindInvitations>,
) -> ApiResult<Paged<Invitation>> {
    service::find(&s, &caller, params, f).await
}

async fn get(
    s: Data<AppState>,
    caller: Caller,
    PathId(id): PathId<InvitationRef>,
) -> ApiResult<Json<Invitation>> {
    Ok(Json(service::get(&s, &caller, id).await?))
}

async fn create(
    s: Data<AppState>,
    caller: Caller,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<Created<Invitation>> {
    Ok(Created(service::create(&s, &caller, body).await?))
}

async fn respond(
    s: Data<AppState>,
    caller: Caller,
    IdAction(id, change): IdAction<InvitationRef, Change>,
) -> ApiResult<Json<Invitation>> {
    Ok(Json(service::respond(&s, &caller, id, change).await?))
}

async fn get_by_key(s: Data<AppState>, key: web::Path<String>) -> ApiResult<Json<InvitationByKey>> {
    Ok(Json(by_key::get(&s, &key).await?))
}

async fn decline_by_key(
    s: Data<AppState>,
    key: web::Path<String>,
) -> ApiResult<Json<InvitationByKey>> {
    Ok(Json(by_key::decline(&s, &key).await?))
}

/// The body (`intermediateReturnUrl`) is optional: read raw, parsed by the flow.
async fn accept_initiate(
    s: Data<AppState>,
    key: web::Path<String>,
    body: Body,
) -> ApiResult<Json<FlowInitiated>> {
    Ok(Json(by_key::accept_initiate(&s, &key, &body).await?))
}

/// 200 once the user identity is known, 202 when the wait for it ran out.
async fn accept_complete(
    s: Data<AppState>,
    key: web::Path<String>,
    body: Body,
) -> ApiResult<(Json<Invitation>, StatusCode)> {
    Ok(match by_key::accept_complete(&s, &key, &body).await? {
        Completion::Mapped(inv) => (Json(inv), StatusCode::OK),
        Completion::Pending(inv) => (Json(inv), StatusCode::ACCEPTED),
    })
}
