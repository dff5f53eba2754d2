//! Checks (single and batch), effective permissions, and the ACL of a resource.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use idp_model::authorization::{AclEntry, CheckBatch, CheckRequest, CheckResult};
use idp_model::authz::EffectivePermission;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{parse_json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::Value;

use super::{page, valid_path};
use crate::decide::Snapshot;
use crate::domain::{expand, holds};
use crate::state::AppState;
use crate::store::grant;

const G: &str = "grant";
const MAX_BATCH: usize = 1000;

fn resource_path(c: &CheckRequest) -> Vec<String> {
    let mut p = c.path.clone();
    if let Some(r) = &c.resource_id {
        p.push(r.clone());
    }
    p
}

/// The longest action or resource type code a check may name (as the catalog's codes).
const MAX_CODE: usize = 100;
/// The longest resource id (as a path element).
const MAX_RESOURCE_ID: usize = 200;

/// How the checks came: the field of an error names check `i` as the body does.
#[derive(Clone, Copy)]
enum Shape {
    One,
    Array,
    Wrapped,
}

impl Shape {
    fn field(self, i: usize, name: &str) -> String {
        match self {
            Shape::One => name.to_string(),
            Shape::Array => format!("[{i}].{name}"),
            Shape::Wrapped => format!("checks[{i}].{name}"),
        }
    }
}

/// Bounds the text fields of check `i` (they are echoed in its result).
fn valid_check(shape: Shape, i: usize, c: &CheckRequest) -> ApiResult<()> {
    let bounded = |field: &str, v: &str, max: usize| {
        if v.is_empty() || v.chars().count() > max {
            Err(ApiError::invalid(
                &shape.field(i, field),
                format!("1-{max} characters"),
            ))
        } else {
            Ok(())
        }
    };
    bounded("action", &c.action, MAX_CODE)?;
    bounded("resourceType", &c.resource_type, MAX_CODE)?;
    if let Some(r) = &c.resource_id {
        bounded("resourceId", r, MAX_RESOURCE_ID)?;
    }
    valid_path(&shape.field(i, "path"), &c.path)
}

async fn run_checks(
    st: &AppState,
    caller: &Caller,
    shape: Shape,
    checks: Vec<CheckRequest>,
) -> ApiResult<Vec<CheckResult>> {
    if checks.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "checks",
            format!("at most {MAX_BATCH} checks per request"),
        ));
    }
    let me = caller.identity_id();
    // The caller's own snapshot is needed only to check someone else.
    let mut mine: Option<Arc<Snapshot>> = None;
    let mut snaps: HashMap<IdentityId, Arc<Snapshot>> = HashMap::new();
    let mut out = Vec::with_capacity(checks.len());
    for (i, c) in checks.into_iter().enumerate() {
        valid_check(shape, i, &c)?;
        let path = resource_path(&c);
        if c.identity_id != me {
            let m = match &mine {
                Some(m) => m.clone(),
                None => mine.insert(st.decider.snapshot(me).await?).clone(),
            };
            if !m.allows(G, "read", c.organization_id, &path) {
                return Err(ApiError::forbidden(
                    "checking another identity needs grant:read over the resource's scope",
                ));
            }
        }
        let snap = match snaps.get(&c.identity_id) {
            Some(s) => s.clone(),
            None => {
                let s = st.decider.snapshot(c.identity_id).await?;
                snaps.insert(c.identity_id, s.clone());
                s
            }
        };
        let by = snap.decide(&c.resource_type, &c.action, c.organization_id, &path);
        out.push(CheckResult {
            identity_id: c.identity_id,
            allowed: by.is_some(),
            grant_id: by.as_ref().map(|p| p.grant_id),
            role_id: by.as_ref().and_then(|p| p.role_id),
            role_name: by.and_then(|p| p.role_name),
            action: c.action,
            resource_type: c.resource_type,
            organization_id: c.organization_id,
            resource_id: c.resource_id,
            path: c.path,
        });
    }
    Ok(out)
}

/// `POST /checks`: one check (an object) answers one result; a batch (a JSON
/// array, or `{"checks": [...]}`) answers the results in the same order and shape.
pub async fn check(
    State(st): State<AppState>,
    caller: Caller,
    idp_runtime::extract::Json(body): idp_runtime::extract::Json<Value>,
) -> ApiResult<Response> {
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    match &body {
        Value::Array(_) => {
            let checks: Vec<CheckRequest> = parse_json(&bytes)?;
            Ok(axum::Json(run_checks(&st, &caller, Shape::Array, checks).await?).into_response())
        }
        Value::Object(o) if o.contains_key("checks") => {
            let batch: CheckBatch<CheckRequest> = parse_json(&bytes)?;
            let checks = run_checks(&st, &caller, Shape::Wrapped, batch.checks).await?;
            Ok(axum::Json(CheckBatch { checks }).into_response())
        }
        _ => {
            let one: CheckRequest = parse_json(&bytes)?;
            let mut r = run_checks(&st, &caller, Shape::One, vec![one]).await?;
            let r = r
                .pop()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no check result")))?;
            Ok(axum::Json(r).into_response())
        }
    }
}

/// `GET /identities/{id}/permissions`: the identity's effective permissions, each
/// naming its grant and role. Always allowed for one's own; for another identity,
/// the permissions in scopes where the caller holds `grant:read`.
pub async fn permissions(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<IdentityId>,
) -> ApiResult<axum::Json<Vec<EffectivePermission>>> {
    // From the decision cache, which is exact (dropped on every grant or role
    // change): other services cache the answer themselves.
    let perms = st.decider.snapshot(id).await?;
    if id == caller.identity_id() {
        return Ok(axum::Json(perms.permissions()));
    }
    let mine = st.decider.snapshot(caller.identity_id()).await?;
    if !mine.holds_anywhere(G, "read") {
        return Err(ApiError::not_found("no such identity"));
    }
    Ok(axum::Json(
        perms
            .permissions()
            .into_iter()
            .filter(|p| mine.allows(G, "read", p.organization_id, &p.path))
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclQuery {
    resource_type: String,
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    organization_id: Option<OrganizationId>,
    /// Comma-separated resource ids above the resource.
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// Only this principal's entries (the ACL of one identity on the resource).
    #[serde(default)]
    identity_id: Option<IdentityId>,
}

/// `GET /acl?resourceType=…&resourceId=…[&organizationId=…][&path=a,b][&action=…][&identityId=…]`:
/// who may do what on the resource, and through which grant and role; with
/// `identityId`, what that one principal may do on it. Needs `grant:read` over the
/// resource's scope (404 otherwise).
pub async fn acl(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<AclQuery>,
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
    let mine = st.authz.permissions(&caller).await?;
    if !holds(&mine, G, "read", q.organization_id, &path) {
        return Err(ApiError::not_found("no such resource"));
    }
    let mut scope = Condition::any().add(grant::Column::OrganizationId.is_null());
    if let Some(o) = q.organization_id {
        scope = scope.add(grant::Column::OrganizationId.eq(o.as_uuid()));
    }
    let mut live = grant::Entity::find()
        .filter(grant::Column::RevokedAt.is_null())
        .filter(scope);
    if let Some(who) = q.identity_id {
        live = live.filter(grant::Column::IdentityId.eq(who.as_uuid()));
    }
    let grants = live.all(&st.db).await?;
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
