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
use idp_model::events::Envelope;
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

use idp_model::events::payload::{bool_of, str_of, uuid_of};

pub async fn on_event(event: Envelope, txn: &DatabaseTransaction) -> anyhow::Result<()> {
    let (family, action) = event
        .kind
        .split_once('.')
        .unwrap_or((event.kind.as_str(), ""));
    let now = event.occurred_at;
    match family {
        "organization" => organization_seen::apply(&event, action, txn, now)
            .await
            .map(drop),
        "identity" => on_identity(&event, action, txn, now).await,
        "identity-provider" => provider_seen::apply(&event, action, txn, now).await,
        "open-id-provider" => open_id_provider_seen::apply(&event, action, txn, now).await,
        _ => Ok(()),
    }
}

async fn on_identity(
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["identityId", "id"]) else {
        tracing::warn!(event_type = %event.kind, "identity event without an id; ignored");
        return Ok(());
    };
    let org = uuid_of(d, &["organizationId", "tenantId"]).or(event.organization_id.map(|o| o.0));
    let deleted = if action == "deleted" {
        Some(true)
    } else {
        bool_of(d, "deleted")
    };
    match identity_seen::Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(o) = org {
                am.organization_id = Set(o);
            }
            if let Some(n) = str_of(d, "name") {
                am.name = Set(Some(n));
            }
            if let Some(e) = str_of(d, "email") {
                am.email = Set(Some(e));
            }
            if let Some(t) = str_of(d, "type") {
                am.kind = Set(Some(t));
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
                name: Set(str_of(d, "name")),
                email: Set(str_of(d, "email")),
                kind: Set(str_of(d, "type")),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    if let Some(inv) = uuid_of(d, &["invitationId"]) {
        // The identity service made or mapped this identity for an acceptance by
        // key: it is the invitation's user identity now.
        invitations::map_identity(txn, inv, id).await?;
    }
    Ok(())
}
