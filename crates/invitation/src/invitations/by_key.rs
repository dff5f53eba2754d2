//! The public, key-based flow: read an invitation by its key, decline it,
//! initiate its acceptance (an `nfToken` with purpose `invitation`, bound to the
//! invitation, and the Auth0 connection ids of the organization's active identity
//! providers), and complete it with that `nfToken` and an ID token of one of the
//! organization's active OpenID providers whose provider vouches for the invited
//! address as the login's verified email. What the public
//! `/identity/v1/invitations/key/{key}/**` endpoints do (their handlers in
//! `routes` call these); the key is the credential.

use idp_bearer::oidc::OpenIdProvider;
use idp_model::events::InvitationData;
use idp_model::invitation::{
    AcceptInitiate, FlowInitiated, InvitationByKey, InvitationState, NamedIdentity,
};
use idp_model::problem::FieldError;
use idp_model::{OpenIdProviderId, OrganizationId, Problem};
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::Body;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::keys;
use super::service::apply_change;
use super::store::{self, state_of, view, Model};
use super::types::{AcceptComplete, Change, Completion};
use crate::state::AppState;
use crate::store::{identity_seen, open_id_provider_seen, organization_seen, provider_seen};

/// The purpose of the flow tokens this service signs.
pub const FLOW_PURPOSE: &str = "invitation";

