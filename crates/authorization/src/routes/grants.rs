//! Grants: roles (`/identity-roles`) and single actions (`/identity-resource-actions`)
//! given to identities, and `/grants`, every grant that gives an action or role.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use idp_model::authorization::{Grant, NewActionGrant, NewRoleGrant, RoleGrantReplacement};
use idp_model::authz::EffectivePermission;
use idp_model::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{page, valid_path};
use crate::domain::{
    self, holds, insert_grant, is_super_admin, live_grant, path_of, NewGrant, Target,
};
use crate::grant_rule::{self, Change, Gives};
use crate::state::AppState;
use crate::store::{grant, role, role_action};

const G: &str = "grant";
const SORTABLE: &[&str] = &[
    "identityId",
    "roleId",
    "roleName",
    "resourceActionId",
    "organizationId",
    "createdAt",
    "lastModified",
];

/// The caller may see a grant: its own, or `grant:read` covering its scope.
fn visible(perms: &[EffectivePermission], caller: &Caller, g: &grant::Model) -> bool {
    g.identity_id == caller.identity_id().as_uuid()
        || holds(
            perms,
            G,
            "read",
            g.organization_id.map(OrganizationId),
            &path_of(g),
        )
}

/// A live grant of the kind asked for (`Some(true)` role grants, `Some(false)`
/// action grants, `None` either) that `known` lets the caller see; else 404.
async fn live_grant_if(
    st: &AppState,
    id: Uuid,
    role_grant: Option<bool>,
    known: impl FnOnce(&grant::Model) -> bool,
) -> ApiResult<grant::Model> {
    let g = live_grant(&st.db, id).await?;
    let kind_ok = match role_grant {
        Some(true) => g.role_id.is_some(),
        Some(false) => g.resource_action_id.is_some(),
        None => true,
    };
    if kind_ok && known(&g) {
        Ok(g)
    } else {
        Err(ApiError::not_found("no such grant"))
    }
}

async fn visible_grant(
    st: &AppState,
    caller: &Caller,
    perms: &[EffectivePermission],
    id: Uuid,
    role_grant: Option<bool>,
) -> ApiResult<grant::Model> {
    live_grant_if(st, id, role_grant, |g| visible(perms, caller, g)).await
}

/// A live grant the caller may change, by the rule of every change: 404 unless it
/// can see it or holds some action on grants in its scope (the check of the action
/// itself, 403, is the caller's).
async fn changeable_grant(
    st: &AppState,
    caller: &Caller,
    perms: &[EffectivePermission],
    id: Uuid,
    role_grant: Option<bool>,
) -> ApiResult<grant::Model> {
    live_grant_if(st, id, role_grant, |g| {
        visible(perms, caller, g)
            || idp_runtime::authz::holds_any(
                perms,
                G,
                g.organization_id.map(OrganizationId),
                &path_of(g),
            )
    })
    .await
}

/// The scope of a new grant and the check of the identity it names, in an order
/// that tells a caller nothing about identities of organizations it has no say in:
///
/// - scope given: the rule first (it does not depend on the identity), then the
///   identity must be live and, for an organization's grant, of that
///   organization (an organization grants its rights to its own identities
///   only; platform-wide grants, a super admin's, may name anyone);
/// - scope left out: the identity's organization, when the identity is live and
///   the caller holds anything there; else the same "no such identity".
async fn scope_and_check(
    st: &AppState,
    caller: &Caller,
    perms: &[EffectivePermission],
    identity: IdentityId,
    given: Option<Option<OrganizationId>>,
    path: &[String],
    gives: &Gives,
) -> ApiResult<Option<OrganizationId>> {
    let unknown =
        || ApiError::invalid("identityId", "no such identity in the grant's organization");
    if let Some(org) = given {
        grant_rule::check(perms, Change::Give, org, path, gives)?;
    }
    let found = st
        .identities
        .find(&st.db, caller, identity.as_uuid())
        .await?
        .filter(|g| g.live)
        .ok_or_else(unknown)?;
    let home = OrganizationId(found.organization_id);
    match given {
        Some(Some(org)) if org != home => Err(unknown()),
        Some(org) => Ok(org),
        None => {
            let has_say = is_super_admin(perms)
                || perms
                    .iter()
                    .any(|p| p.organization_id.is_none_or(|o| o == home));
            if !has_say {
                return Err(unknown());
            }
            grant_rule::check(perms, Change::Give, Some(home), path, gives)?;
            Ok(Some(home))
        }
    }
}

/// A live role, or a 400 naming `roleId`.
async fn live_role(st: &AppState, role_id: RoleId) -> ApiResult<role::Model> {
    role::Entity::find_by_id(role_id.as_uuid())
        .one(&st.db)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| ApiError::invalid("roleId", "no such role"))
}

/// A custom role can only be granted in its own organization (400 naming `roleId`).
fn grantable_in(r: &role::Model, org: Option<OrganizationId>) -> ApiResult<()> {
    match r.organization_id {
        Some(ro) if org.map(|o| o.as_uuid()) != Some(ro) => Err(ApiError::invalid(
            "roleId",
            "a custom role can only be granted in its own organization",
        )),
        _ => Ok(()),
    }
}

