//! The `identities` table: user identities and API-account identities in one table,
//! so that `GET /identities` lists both kinds with one query.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `UserIdentity` or `ApiAccountIdentity`.
    pub kind: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Lower-cased. For users the login email; for API accounts the contact email.
    pub email: Option<String>,
    pub description: Option<String>,
    /// API accounts only: the OAuth 2.0 client id (unique).
    #[sea_orm(unique)]
    pub client_id: Option<String>,
    /// API accounts only: HMAC-SHA-256 of the secret under the pepper, hex.
    pub secret_hash: Option<String>,
    pub active: bool,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: Option<TimeDateTimeWithTimeZone>,
    pub deleted_at: Option<TimeDateTimeWithTimeZone>,
    pub created_by: Option<Uuid>,
    /// Users only: whether a second factor is enrolled (cleared by reset-mfa).
    pub mfa_enrolled: bool,
    /// Users only: when and by whom the second factor was last reset.
    pub mfa_reset_at: Option<TimeDateTimeWithTimeZone>,
    pub mfa_reset_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
