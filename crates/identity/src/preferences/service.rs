//! What the `/identity/v1/identity-preferences/**` endpoints do (their handlers in
//! `routes` call these): access checks and the change, in one unit of work (no
//! event: preferences are this service's own).

use idp_model::identity::IdentityPreference;
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::authz::{ChangeAccess, Scope};
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel,
};
use uuid::Uuid;

use super::store;
use super::types::{CreatePreference, UpdatePreference};
use crate::access::PREFERENCE;
use crate::state::AppState;
use crate::store::{identity, preference};
use crate::views;
use idp_model::catalog::action;

fn not_found() -> ApiError {
    ApiError::not_found("no such identity preference")
}

fn object(field: &str, v: serde_json::Value) -> ApiResult<String> {
    if !v.is_object() {
        return Err(ApiError::invalid(field, "must be a JSON object"));
    }
    Ok(v.to_string())
}

/// A live preference the caller may do `action` on (its own always). Reads need
/// `read`; a change needs only its action. One the caller may not read, or may
/// not change while holding nothing on preferences in its organization, answers as
/// one that does not exist; a change refused to a caller that holds something
/// there is 403.
async fn load(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &str,
) -> ApiResult<preference::Model> {
    let p = store::live(&st.db, id).await?.ok_or_else(not_found)?;
    if p.identity_id == caller.identity_id().as_uuid() {
        return Ok(p);
    }
    let org = Some(OrganizationId(p.organization_id));
    if action == action::READ {
        if !st
            .authz
            .allowed(caller, PREFERENCE, action::READ, org, &[])
            .await?
        {
            return Err(not_found());
        }
    } else {
        st.authz
            .change_access(caller, PREFERENCE, action, org)
            .await?
            .into_result(PREFERENCE, action, "no such identity preference")?;
    }
    Ok(p)
}

pub async fn find(
    st: &AppState,
    caller: &Caller,
    params: PageParams,
) -> ApiResult<Paged<IdentityPreference>> {
    params.allow_sort(store::SORTABLE)?;
    let mut cond =
        Condition::any().add(preference::Column::IdentityId.eq(caller.identity_id().as_uuid()));
    match st.authz.scope(caller, PREFERENCE, action::READ).await? {
        Scope::All => cond = cond.add(preference::Column::Id.is_not_null()),
        Scope::Organizations(orgs) => {
            if !orgs.is_empty() {
                cond = cond.add(
                    preference::Column::OrganizationId
                        .is_in(orgs.iter().map(|o| o.as_uuid()).collect::<Vec<_>>()),
                );
            }
        }
    }
    let (rows, total) = store::page(&st.db, cond, &params).await?;
    Ok(Paged::new(
        rows.iter().map(views::preference).collect(),
        total,
        params,
    ))
}

pub async fn get(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<IdentityPreference> {
    let p = load(st, caller, id, action::READ).await?;
    Ok(views::preference(&p))
}

pub async fn create(
    st: &AppState,
    caller: &Caller,
    req: CreatePreference,
) -> ApiResult<IdentityPreference> {
    let me = caller.identity_id().as_uuid();
    let target = req.user_identity_id.unwrap_or(me);
    let ident = identity::Entity::find_by_id(target)
        .one(&st.db)
        .await?
        .filter(|m| m.deleted_at.is_none());
    let no_such_identity = || ApiError::invalid("userIdentityId", "no such identity");
    let Some(ident) = ident else {
        return Err(no_such_identity());
    };
    if target != me {
        // An identity of an organization where the caller holds nothing on
        // preferences answers as one that does not exist (no existence oracle).
        match st
            .authz
            .change_access(
                caller,
                PREFERENCE,
                action::CREATE,
                Some(OrganizationId(ident.organization_id)),
            )
            .await?
        {
            ChangeAccess::Allowed => {}
            ChangeAccess::Hidden => return Err(no_such_identity()),
            denied @ ChangeAccess::Forbidden => {
                denied.into_result(PREFERENCE, action::CREATE, "no such identity")?
            }
        }
    }
    let prefs = object("preferences", req.preferences)?;
    let w = st.work.begin().await?;
    let now = w.now();
    let p = preference::Model {
        id: Uuid::new_v4(),
        identity_id: target,
        organization_id: ident.organization_id,
        preferences: prefs,
        created_by: Some(me),
        created_at: now,
        updated_at: Some(now),
        deleted_by: None,
        deleted_at: None,
    };
    preference::Entity::insert(p.clone().into_active_model())
        .exec_without_returning(w.txn())
        .await?;
    w.commit().await?;
    Ok(views::preference(&p))
}

pub async fn update(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    req: UpdatePreference,
) -> ApiResult<IdentityPreference> {
    let p = load(st, caller, id, action::UPDATE).await?;
    let prefs = object("preferences", req.preferences)?;
    let w = st.work.begin().await?;
    let mut am = p.into_active_model();
    am.preferences = Set(prefs);
    am.updated_at = Set(Some(w.now()));
    let p = am.update(w.txn()).await?;
    w.commit().await?;
    Ok(views::preference(&p))
}

pub async fn delete(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<IdentityPreference> {
    let p = load(st, caller, id, action::DELETE).await?;
    let w = st.work.begin().await?;
    let now = w.now();
    let mut am = p.into_active_model();
    am.deleted_by = Set(Some(caller.identity_id().as_uuid()));
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(Some(now));
    let p = am.update(w.txn()).await?;
    w.commit().await?;
    Ok(views::preference(&p))
}
