//! HTTP routes (full public paths, as the gateway forwards them). The resource
//! action each endpoint requires is listed in `ENDPOINT_ACTIONS.md`.

pub mod catalog;
pub mod checks;
pub mod grant_checks;
pub mod grants;
pub mod roles;

use std::cmp::Ordering;

use axum::routing::{get, post};
use axum::Router;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde::Serialize;
use serde_json::Value;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/auth/v1/resource-types",
            get(catalog::list_types).post(catalog::create_type),
        )
        .route("/auth/v1/resource-types/{id}", get(catalog::get_type))
        .route(
            "/auth/v1/resource-actions",
            get(catalog::list_actions).post(catalog::create_action),
        )
        .route("/auth/v1/resource-actions/{id}", get(catalog::get_action))
        .route("/auth/v1/roles", get(roles::list).post(roles::create))
        .route(
            "/auth/v1/roles/{id}",
            get(roles::get_one).put(roles::update).delete(roles::delete),
        )
        .route(
            "/auth/v1/identity-roles",
            get(grants::list_role_grants).post(grants::create_role_grant),
        )
        .route(
            "/auth/v1/identity-roles/{id}",
            get(grants::get_role_grant)
                .put(grants::replace_role_grant)
                .delete(grants::delete_role_grant),
        )
        .route(
            "/auth/v1/identity-resource-actions",
            get(grants::list_action_grants).post(grants::create_action_grant),
        )
        .route(
            "/auth/v1/identity-resource-actions/{id}",
            get(grants::get_action_grant).delete(grants::delete_action_grant),
        )
        .route("/auth/v1/grants", get(grants::list_grants))
        .route("/auth/v1/grants/{id}", get(grants::get_grant))
        .route("/auth/v1/checks", post(checks::check))
        .route("/auth/v1/grant-checks", post(grant_checks::check))
        .route(
            "/auth/v1/identities/{id}/permissions",
            get(checks::permissions),
        )
        .route("/auth/v1/acl", get(checks::acl))
        .with_state(state)
        .merge(idp_openapi::docs::authorization_router())
}

fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Object(x), Value::Object(y)) => {
            let k = |o: &serde_json::Map<String, Value>| {
                (
                    o.get("epochSecond").and_then(Value::as_i64).unwrap_or(0),
                    o.get("nano").and_then(Value::as_i64).unwrap_or(0),
                )
            };
            k(x).cmp(&k(y))
        }
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// One page of an in-memory collection (already filtered to what the caller may
/// read), sorted by the request's `sort` fields among `sortable`.
pub fn page<T: Serialize>(
    items: Vec<T>,
    params: PageParams,
    sortable: &[&str],
) -> ApiResult<Paged<Value>> {
    params.allow_sort(sortable)?;
    let mut vals: Vec<Value> = items
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    let sorts = params.request.sort.clone();
    if !sorts.is_empty() {
        vals.sort_by(|a, b| {
            for s in &sorts {
                let o = cmp_json(&a[&s.field], &b[&s.field]);
                let o = match s.direction {
                    idp_model::paging::Direction::Asc => o,
                    idp_model::paging::Direction::Desc => o.reverse(),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    let total = vals.len() as u64;
    let start = params.request.page.saturating_mul(params.request.size);
    let items: Vec<Value> = vals
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(params.request.size).unwrap_or(usize::MAX))
        .collect();
    Ok(Paged::new(items, total, params))
}

/// Checks a path: resource ids, none empty.
pub fn valid_path(field: &str, path: &[String]) -> ApiResult<()> {
    if path.len() > 32 {
        return Err(ApiError::invalid(field, "at most 32 elements"));
    }
    if path.iter().any(|p| p.trim().is_empty() || p.len() > 200) {
        return Err(ApiError::invalid(
            field,
            "elements must be non-empty resource ids of at most 200 characters",
        ));
    }
    Ok(())
}
