//! The public, key-based flow: read an invitation by its key, decline it, and
//! initiate its acceptance (an `nfToken` with purpose `invitation` and the Auth0
//! connection ids of the organization's active identity providers).

use axum::body::Bytes;
use axum::extract::{Path, State};
use idp_model::invitation::{
    AcceptInitiate, FlowInitiated, InvitationByKey, InvitationState, NamedIdentity,
};
use idp_model::OrganizationId;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::parse_json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::invitations::{apply_change, state_of, Change};
use crate::keys;
use crate::state::AppState;
use crate::store::{identity_seen, invitation, organization_seen, provider_seen};

/// The purpose of the flow tokens this service signs.
pub const FLOW_PURPOSE: &str = "invitation";

/// The invitation with this key: 404 for a key of the wrong shape or none known.
async fn by_key(st: &AppState, key: &str) -> ApiResult<invitation::Model> {
    if !keys::is_well_formed(key) {
        return Err(ApiError::not_found("no such invitation"));
    }
    invitation::Entity::find()
        .filter(invitation::Column::KeyHash.eq(keys::hash(key)))
        .one(&st.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such invitation"))
}

async fn named(st: &AppState, id: Option<uuid::Uuid>) -> ApiResult<Option<NamedIdentity>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(identity_seen::Entity::find_by_id(id)
        .one(&st.db)
        .await?
        .map(|i| NamedIdentity {
            name: i.name,
            email: i.email,
        }))
}

async fn key_view(st: &AppState, m: &invitation::Model) -> ApiResult<InvitationByKey> {
    let org = organization_seen::Entity::find_by_id(m.to_organization_id)
        .one(&st.db)
        .await?;
    let (name, label) = org.map(|o| (o.name, o.label)).unwrap_or((None, None));
    Ok(InvitationByKey {
        from_identity: named(st, Some(m.from_identity_id)).await?,
        target_identity: named(st, m.target_user_identity_id).await?,
        invited_email_address: m.invited_email_address.clone(),
        to_organization_name: name.clone(),
        to_organization_label: label.clone(),
        expiration: m.expiration.into(),
        accepted: m.accepted,
        state: state_of(m, st.now()),
        to_tenant_name: name,
        to_tenant_label: label,
    })
}

/// `GET /invitations/key/{key}` (public).
pub async fn get(
    State(st): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<InvitationByKey>> {
    let m = by_key(&st, &key).await?;
    Ok(axum::Json(key_view(&st, &m).await?))
}

/// `PUT /invitations/key/{key}/decline` (public): 409 unless open.
pub async fn decline(
    State(st): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<axum::Json<InvitationByKey>> {
    let m = by_key(&st, &key).await?;
    let m = apply_change(&st, m.id, Change::Decline, "key").await?;
    Ok(axum::Json(key_view(&st, &m).await?))
}

/// `POST /invitations/key/{key}/accept-initiate` (public): for an open invitation
/// into an active organization, a flow token and the organization's active Auth0
/// connection ids. The body (`intermediateReturnUrl`) is optional.
pub async fn accept_initiate(
    State(st): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<axum::Json<FlowInitiated>> {
    let m = by_key(&st, &key).await?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let req: AcceptInitiate = parse_json(&body)?;
        if let Some(u) = req.intermediate_return_url.as_deref() {
            if !(u.is_empty() || u.starts_with("https://") || u.starts_with("http://")) {
                return Err(ApiError::invalid(
                    "intermediateReturnUrl",
                    "must be an http(s) URL",
                ));
            }
        }
    }
    let state = state_of(&m, st.now());
    if state != InvitationState::Open {
        return Err(ApiError::conflict(format!(
            "the invitation is {state} and cannot be accepted"
        )));
    }
    let live = organization_seen::Entity::find_by_id(m.to_organization_id)
        .one(&st.db)
        .await?
        .is_some_and(|o| o.active && !o.deleted);
    if !live {
        return Err(ApiError::conflict(
            "the organization of this invitation is not active",
        ));
    }
    let ids = provider_seen::Entity::find()
        .filter(provider_seen::Column::OrganizationId.eq(m.to_organization_id))
        .filter(provider_seen::Column::Active.eq(true))
        .filter(provider_seen::Column::Deleted.eq(false))
        .order_by_asc(provider_seen::Column::Auth0ConnectionId)
        .all(&st.db)
        .await?
        .into_iter()
        .filter_map(|p| p.auth0_connection_id)
        .collect();
    Ok(axum::Json(FlowInitiated {
        nf_token: st
            .flow_tokens
            .sign(OrganizationId(m.to_organization_id), FLOW_PURPOSE),
        auth0_connection_ids: ids,
    }))
}
