//! The read model `open_id_providers_seen`: the organization service's OpenID
//! providers as `open-id-provider.*` events describe them. The identity service
//! reads it for the token-exchange grant, the invitation service for accepting an
//! invitation by key; each keeps it in its own database.

use idp_model::events::{Envelope, Event, OpenIdProviderData};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, IntoActiveModel};
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "open_id_providers_seen")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub issuer: Option<String>,
    pub jwks_uri: Option<String>,
    pub active: bool,
    pub deleted: bool,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Applies one `open-id-provider.<action>` event: creates the row, or changes the
/// fields the event names.
///
/// Its type is the envelope's (`_action` is kept for the callers); an error for
/// an `open-id-provider.*` event whose data does not parse, other events are
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
    let (d, active, deleted): (&OpenIdProviderData, _, _) = match event {
        Event::OpenIdProviderCreated(d) | Event::OpenIdProviderUpdated(d) => {
            (d, d.active, d.deleted)
        }
        Event::OpenIdProviderDeleted(d) => (d, d.active, Some(true)),
        _ => return Ok(()),
    };
    let (id, org) = (d.id.0, d.organization_id.0);
    match Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            am.organization_id = Set(org);
            for (v, col) in [
                (&d.name, &mut am.name),
                (&d.client_id, &mut am.client_id),
                (&d.issuer, &mut am.issuer),
                (&d.jwks_uri, &mut am.jwks_uri),
            ] {
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
                organization_id: Set(org),
                name: Set(d.name.clone()),
                client_id: Set(d.client_id.clone()),
                issuer: Set(d.issuer.clone()),
                jwks_uri: Set(d.jwks_uri.clone()),
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