/// What an existing grant gives (for the rule when it is changed or revoked).
async fn gives_of(st: &AppState, g: &grant::Model) -> ApiResult<Gives> {
    match (g.role_id, g.resource_action_id) {
        (Some(r), _) => {
            let name = role::Entity::find_by_id(r)
                .one(&st.db)
                .await?
                .map(|r| r.name)
                .unwrap_or_default();
            Ok(grant_rule::role_gives(&st.db, r, &name).await?)
        }
        (None, Some(a)) => Ok(grant_rule::action_gives(&st.db, a).await?.unwrap_or(Gives {
            role_name: None,
            actions: Vec::new(),
        })),
        (None, None) => Ok(Gives {
            role_name: None,
            actions: Vec::new(),
        }),
    }
}

fn created(g: &grant::Model, role_name: Option<String>) -> (StatusCode, axum::Json<Grant>) {
    let mut names = std::collections::HashMap::new();
    if let (Some(r), Some(n)) = (g.role_id, role_name) {
        names.insert(r, n);
    }
    (StatusCode::CREATED, axum::Json(domain::view(g, &names)))
}

fn duplicate(e: sea_orm::DbErr) -> ApiError {
    ApiError::from_db_conflict(e, "the identity already holds this grant in this scope")
}

pub async fn create_role_grant(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewRoleGrant>,
) -> ApiResult<impl IntoResponse> {
    let path = body.path.unwrap_or_default();
    valid_path("path", &path)?;
    let perms = st.authz.permissions(&caller).await?;
    let r = live_role(&st, body.role_id).await?;
    // A scope given is checked first (a 400 before the rule), a derived one after.
    if let Some(o) = body.organization_id {
        grantable_in(&r, o)?;
    }
    let gives = grant_rule::role_gives(&st.db, r.id, &r.name).await?;
    let org = scope_and_check(
        &st,
        &caller,
        &perms,
        body.identity_id,
        body.organization_id,
        &path,
        &gives,
    )
    .await?;
    grantable_in(&r, org)?;
    let txn = st.db.begin().await?;
    let g = insert_grant(
        &txn,
        NewGrant {
            identity: body.identity_id.as_uuid(),
            target: Target::Role(r.id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        Some(&r.name),
        st.clock.now(),
    )
    .await
    .map_err(duplicate)?;
    txn.commit().await.map_err(duplicate)?;
    st.relay.wake();
    st.grants_changed(body.identity_id);
    Ok(created(&g, Some(r.name)))
}

pub async fn create_action_grant(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewActionGrant>,
) -> ApiResult<impl IntoResponse> {
    let path = body.path.unwrap_or_default();
    valid_path("path", &path)?;
    let perms = st.authz.permissions(&caller).await?;
    let id = body.resource_action_id.as_uuid();
    let gives = grant_rule::action_gives(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::invalid("resourceActionId", "no such resource action"))?;
    let org = scope_and_check(
        &st,
        &caller,
        &perms,
        body.identity_id,
        body.organization_id,
        &path,
        &gives,
    )
    .await?;
    let txn = st.db.begin().await?;
    let g = insert_grant(
        &txn,
        NewGrant {
            identity: body.identity_id.as_uuid(),
            target: Target::Action(id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        None,
        st.clock.now(),
    )
    .await
    .map_err(duplicate)?;
    txn.commit().await.map_err(duplicate)?;
    st.relay.wake();
    st.grants_changed(body.identity_id);
    Ok(created(&g, None))
}

/// Revokes a grant the caller can see (else 404) with `grant:delete` over its
/// scope (else 403); immutable grants are 409.
async fn revoke(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    role_grant: Option<bool>,
) -> ApiResult<StatusCode> {
    let perms = st.authz.permissions(caller).await?;
    let g = changeable_grant(st, caller, &perms, id, role_grant).await?;
    grant_rule::check(
        &perms,
        Change::Take,
        g.organization_id.map(OrganizationId),
        &path_of(&g),
        &gives_of(st, &g).await?,
    )?;
    if g.is_immutable {
        return Err(ApiError::conflict(
            "this grant is immutable (a system grant) and cannot be revoked",
        ));
    }
    let identity = IdentityId(g.identity_id);
    let txn = st.db.begin().await?;
    domain::revoke(&txn, g, st.clock.now()).await?;
    st.relay.commit(txn).await?;
    st.grants_changed(identity);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_role_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<StatusCode> {
    revoke(&st, &caller, id.as_uuid(), Some(true)).await
}

pub async fn delete_action_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<StatusCode> {
    revoke(&st, &caller, id.as_uuid(), Some(false)).await
}

/// `PUT /identity-roles/{id}` `{roleId}`: replaces the grant's role by another in
/// one transaction, keeping identity and scope. Answers the new grant.
pub async fn replace_role_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
    Json(body): Json<RoleGrantReplacement>,
) -> ApiResult<impl IntoResponse> {
    let perms = st.authz.permissions(&caller).await?;
    let old = changeable_grant(&st, &caller, &perms, id.as_uuid(), Some(true)).await?;
    let org = old.organization_id.map(OrganizationId);
    let path = path_of(&old);
    grant_rule::check(
        &perms,
        Change::Take,
        org,
        &path,
        &gives_of(&st, &old).await?,
    )?;
    if old.is_immutable {
        return Err(ApiError::conflict(
            "this grant is immutable (a system grant) and cannot be replaced",
        ));
    }
    if old.role_id == Some(body.role_id.as_uuid()) {
        return Err(ApiError::conflict("the grant already gives this role"));
    }
    let r = live_role(&st, body.role_id).await?;
    grantable_in(&r, org)?;
    grant_rule::check(
        &perms,
        Change::Give,
        org,
        &path,
        &grant_rule::role_gives(&st.db, r.id, &r.name).await?,
    )?;
    let identity = old.identity_id;
    let now = st.clock.now();
    let txn = st.db.begin().await?;
    domain::revoke(&txn, old, now).await?;
    let g = insert_grant(
        &txn,
        NewGrant {
            identity,
            target: Target::Role(r.id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        Some(&r.name),
        now,
    )
    .await
    .map_err(duplicate)?;
    txn.commit().await.map_err(duplicate)?;
    st.relay.wake();
    st.grants_changed(IdentityId(identity));
    let (_, body) = created(&g, Some(r.name));
    Ok((StatusCode::OK, body))
}

async fn get_kind(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    role_grant: Option<bool>,
) -> ApiResult<axum::Json<Grant>> {
    let perms = st.authz.permissions(caller).await?;
    let g = visible_grant(st, caller, &perms, id, role_grant).await?;
    let mut v = domain::views(&st.db, vec![g]).await?;
    v.pop()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("no such grant"))
}

pub async fn get_role_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<axum::Json<Grant>> {
    get_kind(&st, &caller, id.as_uuid(), Some(true)).await
}

pub async fn get_action_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<axum::Json<Grant>> {
    get_kind(&st, &caller, id.as_uuid(), Some(false)).await
}

pub async fn get_grant(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<GrantId>,
) -> ApiResult<axum::Json<Grant>> {
    get_kind(&st, &caller, id.as_uuid(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantFilter {
    identity_id: Option<IdentityId>,
    role_id: Option<RoleId>,
    resource_action_id: Option<ResourceActionId>,
    organization_id: Option<OrganizationId>,
}

/// Live grants matching the filter, visible to the caller. `kind`: Some(true) role
/// grants only, Some(false) action grants only, None both — and then a
/// `resourceActionId` filter also finds the roles that carry the action.
async fn find(
    st: &AppState,
    caller: &Caller,
    f: GrantFilter,
    kind: Option<bool>,
) -> ApiResult<Vec<Grant>> {
    let perms = st.authz.permissions(caller).await?;
    let mut q = grant::Entity::find()
        .filter(grant::Column::RevokedAt.is_null())
        .order_by_asc(grant::Column::CreatedAt)
        .order_by_asc(grant::Column::Id);
    match kind {
        Some(true) => q = q.filter(grant::Column::RoleId.is_not_null()),
        Some(false) => q = q.filter(grant::Column::ResourceActionId.is_not_null()),
        None => {}
    }
    if let Some(i) = f.identity_id {
        q = q.filter(grant::Column::IdentityId.eq(i.as_uuid()));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(grant::Column::OrganizationId.eq(o.as_uuid()));
    }
    if let Some(r) = f.role_id {
        q = q.filter(grant::Column::RoleId.eq(r.as_uuid()));
    }
    if let Some(a) = f.resource_action_id {
        if kind.is_none() {
            // Directly, or through a role that carries the action.
            let roles: HashSet<Uuid> = role_action::Entity::find()
                .filter(role_action::Column::ResourceActionId.eq(a.as_uuid()))
                .all(&st.db)
                .await?
                .into_iter()
                .map(|ra| ra.role_id)
                .collect();
            let mut cond = Condition::any().add(grant::Column::ResourceActionId.eq(a.as_uuid()));
            if !roles.is_empty() {
                cond = cond.add(grant::Column::RoleId.is_in(roles.into_iter().collect::<Vec<_>>()));
            }
            q = q.filter(cond);
        } else {
            q = q.filter(grant::Column::ResourceActionId.eq(a.as_uuid()));
        }
    }
    let rows: Vec<grant::Model> = q
        .all(&st.db)
        .await?
        .into_iter()
        .filter(|g| visible(&perms, caller, g))
        .collect();
    Ok(domain::views(&st.db, rows).await?)
}

pub async fn list_grants(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    page(find(&st, &caller, f, None).await?, params, SORTABLE)
}

pub async fn list_role_grants(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    page(find(&st, &caller, f, Some(true)).await?, params, SORTABLE)
}

pub async fn list_action_grants(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<GrantFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    page(find(&st, &caller, f, Some(false)).await?, params, SORTABLE)
}
