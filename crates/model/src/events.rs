//! The event envelope and the platform's event types.
//!
//! Every event travels as `{id, type, occurredAt, source, organizationId, data}`;
//! `type` is also the routing key on the topic exchange.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{EventId, OrganizationId};

mod typed;
#[cfg(test)]
mod typed_tests;

pub use typed::*;

/// Routing keys of the events the platform emits. Kept as constants so producers
/// and consumers cannot disagree on a spelling.
pub mod types {
    pub const IDENTITY_CREATED: &str = "identity.created";
    pub const IDENTITY_UPDATED: &str = "identity.updated";
    pub const IDENTITY_ACTIVATED: &str = "identity.activated";
    pub const IDENTITY_DEACTIVATED: &str = "identity.deactivated";
    pub const IDENTITY_DELETED: &str = "identity.deleted";
    pub const ORGANIZATION_CREATED: &str = "organization.created";
    pub const ORGANIZATION_ACTIVATED: &str = "organization.activated";
    pub const ORGANIZATION_DEACTIVATED: &str = "organization.deactivated";
    pub const ORGANIZATION_DELETED: &str = "organization.deleted";
    pub const IDENTITY_PROVIDER_CREATED: &str = "identity-provider.created";
    pub const IDENTITY_PROVIDER_UPDATED: &str = "identity-provider.updated";
    pub const IDENTITY_PROVIDER_ACTIVATED: &str = "identity-provider.activated";
    pub const IDENTITY_PROVIDER_DEACTIVATED: &str = "identity-provider.deactivated";
    pub const IDENTITY_PROVIDER_DELETED: &str = "identity-provider.deleted";
    pub const OPEN_ID_PROVIDER_CREATED: &str = "open-id-provider.created";
    pub const OPEN_ID_PROVIDER_UPDATED: &str = "open-id-provider.updated";
    pub const OPEN_ID_PROVIDER_DELETED: &str = "open-id-provider.deleted";
    pub const DEFAULT_ROLE_CREATED: &str = "default-role.created";
    pub const DEFAULT_ROLE_DELETED: &str = "default-role.deleted";
    pub const DEFAULT_ROLE_GRANT_REQUESTED: &str = "default-role.grant-requested";
    pub const INVITATION_CREATED: &str = "invitation.created";
    pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
    pub const INVITATION_DECLINED: &str = "invitation.declined";
    pub const INVITATION_REVOKED: &str = "invitation.revoked";
    pub const GRANT_CREATED: &str = "grant.created";
    pub const GRANT_REVOKED: &str = "grant.revoked";
    pub const ROLE_UPDATED: &str = "role.updated";

    /// Every event type of the platform, as [`super::Event`] declares them (the
    /// catalogue `proto-docs/events.md` is checked against this list).
    pub const ALL: &[&str] = super::Event::TYPES;
}

/// The envelope every event travels in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339 on the wire (`2026-11-23T17:00:00.123Z`).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The service that emitted it (`identity`, `organization`, ...).
    pub source: String,
    pub organization_id: Option<OrganizationId>,
    pub data: serde_json::Value,
}

impl Envelope {
    pub fn new(
        kind: &str,
        source: &str,
        organization_id: Option<OrganizationId>,
        data: serde_json::Value,
        occurred_at: OffsetDateTime,
    ) -> Self {
        Envelope {
            id: EventId::new(),
            kind: kind.to_string(),
            occurred_at,
            source: source.to_string(),
            organization_id,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_documented_fields() {
        let e = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            Some(OrganizationId::new()),
            serde_json::json!({"x": 1}),
            OffsetDateTime::now_utc(),
        );
        let v = serde_json::to_value(&e).unwrap();
        for f in [
            "id",
            "type",
            "occurredAt",
            "source",
            "organizationId",
            "data",
        ] {
            assert!(v.get(f).is_some(), "missing {f}");
        }
        assert_eq!(v["type"], "identity.created");
    }

    #[test]
    fn occurred_at_travels_as_rfc3339_in_utc() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_795_453_200_123_000_000).unwrap();
        let e = Envelope::new(
            types::IDENTITY_CREATED,
            "identity",
            None,
            serde_json::json!({}),
            at,
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["occurredAt"], "2026-11-23T17:00:00.123Z");
        let back: Envelope = serde_json::from_value(v).unwrap();
        assert_eq!(back.occurred_at, at);
    }

    #[test]
    fn reads_occurred_at_as_earlier_versions_wrote_it() {
        // Whole seconds, three, six or nine digits; `Z` or `+00:00`.
        for (text, nanos) in [
            ("2026-11-23T17:00:00Z", 0),
            ("2026-11-23T17:00:00.123Z", 123_000_000),
            ("2026-11-23T17:00:00.123456+00:00", 123_456_000),
            ("2026-11-23T17:00:00.123456789Z", 123_456_789),
            ("2026-11-23T19:00:00.5+02:00", 500_000_000),
        ] {
            let v = serde_json::json!({
                "id": EventId::new(),
                "type": "identity.created",
                "occurredAt": text,
                "source": "identity",
                "organizationId": null,
                "data": {}
            });
            let e: Envelope = serde_json::from_value(v).unwrap();
            assert_eq!(
                e.occurred_at.unix_timestamp_nanos(),
                1_795_453_200_000_000_000 + nanos,
                "{text}"
            );
        }
    }
}
