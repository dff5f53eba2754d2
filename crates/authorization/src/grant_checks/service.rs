//! What `POST /auth/v1/grant-checks` does (its handler in `routes` calls
//! [`check`]): whether the caller may give roles in an
//! organization, by the one grant rule ([`crate::grant_rule`]). Services ask it
//! before a change whose grants are made later by event (an identity's default
//! roles, a default role granted to everyone), so that the caller gets a 403
//! naming the role instead of an escalation or a grant that silently never comes.

use idp_model::authorization::{GrantCheck, GrantCheckAllowed};
use idp_model::RoleId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};

use crate::domain::is_super_admin;
use crate::grant_rule::{self, Change};
use crate::state::AppState;

/// At most this many roles per check.
const MAX_ROLES: usize = 100;

pub async fn check(
    st: &AppState,
    caller: &Caller,
    body: GrantCheck,
) -> ApiResult<GrantCheckAllowed> {
    if body.role_ids.len() > MAX_ROLES {
        return Err(ApiError::invalid(
            "roleIds",
            format!("at most {MAX_ROLES} roles per check"),
        ));
    }
    let org = body.organization_id;
    let perms = st.authz.permissions(caller).await?;
    // Nothing about an organization the caller has no say in.
    let has_say = is_super_admin(&perms)
        || perms
            .iter()
            .any(|p| p.organization_id.is_none_or(|o| o == org));
    if !has_say {
        return Err(ApiError::not_found("no such organization"));
    }
    let mut roles: Vec<uuid::Uuid> = body.role_ids.iter().map(|r| r.as_uuid()).collect();
    if body.default_roles {
        roles.extend(crate::events::default_roles_of(&st.db, org.as_uuid()).await?);
    }
    roles.sort();
    roles.dedup();
    let mut checked = Vec::with_capacity(roles.len());
    for id in roles {
        let Some(r) = crate::grants::store::role(&st.db, id)
            .await?
            .filter(|r| r.deleted_at.is_none())
        else {
            if body.role_ids.contains(&RoleId(id)) {
                return Err(ApiError::invalid("roleIds", "no such role"));
            }
            // A default role naming a role that is gone grants nothing.
            continue;
        };
        if r.organization_id.is_some_and(|o| o != org.as_uuid()) {
            if body.role_ids.contains(&RoleId(id)) {
                return Err(ApiError::invalid(
                    "roleIds",
                    "a custom role can only be granted in its own organization",
                ));
            }
            continue;
        }
        let gives = grant_rule::role_gives(&st.db, r.id, &r.name).await?;
        grant_rule::check(&perms, Change::Give, Some(org), &[], &gives)?;
        checked.push(RoleId(r.id));
    }
    Ok(GrantCheckAllowed {
        allowed: true,
        role_ids: checked,
    })
}
