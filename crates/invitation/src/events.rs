//! Events: what this service consumes (read models of other services' state) and
//! emits (through the outbox, in the transaction of the change).
//!
//! Emitted (`source: "invitation"`, [`SOURCE`], envelope `organizationId` = the invitation's
//! target organization), `data` = the invitation as the API shows it (never its key):
//! - `invitation.created`
//! - `invitation.accepted`, `invitation.declined` (plus `via`: `api` or `key`); an
//!   acceptance completed by key with a login also carries `invitationId`,
//!   `organizationId`, `email` (the invited address), `openIdProviderId`,
//!   `subject` (the login's `sub`) and, when the ID token has them, `name`,
//!   `givenName`, `familyName`: what the identity service needs to make or map
//!   the user identity
//! - `invitation.revoked`
//!
//! Consumed (queue `{exchange}.invitation`):
//! - `organization.*` → `organizations_seen` (id, name, label, active, deleted)
//! - `identity.*` → `identities_seen` (id, organizationId, name, email, type,
//!   deleted); an identity event with `invitationId` also records the identity on
//!   that invitation (`mapped_identity_id`, and `targetUserIdentityId`), which is
//!   what `accept-complete` waits for
//! - `identity-provider.*` → `identity_providers_seen` (id, organizationId,
//!   auth0ConnectionId, active, deleted)
//! - `open-id-provider.*` → `open_id_providers_seen` (id, organizationId, name,
//!   clientId, issuer, jwksUri, active, deleted; the read model and its handler
//!   are the identity service's too: `idp_runtime::read_models`)

use std::sync::Arc;

use idp_bus::EventBus;
use idp_model::events::{Envelope, Event, IdentityData};
use idp_runtime::outbox::{self, ConsumerOptions};
use idp_runtime::Shutdown;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel,
};
use time::OffsetDateTime;

use crate::invitations::store as invitations;
use crate::store::{identity_seen, open_id_provider_seen, organization_seen, provider_seen};

/// The `source` of every event of this service (`AppState::work` writes it).
pub const SOURCE: &str = "invitation";

pub async fn spawn_consumers(
    db: DatabaseConnection,
    exchange: &str,
    bus: Arc<dyn EventBus>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let h = outbox::handler(move |event, txn| Box::pin(async move { on_event(event, txn).await }));
    // Bindings: `organization.*`, `identity.*`, `identity-provider.*`,
    // `open-id-provider.*` (the platform topology's list for `invitation`).
    outbox::spawn_consumer(
        db,
        bus,
        ConsumerOptions::for_service(exchange, "invitation")?,
        h,
        shutdown,
    )
    .await?;
    Ok(())
}

/// Applies one event; an error for a known type whose data does not parse.
pub async fn on_event(event: Envelope, txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let now = event.occurred_at;
    let parsed = Event::of(&event)?;
    match &parsed {
        Event::OrganizationCreated(_)
        | Event::OrganizationActivated(_)
        | Event::OrganizationDeactivated(_)
        | Event::OrganizationDeleted(_) => {
            organization_seen::apply_event(&parsed, &event, txn, now)
                .await
                .map(drop)
        }
        Event::IdentityCreated(d)
        | Event::IdentityUpdated(d)
        | Event::IdentityActivated(d)
        | Event::IdentityDeactivated(d) => on_identity(&event, d, None, txn, now).await,
        Event::IdentityDeleted(d) => on_identity(&event, d, Some(true), txn, now).await,
        Event::IdentityProviderCreated(_)
        | Event::IdentityProviderUpdated(_)
        | Event::IdentityProviderActivated(_)
        | Event::IdentityProviderDeactivated(_)
        | Event::IdentityProviderDeleted(_) => provider_seen::apply_event(&parsed, txn, now).await,
        Event::OpenIdProviderCreated(_)
        | Event::OpenIdProviderUpdated(_)
        | Event::OpenIdProviderDeleted(_) => {
            open_id_provider_seen::apply_event(&parsed, txn, now).await
        }
        _ => Ok(()),
    }
}

/// An `identity.*` event: the identity's name, email and type, and the
/// invitation it was made or mapped for.
async fn on_identity(
    event: &Envelope,
    d: &IdentityData,
    deleted: Option<bool>,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let id = d.identity_id.0;
    let org = d.organization_id.or(event.organization_id).map(|o| o.0);
    match identity_seen::Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(o) = org {
                am.organization_id = Set(o);
            }
            if let Some(n) = &d.name {
                am.name = Set(Some(n.clone()));
            }
            if let Some(e) = &d.email {
                am.email = Set(Some(e.clone()));
            }
            if let Some(t) = &d.kind {
                am.kind = Set(Some(t.clone()));
            }
            if let Some(x) = deleted {
                am.deleted = Set(x);
            }
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            let Some(org) = org else {
                tracing::warn!(event_type = %event.kind, "identity event without an organization; ignored");
                return Ok(());
            };
            identity_seen::Entity::insert(identity_seen::ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                name: Set(d.name.clone()),
                email: Set(d.email.clone()),
                kind: Set(d.kind.clone()),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    if let Some(inv) = d.invitation_id {
        // The identity service made or mapped this identity for an acceptance by
        // key: it is the invitation's user identity now.
        invitations::map_identity(txn, inv, id).await?;
    }
    Ok(())
}
