//! `/api-account-identities`: machine credentials (OAuth 2.0 clients of the token
//! endpoint). The secret is shown once, at creation, and stored only as its HMAC.

use axum::extract::State;
use axum::http::StatusCode;
use idp_model::events::types;
use idp_model::identity::{ApiAccountIdentity, CreatedApiAccount};
use idp_model::token::IdentityType;
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use super::IdAction;
use crate::access::{self, API};
use crate::events;
use crate::state::AppState;
use crate::store::identity;
use crate::{secrets, validate, views};

const KIND: IdentityType = IdentityType::ApiAccountIdentity;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
    pub provider: Option<String>,
}

/// The reference's providers: `Cognito`, and `Auth0` (deprecated, not removed).
/// Every API account of this platform gets its tokens from the platform's own
/// token endpoint, whichever is named, so both are accepted and mean the same.
fn check_provider(p: Option<&str>) -> ApiResult<()> {
    match p {
        None => Ok(()),
        Some(p) if p.eq_ignore_ascii_case("cognito") || p.eq_ignore_ascii_case("auth0") => Ok(()),
        Some(_) => Err(ApiError::invalid(
            "provider",
            "must be one of [Auth0, Cognito]",
        )),
    }
}

pub async fn find(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<Filter>,
    params: PageParams,
) -> ApiResult<Paged<ApiAccountIdentity>> {
    check_provider(f.provider.as_deref())?;
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(access::read_condition(&st, &caller, &[KIND]).await?);
    if let Some(o) = f.organization_id.or(f.tenant_id) {
        q = q.filter(identity::Column::OrganizationId.eq(o));
    }
    if let Some(n) = f.name.as_deref() {
        q = q.filter(access::eq_ci(identity::Column::Name, n));
    }
    if let Some(e) = f.contact_email.as_deref() {
        q = q.filter(identity::Column::Email.eq(e.trim().to_lowercase()));
    }
    if let Some(a) = f.active {
        q = q.filter(identity::Column::Active.eq(a));
    }
    if !f.include_deleted.unwrap_or(false) {
        q = q.filter(identity::Column::DeletedAt.is_null());
    }
    let (rows, total) = access::page(&st, q, &params).await?;
    let url = st.token.token_endpoint();
    let items = rows.iter().map(|m| views::api_account(m, &url)).collect();
    Ok(Paged::new(items, total, params))
}

pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<ApiAccountIdentity>> {
    let m = access::readable(&st, &caller, id, Some(KIND)).await?;
    Ok(axum::Json(views::api_account(
        &m,
        &st.token.token_endpoint(),
    )))
}

pub async fn get_by_mapping(
    State(st): State<AppState>,
    caller: Caller,
    axum::extract::Path(client_id): axum::extract::Path<String>,
) -> ApiResult<axum::Json<ApiAccountIdentity>> {
    // No client id holds U+0000 (and PostgreSQL cannot compare text with it).
    if client_id.contains('\0') {
        return Err(ApiError::not_found("no such identity"));
    }
    let row = identity::Entity::find()
        .filter(identity::Column::ClientId.eq(client_id.as_str()))
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .one(&st.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such identity"))?;
    let m = access::readable(&st, &caller, row.id, Some(KIND)).await?;
    Ok(axum::Json(views::api_account(
        &m,
        &st.token.token_endpoint(),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub organization_id: Uuid,
    pub name: String,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub grant_default_roles: Option<bool>,
    pub provider: Option<String>,
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateRequest>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiAccount>)> {
    st.authz
        .require(
            &caller,
            API,
            "create",
            Some(OrganizationId(req.organization_id)),
        )
        .await?;
    access::require_organization(&st, &caller, req.organization_id).await?;
    let name = validate::text("name", &req.name, 255)?;
    let contact_email = match req.contact_email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(e) => Some(validate::email("contactEmail", e)?),
    };
    let description = validate::optional_text("description", req.description.as_deref(), 4000)?;
    check_provider(req.provider.as_deref())?;
    // The reference's default: the organization's default roles, which the
    // creator must be able to grant itself (else 403 naming the role; nothing is
    // created).
    let grant_default_roles = req.grant_default_roles.unwrap_or(true);
    if grant_default_roles {
        st.grant_checks
            .require_default_roles(
                &caller,
                OrganizationId(req.organization_id),
                "the organization's default roles would be granted to the new account \
                 (grantDefaultRoles, true by default) and you cannot grant them; \
                 create it with grantDefaultRoles: false or ask someone who holds them",
            )
            .await?;
    }
    let client_id = secrets::new_client_id()?;
    let secret = secrets::new_secret()?;
    let now = st.now();
    let m = identity::Model {
        id: idp_model::IdentityId::new().as_uuid(),
        organization_id: req.organization_id,
        kind: KIND.as_str().into(),
        name,
        first_name: None,
        last_name: None,
        email: contact_email,
        description,
        client_id: Some(client_id.clone()),
        secret_hash: Some(st.hasher.hash(&secret)),
        active: true,
        created_at: now,
        updated_at: None,
        deleted_at: None,
        created_by: Some(caller.identity_id().as_uuid()),
        mfa_enrolled: false,
        mfa_reset_at: None,
        mfa_reset_by: None,
    };
    let txn = st.db.begin().await?;
    identity::Entity::insert(m.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    events::emit(
        &txn,
        types::IDENTITY_CREATED,
        &m,
        serde_json::json!({ "grantDefaultRoles": grant_default_roles }),
        now,
    )
    .await?;
    st.relay.commit(txn).await?;
    let url = st.token.token_endpoint();
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiAccount {
            api_account_identity: views::api_account(&m, &url),
            client_id,
            password: secret,
            authentication_url: url,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRequest {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
}

pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(req): Json<UpdateRequest>,
) -> ApiResult<axum::Json<ApiAccountIdentity>> {
    let row = access::changeable(&st, &caller, id, KIND, "update").await?;
    let mut am = row.into_active_model();
    if let Some(n) = req.name.as_deref() {
        am.name = Set(validate::text("name", n, 255)?);
    }
    if let Some(e) = req.contact_email.as_deref() {
        am.email = Set(match e.trim() {
            "" => None,
            e => Some(validate::email("contactEmail", e)?),
        });
    }
    if let Some(d) = req.description.as_deref() {
        am.description = Set(validate::optional_text("description", Some(d), 4000)?);
    }
    let now = st.now();
    am.updated_at = Set(Some(now));
    let txn = st.db.begin().await?;
    let m = am.update(&txn).await?;
    events::emit(
        &txn,
        types::IDENTITY_UPDATED,
        &m,
        serde_json::json!({}),
        now,
    )
    .await?;
    st.relay.commit(txn).await?;
    Ok(axum::Json(views::api_account(
        &m,
        &st.token.token_endpoint(),
    )))
}

pub async fn activation(
    State(st): State<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction,
) -> ApiResult<axum::Json<ApiAccountIdentity>> {
    let m = super::set_active(&st, &caller, id, KIND, &action).await?;
    Ok(axum::Json(views::api_account(
        &m,
        &st.token.token_endpoint(),
    )))
}

pub async fn delete(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<ApiAccountIdentity>> {
    let m = super::soft_delete(&st, &caller, id, KIND).await?;
    Ok(axum::Json(views::api_account(
        &m,
        &st.token.token_endpoint(),
    )))
}
