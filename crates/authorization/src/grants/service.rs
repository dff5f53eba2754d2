//! What the grant endpoints do (their handlers in `routes` call these): the grant
//! rule ([`crate::grant_rule`]), the change and its events in one unit of work,
//! and the cache drops once it is committed.

use idp_model::authorization::{Grant, NewActionGrant, NewRoleGrant, RoleGrantReplacement};
use idp_model::authz::EffectivePermission;
use idp_model::{GrantId, IdentityId, OrganizationId, RoleId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde_json::Value;
use uuid::Uuid;

use super::store;
use super::types::{GrantFilter, Kind};
use crate::domain::{self, holds, is_super_admin, live_grant, path_of, NewGrant, Target};
use crate::grant_rule::{self, Change, Gives};
use crate::query::page;
use crate::state::AppState;
use crate::store::{grant, role};
use crate::validate::valid_path;
use idp_model::catalog::action;

pub const RESOURCE: &str = idp_model::catalog::GRANT.code;
const SORTABLE: &[&str] = &[
    "identityId",
    "roleId",
    "roleName",
    "resourceActionId",
    "organizationId",
    "createdAt",
    "lastModified",
];
/// The 409 of a grant the identity already holds in that scope.
const DUPLICATE: &str = "the identity already holds this grant in this scope";

/// The caller may see a grant: its own, or `grant:read` covering its scope.
fn visible(perms: &[EffectivePermission], caller: &Caller, g: &grant::Model) -> bool {
    g.identity_id == caller.identity_id().as_uuid()
        || holds(
            perms,
            RESOURCE,
            action::READ,
            g.organization_id.map(OrganizationId),
            &path_of(g),
        )
}

/// A live grant of `kind` that `known` lets the caller see; else 404.
async fn live_grant_if(
    st: &AppState,
    id: Uuid,
    kind: Kind,
    known: impl FnOnce(&grant::Model) -> bool,
) -> ApiResult<grant::Model> {
    let g = live_grant(&st.db, id).await?;
    let kind_ok = match kind {
        Kind::Role => g.role_id.is_some(),
        Kind::Action => g.resource_action_id.is_some(),
        Kind::Any => true,
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
    kind: Kind,
) -> ApiResult<grant::Model> {
    live_grant_if(st, id, kind, |g| visible(perms, caller, g)).await
}

/// A live grant the caller may change, by the rule of every change: 404 unless it
/// can see it or holds some action on grants in its scope (the check of the action
/// itself, 403, is the caller's).
async fn changeable_grant(
    st: &AppState,
    caller: &Caller,
    perms: &[EffectivePermission],
    id: Uuid,
    kind: Kind,
) -> ApiResult<grant::Model> {
    live_grant_if(st, id, kind, |g| {
        visible(perms, caller, g)
            || idp_runtime::authz::holds_any(
                perms,
                RESOURCE,
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
    store::role(&st.db, role_id.as_uuid())
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
            let name = store::role(&st.db, r)
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

/// The wire form of a grant just made.
fn made(g: &grant::Model, role_name: Option<String>) -> Grant {
    let mut names = std::collections::HashMap::new();
    if let (Some(r), Some(n)) = (g.role_id, role_name) {
        names.insert(r, n);
    }
    domain::view(g, &names)
}

/// `POST /identity-roles`.
pub async fn create_role_grant(
    st: &AppState,
    caller: &Caller,
    body: NewRoleGrant,
) -> ApiResult<Grant> {
    let path = body.path.unwrap_or_default();
    valid_path("path", &path)?;
    let perms = st.authz.permissions(caller).await?;
    let r = live_role(st, body.role_id).await?;
    // A scope given is checked first (a 400 before the rule), a derived one after.
    if let Some(o) = body.organization_id {
        grantable_in(&r, o)?;
    }
    let gives = grant_rule::role_gives(&st.db, r.id, &r.name).await?;
    let org = scope_and_check(
        st,
        caller,
        &perms,
        body.identity_id,
        body.organization_id,
        &path,
        &gives,
    )
    .await?;
    grantable_in(&r, org)?;
    let mut w = st.work.begin().await?;
    let g = domain::insert_grant_in(
        &mut w,
        NewGrant {
            identity: body.identity_id.as_uuid(),
            target: Target::Role(r.id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        Some(&r.name),
        DUPLICATE,
    )
    .await?;
    st.grants_changed(&mut w, body.identity_id);
    w.commit().await?;
    Ok(made(&g, Some(r.name)))
}

/// `POST /identity-resource-actions`.
pub async fn create_action_grant(
    st: &AppState,
    caller: &Caller,
    body: NewActionGrant,
) -> ApiResult<Grant> {
    let path = body.path.unwrap_or_default();
    valid_path("path", &path)?;
    let perms = st.authz.permissions(caller).await?;
    let id = body.resource_action_id.as_uuid();
    let gives = grant_rule::action_gives(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::invalid("resourceActionId", "no such resource action"))?;
    let org = scope_and_check(
        st,
        caller,
        &perms,
        body.identity_id,
        body.organization_id,
        &path,
        &gives,
    )
    .await?;
    let mut w = st.work.begin().await?;
    let g = domain::insert_grant_in(
        &mut w,
        NewGrant {
            identity: body.identity_id.as_uuid(),
            target: Target::Action(id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        None,
        DUPLICATE,
    )
    .await?;
    st.grants_changed(&mut w, body.identity_id);
    w.commit().await?;
    Ok(made(&g, None))
}

/// Revokes a grant of `kind` the caller can see (else 404) with `grant:delete`
/// over its scope (else 403); immutable grants are 409.
pub async fn revoke(st: &AppState, caller: &Caller, id: GrantId, kind: Kind) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    let g = changeable_grant(st, caller, &perms, id.as_uuid(), kind).await?;
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
    let mut w = st.work.begin().await?;
    domain::revoke_in(&mut w, g).await?;
    st.grants_changed(&mut w, identity);
    w.commit().await?;
    Ok(())
}

/// `PUT /identity-roles/{id}` `{roleId}`: replaces the grant's role by another in
/// one transaction, keeping identity and scope. Answers the new grant.
pub async fn replace_role_grant(
    st: &AppState,
    caller: &Caller,
    id: GrantId,
    body: RoleGrantReplacement,
) -> ApiResult<Grant> {
    let perms = st.authz.permissions(caller).await?;
    let old = changeable_grant(st, caller, &perms, id.as_uuid(), Kind::Role).await?;
    let org = old.organization_id.map(OrganizationId);
    let path = path_of(&old);
    grant_rule::check(&perms, Change::Take, org, &path, &gives_of(st, &old).await?)?;
    if old.is_immutable {
        return Err(ApiError::conflict(
            "this grant is immutable (a system grant) and cannot be replaced",
        ));
    }
    if old.role_id == Some(body.role_id.as_uuid()) {
        return Err(ApiError::conflict("the grant already gives this role"));
    }
    let r = live_role(st, body.role_id).await?;
    grantable_in(&r, org)?;
    grant_rule::check(
        &perms,
        Change::Give,
        org,
        &path,
        &grant_rule::role_gives(&st.db, r.id, &r.name).await?,
    )?;
    let identity = old.identity_id;
    let mut w = st.work.begin().await?;
    domain::revoke_in(&mut w, old).await?;
    let g = domain::insert_grant_in(
        &mut w,
        NewGrant {
            identity,
            target: Target::Role(r.id),
            organization: org.map(|o| o.as_uuid()),
            path,
            immutable: false,
            created_by: Some(caller.identity_id().as_uuid()),
        },
        Some(&r.name),
        DUPLICATE,
    )
    .await?;
    st.grants_changed(&mut w, IdentityId(identity));
    w.commit().await?;
    Ok(made(&g, Some(r.name)))
}

/// A grant of `kind` the caller can see, or 404.
pub async fn get(st: &AppState, caller: &Caller, id: GrantId, kind: Kind) -> ApiResult<Grant> {
    let perms = st.authz.permissions(caller).await?;
    let g = visible_grant(st, caller, &perms, id.as_uuid(), kind).await?;
    let mut v = domain::views(&st.db, vec![g]).await?;
    v.pop().ok_or_else(|| ApiError::not_found("no such grant"))
}

/// Live grants of `kind` matching the filter, those the caller can see.
pub async fn list(
    st: &AppState,
    caller: &Caller,
    f: GrantFilter,
    params: PageParams,
    kind: Kind,
) -> ApiResult<Paged<Value>> {
    let perms = st.authz.permissions(caller).await?;
    let rows: Vec<grant::Model> = store::find_live(&st.db, f, kind)
        .await?
        .into_iter()
        .filter(|g| visible(&perms, caller, g))
        .collect();
    page(domain::views(&st.db, rows).await?, params, SORTABLE)
}
