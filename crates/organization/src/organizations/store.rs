//! Organization queries; the entity is `crate::store::organization`.

use idp_model::events::OrganizationData;
use idp_model::organization::{MfaProvider, Organization};
use idp_model::OrganizationId;
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub use crate::store::organization::{Column, Entity, Model};

use crate::query::{ts, ts_opt};
use crate::{default_roles, identity_providers, open_id_providers};

/// The organization a request names in a body field: 400 naming `field` when it
/// does not exist or is deleted.
pub async fn require_live<C: ConnectionTrait>(
    db: &C,
    id: OrganizationId,
    field: &str,
) -> ApiResult<Model> {
    match Entity::find_by_id(id.as_uuid()).one(db).await? {
        Some(m) if m.deleted_at.is_none() => Ok(m),
        _ => Err(ApiError::invalid(field, "no such organization")),
    }
}

/// The live organization with this label (case-insensitive).
pub async fn by_label<C: ConnectionTrait>(db: &C, label: &str) -> ApiResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(Column::Label))).eq(label.to_lowercase()))
        .filter(Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

fn mfa(stored: &str) -> Option<MfaProvider> {
    match stored.parse::<MfaProvider>() {
        Ok(MfaProvider::None) | Err(_) => None,
        Ok(m) => Some(m),
    }
}

/// Organizations with what they embed (active identity providers, live default
/// roles, live OpenID providers), loaded in one query per kind.
pub async fn expand<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> ApiResult<Vec<Organization>> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut ips = identity_providers::store::active_by_org(db, &ids).await?;
    let mut drs = default_roles::store::live_by_org(db, &ids).await?;
    let mut oidcs = open_id_providers::store::live_by_org(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Organization {
            id: OrganizationId(r.id),
            identity_providers: ips.remove(&r.id).unwrap_or_default(),
            default_roles: drs.remove(&r.id).unwrap_or_default(),
            open_id_providers: oidcs.remove(&r.id).unwrap_or_default(),
            mfa_provider: mfa(&r.mfa_provider),
            created_at: ts(r.created_at),
            updated_at: ts_opt(r.updated_at),
            deleted_at: ts_opt(r.deleted_at),
            deleted: r.deleted_at.is_some(),
            name: r.name,
            label: r.label,
            active: r.active,
        })
        .collect())
}

pub async fn expand_one<C: ConnectionTrait>(db: &C, row: Model) -> ApiResult<Organization> {
    expand(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no such organization"))
}

/// What `organization.*` events carry: the state other services replicate.
pub fn event_data(m: &Model) -> OrganizationData {
    OrganizationData {
        id: Some(OrganizationId(m.id)),
        organization_id: Some(OrganizationId(m.id)),
        name: Some(m.name.clone()),
        label: Some(m.label.clone()),
        active: Some(m.active),
        mfa_provider: mfa(&m.mfa_provider),
        deleted: Some(m.deleted_at.is_some()),
    }
}

/// The label a deleted organization keeps: its id and its former label, which no
/// live label can collide with (a live label has no `_`).
pub fn deleted_label(id: uuid::Uuid, label: &str) -> String {
    format!("{id}_{label}")
}
