//! What the `/identity/v1/api-account-identities/**` endpoints do (their handlers
//! in `routes` call these): access checks, the change and its events in one unit
//! of work.

use idp_model::events::{Event, IdentityData};
use idp_model::identity::{ApiAccountIdentity, CreatedApiAccount};
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::store::{self, KIND};
use super::types::{CreateApiAccount, FindApiAccounts, UpdateApiAccount};
use crate::access::{self, API};
use crate::events;
use crate::identities::lifecycle;
use crate::state::AppState;
use crate::store::identity;
use crate::{secrets, validate, views};
use idp_model::catalog::action;

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

fn view(st: &AppState, m: &identity::Model) -> ApiAccountIdentity {
    views::api_account(m, &st.token.token_endpoint())
}

pub async fn find(
    st: &AppState,
    caller: &Caller,
    f: FindApiAccounts,
    params: PageParams,
) -> ApiResult<Paged<ApiAccountIdentity>> {
    check_provider(f.provider.as_deref())?;
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.eq(KIND.as_str()))
        .filter(access::read_condition(st, caller, &[KIND]).await?);
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
    let (rows, total) = access::page(st, q, &params).await?;
    let url = st.token.token_endpoint();
    let items = rows.iter().map(|m| views::api_account(m, &url)).collect();
    Ok(Paged::new(items, total, params))
}

pub async fn get(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<ApiAccountIdentity> {
    let m = access::readable(st, caller, id, Some(KIND)).await?;
    Ok(view(st, &m))
}

pub async fn get_by_mapping(
    st: &AppState,
    caller: &Caller,
    client_id: &str,
) -> ApiResult<ApiAccountIdentity> {
    // No client id holds U+0000 (and PostgreSQL cannot compare text with it).
    if client_id.contains('\0') {
        return Err(ApiError::not_found("no such identity"));
    }
    let row = store::by_client_id(&st.db, client_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such identity"))?;
    let m = access::readable(st, caller, row.id, Some(KIND)).await?;
    Ok(view(st, &m))
}

pub async fn create(
    st: &AppState,
    caller: &Caller,
    req: CreateApiAccount,
) -> ApiResult<CreatedApiAccount> {
    st.authz
        .require(
            caller,
            API,
            action::CREATE,
            Some(OrganizationId(req.organization_id)),
        )
        .await?;
    access::require_organization(st, caller, req.organization_id).await?;
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
                caller,
                OrganizationId(req.organization_id),
                "the organization's default roles would be granted to the new account \
                 (grantDefaultRoles, true by default) and you cannot grant them; \
                 create it with grantDefaultRoles: false or ask someone who holds them",
            )
            .await?;
    }
    let client_id = secrets::new_client_id()?;
    let secret = secrets::new_secret()?;
    let mut w = st.work.begin().await?;
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
        .await?;
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityCreated(IdentityData {
            grant_default_roles: Some(grant_default_roles),
            ..events::identity(&m)
        }),
    )?;
    w.commit().await?;
    let url = st.token.token_endpoint();
    Ok(CreatedApiAccount {
        api_account_identity: views::api_account(&m, &url),
        client_id,
        password: secret,
        authentication_url: url,
    })
}

pub async fn update(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    req: UpdateApiAccount,
) -> ApiResult<ApiAccountIdentity> {
    let row = access::changeable(st, caller, id, KIND, action::UPDATE).await?;
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
    let mut w = st.work.begin().await?;
    am.updated_at = Set(Some(w.now()));
    let m = am.update(w.txn()).await?;
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityUpdated(events::identity(&m)),
    )?;
    w.commit().await?;
    Ok(view(st, &m))
}

pub async fn set_active(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    active: bool,
) -> ApiResult<ApiAccountIdentity> {
    let m = lifecycle::set_active(st, caller, id, KIND, active).await?;
    Ok(view(st, &m))
}

pub async fn delete(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<ApiAccountIdentity> {
    let m = lifecycle::soft_delete(st, caller, id, KIND).await?;
    Ok(view(st, &m))
}
