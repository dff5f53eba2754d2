//! The `default_roles` table and its queries.

use std::collections::HashMap;

use idp_model::organization::DefaultRole;
use idp_model::{DefaultRoleId, IdentityId, OrganizationId, RoleId};
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::entity::prelude::*;
use sea_orm::QueryOrder;

use crate::query::{ts, ts_opt};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "default_roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    /// `Standard` or `Custom`.
    pub role_type: String,
    pub role_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub deleted_at: Option<TimeDateTimeWithTimeZone>,
    pub deleted_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn to_dto(&self) -> ApiResult<DefaultRole> {
        Ok(DefaultRole {
            id: DefaultRoleId(self.id),
            organization_id: OrganizationId(self.organization_id),
            name: self.name.clone(),
            role_type: self
                .role_type
                .parse()
                .map_err(|e: String| ApiError::internal(anyhow::anyhow!(e)))?,
            role_id: RoleId(self.role_id),
            created_by: self.created_by.map(IdentityId),
            created_at: ts(self.created_at),
            deleted_at: ts_opt(self.deleted_at),
            deleted_by: self.deleted_by.map(IdentityId),
            deleted: self.deleted_at.is_some(),
        })
    }
}

/// The live default roles of each organization (what an organization embeds).
pub async fn live_by_org<C: ConnectionTrait>(
    db: &C,
    orgs: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<DefaultRole>>> {
    let mut out: HashMap<Uuid, Vec<DefaultRole>> = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let rows = Entity::find()
        .filter(Column::OrganizationId.is_in(orgs.to_vec()))
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
