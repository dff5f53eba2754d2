//! What the `/auth/v1/resource-actions/**` endpoints do (their handlers in
//! `routes` call these).

use idp_model::authorization::{NewResourceAction, ResourceAction};
use idp_model::ResourceActionId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde_json::Value;
use uuid::Uuid;

use super::store;
use super::types::ActionFilter;
use crate::catalog::standard_roles;
use crate::query::page;
use crate::resource_types::service::{
    require_read, require_write, valid_code, valid_name, Unreadable,
};
use crate::resource_types::store as types_store;
use crate::state::AppState;
use crate::validate::valid_description;

pub async fn list(
    st: &AppState,
    caller: &Caller,
    f: ActionFilter,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    require_read(st, caller, Unreadable::Forbidden).await?;
    let rows = store::list(&st.db, f.resource_type_id, f.code).await?;
    let codes = types_store::codes(&st.db).await?;
    let items: Vec<ResourceAction> = rows
        .into_iter()
        .map(|a| {
            let c = codes.get(&a.resource_type_id).cloned().unwrap_or_default();
            store::view(a, c)
        })
        .collect();
    page(
        items,
        params,
        &[
            "code",
            "name",
            "resourceTypeId",
            "resourceTypeCode",
            "createdAt",
        ],
    )
}

pub async fn get(
    st: &AppState,
    caller: &Caller,
    id: ResourceActionId,
) -> ApiResult<ResourceAction> {
    require_read(st, caller, Unreadable::NotFound).await?;
    let a = store::find(&st.db, id.as_uuid())
        .await?
        .ok_or_else(|| ApiError::not_found("no such resource action"))?;
    let code = types_store::find(&st.db, a.resource_type_id)
        .await?
        .map(|t| t.code)
        .unwrap_or_default();
    Ok(store::view(a, code))
}

/// Registers an action of a team's resource type; the standard roles that hold
/// such actions get it too (`role.updated` for each), and every holder's cached
/// permissions are dropped.
pub async fn create(
    st: &AppState,
    caller: &Caller,
    body: NewResourceAction,
) -> ApiResult<ResourceAction> {
    require_write(st, caller).await?;
    valid_code(&body.code)?;
    valid_name(&body.name)?;
    valid_description(body.description.as_deref())?;
    let t = types_store::find(&st.db, body.resource_type_id.as_uuid())
        .await?
        .ok_or_else(|| ApiError::invalid("resourceTypeId", "no such resource type"))?;
    if t.is_system {
        return Err(ApiError::conflict(
            "the platform's resource types are immutable; register a resource type of your own",
        ));
    }
    let mut w = st.work.begin().await?;
    let m = store::insert(
        w.txn(),
        t.id,
        body.code,
        body.name,
        body.description,
        w.now(),
    )
    .await
    .map_err(|e| {
        ApiError::from_db_conflict(e, "this resource type already has an action with this code")
    })?;
    // The standard roles keep their definitions for actions registered later
    // (Super Admin holds every action, Organization Read Only every read, ...).
    let changed: Vec<Uuid> = standard_roles()
        .iter()
        .filter(|(rid, _, _)| crate::catalog::standard_role_has(*rid, &t.code, &m.code))
        .map(|(rid, _, _)| *rid)
        .collect();
    store::link_roles(w.txn(), m.id, &changed).await?;
    for r in changed {
        crate::domain::role_updated(&mut w, r, None, None)?;
    }
    st.roles_changed(&mut w);
    w.commit().await?;
    Ok(store::view(m, t.code))
}
