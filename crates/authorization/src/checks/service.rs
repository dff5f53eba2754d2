//! What `POST /auth/v1/checks` does (its handler in `routes` calls [`check`]):
//! single and batch checks, answered from the decision cache.

use std::collections::HashMap;
use std::sync::Arc;

use idp_model::authorization::{CheckBatch, CheckRequest, CheckResult};
use idp_model::IdentityId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::parse_json;
use serde::Serialize;
use serde_json::Value;

use crate::decide::Snapshot;
use crate::state::AppState;
use crate::validate::valid_path;
use idp_model::catalog::action;

/// Checking another identity needs `grant:read` over the checked resource's scope.
const G: &str = crate::grants::service::RESOURCE;
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
            if !m.allows(G, action::READ, c.organization_id, &path) {
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

/// The results, in the shape the checks came in.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Checked {
    /// One check (an object): one result.
    One(CheckResult),
    /// A JSON array of checks: the array of results.
    Array(Vec<CheckResult>),
    /// `{"checks": [...]}`: `{"checks": [results]}`.
    Wrapped(CheckBatch<CheckResult>),
}

/// One check (an object) answers one result; a batch (a JSON array, or
/// `{"checks": [...]}`) answers the results in the same order and shape.
pub async fn check(st: &AppState, caller: &Caller, body: Value) -> ApiResult<Checked> {
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    match &body {
        Value::Array(_) => {
            let checks: Vec<CheckRequest> = parse_json(&bytes)?;
            Ok(Checked::Array(
                run_checks(st, caller, Shape::Array, checks).await?,
            ))
        }
        Value::Object(o) if o.contains_key("checks") => {
            let batch: CheckBatch<CheckRequest> = parse_json(&bytes)?;
            let checks = run_checks(st, caller, Shape::Wrapped, batch.checks).await?;
            Ok(Checked::Wrapped(CheckBatch { checks }))
        }
        _ => {
            let one: CheckRequest = parse_json(&bytes)?;
            let mut r = run_checks(st, caller, Shape::One, vec![one]).await?;
            let r = r
                .pop()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no check result")))?;
            Ok(Checked::One(r))
        }
    }
}
