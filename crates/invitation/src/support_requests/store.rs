//! The `support_requests` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub identity_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub selected_organization_id: Option<String>,
    pub selected_network_id: Option<String>,
    pub subject: String,
    pub comment: String,
    pub kind: String,
    pub priority: String,
    pub severity: String,
    /// JSON array of strings.
    pub recent_error_messages: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert<C: ConnectionTrait>(db: &C, row: Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel::from(row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}
