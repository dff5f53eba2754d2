//! An organization's login providers: the deprecated add-identity-provider, and the
//! public authorize-initiate that starts a login with the organization's label.

use idp_model::events::Event;
use idp_model::organization::{AuthorizeInitiate, Organization};
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::EntityTrait;

use super::store::{self, Entity};
use super::types::{AddIdentityProvider, AuthorizeInitiateRequest};
use crate::identity_providers::store as ips;
use crate::state::AppState;
use idp_model::catalog::action;

/// The `purpose` of the flow tokens authorize-initiate hands out.
pub const LOGIN_PURPOSE: &str = "login";

/// Deprecated: `POST /identity-providers` does the same.
pub async fn add_identity_provider(
    s: &AppState,
    caller: &Caller,
    id: OrganizationId,
    body: AddIdentityProvider,
) -> ApiResult<Organization> {
    s.authz
        .require_change(
            caller,
            idp_model::catalog::IDENTITY_PROVIDER.code,
            action::CREATE,
            Some(id),
        )
        .await?;
    let org = Entity::find_by_id(id.as_uuid())
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such organization"))?;
    if org.deleted_at.is_some() {
        return Err(ApiError::conflict("the organization is deleted"));
    }
    let name = body
        .identity_provider_name
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_else(|| body.auth0_connection_id.to_string());
    let mut w = s.work.begin().await?;
    let ip = ips::new_row(
        id,
        body.auth0_connection_id.as_str(),
        &name,
        body.auth0_connection_type,
        w.now(),
    );
    ips::insert(w.txn(), &ip).await?;
    w.enqueue_event(
        Some(id),
        &Event::IdentityProviderCreated((&ip.to_dto()?).into()),
    )?;
    let dto = store::expand_one(w.txn(), org).await?;
    w.commit().await?;
    Ok(dto)
}

/// Public: the login flow's first step. An unknown label and the label of an
/// inactive organization answer the same 404.
pub async fn authorize_initiate(
    s: &AppState,
    body: AuthorizeInitiateRequest,
) -> ApiResult<AuthorizeInitiate> {
    let org = store::by_label(&s.db, body.label.as_str())
        .await?
        .filter(|o| o.active)
        .ok_or_else(|| ApiError::not_found("no active organization has this label"))?;
    let providers = ips::active_by_org(&s.db, &[org.id]).await?;
    let auth0_connection_ids = providers
        .get(&org.id)
        .map(|v| v.iter().map(|p| p.auth0_connection_id.clone()).collect())
        .unwrap_or_default();
    Ok(AuthorizeInitiate {
        nf_token: s.flow_tokens.sign(OrganizationId(org.id), LOGIN_PURPOSE),
        auth0_connection_ids,
    })
}
