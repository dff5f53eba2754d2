//! What the `/auth/v1/roles/**` endpoints do (their handlers in `routes` call
//! these): access checks, the change and its events in one unit of work.

use std::collections::HashSet;

use idp_model::authorization::{NewRole, Role, RoleType, RoleUpdate};
use idp_model::authz::EffectivePermission;
use idp_model::{OrganizationId, RoleId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{ActiveValue::Set, IntoActiveModel};
use serde_json::Value;
use uuid::Uuid;

use super::store::{self, is_standard};
use super::types::RoleFilter;
use crate::domain::{holds, holds_anywhere, role_action_ids};
use crate::query::page;
use crate::state::AppState;
use crate::store::role;
use crate::validate::{valid_description, MAX_NAME};
use idp_model::catalog::action;

pub const RESOURCE: &str = idp_model::catalog::ROLE.code;

fn visible(perms: &[EffectivePermission], r: &role::Model) -> bool {
    match r.organization_id {
        None => holds_anywhere(perms, RESOURCE, action::READ),
        Some(o) => holds(perms, RESOURCE, action::READ, Some(OrganizationId(o)), &[]),
    }
}

/// A live role the caller may read, or 404.
async fn visible_role(
    st: &AppState,
    perms: &[EffectivePermission],
    id: Uuid,
) -> ApiResult<role::Model> {
    match store::find(&st.db, id).await? {
        Some(r) if r.deleted_at.is_none() && visible(perms, &r) => Ok(r),
        _ => Err(ApiError::not_found("no such role")),
    }
}

/// A live role the caller may change, by the rule of every change: 404 unless it
/// may read the role or holds some action on roles in the role's organization
/// (then 403 is left to the caller's check of the action itself).
async fn changeable_role(
    st: &AppState,
    perms: &[EffectivePermission],
    id: Uuid,
) -> ApiResult<role::Model> {
    match store::find(&st.db, id).await? {
        Some(r)
            if r.deleted_at.is_none()
                && (visible(perms, &r)
                    || idp_runtime::authz::holds_any(
                        perms,
                        RESOURCE,
                        r.organization_id.map(OrganizationId),
                        &[],
                    )) =>
        {
            Ok(r)
        }
        _ => Err(ApiError::not_found("no such role")),
    }
}

async fn check_actions(st: &AppState, ids: &[idp_model::ResourceActionId]) -> ApiResult<Vec<Uuid>> {
    store::existing_actions(&st.db, ids).await?.ok_or_else(|| {
        ApiError::invalid(
            "resourceActionIds",
            "names a resource action that does not exist",
        )
    })
}

/// A role can only carry actions its author holds in the role's organization (else
/// its holders would get what the author could not grant).
async fn require_holds_all(
    st: &AppState,
    perms: &[EffectivePermission],
    org: OrganizationId,
    actions: &[Uuid],
) -> ApiResult<()> {
    let found = crate::domain::actions_with_types(&st.db, actions).await?;
    if let Some((a, t)) = found
        .values()
        .find(|(a, t)| !holds(perms, t, &a.code, Some(org), &[]))
    {
        return Err(ApiError::forbidden(format!(
            "a role can only carry actions you hold in its organization; you do not hold {t}:{}",
            a.code
        )));
    }
    Ok(())
}

fn valid_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME {
        Err(ApiError::invalid(
            "name",
            format!("1-{MAX_NAME} characters"),
        ))
    } else {
        Ok(n.to_string())
    }
}

fn name_conflict() -> ApiError {
    ApiError::conflict("a role with this name exists in this organization")
}

pub async fn list(
    st: &AppState,
    caller: &Caller,
    f: RoleFilter,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    let perms = st.authz.permissions(caller).await?;
    if !holds_anywhere(&perms, RESOURCE, action::READ) {
        return Err(ApiError::forbidden("not allowed to read role"));
    }
    let name = f.name.map(|n| n.to_lowercase());
    let rows: Vec<role::Model> = store::list_live(&st.db, f.role_type, f.organization_id)
        .await?
        .into_iter()
        .filter(|r| visible(&perms, r))
        .filter(|r| name.as_ref().is_none_or(|n| r.name.to_lowercase() == *n))
        .collect();
    page(
        store::views(&st.db, rows).await?,
        params,
        &[
            "name",
            "roleType",
            "organizationId",
            "createdAt",
            "lastModified",
        ],
    )
}

pub async fn get(st: &AppState, caller: &Caller, id: RoleId) -> ApiResult<Role> {
    let perms = st.authz.permissions(caller).await?;
    let r = visible_role(st, &perms, id.as_uuid()).await?;
    let mut v = store::views(&st.db, vec![r]).await?;
    v.pop().ok_or_else(|| ApiError::not_found("no such role"))
}

