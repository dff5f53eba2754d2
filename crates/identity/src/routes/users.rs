//! `/user-identities`: people. `name` is "firstName lastName"; the email is valid,
//! lower-cased, and unique among the live user identities of one organization
//! (checked first, enforced by a partial unique index so that a race answers 409).

use axum::extract::State;
use axum::http::StatusCode;
use idp_model::events::types;
use idp_model::identity::UserIdentity;
use idp_model::token::IdentityType;
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Query as SqlQuery;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use super::IdAction;
use crate::access::{self, USER};
use crate::events;
use crate::state::AppState;
use crate::store::{identity, mapping, open_id_provider_seen, provider_seen};
use crate::{validate, views};

const KIND: IdentityType = IdentityType::UserIdentity;
const EMAIL_TAKEN: &str = "a user identity with this email already exists in the organization";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    pub identity_provider_id: Option<Uuid>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
}

/// Users with their mappings.
pub async fn with_mappings(
    st: &AppState,
    rows: &[identity::Model],
) -> ApiResult<Vec<UserIdentity>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut maps = access::mappings_of(&st.db, &ids).await?;
    Ok(rows
        .iter()
        .map(|m| views::user_with(m, maps.remove(&m.id).unwrap_or_default()))
        .collect())
}

async fn one(st: &AppState, m: &identity::Model) -> ApiResult<UserIdentity> {
    let mut v = with_mappings(st, std::slice::from_ref(m)).await?;
    v.pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("user view missing")))
}

pub async fn find(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<Filter>,
    params: PageParams,
) -> ApiResult<Paged<UserIdentity>> {
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(access::read_condition(&st, &caller, &[KIND]).await?);
    if let Some(o) = f.organization_id.or(f.tenant_id) {
        q = q.filter(identity::Column::OrganizationId.eq(o));
    }
    if let Some(p) = f.identity_provider_id {
        q = q.filter(
            identity::Column::Id.in_subquery(
                SqlQuery::select()
                    .column(mapping::Column::IdentityId)
                    .from(mapping::Entity)
                    .and_where(mapping::Column::IdentityProviderId.eq(p))
                    .to_owned(),
            ),
        );
    }
    if let Some(n) = f.first_name.as_deref() {
        q = q.filter(access::eq_ci(identity::Column::FirstName, n));
    }
    if let Some(n) = f.last_name.as_deref() {
        q = q.filter(access::eq_ci(identity::Column::LastName, n));
    }
    if let Some(e) = f.email.as_deref() {
        q = q.filter(identity::Column::Email.eq(e.trim().to_lowercase()));
    }
    if let Some(a) = f.active {
        q = q.filter(identity::Column::Active.eq(a));
    }
    if !f.include_deleted.unwrap_or(false) {
        q = q.filter(identity::Column::DeletedAt.is_null());
    }
    let (rows, total) = access::page(&st, q, &params).await?;
    Ok(Paged::new(with_mappings(&st, &rows).await?, total, params))
}

pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<UserIdentity>> {
    let m = access::readable(&st, &caller, id, Some(KIND)).await?;
    Ok(axum::Json(one(&st, &m).await?))
}

pub async fn get_by_mapping(
    State(st): State<AppState>,
    caller: Caller,
    axum::extract::Path((subject, provider)): axum::extract::Path<(String, String)>,
) -> ApiResult<axum::Json<UserIdentity>> {
    let not_found = || ApiError::not_found("no such identity");
    let provider = Uuid::parse_str(&provider).map_err(|_| not_found())?;
    // No subject holds U+0000 (and PostgreSQL cannot compare text with it).
    if subject.contains('\0') {
        return Err(not_found());
    }
    let map = mapping::Entity::find()
        .filter(mapping::Column::ExternalSubject.eq(subject.as_str()))
        .filter(mapping::Column::IdentityProviderId.eq(provider))
        .one(&st.db)
        .await?
        .ok_or_else(not_found)?;
    let m = access::readable(&st, &caller, map.identity_id, Some(KIND)).await?;
    Ok(axum::Json(one(&st, &m).await?))
}

