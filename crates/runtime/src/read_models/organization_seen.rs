//! The read model `organizations_seen`: the organization service's organizations as
//! `organization.*` events describe them (the identity and the invitation service
//! keep it, each in its own database).

use idp_model::events::{Envelope, Event, OrganizationData};
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

/// Applies one `organization.*` event (its type is the envelope's; `_action` is
/// kept for the callers); answers the organization's id, or `None` when the event
/// names none or is no organization event (it is then ignored). An error for an
/// `organization.*` event whose data does not parse.
pub async fn apply(
    event: &Envelope,
    _action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<Option<Uuid>> {
    apply_event(&Event::of(event)?, event, txn, now).await
}

/// [`apply`] of an event already parsed from `envelope`.
pub async fn apply_event(
    event: &Event,
    envelope: &Envelope,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<Option<Uuid>> {
    let (d, active, deleted): (&OrganizationData, _, _) = match event {
        Event::OrganizationCreated(d) => (d, d.active, d.deleted),
        Event::OrganizationActivated(d) => (d, Some(true), None),
        Event::OrganizationDeactivated(d) => (d, Some(false), None),
        Event::OrganizationDeleted(d) => (d, d.active, Some(true)),
        _ => return Ok(None),
    };
    let Some(id) = d.organization().or(envelope.organization_id).map(|o| o.0) else {
        tracing::warn!(event_type = %envelope.kind, "organization event without an id; ignored");
        return Ok(None);
    };
    match Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            for (v, col) in [(&d.name, &mut am.name), (&d.label, &mut am.label)] {
                if let Some(v) = v {
                    *col = Set(Some(v.clone()));
                }
            }
            super::set_state(&mut am.active, &mut am.deleted, active, deleted);
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            Entity::insert(ActiveModel {
                id: Set(id),
                name: Set(d.name.clone()),
                label: Set(d.label.clone()),
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
