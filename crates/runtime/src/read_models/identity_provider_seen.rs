//! The read model `identity_providers_seen`: the organization service's identity
//! providers (which organization each belongs to, its Auth0 connection) as
//! `identity-provider.*` events describe them (the identity and the invitation
//! service keep it, each in its own database).

use idp_model::events::{Envelope, Event, IdentityProviderData};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, IntoActiveModel};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers_seen")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub auth0_connection_id: Option<String>,
    pub active: bool,
    pub deleted: bool,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Applies one `identity-provider.<action>` event: creates the row, or changes the
/// fields the event names.
///
/// Its type is the envelope's (`_action` is kept for the callers); an error for
/// an `identity-provider.*` event whose data does not parse, other events are
/// ignored.
pub async fn apply(
    event: &Envelope,
    _action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    apply_event(&Event::of(event)?, txn, now).await
}

/// [`apply`] of a parsed event.
pub async fn apply_event(
    event: &Event,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let (d, active, deleted): (&IdentityProviderData, _, _) = match event {
        Event::IdentityProviderCreated(d) | Event::IdentityProviderUpdated(d) => {
            (d, d.active, None)
        }
        Event::IdentityProviderActivated(d) => (d, Some(true), None),
        Event::IdentityProviderDeactivated(d) => (d, Some(false), None),
        Event::IdentityProviderDeleted(d) => (d, d.active, Some(true)),
        _ => return Ok(()),
    };
    let (id, org) = (d.id.0, d.organization_id.0);
    match Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            am.organization_id = Set(org);
            if let Some(c) = &d.auth0_connection_id {
                am.auth0_connection_id = Set(Some(c.clone()));
            }
            super::set_state(&mut am.active, &mut am.deleted, active, deleted);
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            Entity::insert(ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                auth0_connection_id: Set(d.auth0_connection_id.clone()),
                active: Set(active.unwrap_or(true)),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}
