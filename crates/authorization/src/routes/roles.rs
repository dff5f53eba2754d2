//! Roles: the standard (seeded, immutable) ones and custom roles of an organization.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use idp_model::authorization::{NewRole, Role, RoleType, RoleUpdate};
use idp_model::authz::EffectivePermission;
use idp_model::{OrganizationId, ResourceActionId, RoleId, Timestamp};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::page;
use crate::domain::{holds, holds_anywhere, role_action_ids};
use crate::state::AppState;
use crate::store::{grant, resource_action, role, role_action};

const R: &str = "role";

fn is_standard(r: &role::Model) -> bool {
    r.role_type == RoleType::Standard.as_str()
}

fn visible(perms: &[EffectivePermission], r: &role::Model) -> bool {
    match r.organization_id {
        None => holds_anywhere(perms, R, "read"),
        Some(o) => holds(perms, R, "read", Some(OrganizationId(o)), &[]),
    }
}

fn view(r: role::Model, actions: Vec<Uuid>) -> Role {
    let mut ids: Vec<ResourceActionId> = actions.into_iter().map(ResourceActionId).collect();
    ids.sort();
    Role {
        id: RoleId(r.id),
        role_type: if is_standard(&r) {
            RoleType::Standard
        } else {
            RoleType::Custom
        },
        name: r.name,
        organization_id: r.organization_id.map(OrganizationId),
        base_role_id: r.base_role_id.map(RoleId),
        description: r.description,
        resource_action_ids: ids,
        created_at: Timestamp::from(r.created_at),
        last_modified: r.last_modified.map(Timestamp::from),
    }
}

async fn views(st: &AppState, roles: Vec<role::Model>) -> ApiResult<Vec<Role>> {
    let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
    let mut by_role = role_action_ids(&st.db, &ids).await?;
    Ok(roles
        .into_iter()
        .map(|r| {
            let a = by_role.remove(&r.id).unwrap_or_default();
            view(r, a)
        })
        .collect())
}

