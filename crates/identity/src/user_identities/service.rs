//! What the `/identity/v1/user-identities/**` endpoints do (their handlers in
//! `routes` call these): access checks, the change and its events in one unit of
//! work.

use idp_model::events::{Event, IdentityData, MappingAdded};
use idp_model::identity::UserIdentity;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Query as SqlQuery;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::store::{self, EMAIL_TAKEN, KIND};
use super::types::{CreateUserIdentity, FindUserIdentities, MapLogin, UpdateUserIdentity};
use crate::access::{self, USER};
use crate::events;
use crate::identities::lifecycle;
use crate::state::AppState;
use crate::store::{identity, mapping};
use crate::{validate, views};
use idp_model::catalog::action;

pub fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

/// A 409 of the commit (a unique index) is the taken email.
fn email_conflict(e: ApiError) -> ApiError {
    if e.status() == 409 {
        ApiError::conflict(EMAIL_TAKEN)
    } else {
        e
    }
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
    st: &AppState,
    caller: &Caller,
    f: FindUserIdentities,
    params: PageParams,
) -> ApiResult<Paged<UserIdentity>> {
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(access::read_condition(st, caller, &[KIND]).await?);
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
    let (rows, total) = access::page(st, q, &params).await?;
    Ok(Paged::new(with_mappings(st, &rows).await?, total, params))
}

pub async fn get(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<UserIdentity> {
    let m = access::readable(st, caller, id, Some(KIND)).await?;
    one(st, &m).await
}

/// The user a login (subject at a provider, the provider's id as given) is
/// mapped to; 404 when none or the caller may not read it.
pub async fn get_by_mapping(
    st: &AppState,
    caller: &Caller,
    subject: &str,
    provider: &str,
) -> ApiResult<UserIdentity> {
    let not_found = || ApiError::not_found("no such identity");
    let provider = Uuid::parse_str(provider).map_err(|_| not_found())?;
    // No subject holds U+0000 (and PostgreSQL cannot compare text with it).
    if subject.contains('\0') {
        return Err(not_found());
    }
    let map = store::mapping_of(&st.db, subject, provider)
        .await?
        .ok_or_else(not_found)?;
    let m = access::readable(st, caller, map.identity_id, Some(KIND)).await?;
    one(st, &m).await
}

pub async fn create(
    st: &AppState,
    caller: &Caller,
    req: CreateUserIdentity,
) -> ApiResult<UserIdentity> {
    st.authz
        .require(
            caller,
            USER,
            action::CREATE,
            Some(OrganizationId(req.organization_id)),
        )
        .await?;
    access::require_organization(st, caller, req.organization_id).await?;
    let first = validate::text("firstName", &req.first_name, 255)?;
    let last = validate::text("lastName", &req.last_name, 255)?;
    let email = validate::email("email", &req.email)?;
    store::ensure_email_free(&st.db, req.organization_id, &email, None).await?;
    // A user gets the organization's default roles, which its creator must be
    // able to grant itself (else 403 naming the role; nothing is created).
    st.grant_checks
        .require_default_roles(
            caller,
            OrganizationId(req.organization_id),
            "a new user gets the organization's default roles and you cannot grant them",
        )
        .await?;
    let mut w = st.work.begin().await?;
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
        created_at: w.now(),
        updated_at: None,
        deleted_at: None,
        created_by: Some(caller.identity_id().as_uuid()),
        mfa_enrolled: false,
        mfa_reset_at: None,
        mfa_reset_by: None,
    };
    identity::Entity::insert(m.clone().into_active_model())
        .exec_without_returning(w.txn())
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    // Users are created without explicit permissions: the organization's default
    // roles are granted.
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityCreated(IdentityData {
            grant_default_roles: Some(true),
            ..events::identity(&m)
        }),
    )?;
    w.commit().await.map_err(email_conflict)?;
    Ok(views::user(&m))
}