/// The invitation with this key: 404 for a key of the wrong shape or none known.
async fn by_key(st: &AppState, key: &str) -> ApiResult<Model> {
    if !keys::is_well_formed(key) {
        return Err(ApiError::not_found("no such invitation"));
    }
    store::by_key_hash(&st.db, &keys::hash(key))
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

async fn key_view(st: &AppState, m: &Model) -> ApiResult<InvitationByKey> {
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
pub async fn get(st: &AppState, key: &str) -> ApiResult<InvitationByKey> {
    let m = by_key(st, key).await?;
    key_view(st, &m).await
}

/// `PUT /invitations/key/{key}/decline` (public): 409 unless open.
pub async fn decline(st: &AppState, key: &str) -> ApiResult<InvitationByKey> {
    let m = by_key(st, key).await?;
    let m = apply_change(st, m.id, Change::Decline, "key", |_| ()).await?;
    key_view(st, &m).await
}

/// `POST /invitations/key/{key}/accept-initiate` (public): for an open invitation
/// into an active organization, a flow token and the organization's active Auth0
/// connection ids. The body (`intermediateReturnUrl`) is optional.
pub async fn accept_initiate(st: &AppState, key: &str, body: &Body) -> ApiResult<FlowInitiated> {
    let m = by_key(st, key).await?;
    let req: AcceptInitiate = body.json_or_default()?;
    if let Some(u) = req.intermediate_return_url.as_deref() {
        if !(u.is_empty() || u.starts_with("https://") || u.starts_with("http://"))
            || u.chars().count() > 2048
        {
            return Err(ApiError::invalid(
                "intermediateReturnUrl",
                "must be an http(s) URL of at most 2048 characters",
            ));
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
    Ok(FlowInitiated {
        nf_token: st.flow_tokens.sign_bound(
            OrganizationId(m.to_organization_id),
            FLOW_PURPOSE,
            &m.id.to_string(),
        ),
        auth0_connection_ids: ids,
    })
}

/// 401 naming the credential that was not accepted.
fn unauthorized(field: &str, message: &str) -> ApiError {
    let mut p = Problem::unauthorized(format!("{field}: {message}"));
    p.errors.push(FieldError {
        field: field.to_string(),
        message: message.to_string(),
    });
    ApiError::Problem(Box::new(p))
}

/// 403 naming `idToken`: the login is valid but does not prove the invited address.
fn forbidden_login(message: &str) -> ApiError {
    let mut p = Problem::forbidden(format!("idToken: {message}"));
    p.errors.push(FieldError {
        field: "idToken".to_string(),
        message: message.to_string(),
    });
    ApiError::Problem(Box::new(p))
}

fn required(v: Option<&str>, field: &str) -> ApiResult<String> {
    match v.map(str::trim) {
        Some(t) if !t.is_empty() => Ok(t.to_string()),
        _ => Err(ApiError::invalid(field, "is required")),
    }
}

/// The organization's active OpenID providers, as the verifier needs them.
async fn providers_of(st: &AppState, org: uuid::Uuid) -> ApiResult<Vec<OpenIdProvider>> {
    Ok(open_id_provider_seen::Entity::find()
        .filter(open_id_provider_seen::Column::OrganizationId.eq(org))
        .filter(open_id_provider_seen::Column::Active.eq(true))
        .filter(open_id_provider_seen::Column::Deleted.eq(false))
        .all(&st.db)
        .await?
        .into_iter()
        .filter_map(|p| {
            Some(OpenIdProvider {
                id: p.id,
                organization_id: p.organization_id,
                issuer: p.issuer?,
                client_id: p.client_id?,
                jwks_uri: p.jwks_uri?,
            })
        })
        .collect())
}

/// `POST /invitations/key/{key}/accept-complete` (public): completes the
/// acceptance that `accept-initiate` started.
///
/// - `nfToken`: the flow token of accept-initiate for this invitation (401 naming
///   `nfToken` otherwise);
/// - `idToken`: an ID token of one of the organization's active OpenID providers
///   (401 naming `idToken` otherwise);
/// - the provider must vouch for the invited address (case-insensitively) as the
///   login's verified email: the ID token's `email` with `email_verified: true`,
///   else the provider's userinfo endpoint (found by its OpenID discovery) called
///   with `accessToken` (optional) answering `email` with `email_verified: true`
///   for the same `sub`. Otherwise 403 naming `idToken` and nothing changes: a
///   leaked key does not let another person in;
/// - only an open, unexpired invitation can be completed (409), once: the state
///   change is one conditional UPDATE, so of two racing completions one wins.
///
/// The change emits `invitation.accepted` with the login (`openIdProviderId`,
/// `subject`), on which the identity service makes or maps the user identity.
/// The answer waits (up to `invitations.accept_wait_ms`) until that identity is
/// known here, then is 200 with the invitation (its `targetUserIdentityId` the
/// user identity, who can exchange the ID token for a platform token at once);
/// after the wait it is 202 with the invitation as it stands.
pub async fn accept_complete(st: &AppState, key: &str, body: &Body) -> ApiResult<Completion> {
    let m = by_key(st, key).await?;
    let req: AcceptComplete = body.json_or_default()?;
    let nf_token = required(req.nf_token.as_deref(), "nfToken")?;
    let id_token = required(req.id_token.as_deref(), "idToken")?;
    let org = OrganizationId(m.to_organization_id);
    match st
        .flow_tokens
        .verify_bound(&nf_token, FLOW_PURPOSE, &m.id.to_string())
    {
        Ok(o) if o == org => {}
        Ok(_) => return Err(unauthorized("nfToken", "not issued for this invitation")),
        Err(e) => {
            tracing::info!(invitation_id = %m.id, error = %e, "accept-complete with a bad nfToken refused");
            return Err(unauthorized(
                "nfToken",
                "not a valid flow token for this invitation",
            ));
        }
    }
    let now = st.now();
    let state = state_of(&m, now);
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
    let providers = providers_of(st, m.to_organization_id).await?;
    let (provider, claims) = match st.id_tokens.verify(&id_token, &providers).await {
        Ok(v) => v,
        Err(e) => {
            tracing::info!(invitation_id = %m.id, reason = %e, "accept-complete with an ID token that does not verify refused");
            return Err(unauthorized(
                "idToken",
                "not a valid ID token of the organization's OpenID providers",
            ));
        }
    };
    let access_token = req.access_token.as_deref();
    match st
        .id_tokens
        .verified_email(provider, &claims, access_token)
        .await
    {
        Ok(email) if email.eq_ignore_ascii_case(m.invited_email_address.trim()) => {}
        Ok(_) => {
            tracing::info!(invitation_id = %m.id, "accept-complete by a login of another email refused");
            return Err(forbidden_login(
                "the login's verified email is not the invited address",
            ));
        }
        Err(e) => {
            tracing::info!(invitation_id = %m.id, reason = %e, "accept-complete without a verified email refused");
            return Err(forbidden_login(
                "the OpenID provider does not vouch for a verified email of this login (an ID token with email and email_verified, or an accessToken for its userinfo endpoint)",
            ));
        }
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let login = |d: &mut InvitationData| {
        d.invitation_id = Some(m.id);
        d.organization_id = Some(OrganizationId(m.to_organization_id));
        d.email = Some(m.invited_email_address.to_lowercase());
        d.open_id_provider_id = Some(OpenIdProviderId(provider.id));
        d.subject = Some(claims.sub.clone());
        d.name = given(&claims.name);
        d.given_name = given(&claims.given_name);
        d.family_name = given(&claims.family_name);
    };
    apply_change(st, m.id, Change::Accept, "key", login).await?;
    tracing::info!(invitation_id = %m.id, open_id_provider_id = %provider.id, "invitation accepted by key");

    // Answer once the identity service has made or mapped the user identity.
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_millis(st.invitations.accept_wait_ms);
    loop {
        let row = store::load(&st.db, m.id).await?;
        if row.mapped_identity_id.is_some() {
            return Ok(Completion::Mapped(view(&row, st.now())));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Completion::Pending(view(&row, st.now())));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
