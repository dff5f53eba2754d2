//! What the `/auth/v1/resource-types/**` endpoints do (their handlers in `routes`
//! call these), and the catalog's access rules, which resource actions share.

use idp_model::authorization::{NewResourceType, ResourceType};
use idp_model::ResourceTypeId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde_json::Value;

use super::store;
use super::types::TypeFilter;
use crate::domain::{holds, holds_anywhere};
use crate::query::page;
use crate::state::AppState;
use crate::validate::{valid_description, MAX_NAME};
use idp_model::catalog::action;

pub const RESOURCE: &str = idp_model::catalog::RESOURCE_TYPE.code;

/// What a reader of the catalog without `resource-type:read` is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Lists: 403.
    Forbidden,
    /// Single entries: 404.
    NotFound,
}

/// Reading the catalog needs `resource-type:read` in some scope (it is shared by
/// every organization).
pub async fn require_read(st: &AppState, caller: &Caller, missing: Unreadable) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    if holds_anywhere(&perms, RESOURCE, action::READ) {
        Ok(())
    } else if missing == Unreadable::NotFound {
        Err(ApiError::not_found("no such resource"))
    } else {
        Err(ApiError::forbidden("not allowed to read resource-type"))
    }
}

/// Changing the catalog needs `resource-type:create` platform-wide.
pub async fn require_write(st: &AppState, caller: &Caller) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    if holds(&perms, RESOURCE, action::CREATE, None, &[]) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "registering resource types and actions needs resource-type:create platform-wide",
        ))
    }
}

pub fn valid_code(code: &str) -> ApiResult<()> {
    let ok = !code.is_empty()
        && code.len() <= 100
        && code.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.'
        })
        && code
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "code",
            "1-100 characters: lower-case letters, digits, '-', '_', '.'",
        ))
    }
}

pub fn valid_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        Err(ApiError::invalid(
            "name",
            format!("1-{MAX_NAME} characters"),
        ))
    } else {
        Ok(())
    }
}

pub async fn list(
    st: &AppState,
    caller: &Caller,
    f: TypeFilter,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    require_read(st, caller, Unreadable::Forbidden).await?;
    let items: Vec<ResourceType> = store::list(&st.db, f.code)
        .await?
        .into_iter()
        .map(store::view)
        .collect();
    page(items, params, &["code", "name", "createdAt"])
}

pub async fn get(st: &AppState, caller: &Caller, id: ResourceTypeId) -> ApiResult<ResourceType> {
    require_read(st, caller, Unreadable::NotFound).await?;
    store::find(&st.db, id.as_uuid())
        .await?
        .map(store::view)
        .ok_or_else(|| ApiError::not_found("no such resource type"))
}

pub async fn create(
    st: &AppState,
    caller: &Caller,
    body: NewResourceType,
) -> ApiResult<ResourceType> {
    require_write(st, caller).await?;
    valid_code(&body.code)?;
    valid_name(&body.name)?;
    valid_description(body.description.as_deref())?;
    let w = st.work.begin().await?;
    let m = store::insert(w.txn(), body.code, body.name, body.description, w.now())
        .await
        .map_err(|e| ApiError::from_db_conflict(e, "a resource type with this code exists"))?;
    w.commit().await?;
    Ok(store::view(m))
}
