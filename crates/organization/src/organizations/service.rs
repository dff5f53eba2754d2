//! What the `/identity/v1/organizations/**` endpoints do (their handlers in `routes`
//! call these): access checks, the change and its events in one transaction.

use idp_model::events::{Event, OrganizationData};
use idp_model::organization::{parse_list, MfaProvider, Organization};
use idp_model::{OrganizationId, ROOT_ORGANIZATION_ID};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::store::{self, Column, Entity};
use super::types::{CreateOrganization, FindOrganizations};
use crate::identity_providers::store as ips;
use crate::state::AppState;
use idp_model::catalog::action;
use idp_runtime::query;

pub const RESOURCE: &str = idp_model::catalog::ORGANIZATION.code;

pub async fn find(
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    f: FindOrganizations,
) -> ApiResult<Paged<Organization>> {
    let scope = s.read_scope(caller, RESOURCE).await?;
    let mut select = Entity::find();
    if !f.include_deleted.unwrap_or(false) {
        select = select.filter(Column::DeletedAt.is_null());
    }
    if let Some(n) = &f.name {
        select = select.filter(Column::Name.eq(n.as_str()));
    }
    if let Some(a) = f.active {
        select = select.filter(Column::Active.eq(a));
    }
    if let Some(m) = &f.mfa_providers {
        let list =
            parse_list::<MfaProvider>(m).map_err(|e| ApiError::invalid("mfaProviders", e))?;
        let list: Vec<&str> = list.iter().map(|m| m.as_str()).collect();
        select = select.filter(Column::MfaProvider.is_in(list));
    }
    let Some(select) = query::in_scope(select, Column::Id, &scope) else {
        return Ok(Paged::new(Vec::new(), 0, params));
    };
    let select = query::sorted(
        select,
        &params,
        &[
            ("name", Column::Name),
            ("label", Column::Label),
            ("createdAt", Column::CreatedAt),
            ("active", Column::Active),
        ],
        Column::CreatedAt,
        Column::Id,
    )?;
    let (rows, total) = query::page(&s.db, select, &params).await?;
    let items = store::expand(&s.db, rows).await?;
    Ok(Paged::new(items, total, params))
}

async fn load(s: &AppState, id: OrganizationId) -> ApiResult<store::Model> {
    Entity::find_by_id(id.as_uuid())
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such organization"))
}

pub async fn get(s: &AppState, caller: &Caller, id: OrganizationId) -> ApiResult<Organization> {
    s.require_visible(caller, RESOURCE, id).await?;
    let row = load(s, id).await?;
    store::expand_one(&s.db, row).await
}

pub async fn get_by_label(s: &AppState, caller: &Caller, label: &str) -> ApiResult<Organization> {
    let label: idp_model::organization::Label = label
        .parse()
        .map_err(|_| ApiError::not_found("no such organization"))?;
    let row = store::by_label(&s.db, label.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("no such organization"))?;
    s.require_visible(caller, RESOURCE, OrganizationId(row.id))
        .await?;
    store::expand_one(&s.db, row).await
}

pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreateOrganization,
) -> ApiResult<Organization> {
    s.require(caller, RESOURCE, action::CREATE, None).await?;
    let first_provider = match (&body.auth0_connection_id, body.auth0_connection_type) {
        (Some(c), Some(t)) => Some((c, t)),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "auth0ConnectionType",
                "is required with auth0ConnectionId",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "auth0ConnectionId",
                "is required with auth0ConnectionType",
            ))
        }
        (None, None) if body.identity_provider_name.is_some() => {
            return Err(ApiError::invalid(
                "auth0ConnectionId",
                "is required with identityProviderName",
            ))
        }
        (None, None) => None,
    };
    let mut w = s.work.begin().await?;
    let now = w.now();
    let row = store::Model {
        id: OrganizationId::new().as_uuid(),
        name: body.name.to_string(),
        label: body.label.to_string(),
        mfa_provider: MfaProvider::None.as_str().into(),
        active: true,
        created_at: now,
        updated_at: None,
        deleted_at: None,
        created_by: Some(caller.identity_id().as_uuid()),
    };
    let org_id = OrganizationId(row.id);
    Entity::insert(crate::store::organization::ActiveModel {
        id: Set(row.id),
        name: Set(row.name.clone()),
        label: Set(row.label.clone()),
        mfa_provider: Set(row.mfa_provider.clone()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(None),
        deleted_at: Set(None),
        created_by: Set(row.created_by),
    })
    .exec_without_returning(w.txn())
    .await
    .map_err(|e| ApiError::from_db_conflict(e, "the label is already in use"))?;
    w.enqueue_event(
        Some(org_id),
        &Event::OrganizationCreated(store::event_data(&row)),
    )?;
    if let Some((connection, kind)) = first_provider {
        // As the reference shows, the first provider is named after the organization.
        let ip = ips::new_row(org_id, connection.as_str(), &row.name, kind, now);
        ips::insert(w.txn(), &ip).await?;
        w.enqueue_event(
            Some(org_id),
            &Event::IdentityProviderCreated((&ip.to_dto()?).into()),
        )?;
    }
    let dto = store::expand_one(w.txn(), row).await?;
    w.commit().await?;
    Ok(dto)
}

pub async fn set_active(
    s: &AppState,
    caller: &Caller,
    id: OrganizationId,
    active: bool,
) -> ApiResult<Organization> {
    s.authz
        .require_change(caller, RESOURCE, action::UPDATE, Some(id))
        .await?;
    load(s, id).await?;
    if !active && id == ROOT_ORGANIZATION_ID {
        return Err(ApiError::conflict(
            "the root organization cannot be deactivated",
        ));
    }
    let (kind, conflict): (fn(OrganizationData) -> Event, &str) = if active {
        (
            Event::OrganizationActivated,
            "the organization is already active or is deleted",
        )
    } else {
        (
            Event::OrganizationDeactivated,
            "the organization is already inactive or is deleted",
        )
    };
    let mut w = s.work.begin().await?;
    let update = Entity::update_many()
        .col_expr(Column::Active, Expr::value(active))
        .col_expr(Column::UpdatedAt, Expr::value(w.now()))
        .filter(Column::Id.eq(id.as_uuid()))
        .filter(Column::Active.eq(!active))
        .filter(Column::DeletedAt.is_null());
    let row = w.transition(update, id.as_uuid(), conflict).await?;
    w.enqueue_event(Some(id), &kind(store::event_data(&row)))?;
    let dto = store::expand_one(w.txn(), row).await?;
    w.commit().await?;
    Ok(dto)
}

pub async fn delete(s: &AppState, caller: &Caller, id: OrganizationId) -> ApiResult<Organization> {
    s.authz
        .require_change(caller, RESOURCE, action::DELETE, Some(id))
        .await?;
    let row = load(s, id).await?;
    if id == ROOT_ORGANIZATION_ID {
        return Err(ApiError::conflict(
            "the root organization cannot be deleted",
        ));
    }
    let mut w = s.work.begin().await?;
    let now = w.now();
    let update = Entity::update_many()
        .col_expr(
            Column::Label,
            Expr::value(store::deleted_label(row.id, &row.label)),
        )
        .col_expr(Column::DeletedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.as_uuid()))
        .filter(Column::DeletedAt.is_null());
    let row = w
        .transition(update, id.as_uuid(), "the organization is already deleted")
        .await?;
    w.enqueue_event(
        Some(id),
        &Event::OrganizationDeleted(store::event_data(&row)),
    )?;
    let dto = store::expand_one(w.txn(), row).await?;
    w.commit().await?;
    Ok(dto)
}