/// A live role the caller may read, or 404.
async fn visible_role(
    st: &AppState,
    perms: &[EffectivePermission],
    id: Uuid,
) -> ApiResult<role::Model> {
    match role::Entity::find_by_id(id).one(&st.db).await? {
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
    match role::Entity::find_by_id(id).one(&st.db).await? {
        Some(r)
            if r.deleted_at.is_none()
                && (visible(perms, &r)
                    || idp_runtime::authz::holds_any(
                        perms,
                        R,
                        r.organization_id.map(OrganizationId),
                        &[],
                    )) =>
        {
            Ok(r)
        }
        _ => Err(ApiError::not_found("no such role")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleFilter {
    organization_id: Option<OrganizationId>,
    role_type: Option<RoleType>,
    name: Option<String>,
}

pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<RoleFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    let perms = st.authz.permissions(&caller).await?;
    if !holds_anywhere(&perms, R, "read") {
        return Err(ApiError::forbidden("not allowed to read role"));
    }
    let mut q = role::Entity::find()
        .filter(role::Column::DeletedAt.is_null())
        .order_by_asc(role::Column::RoleType)
        .order_by_asc(role::Column::Name);
    if let Some(t) = f.role_type {
        q = q.filter(role::Column::RoleType.eq(t.as_str()));
    }
    if let Some(o) = f.organization_id {
        // An organization's roles: its custom roles and the standard ones.
        q = q.filter(
            sea_orm::Condition::any()
                .add(role::Column::OrganizationId.eq(o.as_uuid()))
                .add(role::Column::OrganizationId.is_null()),
        );
    }
    let name = f.name.map(|n| n.to_lowercase());
    let rows: Vec<role::Model> = q
        .all(&st.db)
        .await?
        .into_iter()
        .filter(|r| visible(&perms, r))
        .filter(|r| name.as_ref().is_none_or(|n| r.name.to_lowercase() == *n))
        .collect();
    page(
        views(&st, rows).await?,
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

pub async fn get_one(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
) -> ApiResult<axum::Json<Role>> {
    let perms = st.authz.permissions(&caller).await?;
    let r = visible_role(&st, &perms, id.as_uuid()).await?;
    let mut v = views(&st, vec![r]).await?;
    v.pop()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("no such role"))
}

async fn check_actions(st: &AppState, ids: &[ResourceActionId]) -> ApiResult<Vec<Uuid>> {
    let wanted: HashSet<Uuid> = ids.iter().map(|a| a.as_uuid()).collect();
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    if wanted.is_empty() {
        return Ok(wanted);
    }
    let found = resource_action::Entity::find()
        .filter(resource_action::Column::Id.is_in(wanted.clone()))
        .count(&st.db)
        .await?;
    if found != wanted.len() as u64 {
        return Err(ApiError::invalid(
            "resourceActionIds",
            "names a resource action that does not exist",
        ));
    }
    Ok(wanted)
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

/// The longest name of a role, resource type or resource action, in characters.
pub const MAX_NAME: usize = 255;
/// The longest description of a role, resource type or resource action.
pub const MAX_DESCRIPTION: usize = 4000;

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

/// A description of at most [`MAX_DESCRIPTION`] characters (400 naming `description`).
pub fn valid_description(d: Option<&str>) -> ApiResult<()> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(ApiError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        )),
        _ => Ok(()),
    }
}

async fn name_taken(st: &AppState, org: Uuid, name: &str, except: Option<Uuid>) -> ApiResult<bool> {
    let lower = name.to_lowercase();
    Ok(role::Entity::find()
        .filter(role::Column::DeletedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(role::Column::OrganizationId.eq(org))
                .add(role::Column::OrganizationId.is_null()),
        )
        .all(&st.db)
        .await?
        .iter()
        .any(|r| Some(r.id) != except && r.name.to_lowercase() == lower))
}

async fn replace_actions<C: sea_orm::ConnectionTrait>(
    txn: &C,
    role_id: Uuid,
    actions: &[Uuid],
) -> ApiResult<()> {
    role_action::Entity::delete_many()
        .filter(role_action::Column::RoleId.eq(role_id))
        .exec(txn)
        .await?;
    if !actions.is_empty() {
        role_action::Entity::insert_many(actions.iter().map(|a| role_action::ActiveModel {
            role_id: Set(role_id),
            resource_action_id: Set(*a),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewRole>,
) -> ApiResult<impl IntoResponse> {
    let perms = st.authz.permissions(&caller).await?;
    let org = body.organization_id.unwrap_or(caller.organization_id());
    if !holds(&perms, R, "create", Some(org), &[]) {
        return Err(ApiError::forbidden("not allowed to create role here"));
    }
    let name = valid_name(&body.name)?;
    valid_description(body.description.as_deref())?;
    let mut actions: HashSet<Uuid> = check_actions(&st, &body.resource_action_ids)
        .await?
        .into_iter()
        .collect();
    if let Some(base) = body.base_role_id {
        let b = match role::Entity::find_by_id(base.as_uuid()).one(&st.db).await? {
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
    require_holds_all(&st, &perms, org, &actions).await?;
    if name_taken(&st, org.as_uuid(), &name, None).await? {
        return Err(ApiError::conflict(
            "a role with this name exists in this organization",
        ));
    }
    let now = st.clock.now();
    let txn = st.db.begin().await?;
    let r = role::ActiveModel {
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
    }
    .insert(&txn)
    .await?;
    replace_actions(&txn, r.id, &actions).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(view(r, actions))))
}

pub async fn update(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
    Json(body): Json<RoleUpdate>,
) -> ApiResult<axum::Json<Role>> {
    let perms = st.authz.permissions(&caller).await?;
    let r = changeable_role(&st, &perms, id.as_uuid()).await?;
    if is_standard(&r) {
        return Err(ApiError::conflict("standard roles cannot be changed"));
    }
    let org = r.organization_id.map(OrganizationId);
    if !holds(&perms, R, "update", org, &[]) {
        return Err(ApiError::forbidden("not allowed to update role here"));
    }
    let name = match &body.name {
        Some(n) => Some(valid_name(n)?),
        None => None,
    };
    valid_description(body.description.as_deref())?;
    if let (Some(n), Some(o)) = (&name, r.organization_id) {
        if name_taken(&st, o, n, Some(r.id)).await? {
            return Err(ApiError::conflict(
                "a role with this name exists in this organization",
            ));
        }
    }
    let actions = match &body.resource_action_ids {
        Some(ids) => Some(check_actions(&st, ids).await?),
        None => None,
    };
    if let (Some(a), Some(o)) = (&actions, org) {
        require_holds_all(&st, &perms, o, a).await?;
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
    let txn = st.db.begin().await?;
    let mut am = r.into_active_model();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if body.description.is_some() {
        am.description = Set(body.description);
    }
    am.last_modified = Set(Some(st.clock.now()));
    let r = am.update(&txn).await?;
    if let Some(a) = &actions {
        replace_actions(&txn, r.id, a).await?;
        crate::domain::role_updated(&txn, r.id, r.organization_id, Some(a), st.clock.now()).await?;
    }
    st.relay.commit(txn).await?;
    // Every holder of the role sees the change on its next request (here at once;
    // other replicas on `role.updated`).
    st.roles_changed();
    let mut v = views(&st, vec![r]).await?;
    v.pop()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("no such role"))
}

pub async fn delete(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<RoleId>,
) -> ApiResult<StatusCode> {
    let perms = st.authz.permissions(&caller).await?;
    let r = changeable_role(&st, &perms, id.as_uuid()).await?;
    if is_standard(&r) {
        return Err(ApiError::conflict("standard roles cannot be deleted"));
    }
    if !holds(
        &perms,
        R,
        "delete",
        r.organization_id.map(OrganizationId),
        &[],
    ) {
        return Err(ApiError::forbidden("not allowed to delete role here"));
    }
    let live = grant::Entity::find()
        .filter(grant::Column::RoleId.eq(r.id))
        .filter(grant::Column::RevokedAt.is_null())
        .count(&st.db)
        .await?;
    if live > 0 {
        return Err(ApiError::conflict(
            "the role is granted; revoke its grants first",
        ));
    }
    let mut am = r.into_active_model();
    let now = st.clock.now();
    am.deleted_at = Set(Some(now));
    am.last_modified = Set(Some(now));
    am.update(&st.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
