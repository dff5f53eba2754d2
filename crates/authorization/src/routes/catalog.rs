//! Resource types and resource actions: the catalog. Seeded entries are immutable;
//! other teams register their own (platform-wide `resource-type:create`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use idp_model::authorization::{NewResourceAction, NewResourceType, ResourceAction, ResourceType};
use idp_model::{ResourceActionId, ResourceTypeId, Timestamp};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{Json, PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::page;
use crate::catalog::standard_roles;
use crate::domain::{holds, holds_anywhere};
use crate::state::AppState;
use crate::store::{resource_action, resource_type, role_action};

const RT: &str = "resource-type";

fn type_view(m: resource_type::Model) -> ResourceType {
    ResourceType {
        id: ResourceTypeId(m.id),
        code: m.code,
        name: m.name,
        description: m.description,
        is_system: m.is_system,
        created_at: Timestamp::from(m.created_at),
    }
}

fn action_view(m: resource_action::Model, type_code: String) -> ResourceAction {
    ResourceAction {
        id: ResourceActionId(m.id),
        code: m.code,
        name: m.name,
        resource_type_id: ResourceTypeId(m.resource_type_id),
        resource_type_code: type_code,
        description: m.description,
        is_system: m.is_system,
        created_at: Timestamp::from(m.created_at),
    }
}

/// Reading the catalog needs `resource-type:read` in some scope (it is shared by
/// every organization).
async fn require_read(st: &AppState, caller: &Caller, missing: StatusCode) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    if holds_anywhere(&perms, RT, "read") {
        Ok(())
    } else if missing == StatusCode::NOT_FOUND {
        Err(ApiError::not_found("no such resource"))
    } else {
        Err(ApiError::forbidden("not allowed to read resource-type"))
    }
}

/// Changing the catalog needs `resource-type:create` platform-wide.
async fn require_write(st: &AppState, caller: &Caller) -> ApiResult<()> {
    let perms = st.authz.permissions(caller).await?;
    if holds(&perms, RT, "create", None, &[]) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "registering resource types and actions needs resource-type:create platform-wide",
        ))
    }
}

