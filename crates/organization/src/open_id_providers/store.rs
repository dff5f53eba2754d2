//! The `open_id_providers` table and its queries.

use std::collections::HashMap;

use idp_model::organization::OpenIdProvider;
use idp_model::{IdentityId, OpenIdProviderId, OrganizationId};
use idp_runtime::error::ApiResult;
use sea_orm::entity::prelude::*;
use sea_orm::QueryOrder;

use crate::query::{ts, ts_opt};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "open_id_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub client_id: String,
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub user_info_endpoint: Option<String>,
    pub jwks_uri: String,
    pub active: bool,
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
    pub fn to_dto(&self) -> OpenIdProvider {
        OpenIdProvider {
            id: OpenIdProviderId(self.id),
            organization_id: OrganizationId(self.organization_id),
            name: self.name.clone(),
            client_id: self.client_id.clone(),
            issuer: self.issuer.clone(),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            user_info_endpoint: self.user_info_endpoint.clone(),
            jwks_uri: self.jwks_uri.clone(),
            active: self.active,
            created_by: self.created_by.map(IdentityId),
            created_at: ts(self.created_at),
            deleted_at: ts_opt(self.deleted_at),
            deleted_by: self.deleted_by.map(IdentityId),
            deleted: self.deleted_at.is_some(),
        }
    }
}

/// The live (active or not) OpenID providers of each organization.
pub async fn live_by_org<C: ConnectionTrait>(
    db: &C,
    orgs: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<OpenIdProvider>>> {
    let mut out: HashMap<Uuid, Vec<OpenIdProvider>> = HashMap::new();
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
        out.entry(r.organization_id).or_default().push(r.to_dto());
    }
    Ok(out)
}
