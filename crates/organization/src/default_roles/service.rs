//! What the `/identity/v1/default-roles/**` endpoints do (their handlers in `routes`
//! call these): access checks, the change and its events in one transaction.

use idp_model::events::{Event, GrantRequestedData};
use idp_model::organization::{parse_list, DefaultRole, RoleType};
use idp_model::{DefaultRoleId, OrganizationId, RoleId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::Body;
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::roles;
use super::store::{self, Column, Entity};
use super::types::{CreateDefaultRole, FindDefaultRoles, GrantDefaultRole};
use crate::organizations::store as orgs;
use crate::state::AppState;
use idp_model::catalog::action;
use idp_runtime::query::{self, Deleted};

pub const RESOURCE: &str = idp_model::catalog::DEFAULT_ROLE.code;

pub async fn find(
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    f: FindDefaultRoles,
) -> ApiResult<Paged<DefaultRole>> {
    let deleted = Deleted::parse(f.deleted.as_deref())?;
    let scope = s.read_scope(caller, RESOURCE).await?;
    let mut select = deleted.apply(Entity::find(), Column::DeletedAt);
    if let Some(o) = f.organization_id {
        select = select.filter(Column::OrganizationId.eq(o.as_uuid()));
    }
    if let Some(r) = f.role_id {
        select = select.filter(Column::RoleId.eq(r.as_uuid()));
    }
    if let Some(t) = &f.role_type {
        let list = parse_list::<RoleType>(t).map_err(|e| ApiError::invalid("roleType", e))?;
        let list: Vec<&str> = list.iter().map(|t| t.as_str()).collect();
        select = select.filter(Column::RoleType.is_in(list));
    }
    if let Some(n) = &f.name {
        select = select.filter(Column::Name.eq(n.as_str()));
    }
    let Some(select) = query::in_scope(select, Column::OrganizationId, &scope) else {
        return Ok(Paged::new(Vec::new(), 0, params));
    };
    let select = query::sorted(
        select,
        &params,
        &[
            ("name", Column::Name),
            ("createdAt", Column::CreatedAt),
            ("organizationId", Column::OrganizationId),
            ("roleType", Column::RoleType),
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

async fn load(s: &AppState, id: DefaultRoleId) -> ApiResult<store::Model> {
    Entity::find_by_id(id.as_uuid())
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such default role"))
}

pub async fn get(s: &AppState, caller: &Caller, id: DefaultRoleId) -> ApiResult<DefaultRole> {
    let row = load(s, id).await?;
    s.require_visible(caller, RESOURCE, OrganizationId(row.organization_id))
        .await?;
    row.to_dto()
}

pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreateDefaultRole,
) -> ApiResult<DefaultRole> {
    let org = body.organization_id;
    s.require(caller, RESOURCE, action::CREATE, Some(org))
        .await?;
    orgs::require_live(&s.db, org, "organizationId").await?;
    let role = roles::fetch(s, caller, body.role_id).await?;
    roles::check_role(&role, body.role_type, org)?;
    roles::require_may_grant(s, caller, body.role_id, org).await?;
    let mut w = s.work.begin().await?;
    let row = store::Model {
        id: DefaultRoleId::new().as_uuid(),
        organization_id: org.as_uuid(),
        name: role.name,
        role_type: body.role_type.as_str().into(),
        role_id: body.role_id.as_uuid(),
        created_by: Some(caller.identity_id().as_uuid()),
        created_at: w.now(),
        deleted_at: None,
        deleted_by: None,
    };
    let dto = row.to_dto()?;
    Entity::insert(store::ActiveModel {
        id: Set(row.id),
        organization_id: Set(row.organization_id),
        name: Set(row.name.clone()),
        role_type: Set(row.role_type.clone()),
        role_id: Set(row.role_id),
        created_by: Set(row.created_by),
        created_at: Set(row.created_at),
        deleted_at: Set(None),
        deleted_by: Set(None),
    })
    .exec_without_returning(w.txn())
    .await
    .map_err(|e| {
        ApiError::from_db_conflict(
            e,
            "the organization already has this role as a default role",
        )
    })?;
    w.enqueue_event(Some(org), &Event::DefaultRoleCreated((&dto).into()))?;
    w.commit().await?;
    Ok(dto)
}

pub async fn delete(s: &AppState, caller: &Caller, id: DefaultRoleId) -> ApiResult<DefaultRole> {
    let row = load(s, id).await?;
    let org = OrganizationId(row.organization_id);
    s.authz
        .require_change(caller, RESOURCE, action::DELETE, Some(org))
        .await?;
    let mut w = s.work.begin().await?;
    let update = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(w.now()))
        .col_expr(
            Column::DeletedBy,
            Expr::value(caller.identity_id().as_uuid()),
        )
        .filter(Column::Id.eq(row.id))
        .filter(Column::DeletedAt.is_null());
    let dto = w
        .transition(update, row.id, "the default role is already deleted")
        .await?
        .to_dto()?;
    w.enqueue_event(Some(org), &Event::DefaultRoleDeleted((&dto).into()))?;
    w.commit().await?;
    Ok(dto)
}

/// Asks (by event) for the role to be granted to every identity of the organization
/// that lacks it (or to `includeIdentityIds` less `excludeIdentityIds`); the
/// authorization service grants it, once each. Answers, as the reference does, a map
/// of the identities named in the request to `true` (requested); with no list the
/// map is empty and the whole organization is covered.
pub async fn grant(
    s: &AppState,
    caller: &Caller,
    id: DefaultRoleId,
    body: Body,
) -> ApiResult<std::collections::BTreeMap<String, bool>> {
    let row = load(s, id).await?;
    let org = OrganizationId(row.organization_id);
    s.authz
        .require_change(caller, RESOURCE, action::UPDATE, Some(org))
        .await?;
    // Granted in the caller's name: it must be able to grant the role itself.
    roles::require_may_grant(s, caller, RoleId(row.role_id), org).await?;
    let narrow: GrantDefaultRole = body.json_or_default()?;
    if row.deleted_at.is_some() {
        return Err(ApiError::conflict("the default role is deleted"));
    }
    let dto = row.to_dto()?;
    let excluded = narrow.exclude_identity_ids.clone().unwrap_or_default();
    let requested: std::collections::BTreeMap<String, bool> = narrow
        .include_identity_ids
        .iter()
        .flatten()
        .filter(|i| !excluded.contains(i))
        .map(|i| (i.to_string(), true))
        .collect();
    let event = Event::DefaultRoleGrantRequested(GrantRequestedData {
        default_role_id: dto.id,
        organization_id: org,
        role_id: dto.role_id,
        role_type: Some(dto.role_type),
        requested_by: Some(caller.identity_id()),
        include_identity_ids: narrow.include_identity_ids,
        exclude_identity_ids: narrow.exclude_identity_ids,
    });
    let mut w = s.work.begin().await?;
    w.enqueue_event(Some(org), &event)?;
    w.commit().await?;
    Ok(requested)
}
