//! The read model `organizations_seen`: the organization service's organizations as
//! `organization.*` events describe them (the identity and the invitation service
//! keep it, each in its own database).

use idp_model::events::payload::{state_change, str_of, uuid_of};
use idp_model::events::Envelope;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, IntoActiveModel};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations_seen")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: Option<String>,
    pub label: Option<String>,
    pub active: bool,
    pub deleted: bool,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Applies one `organization.<action>` event; answers the organization's id, or
/// `None` when the event names none (it is then ignored).
pub async fn apply(
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<Option<Uuid>> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["organizationId", "id"]).or(event.organization_id.map(|o| o.0))
    else {
        tracing::warn!(event_type = %event.kind, "organization event without an id; ignored");
        return Ok(None);
    };
    let (active, deleted) = state_change(action, d);
    match Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            for (field, col) in [("name", &mut am.name), ("label", &mut am.label)] {
                if let Some(v) = str_of(d, field) {
                    *col = Set(Some(v));
                }
            }
            super::set_state(&mut am.active, &mut am.deleted, active, deleted);
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            Entity::insert(ActiveModel {
                id: Set(id),
                name: Set(str_of(d, "name")),
                label: Set(str_of(d, "label")),
                active: Set(active.unwrap_or(true)),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(Some(id))
}
