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
//!
//! A process accepts no token before it has applied the replay: the verifier
//! answers [`crate::TokenError::RevocationsUnavailable`] (503) from the moment the
//! listener subscribes until the subscription says it caught up
//! ([`idp_bus::Subscription::caught_up`]). Events are applied in batches (what the
//! subscription holds, up to [`BATCH`]), acknowledged together, with one log line
//! per batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idp_bus::EventBus;
use idp_model::events::{types, Envelope, Event};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Verifier;

/// The routing keys that revoke tokens (those whose `Event::revokes_tokens`; a
/// test checks it).
pub const BINDINGS: [&str; 4] = [
    types::IDENTITY_DEACTIVATED,
    types::IDENTITY_DELETED,
    types::ORGANIZATION_DEACTIVATED,
    types::ORGANIZATION_DELETED,
];

/// The name of the bus log of revoking events.
pub const LOG: &str = "revocations";

/// Applies one event to the verifier; returns whether it revoked anything.
pub fn apply(verifier: &Verifier, event: &Envelope) -> bool {
    let at = event.occurred_at.unix_timestamp();
    match Event::of(event) {
        Ok(Event::IdentityDeactivated(d) | Event::IdentityDeleted(d)) => {
            verifier.revoke_identity(d.identity_id, at);
            true
        }
        Ok(Event::OrganizationDeactivated(d) | Event::OrganizationDeleted(d)) => {
            match d.organization().or(event.organization_id) {
                Some(id) => {
                    verifier.revoke_organization(id, at);
                    true
                }
                None => false,
            }
        }
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable revocation event ignored");
            false
        }
    }
}

/// The most events applied (and acknowledged) together.
pub const BATCH: usize = 1000;
/// How often the listener forgets revocations whose tokens all expired.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Subscribes this process to the revoking events (the log [`LOG`]: every process
/// reads every event, first those retained from before it started) and applies
/// them until the bus closes. Subscribes before returning, so no event published
/// after this returns is missed. From then until the replay is applied the
/// verifier accepts no token.
pub async fn listen(
    bus: Arc<dyn EventBus>,
    verifier: Verifier,
) -> Result<JoinHandle<()>, idp_bus::BusError> {
    verifier.set_revocations_known(false);
    let mut sub = match bus.subscribe_log(LOG, &BINDINGS).await {
        Ok(s) => s,
        Err(e) => {
            verifier.set_revocations_known(true);
            return Err(e);
        }
    };
    let mut caught_up = sub.caught_up();
    Ok(tokio::spawn(async move {
        let started = Instant::now();
        let mut replayed = 0usize;
        let mut known = false;
        let mut last_prune = Instant::now();
        let caught_up_now = |known: &mut bool, replayed: usize, rx: &mut watch::Receiver<bool>| {
            if !*known && *rx.borrow_and_update() {
                *known = true;
                verifier.set_revocations_known(true);
                tracing::info!(
                    events = replayed,
                    took_ms = started.elapsed().as_millis() as u64,
                    "revocation log replayed; tokens are accepted"
                );
            }
        };
        // The in-process bus has no history: caught up from the start.
        caught_up_now(&mut known, replayed, &mut caught_up);
        loop {
            // The flag turns inside `next` (cancel-safe), once every earlier
            // delivery was handed out, and each is applied before asking for more.
            let step = tokio::select! {
                d = sub.next() => Some(d),
                _ = caught_up.changed(), if !known => None,
            };
            let first = match step {
                None => {
                    caught_up_now(&mut known, replayed, &mut caught_up);
                    continue;
                }
                Some(None) => break, // the bus closed
                Some(Some(d)) => d,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match sub.try_next() {
                    Some(d) => batch.push(d),
                    None => break,
                }
            }
            let mut revoked = 0usize;
            for delivery in &batch {
                match delivery.envelope() {
                    Ok(event) => {
                        if apply(&verifier, &event) {
                            revoked += 1;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable revocation event ignored"),
                }
            }
            let n = batch.len();
            idp_bus::Delivery::ack_all(batch).await;
            if known {
                if revoked > 0 {
                    tracing::info!(events = n, revoked, "tokens revoked");
                }
            } else {
                replayed += n;
                tracing::debug!(events = n, revoked, "revocation log replay batch applied");
            }
            caught_up_now(&mut known, replayed, &mut caught_up);
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = Instant::now();
                verifier.prune_expired_revocations();
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use idp_model::{IdentityId, OrganizationId};
    use time::OffsetDateTime;

    #[test]
    fn the_bindings_are_the_types_that_revoke_tokens() {
        let derived: Vec<&str> = Event::revoking_types().collect();
        assert_eq!(BINDINGS.as_slice(), derived.as_slice());
    }

    #[tokio::test]
    async fn events_revoke_identities_and_organizations_through_the_bus() {
        let bus: Arc<dyn EventBus> = Arc::new(idp_bus::MemoryBus::new());
        let verifier = Verifier::new(crate::VerifierSettings::default());
        let _task = listen(bus.clone(), verifier.clone()).await.unwrap();
        // The in-process bus has no history to replay: tokens are accepted at once.
        for _ in 0..100 {
            if verifier.revocations_known() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(verifier.revocations_known());
        let id = IdentityId::new();
        let org = OrganizationId::new();
        let ev = Envelope::new(
            types::IDENTITY_DEACTIVATED,
            "identity",
            Some(org),
            serde_json::json!({"identityId": id}),
            OffsetDateTime::now_utc(),
        );
        // The in-process bus returns once the listener has acked: applied by then.
        bus.publish(&ev).await.unwrap();
        assert!(verifier.is_revoked(
            id,
            OrganizationId::new(),
            OffsetDateTime::now_utc().unix_timestamp() - 1
        ));
        assert!(!verifier.is_revoked(IdentityId::new(), OrganizationId::new(), 0));
        let ev = Envelope::new(
            types::ORGANIZATION_DEACTIVATED,
            "organization",
            Some(org),
            serde_json::json!({"id": org}),
            OffsetDateTime::now_utc(),
        );
        bus.publish(&ev).await.unwrap();
        assert!(verifier.is_revoked(
            IdentityId::new(),
            org,
            OffsetDateTime::now_utc().unix_timestamp() - 1
        ));
        // Other events revoke nothing.
        let other = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            None,
            serde_json::json!({"identityId": IdentityId::new()}),
            OffsetDateTime::now_utc(),
        );
        assert!(!apply(&verifier, &other));
    }
}
