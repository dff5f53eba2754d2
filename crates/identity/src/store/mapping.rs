//! `identity_mappings`: a user identity's logins at identity providers (external
//! subject + provider, unique).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub identity_id: Uuid,
    /// The subject at the provider (the reference's `auth0UserId`).
    pub external_subject: String,
    pub identity_provider_id: Uuid,
    pub created_at: TimeDateTimeWithTimeZone,
    pub created_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
