//! The read model `open_id_providers_seen`: the organization service's OpenID
//! providers as `open-id-provider.*` events describe them. The identity service
//! reads it for the token-exchange grant, the invitation service for accepting an
//! invitation by key; each keeps it in its own database.

use idp_model::events::payload::{state_change, str_of, uuid_of};
use idp_model::events::Envelope;
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
pub async fn apply(
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["openIdProviderId", "id"]) else {
        tracing::warn!(event_type = %event.kind, "open-id-provider event without an id; ignored");
        return Ok(());
    };
    let org = uuid_of(d, &["organizationId"]).or(event.organization_id.map(|o| o.0));
    let (active, deleted) = state_change(action, d);
    match Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(o) = org {
                am.organization_id = Set(o);
            }
            for (field, col) in [
                ("name", &mut am.name),
                ("clientId", &mut am.client_id),
                ("issuer", &mut am.issuer),
                ("jwksUri", &mut am.jwks_uri),
            ] {
                if let Some(v) = str_of(d, field) {
                    *col = Set(Some(v));
                }
            }
            super::set_state(&mut am.active, &mut am.deleted, active, deleted);
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            let Some(org) = org else {
                tracing::warn!(event_type = %event.kind, "open-id-provider event without an organization; ignored");
                return Ok(());
            };
            Entity::insert(ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                name: Set(str_of(d, "name")),
                client_id: Set(str_of(d, "clientId")),
                issuer: Set(str_of(d, "issuer")),
                jwks_uri: Set(str_of(d, "jwksUri")),
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