pub async fn update(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    req: UpdateUserIdentity,
) -> ApiResult<UserIdentity> {
    let row = access::changeable(st, caller, id, KIND, action::UPDATE).await?;
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
            store::ensure_email_free(&st.db, row.organization_id, &e, Some(row.id)).await?;
            Some(e)
        }
        None => row.email.clone(),
    };
    let mut w = st.work.begin().await?;
    let mut am = row.into_active_model();
    am.name = Set(full_name(&first, &last));
    am.first_name = Set(Some(first));
    am.last_name = Set(Some(last));
    am.email = Set(email);
    am.updated_at = Set(Some(w.now()));
    let m = am
        .update(w.txn())
        .await
        .map_err(|e| ApiError::from_db_conflict(e, EMAIL_TAKEN))?;
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityUpdated(events::identity(&m)),
    )?;
    w.commit().await.map_err(email_conflict)?;
    one(st, &m).await
}

pub async fn set_active(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    active: bool,
) -> ApiResult<UserIdentity> {
    let m = lifecycle::set_active(st, caller, id, KIND, active).await?;
    one(st, &m).await
}

pub async fn delete(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<UserIdentity> {
    let m = lifecycle::soft_delete(st, caller, id, KIND).await?;
    one(st, &m).await
}

/// Clears the second-factor enrolment (the user sets it up again at the next
/// login) and records who reset it and when.
pub async fn reset_mfa(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<()> {
    let row = access::changeable(st, caller, id, KIND, action::UPDATE_RESET_MFA).await?;
    let by = caller.identity_id().as_uuid();
    let mut w = st.work.begin().await?;
    let now = w.now();
    let mut am = row.into_active_model();
    am.mfa_enrolled = Set(false);
    am.mfa_reset_at = Set(Some(now));
    am.mfa_reset_by = Set(Some(by));
    am.updated_at = Set(Some(now));
    let m = am.update(w.txn()).await?;
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityUpdated(IdentityData {
            mfa_reset: Some(true),
            mfa_reset_by: Some(IdentityId(by)),
            ..events::identity(&m)
        }),
    )?;
    w.commit().await
}

/// Links a login at an identity provider of the identity's organization to the
/// user. One mapping per external subject and provider (409).
pub async fn map(st: &AppState, caller: &Caller, id: Uuid, req: MapLogin) -> ApiResult<()> {
    let row = access::changeable(st, caller, id, KIND, action::UPDATE).await?;
    let subject = validate::text("auth0UserId", &req.auth0_user_id, 255)?;
    // An identity provider of the organization, or one of its OpenID providers
    // (whose ID tokens the token-exchange grant maps through this mapping).
    let org_of_provider = store::organization_of_provider(&st.db, req.identity_provider_id).await?;
    if org_of_provider != Some(row.organization_id) {
        return Err(ApiError::invalid(
            "identityProviderId",
            "no such identity provider in the identity's organization",
        ));
    }
    let conflict = "this login is already mapped to an identity";
    let mut w = st.work.begin().await?;
    let map = mapping::Model {
        id: Uuid::new_v4(),
        identity_id: row.id,
        external_subject: subject,
        identity_provider_id: req.identity_provider_id,
        created_at: w.now(),
        created_by: Some(caller.identity_id().as_uuid()),
    };
    mapping::Entity::insert(map.clone().into_active_model())
        .exec_without_returning(w.txn())
        .await
        .map_err(|e| ApiError::from_db_conflict(e, conflict))?;
    w.enqueue_event(
        Some(OrganizationId(row.organization_id)),
        &Event::IdentityUpdated(IdentityData {
            mapping_added: Some(MappingAdded {
                id: map.id,
                auth0_user_id: map.external_subject.clone(),
                identity_provider_id: map.identity_provider_id,
            }),
            ..events::identity(&row)
        }),
    )?;
    w.commit().await.map_err(|e| {
        if e.status() == 409 {
            ApiError::conflict(conflict)
        } else {
            e
        }
    })
}