fn valid_code(code: &str) -> ApiResult<()> {
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

fn valid_name(name: &str) -> ApiResult<()> {
    use super::roles::MAX_NAME;
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        Err(ApiError::invalid(
            "name",
            format!("1-{MAX_NAME} characters"),
        ))
    } else {
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeFilter {
    code: Option<String>,
}

pub async fn list_types(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<TypeFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    require_read(&st, &caller, StatusCode::FORBIDDEN).await?;
    let mut q = resource_type::Entity::find().order_by_asc(resource_type::Column::Code);
    if let Some(code) = f.code {
        q = q.filter(resource_type::Column::Code.eq(code));
    }
    let items: Vec<ResourceType> = q.all(&st.db).await?.into_iter().map(type_view).collect();
    page(items, params, &["code", "name", "createdAt"])
}

pub async fn get_type(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<ResourceTypeId>,
) -> ApiResult<axum::Json<ResourceType>> {
    require_read(&st, &caller, StatusCode::NOT_FOUND).await?;
    resource_type::Entity::find_by_id(id.as_uuid())
        .one(&st.db)
        .await?
        .map(|m| axum::Json(type_view(m)))
        .ok_or_else(|| ApiError::not_found("no such resource type"))
}

pub async fn create_type(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewResourceType>,
) -> ApiResult<impl IntoResponse> {
    require_write(&st, &caller).await?;
    valid_code(&body.code)?;
    valid_name(&body.name)?;
    super::roles::valid_description(body.description.as_deref())?;
    let m = resource_type::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(body.code),
        name: Set(body.name),
        description: Set(body.description),
        is_system: Set(false),
        created_at: Set(st.clock.now()),
    }
    .insert(&st.db)
    .await
    .map_err(|e| ApiError::from_db_conflict(e, "a resource type with this code exists"))?;
    Ok((StatusCode::CREATED, axum::Json(type_view(m))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionFilter {
    resource_type_id: Option<ResourceTypeId>,
    code: Option<String>,
}

async fn type_codes(st: &AppState) -> ApiResult<std::collections::HashMap<Uuid, String>> {
    Ok(resource_type::Entity::find()
        .all(&st.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect())
}

pub async fn list_actions(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<ActionFilter>,
    params: PageParams,
) -> ApiResult<Paged<Value>> {
    require_read(&st, &caller, StatusCode::FORBIDDEN).await?;
    let mut q = resource_action::Entity::find()
        .order_by_asc(resource_action::Column::ResourceTypeId)
        .order_by_asc(resource_action::Column::Code);
    if let Some(t) = f.resource_type_id {
        q = q.filter(resource_action::Column::ResourceTypeId.eq(t.as_uuid()));
    }
    if let Some(code) = f.code {
        q = q.filter(resource_action::Column::Code.eq(code));
    }
    let codes = type_codes(&st).await?;
    let items: Vec<ResourceAction> = q
        .all(&st.db)
        .await?
        .into_iter()
        .map(|a| {
            let c = codes.get(&a.resource_type_id).cloned().unwrap_or_default();
            action_view(a, c)
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

pub async fn get_action(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<ResourceActionId>,
) -> ApiResult<axum::Json<ResourceAction>> {
    require_read(&st, &caller, StatusCode::NOT_FOUND).await?;
    let a = resource_action::Entity::find_by_id(id.as_uuid())
        .one(&st.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such resource action"))?;
    let code = resource_type::Entity::find_by_id(a.resource_type_id)
        .one(&st.db)
        .await?
        .map(|t| t.code)
        .unwrap_or_default();
    Ok(axum::Json(action_view(a, code)))
}

pub async fn create_action(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewResourceAction>,
) -> ApiResult<impl IntoResponse> {
    require_write(&st, &caller).await?;
    valid_code(&body.code)?;
    valid_name(&body.name)?;
    super::roles::valid_description(body.description.as_deref())?;
    let t = resource_type::Entity::find_by_id(body.resource_type_id.as_uuid())
        .one(&st.db)
        .await?
        .ok_or_else(|| ApiError::invalid("resourceTypeId", "no such resource type"))?;
    if t.is_system {
        return Err(ApiError::conflict(
            "the platform's resource types are immutable; register a resource type of your own",
        ));
    }
    let txn = st.db.begin().await?;
    let m = resource_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        resource_type_id: Set(t.id),
        code: Set(body.code),
        name: Set(body.name),
        description: Set(body.description),
        is_system: Set(false),
        created_at: Set(st.clock.now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        ApiError::from_db_conflict(e, "this resource type already has an action with this code")
    })?;
    // The standard roles keep their definitions for actions registered later
    // (Super Admin holds every action, Organization Read Only every read, ...).
    let links: Vec<role_action::ActiveModel> = standard_roles()
        .iter()
        .filter(|(rid, _, _)| crate::catalog::standard_role_has(*rid, &t.code, &m.code))
        .map(|(rid, _, _)| role_action::ActiveModel {
            role_id: Set(*rid),
            resource_action_id: Set(m.id),
        })
        .collect();
    let changed: Vec<Uuid> = links
        .iter()
        .filter_map(|l| match &l.role_id {
            sea_orm::ActiveValue::Set(r) => Some(*r),
            _ => None,
        })
        .collect();
    if !links.is_empty() {
        role_action::Entity::insert_many(links)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .do_nothing()
            .exec(&txn)
            .await?;
    }
    for r in changed {
        crate::domain::role_updated(&txn, r, None, None, st.clock.now()).await?;
    }
    st.relay.commit(txn).await?;
    st.roles_changed();
    Ok((StatusCode::CREATED, axum::Json(action_view(m, t.code))))
}
