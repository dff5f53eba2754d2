//! The `identity_providers` table and its queries.

use std::collections::HashMap;

use idp_model::organization::{Auth0ConnectionType, IdentityProvider};
use idp_model::{IdentityProviderId, OrganizationId};
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder};
use time::OffsetDateTime;

use crate::query::{ts, ts_opt};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub auth0_connection_id: String,
    pub name: String,
    /// `Database`, `Social`, `Enterprise` or `Passwordless`.
    pub auth0_connection_type: String,
    pub active: bool,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: Option<TimeDateTimeWithTimeZone>,
    pub deleted_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn to_dto(&self) -> ApiResult<IdentityProvider> {
        Ok(IdentityProvider {
            id: IdentityProviderId(self.id),
            organization_id: OrganizationId(self.organization_id),
            auth0_connection_id: self.auth0_connection_id.clone(),
            name: self.name.clone(),
            auth0_connection_type: self
                .auth0_connection_type
                .parse()
                .map_err(|e: String| ApiError::internal(anyhow::anyhow!(e)))?,
            active: self.active,
            created_at: ts(self.created_at),
            updated_at: ts_opt(self.updated_at),
            deleted_at: ts_opt(self.deleted_at),
        })
    }
}

/// A new, active identity provider.
pub fn new_row(
    organization_id: OrganizationId,
    auth0_connection_id: &str,
    name: &str,
    kind: Auth0ConnectionType,
    now: OffsetDateTime,
) -> Model {
    Model {
        id: IdentityProviderId::new().as_uuid(),
        organization_id: organization_id.as_uuid(),
        auth0_connection_id: auth0_connection_id.to_string(),
        name: name.to_string(),
        auth0_connection_type: kind.as_str().to_string(),
        active: true,
        created_at: now,
        updated_at: None,
        deleted_at: None,
    }
}

pub async fn insert<C: ConnectionTrait>(db: &C, m: &Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        id: Set(m.id),
        organization_id: Set(m.organization_id),
        auth0_connection_id: Set(m.auth0_connection_id.clone()),
        name: Set(m.name.clone()),
        auth0_connection_type: Set(m.auth0_connection_type.clone()),
        active: Set(m.active),
        created_at: Set(m.created_at),
        updated_at: Set(m.updated_at),
        deleted_at: Set(m.deleted_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The active, live providers of each organization (what an organization embeds).
pub async fn active_by_org<C: ConnectionTrait>(
    db: &C,
    orgs: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<IdentityProvider>>> {
    let mut out: HashMap<Uuid, Vec<IdentityProvider>> = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let rows = Entity::find()
        .filter(Column::OrganizationId.is_in(orgs.to_vec()))
        .filter(Column::Active.eq(true))
        .filter(Column::DeletedAt.is_null())
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.organization_id).or_default().push(r.to_dto()?);
    }
    Ok(out)
}
