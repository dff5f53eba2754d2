//! What the `/identity/v1/open-id-providers/**` endpoints do (their handlers in `routes`
//! call these): access checks, the change and its events in one transaction.

use idp_model::events::{Event, OpenIdProviderData};
use idp_model::organization::OpenIdProvider;
use idp_model::{OpenIdProviderId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::store::{self, Column, Entity};
use super::types::{check_url, CreateOpenIdProvider, FindOpenIdProviders, UpdateOpenIdProvider};
use crate::organizations::store as orgs;
use crate::state::AppState;
use idp_model::catalog::action;
use idp_runtime::query::{self, Deleted};

pub const RESOURCE: &str = idp_model::catalog::OPEN_ID_PROVIDER.code;

pub async fn find(
    s: &AppState,
    caller: &Caller,
    params: PageParams,
    f: FindOpenIdProviders,
) -> ApiResult<Paged<OpenIdProvider>> {
    let deleted = Deleted::parse(f.deleted.as_deref())?;
    let scope = s.read_scope(caller, RESOURCE).await?;
    let mut select = deleted.apply(Entity::find(), Column::DeletedAt);
    if let Some(o) = f.organization_id {
        select = select.filter(Column::OrganizationId.eq(o.as_uuid()));
    }
    if let Some(n) = &f.name {
        select = select.filter(Column::Name.eq(n.as_str()));
    }
    if let Some(i) = &f.issuer {
        select = select.filter(Column::Issuer.eq(i.as_str()));
    }
    if let Some(c) = &f.client_id {
        select = select.filter(Column::ClientId.eq(c.as_str()));
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
            ("issuer", Column::Issuer),
        ],
        Column::CreatedAt,
        Column::Id,
    )?;
    let (rows, total) = query::page(&s.db, select, &params).await?;
    let items = rows.iter().map(store::Model::to_dto).collect();
    Ok(Paged::new(items, total, params))
}

async fn load(s: &AppState, id: OpenIdProviderId) -> ApiResult<store::Model> {
    Entity::find_by_id(id.as_uuid())
        .one(&s.db)
        .await?
        .ok_or_else(|| ApiError::not_found("no such OpenID provider"))
}

pub async fn get(s: &AppState, caller: &Caller, id: OpenIdProviderId) -> ApiResult<OpenIdProvider> {
    let row = load(s, id).await?;
    s.require_visible(caller, RESOURCE, OrganizationId(row.organization_id))
        .await?;
    Ok(row.to_dto())
}

pub async fn create(
    s: &AppState,
    caller: &Caller,
    body: CreateOpenIdProvider,
) -> ApiResult<OpenIdProvider> {
    let org = body.organization_id;
    let loopback = s.oidc.allow_http_loopback;
    check_url("issuer", &body.issuer, loopback)?;
    check_url("jwksUri", &body.jwks_uri, loopback)?;
    for (field, v) in [
        ("authorizationEndpoint", &body.authorization_endpoint),
        ("tokenEndpoint", &body.token_endpoint),
        ("userInfoEndpoint", &body.user_info_endpoint),
    ] {
        if let Some(v) = v {
            check_url(field, v, loopback)?;
        }
    }
    s.require(caller, RESOURCE, action::CREATE, Some(org))
        .await?;
    orgs::require_live(&s.db, org, "organizationId").await?;
    let mut w = s.work.begin().await?;
    let now = w.now();
    let id = OpenIdProviderId::new().as_uuid();
    let am = store::ActiveModel {
        id: Set(id),
        organization_id: Set(org.as_uuid()),
        name: Set(body.name.to_string()),
        client_id: Set(body.client_id.to_string()),
        issuer: Set(body.issuer),
        authorization_endpoint: Set(body.authorization_endpoint),
        token_endpoint: Set(body.token_endpoint),
        user_info_endpoint: Set(body.user_info_endpoint),
        jwks_uri: Set(body.jwks_uri),
        active: Set(body.active.unwrap_or(true)),
        created_by: Set(Some(caller.identity_id().as_uuid())),
        created_at: Set(now),
        updated_at: Set(None),
        deleted_at: Set(None),
        deleted_by: Set(None),
    };
    Entity::insert(am).exec_without_returning(w.txn()).await?;
    let dto = Entity::find_by_id(id)
        .one(w.txn())
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("inserted row vanished")))?
        .to_dto();
    w.enqueue_event(Some(org), &Event::OpenIdProviderCreated((&dto).into()))?;
    w.commit().await?;
    Ok(dto)
}

async fn change(
    s: &AppState,
    row: &store::Model,
    update: sea_orm::UpdateMany<Entity>,
    event: fn(OpenIdProviderData) -> Event,
    conflict: &str,
) -> ApiResult<OpenIdProvider> {
    let mut w = s.work.begin().await?;
    let update = update
        .filter(Column::Id.eq(row.id))
        .filter(Column::DeletedAt.is_null());
    let dto = w.transition(update, row.id, conflict).await?.to_dto();
    w.enqueue_event(Some(dto.organization_id), &event((&dto).into()))?;
    w.commit().await?;
    Ok(dto)
}

pub async fn update(
    s: &AppState,
    caller: &Caller,
    id: OpenIdProviderId,
    body: UpdateOpenIdProvider,
) -> ApiResult<OpenIdProvider> {
    if body.name.is_none() && body.active.is_none() {
        return Err(ApiError::invalid(
            "name",
            "nothing to update: give name and/or active",
        ));
    }
    let row = load(s, id).await?;
    s.authz
        .require_change(
            caller,
            RESOURCE,
            action::UPDATE,
            Some(OrganizationId(row.organization_id)),
        )
        .await?;
    let mut q = Entity::update_many().col_expr(Column::UpdatedAt, Expr::value(s.now()));
    if let Some(n) = &body.name {
        q = q.col_expr(Column::Name, Expr::value(n.as_str()));
    }
    if let Some(a) = body.active {
        q = q.col_expr(Column::Active, Expr::value(a));
    }
    change(
        s,
        &row,
        q,
        Event::OpenIdProviderUpdated,
        "the OpenID provider is deleted",
    )
    .await
}

pub async fn delete(
    s: &AppState,
    caller: &Caller,
    id: OpenIdProviderId,
) -> ApiResult<OpenIdProvider> {
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
    change(
        s,
        &row,
        q,
        Event::OpenIdProviderDeleted,
        "the OpenID provider is already deleted",
    )
    .await
}
