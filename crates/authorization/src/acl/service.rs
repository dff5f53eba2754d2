//! What `GET /auth/v1/acl` does (its handler in `routes` calls [`acl`]).

use idp_model::authorization::AclEntry;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde_json::Value;

use super::store;
use super::types::AclQuery;
use crate::domain::{expand, holds};
use crate::query::page;
use crate::state::AppState;
use crate::validate::valid_path;
use idp_model::catalog::action;

/// Reading an ACL needs `grant:read` over the resource's scope.
const G: &str = crate::grants::service::RESOURCE;

/// `GET /acl?resourceType=…&resourceId=…[&organizationId=…][&path=a,b][&action=…][&identityId=…]`:
/// who may do what on the resource, and through which grant and role; with
/// `identityId`, what that one principal may do on it. Needs `grant:read` over the
/// resource's scope (404 otherwise).
pub async fn acl(
    st: &AppState,
    caller: &Caller,
    q: AclQuery,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    let mut path: Vec<String> = q
        .path
        .as_deref()
        .map(|p| {
            p.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    valid_path("path", &path)?;
    if let Some(r) = &q.resource_id {
        path.push(r.clone());
    }
    let mine = st.authz.permissions(caller).await?;
    if !holds(&mine, G, action::READ, q.organization_id, &path) {
        return Err(ApiError::not_found("no such resource"));
    }
    let grants = store::live_grants(&st.db, q.organization_id, q.identity_id).await?;
    let perms = expand(&st.db, &grants).await?;
    let entries: Vec<AclEntry> = perms
        .into_iter()
        .filter(|p| p.resource_type == q.resource_type)
        .filter(|p| q.action.as_ref().is_none_or(|a| *a == p.action))
        .filter(|p| {
            p.covers(
                &q.resource_type,
                &p.action.clone(),
                q.organization_id,
                &path,
            )
        })
        .map(|p| AclEntry {
            identity_id: p.identity_id,
            resource_type: p.resource_type,
            action: p.action,
            resource_action_id: p.resource_action_id,
            organization_id: p.organization_id,
            path: p.path,
            grant_id: p.grant_id,
            role_id: p.role_id,
            role_name: p.role_name,
        })
        .collect();
    page(
        entries,
        params,
        &["identityId", "action", "organizationId", "roleName"],
    )
}
