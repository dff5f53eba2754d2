//! Revocations from events: when an identity is deactivated or deleted, or an
//! organization deactivated or deleted, every token issued before that moment is
//! refused from the next request on, here and in every other process that listens
//! (the gateway and each service), without waiting for the tokens to expire.
//!
//! The revoking events are read from the bus's durable log [`LOG`]
//! ([`EventBus::subscribe_log`]; RabbitMQ: a stream retaining a day, longer than
//! any token lives): a process replays it when it starts, so a gateway or service
//! (re)started after a deactivation still refuses the tokens issued before it.
//! Replaying is idempotent: a revocation only refuses tokens issued before its
//! event, so an identity activated later gets working tokens again.

use std::sync::Arc;

use idp_bus::EventBus;
use idp_model::events::payload::uuid_of;
use idp_model::events::{types, Envelope};
use idp_model::{IdentityId, OrganizationId};
use tokio::task::JoinHandle;

use crate::Verifier;

/// The routing keys that revoke tokens.
pub const BINDINGS: [&str; 4] = [
    types::IDENTITY_DEACTIVATED,
    types::IDENTITY_DELETED,
    types::ORGANIZATION_DEACTIVATED,
    "organization.deleted",
];

/// The name of the bus log of revoking events.
pub const LOG: &str = "revocations";

/// Applies one event to the verifier; returns whether it revoked anything.
pub fn apply(verifier: &Verifier, event: &Envelope) -> bool {
    let at = event.occurred_at.timestamp();
    match event.kind.as_str() {
        types::IDENTITY_DEACTIVATED | types::IDENTITY_DELETED => {
            match uuid_of(&event.data, &["identityId", "id"]) {
                Some(id) => {
                    verifier.revoke_identity(IdentityId(id), at);
                    true
                }
                None => false,
            }
        }
        types::ORGANIZATION_DEACTIVATED | "organization.deleted" => {
            let id = uuid_of(&event.data, &["organizationId", "id"])
                .map(OrganizationId)
                .or(event.organization_id);
            match id {
                Some(id) => {
                    verifier.revoke_organization(id, at);
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

/// Subscribes this process to the revoking events (the log [`LOG`]: every process
/// reads every event, first those retained from before it started) and applies
/// them until the bus closes. Subscribes before returning, so no event published
/// after this returns is missed.
pub async fn listen(
    bus: Arc<dyn EventBus>,
    verifier: Verifier,
) -> Result<JoinHandle<()>, idp_bus::BusError> {
    let mut sub = bus.subscribe_log(LOG, &BINDINGS).await?;
    Ok(tokio::spawn(async move {
        while let Some(delivery) = sub.next().await {
            match delivery.envelope() {
                Ok(event) => {
                    if apply(&verifier, &event) {
                        tracing::info!(event_type = %event.kind, event_id = %event.id, "tokens revoked");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable revocation event ignored"),
            }
            delivery.ack().await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[tokio::test]
    async fn events_revoke_identities_and_organizations_through_the_bus() {
        let bus: Arc<dyn EventBus> = Arc::new(idp_bus::MemoryBus::new());
        let verifier = Verifier::new(crate::VerifierSettings::default());
        let _task = listen(bus.clone(), verifier.clone()).await.unwrap();
        let id = IdentityId::new();
        let org = OrganizationId::new();
        let ev = Envelope::new(
            types::IDENTITY_DEACTIVATED,
            "identity",
            Some(org),
            serde_json::json!({"identityId": id}),
            Utc::now(),
        );
        // The in-process bus returns once the listener has acked: applied by then.
        bus.publish(&ev).await.unwrap();
        assert!(verifier.is_revoked(id, OrganizationId::new(), Utc::now().timestamp() - 1));
        assert!(!verifier.is_revoked(IdentityId::new(), OrganizationId::new(), 0));
        let ev = Envelope::new(
            types::ORGANIZATION_DEACTIVATED,
            "organization",
            Some(org),
            serde_json::json!({"id": org}),
            Utc::now(),
        );
        bus.publish(&ev).await.unwrap();
        assert!(verifier.is_revoked(IdentityId::new(), org, Utc::now().timestamp() - 1));
        // Other events revoke nothing.
        let other = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            None,
            serde_json::json!({"identityId": IdentityId::new()}),
            Utc::now(),
        );
        assert!(!apply(&verifier, &other));
    }
}
