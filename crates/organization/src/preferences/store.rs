//! The `organization_preferences` table. `preferences` is stored as JSON text.

use idp_model::organization::OrganizationPreference;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::error::{ApiError, ApiResult};
use sea_orm::entity::prelude::*;

use crate::query::{ts, ts_opt};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub preferences: String,
    pub created_by: Option<Uuid>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: Option<TimeDateTimeWithTimeZone>,
    pub deleted_at: Option<TimeDateTimeWithTimeZone>,
    pub deleted_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn to_dto(&self) -> ApiResult<OrganizationPreference> {
        Ok(OrganizationPreference {
            id: self.id,
            organization_id: OrganizationId(self.organization_id),
            preferences: serde_json::from_str(&self.preferences).map_err(ApiError::internal)?,
            created_by: self.created_by.map(IdentityId),
            created_at: ts(self.created_at),
            updated_at: ts_opt(self.updated_at),
            deleted_by: self.deleted_by.map(IdentityId),
            deleted_at: ts_opt(self.deleted_at),
        })
    }
}
