//! The platform's event topology in one place: which service consumes which
//! events (its durable queue `{exchange}.{service}` and the queue's bindings), and
//! the logs every process replays on start.
//!
//! Each service subscribes its consumer with [`ConsumerOptions::for_service`], and
//! every service declares the whole topology when it connects to the bus, before
//! its outbox relay publishes anything ([`declare_platform_topology`], called by
//! `Foundation::prepare`). So on a fresh install an event published before its
//! consumer first started waits in the consumer's queue instead of being dropped
//! by RabbitMQ as unroutable.

use idp_bus::{BusError, EventBus, QueueSpec};
use idp_model::events::types;

use super::ConsumerOptions;

/// One consuming service and what its queue is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformConsumer {
    pub service: &'static str,
    pub bindings: &'static [&'static str],
}

/// Every consumer of the platform. A service that starts consuming an event type
/// adds the binding here and names itself in that type's consumers in
/// `idp_model::events::Event` (a test checks that the two agree). The bindings stay
/// a constant with wildcards (`organization.*`) rather than being computed from the
/// enum: a wildcard also routes a type a newer producer adds during a rolling
/// deploy (the consumer ignores it as `Event::Unknown`), and the list is read at
/// compile time by the fault tests.
pub const PLATFORM_CONSUMERS: &[PlatformConsumer] = &[
    PlatformConsumer {
        service: "identity",
        bindings: &[
            "organization.*",
            "identity-provider.*",
            "open-id-provider.*",
            types::INVITATION_ACCEPTED,
        ],
    },
    PlatformConsumer {
        service: "invitation",
        bindings: &[
            "organization.*",
            "identity.*",
            "identity-provider.*",
            "open-id-provider.*",
        ],
    },
    PlatformConsumer {
        service: "authorization",
        bindings: &[
            types::IDENTITY_CREATED,
            types::IDENTITY_DELETED,
            types::DEFAULT_ROLE_CREATED,
            types::DEFAULT_ROLE_DELETED,
            types::DEFAULT_ROLE_GRANT_REQUESTED,
        ],
    },
];

/// The durable queue of `service` on `exchange`.
pub fn queue_name(exchange: &str, service: &str) -> String {
    format!("{exchange}.{service}")
}

/// The consumer of `service` in [`PLATFORM_CONSUMERS`].
pub fn platform_consumer(service: &str) -> Option<&'static PlatformConsumer> {
    PLATFORM_CONSUMERS.iter().find(|c| c.service == service)
}

impl ConsumerOptions {
    /// The options of `service`'s consumer as the platform topology lists it: queue
    /// `{exchange}.{service}` with its bindings. An error for a service that is not
    /// in [`PLATFORM_CONSUMERS`].
    pub fn for_service(exchange: &str, service: &str) -> anyhow::Result<ConsumerOptions> {
        let c = platform_consumer(service).ok_or_else(|| {
            anyhow::anyhow!("{service} is not a consumer of the platform topology")
        })?;
        Ok(ConsumerOptions::new(
            queue_name(exchange, service),
            c.bindings,
        ))
    }
}

/// Refuses a consumer of a platform queue (`{exchange}.{service}` of a service in
/// [`PLATFORM_CONSUMERS`]) whose bindings differ from the catalogue's: the queues
/// other services declare on connect would miss (or add) event types, and events
/// published before the consumer first started would be lost.
pub fn check_consumer(queue: &str, bindings: &[String]) -> anyhow::Result<()> {
    let Some(c) = PLATFORM_CONSUMERS
        .iter()
        .find(|c| queue.ends_with(&format!(".{}", c.service)))
    else {
        return Ok(());
    };
    let mut mine: Vec<&str> = bindings.iter().map(String::as_str).collect();
    let mut listed: Vec<&str> = c.bindings.to_vec();
    mine.sort_unstable();
    mine.dedup();
    listed.sort_unstable();
    listed.dedup();
    anyhow::ensure!(
        mine == listed,
        "the consumer of {queue} binds {mine:?} but the platform topology lists {listed:?} \
         for {}: keep idp_runtime::outbox::topology::PLATFORM_CONSUMERS in step \
         (or use ConsumerOptions::for_service)",
        c.service
    );
    Ok(())
}

/// What every process declares on `exchange`: each consumer's durable queue (with
/// its dead-letter queue) and the log of token revocations.
pub fn platform_topology(exchange: &str) -> Vec<QueueSpec> {
    let mut specs: Vec<QueueSpec> = PLATFORM_CONSUMERS
        .iter()
        .map(|c| QueueSpec::queue(queue_name(exchange, c.service), c.bindings))
        .collect();
    specs.push(QueueSpec::log(
        idp_bearer::revocation::LOG,
        &idp_bearer::revocation::BINDINGS,
    ));
    specs
}

/// Declares [`platform_topology`] on `bus` (now, and on every reconnect).
pub async fn declare_platform_topology(bus: &dyn EventBus, exchange: &str) -> Result<(), BusError> {
    bus.declare(&platform_topology(exchange)).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_consumer_has_its_queue_and_the_revocation_log_is_declared() {
        let specs = platform_topology("x");
        let names: Vec<&str> = specs.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            vec![
                "x.identity",
                "x.invitation",
                "x.authorization",
                idp_bearer::revocation::LOG
            ]
        );
        let o = ConsumerOptions::for_service("x", "authorization").unwrap();
        assert_eq!(o.queue, "x.authorization");
        assert!(o.bindings.iter().any(|b| b == types::IDENTITY_CREATED));
        assert!(ConsumerOptions::for_service("x", "nobody").is_err());
        assert!(check_consumer(&o.queue, &o.bindings).is_ok());
        assert!(check_consumer("x.authorization", &["identity.*".to_string()]).is_err());
        assert!(check_consumer("test.consumer.1", &["identity.*".to_string()]).is_ok());
    }

    #[test]
    fn the_bindings_route_each_type_to_exactly_the_consumers_the_enum_names() {
        use idp_model::events::Event;
        for t in Event::TYPES {
            let bound: Vec<&str> = PLATFORM_CONSUMERS
                .iter()
                .filter(|c| c.bindings.iter().any(|b| idp_bus::topic_matches(b, t)))
                .map(|c| c.service)
                .collect();
            let mut named = Event::consumers(t).to_vec();
            named.sort_by_key(|s| PLATFORM_CONSUMERS.iter().position(|c| c.service == *s));
            assert_eq!(bound, named, "{t}");
        }
        // No binding names a type that does not exist.
        for c in PLATFORM_CONSUMERS {
            for b in c.bindings {
                assert!(
                    Event::TYPES.iter().any(|t| idp_bus::topic_matches(b, t)),
                    "{}: {b}",
                    c.service
                );
            }
        }
    }
}
