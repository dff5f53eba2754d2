//! What the `/identity/v1/identity-providers/**` endpoints do (their handlers in `routes`
//! call these): access checks, the change and its events in one transaction.

use idp_model::events::{Event, IdentityProviderData};
use idp_model::organization::{parse_list, Auth0ConnectionType, IdentityProvider};
use idp_model::{IdentityProviderId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::store::{self, Column, Entity};
use super::types::{CreateIdentityProvider, FindIdentityProviders, UpdateIdentityProvider};
use crate::organizations::store as orgs;
use crate::state::AppState;
use idp_model::catalog::action;
use idp_runtime::query::{self, Deleted};

pub const RESOURCE: &str = idp_model::catalog::IDENTITY_PROVIDER.code;

pub async fn find(
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    f: FindIdentityProviders,
) -> ApiResult<Paged<IdentityProvider>> {
    let deleted = Deleted::parse(f.deleted.as_deref())?;
    let scope = s.read_scope(caller, RESOURCE).await?;
    let mut select = deleted.apply(Entity::find(), Column::DeletedAt);
    if let Some(n) = &f.name {
        select = select.filter(Column::Name.eq(n.as_str()));
    }
    if let Some(o) = f.organization_id {
        select = select.filter(Column::OrganizationId.eq(o.as_uuid()));
    }
    if let Some(ids) = &f.auth0_connection_id {
        let ids: Vec<String> = ids.split(',').map(|s| s.trim().to_string()).collect();
        select = select.filter(Column::Auth0ConnectionId.is_in(ids));
    }
    if let Some(t) = &f.auth0_connection_type {
        let kinds = parse_list::<Auth0ConnectionType>(t)
            .map_err(|m| ApiError::invalid("auth0ConnectionType", m))?;
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        select = select.filter(Column::Auth0ConnectionType.is_in(kinds));
    }
    if let Some(a) = f.active {
        select = select.filter(Column::Active.eq(a));
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
            ("auth0ConnectionType", Column::Auth0ConnectionType),
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

async fn load(s: &AppState, id: IdentityProviderId) -> ApiResult<store::Model> {
    Entity::find_by_id(id.as_uuid())
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such identity provider"))
}

pub async fn get(
    s: &AppState,
    caller: &Caller,
    id: IdentityProviderId,
) -> ApiResult<IdentityProvider> {
    let row = load(s, id).await?;
    s.require_visible(caller, RESOURCE, OrganizationId(row.organization_id))
        .await?;
    row.to_dto()
}

pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreateIdentityProvider,
) -> ApiResult<IdentityProvider> {
    s.require(caller, RESOURCE, action::CREATE, Some(body.organization_id))
        .await?;
    orgs::require_live(&s.db, body.organization_id, "organizationId").await?;
    let row = store::new_row(
        body.organization_id,
        body.auth0_connection_id.as_str(),
        body.name.as_str(),
        body.auth0_connection_type,
        s.now(),
    );
    let dto = row.to_dto()?;
    let mut w = s.work.begin().await?;
    store::insert(w.txn(), &row).await?;
    w.enqueue_event(
        Some(body.organization_id),
        &Event::IdentityProviderCreated((&dto).into()),
    )?;
    w.commit().await?;
    Ok(dto)
}

/// Applies a conditional update (`cond` must still hold, checked by the database),
/// emits `event` with the new state, and answers it; 409 `conflict` otherwise.
async fn change(
    s: &AppState,
    row: &store::Model,
    update: sea_orm::UpdateMany<Entity>,
    event: fn(IdentityProviderData) -> Event,
    conflict: &str,
) -> ApiResult<IdentityProvider> {
    let mut w = s.work.begin().await?;
    let update = update
        .filter(Column::Id.eq(row.id))
        .filter(Column::DeletedAt.is_null());
    let dto = w.transition(update, row.id, conflict).await?.to_dto()?;
    w.enqueue_event(Some(dto.organization_id), &event((&dto).into()))?;
    w.commit().await?;
    Ok(dto)
}

pub async fn update(
    s: &AppState,
    caller: &Caller,
    id: IdentityProviderId,
    body: UpdateIdentityProvider,
) -> ApiResult<IdentityProvider> {
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
        .col_expr(Column::Name, Expr::value(body.name.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(s.now()));
    change(
        s,
        &row,
        q,
        Event::IdentityProviderUpdated,
        "the identity provider is deleted",
    )
    .await
}

pub async fn set_active(
    s: &AppState,
    caller: &Caller,
    id: IdentityProviderId,
    active: bool,
) -> ApiResult<IdentityProvider> {
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
        .col_expr(Column::Active, Expr::value(active))
        .col_expr(Column::UpdatedAt, Expr::value(s.now()))
        .filter(Column::Active.eq(!active));
    let (event, conflict): (fn(IdentityProviderData) -> Event, &str) = if active {
        (
            Event::IdentityProviderActivated,
            "the identity provider is already active or is deleted",
        )
    } else {
        (
            Event::IdentityProviderDeactivated,
            "the identity provider is already inactive or is deleted",
        )
    };
    change(s, &row, q, event, conflict).await
}

pub async fn delete(
    s: &AppState,
    caller: &Caller,
    id: IdentityProviderId,
) -> ApiResult<IdentityProvider> {
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
        .col_expr(Column::UpdatedAt, Expr::value(now));
    change(
        s,
        &row,
        q,
        Event::IdentityProviderDeleted,
        "the identity provider is already deleted",
    )
    .await
}