/// 409 when another live user identity of `org` has `email`.
async fn ensure_email_free<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    email: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(identity::Column::OrganizationId.eq(org))
        .filter(identity::Column::Email.eq(email))
        .filter(identity::Column::DeletedAt.is_null());
    if let Some(id) = except {
        q = q.filter(identity::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(ApiError::conflict(EMAIL_TAKEN));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub organization_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

pub fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateRequest>,
) -> ApiResult<(StatusCode, axum::Json<UserIdentity>)> {
    st.authz
        .require(
            &caller,
            USER,
            "create",
            Some(OrganizationId(req.organization_id)),
        )
        .await?;
    access::require_organization(&st, &caller, req.organization_id).await?;
    let first = validate::text("firstName", &req.first_name, 255)?;
    let last = validate::text("lastName", &req.last_name, 255)?;
    let email = validate::email("email", &req.email)?;
    ensure_email_free(&st.db, req.organization_id, &email, None).await?;
    // A user gets the organization's default roles, which its creator must be
    // able to grant itself (else 403 naming the role; nothing is created).
    st.grant_checks
        .require_default_roles(
            &caller,
            OrganizationId(req.organization_id),
            "a new user gets the organization's default roles and you cannot grant them",
        )
        .await?;
    let now = st.now();
    let m = identity::Model {
        id: idp_model::IdentityId::new().as_uuid(),
        organization_id: req.organization_id,
        kind: KIND.as_str().into(),
        name: full_name(&first, &last),
        first_name: Some(first),
        last_name: Some(last),
        email: Some(email),
        description: None,
        client_id: None,
        secret_hash: None,
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
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    // Users are created without explicit permissions: the organization's default
    // roles are granted.
    events::emit(
        &txn,
        types::IDENTITY_CREATED,
        &m,
        serde_json::json!({ "grantDefaultRoles": true }),
        now,
    )
    .await?;
    txn.commit()
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    st.relay.wake();
    Ok((StatusCode::CREATED, axum::Json(views::user(&m))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(req): Json<UpdateRequest>,
) -> ApiResult<axum::Json<UserIdentity>> {
    let row = access::changeable(&st, &caller, id, KIND, "update").await?;
    let first = match req.first_name.as_deref() {
        Some(f) => validate::text("firstName", f, 255)?,
        None => row.first_name.clone().unwrap_or_default(),
    };
    let last = match req.last_name.as_deref() {
        Some(l) => validate::text("lastName", l, 255)?,
        None => row.last_name.clone().unwrap_or_default(),
    };
    let email = match req.email.as_deref() {
        Some(e) => {
            let e = validate::email("email", e)?;
            ensure_email_free(&st.db, row.organization_id, &e, Some(row.id)).await?;
            Some(e)
        }
        None => row.email.clone(),
    };
    let now = st.now();
    let mut am = row.into_active_model();
    am.name = Set(full_name(&first, &last));
    am.first_name = Set(Some(first));
    am.last_name = Set(Some(last));
    am.email = Set(email);
    am.updated_at = Set(Some(now));
    let txn = st.db.begin().await?;
    let m = am
        .update(&txn)
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    events::emit(
        &txn,
        types::IDENTITY_UPDATED,
        &m,
        serde_json::json!({}),
        now,
    )
    .await?;
    txn.commit()
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    st.relay.wake();
    Ok(axum::Json(one(&st, &m).await?))
}

pub async fn activation(
    State(st): State<AppState>,
    caller: Caller,
    IdAction(id, action): IdAction,
) -> ApiResult<axum::Json<UserIdentity>> {
    let m = super::set_active(&st, &caller, id, KIND, &action).await?;
    Ok(axum::Json(one(&st, &m).await?))
}

pub async fn delete(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<axum::Json<UserIdentity>> {
    let m = super::soft_delete(&st, &caller, id, KIND).await?;
    Ok(axum::Json(one(&st, &m).await?))
}

/// Clears the second-factor enrolment (the user sets it up again at the next
/// login) and records who reset it and when. 200 without a body.
pub async fn reset_mfa(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<StatusCode> {
    let row = access::changeable(&st, &caller, id, KIND, "update-reset-mfa").await?;
    let now = st.now();
    let by = caller.identity_id().as_uuid();
    let mut am = row.into_active_model();
    am.mfa_enrolled = Set(false);
    am.mfa_reset_at = Set(Some(now));
    am.mfa_reset_by = Set(Some(by));
    am.updated_at = Set(Some(now));
    let txn = st.db.begin().await?;
    let m = am.update(&txn).await?;
    events::emit(
        &txn,
        types::IDENTITY_UPDATED,
        &m,
        serde_json::json!({ "mfaReset": true, "mfaResetBy": by }),
        now,
    )
    .await?;
    st.relay.commit(txn).await?;
    Ok(StatusCode::OK)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRequest {
    pub auth0_user_id: String,
    pub identity_provider_id: Uuid,
}

/// Links a login at an identity provider of the identity's organization to the
/// user. One mapping per external subject and provider (409). 200 without a body.
pub async fn map(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
    Json(req): Json<MapRequest>,
) -> ApiResult<StatusCode> {
    let row = access::changeable(&st, &caller, id, KIND, "update").await?;
    let subject = validate::text("auth0UserId", &req.auth0_user_id, 255)?;
    // An identity provider of the organization, or one of its OpenID providers
    // (whose ID tokens the token-exchange grant maps through this mapping).
    let org_of_provider = match provider_seen::Entity::find_by_id(req.identity_provider_id)
        .one(&st.db)
        .await?
    {
        Some(p) if !p.deleted => Some(p.organization_id),
        Some(_) => None,
        None => open_id_provider_seen::Entity::find_by_id(req.identity_provider_id)
            .one(&st.db)
            .await?
            .filter(|p| !p.deleted)
            .map(|p| p.organization_id),
    };
    if org_of_provider != Some(row.organization_id) {
        return Err(ApiError::invalid(
            "identityProviderId",
            "no such identity provider in the identity's organization",
        ));
    }
    let now = st.now();
    let map = mapping::Model {
        id: Uuid::new_v4(),
        identity_id: row.id,
        external_subject: subject,
        identity_provider_id: req.identity_provider_id,
        created_at: now,
        created_by: Some(caller.identity_id().as_uuid()),
    };
    let conflict = "this login is already mapped to an identity";
    let txn = st.db.begin().await?;
    mapping::Entity::insert(map.clone().into_active_model())
        .exec_without_returning(&txn)
        .await
        .map_err(|e| ApiError::from_db_conflict(e, conflict))?;
    events::emit(
        &txn,
        types::IDENTITY_UPDATED,
        &row,
        serde_json::json!({ "mappingAdded": {
            "id": map.id,
            "auth0UserId": map.external_subject,
            "identityProviderId": map.identity_provider_id,
        }}),
        now,
    )
    .await?;
    txn.commit()
        .await
        .map_err(|e| ApiError::from_db_conflict(e, conflict))?;
    st.relay.wake();
    Ok(StatusCode::OK)
}
