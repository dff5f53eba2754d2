//! What the `/identity/v1/organization-preferences/**` endpoints do (their handlers in `routes`
//! call these): access checks, the change and its events in one transaction.

use idp_model::organization::OrganizationPreference;
use idp_model::OrganizationId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::store::{self, Column, Entity};
use super::types::{CreatePreference, FindPreferences, UpdatePreference};
use crate::organizations::store as orgs;
use crate::state::AppState;
use idp_model::catalog::action;
use idp_runtime::query::{self, Deleted};

pub const RESOURCE: &str = idp_model::catalog::ORGANIZATION_PREFERENCE.code;

pub async fn find(
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    f: FindPreferences,
) -> ApiResult<Paged<OrganizationPreference>> {
    let deleted = Deleted::parse(f.deleted.as_deref())?;
    let scope = s.read_scope(caller, RESOURCE).await?;
    let mut select = deleted.apply(Entity::find(), Column::DeletedAt);
    if let Some(o) = f.organization_id {
        select = select.filter(Column::OrganizationId.eq(o.as_uuid()));
    }
    let Some(select) = query::in_scope(select, Column::OrganizationId, &scope) else {
        return Ok(Paged::new(Vec::new(), 0, params));
    };
    let select = query::sorted(
        select,
        &params,
        &[
            ("createdAt", Column::CreatedAt),
            ("updatedAt", Column::UpdatedAt),
            ("organizationId", Column::OrganizationId),
        ],
        Column::CreatedAt,
        Column::Id,
    )?;
    let (rows, total) = query::page(&s.db, select, &params).await?;
    let items = rows
        .iter()
        .map(store::Model::to_dto)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Paged::new(items, total, params))
}

async fn load(s: &AppState, id: Uuid) -> ApiResult<store::Model> {
    Entity::find_by_id(id)
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such organization preference"))
}

pub async fn get(s: &AppState, caller: &Caller, id: Uuid) -> ApiResult<OrganizationPreference> {
    let row = load(s, id).await?;
    s.require_visible(caller, RESOURCE, OrganizationId(row.organization_id))
        .await?;
    row.to_dto()
}

pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreatePreference,
) -> ApiResult<OrganizationPreference> {
    let org = body.organization_id;
    s.require(caller, RESOURCE, action::CREATE, Some(org))
        .await?;
    orgs::require_live(&s.db, org, "organizationId").await?;
    let now = s.now();
    let row = store::Model {
        id: Uuid::now_v7(),
        organization_id: org.as_uuid(),
        preferences: serde_json::Value::Object(body.preferences).to_string(),
        created_by: Some(caller.identity_id().as_uuid()),
        created_at: now,
        updated_at: Some(now),
        deleted_at: None,
        deleted_by: None,
    };
    Entity::insert(store::ActiveModel {
        id: Set(row.id),
        organization_id: Set(row.organization_id),
        preferences: Set(row.preferences.clone()),
        created_by: Set(row.created_by),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
        deleted_at: Set(None),
        deleted_by: Set(None),
    })
    .exec_without_returning(&s.db)
    .await
    .map_err(|e| ApiError::from_db_conflict(e, "the organization already has preferences"))?;
    row.to_dto()
}

async fn change(
    s: &AppState,
    row: &store::Model,
    update: sea_orm::UpdateMany<Entity>,
    conflict: &str,
) -> ApiResult<OrganizationPreference> {
    // No event: preferences are this service's own.
    let w = s.work.begin().await?;
    let update = update
        .filter(Column::Id.eq(row.id))
        .filter(Column::DeletedAt.is_null());
    let dto = w.transition(update, row.id, conflict).await?.to_dto()?;
    w.commit().await?;
    Ok(dto)
}

pub async fn update(
    s: &AppState,
    caller: &Caller,
    id: Uuid,
    body: UpdatePreference,
) -> ApiResult<OrganizationPreference> {
    let row = load(s, id).await?;
    s.authz
        .require_change(
            caller,
            RESOURCE,
            action::UPDATE,
            Some(OrganizationId(row.organization_id)),
        )
        .await?;
    let q = Entity::update_many()
        .col_expr(
            Column::Preferences,
            Expr::value(serde_json::Value::Object(body.preferences).to_string()),
        )
        .col_expr(Column::UpdatedAt, Expr::value(s.now()));
    change(s, &row, q, "the organization preference is deleted").await
}

pub async fn delete(s: &AppState, caller: &Caller, id: Uuid) -> ApiResult<OrganizationPreference> {
    let row = load(s, id).await?;
    s.authz
        .require_change(
            caller,
            RESOURCE,
            action::DELETE,
            Some(OrganizationId(row.organization_id)),
        )
        .await?;
    let now = s.now();
    let q = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(
            Column::DeletedBy,
            Expr::value(caller.identity_id().as_uuid()),
        );
    change(s, &row, q, "the organization preference is already deleted").await
}