pub async fn create(st: &AppState, caller: &Caller, body: NewRole) -> ApiResult<Role> {
    let perms = st.authz.permissions(caller).await?;
    let org = body.organization_id.unwrap_or(caller.organization_id());
    if !holds(&perms, RESOURCE, action::CREATE, Some(org), &[]) {
        return Err(ApiError::forbidden("not allowed to create role here"));
    }
    let name = valid_name(&body.name)?;
    valid_description(body.description.as_deref())?;
    let mut actions: HashSet<Uuid> = check_actions(st, &body.resource_action_ids)
        .await?
        .into_iter()
        .collect();
    if let Some(base) = body.base_role_id {
        let b = match store::find(&st.db, base.as_uuid()).await? {
            Some(b)
                if b.deleted_at.is_none()
                    && b.organization_id.is_none_or(|o| o == org.as_uuid())
                    && visible(&perms, &b) =>
            {
                b
            }
            _ => {
                return Err(ApiError::invalid(
                    "baseRoleId",
                    "no such role (a standard role or one of this organization)",
                ))
            }
        };
        actions.extend(
            role_action_ids(&st.db, &[b.id])
                .await?
                .remove(&b.id)
                .unwrap_or_default(),
        );
    }
    let actions: Vec<Uuid> = actions.into_iter().collect();
    require_holds_all(st, &perms, org, &actions).await?;
    if store::name_taken(&st.db, org.as_uuid(), &name, None).await? {
        return Err(name_conflict());
    }
    let w = st.work.begin().await?;
    let now = w.now();
    let r = store::insert(
        w.txn(),
        role::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name),
            role_type: Set(RoleType::Custom.as_str().into()),
            organization_id: Set(Some(org.as_uuid())),
            base_role_id: Set(body.base_role_id.map(|b| b.as_uuid())),
            description: Set(body.description),
            created_by: Set(Some(caller.identity_id().as_uuid())),
            created_at: Set(now),
            last_modified: Set(Some(now)),
            deleted_at: Set(None),
        },
    )
    .await?;
    store::replace_actions(w.txn(), r.id, &actions).await?;
    w.commit().await?;
    Ok(store::view(r, actions))
}

pub async fn update(
    st: &AppState,
    caller: &Caller,
    id: RoleId,
    body: RoleUpdate,
) -> ApiResult<Role> {
    let perms = st.authz.permissions(caller).await?;
    let r = changeable_role(st, &perms, id.as_uuid()).await?;
    if is_standard(&r) {
        return Err(ApiError::conflict("standard roles cannot be changed"));
    }
    let org = r.organization_id.map(OrganizationId);
    if !holds(&perms, RESOURCE, action::UPDATE, org, &[]) {
        return Err(ApiError::forbidden("not allowed to update role here"));
    }
    let name = match &body.name {
        Some(n) => Some(valid_name(n)?),
        None => None,
    };
    valid_description(body.description.as_deref())?;
    if let (Some(n), Some(o)) = (&name, r.organization_id) {
        if store::name_taken(&st.db, o, n, Some(r.id)).await? {
            return Err(name_conflict());
        }
    }
    let actions = match &body.resource_action_ids {
        Some(ids) => Some(check_actions(st, ids).await?),
        None => None,
    };
    if let (Some(a), Some(o)) = (&actions, org) {
        require_holds_all(st, &perms, o, a).await?;
        // Taking actions out of a role takes them from every holder: the grant
        // rule's other side, only what the caller holds itself.
        let removed: Vec<Uuid> = role_action_ids(&st.db, &[r.id])
            .await?
            .remove(&r.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|old| !a.contains(old))
            .collect();
        let found = crate::domain::actions_with_types(&st.db, &removed).await?;
        if let Some((a, t)) = found
            .values()
            .find(|(a, t)| !holds(&perms, t, &a.code, Some(o), &[]))
        {
            return Err(ApiError::forbidden(format!(
                "you can only take out of a role actions you hold in its organization; you do not hold {t}:{}",
                a.code
            )));
        }
    }
    let mut w = st.work.begin().await?;
    let mut am = r.into_active_model();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if body.description.is_some() {
        am.description = Set(body.description);
    }
    am.last_modified = Set(Some(w.now()));
    let r = store::update(w.txn(), am).await?;
    if let Some(a) = &actions {
        store::replace_actions(w.txn(), r.id, a).await?;
        crate::domain::role_updated(&mut w, r.id, r.organization_id, Some(a))?;
    }
    // Every holder of the role sees the change on its next request (here at once;
    // other replicas on `role.updated`).
    st.roles_changed(&mut w);
    w.commit().await?;
    let mut v = store::views(&st.db, vec![r]).await?;
    v.pop().ok_or_else(|| ApiError::not_found("no such role"))
}

pub async fn delete(st: &AppState, caller: &Caller, id: RoleId) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    let r = changeable_role(st, &perms, id.as_uuid()).await?;
    if is_standard(&r) {
        return Err(ApiError::conflict("standard roles cannot be deleted"));
    }
    if !holds(
        &perms,
        RESOURCE,
        action::DELETE,
        r.organization_id.map(OrganizationId),
        &[],
    ) {
        return Err(ApiError::forbidden("not allowed to delete role here"));
    }
    if store::live_grants(&st.db, r.id).await? > 0 {
        return Err(ApiError::conflict(
            "the role is granted; revoke its grants first",
        ));
    }
    let w = st.work.begin().await?;
    let now = w.now();
    let mut am = r.into_active_model();
    am.deleted_at = Set(Some(now));
    am.last_modified = Set(Some(now));
    store::update(w.txn(), am).await?;
    w.commit().await?;
    Ok(())
}
