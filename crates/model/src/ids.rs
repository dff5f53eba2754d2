//! Identifier newtypes. Every ID of the platform is a UUID; wrapping each kind in
//! its own type keeps an organization id from being passed where an identity id is
//! expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7), so that ids sort by creation.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// An organization (formerly "tenant").
    OrganizationId
);
id_type!(
    /// Any identity: a user identity or an API-account identity.
    IdentityId
);
id_type!(
    /// An identity provider of an organization.
    IdentityProviderId
);
id_type!(
    /// A default role of an organization.
    DefaultRoleId
);
id_type!(
    /// An OpenID provider of an organization.
    OpenIdProviderId
);
id_type!(
    /// An invitation into an organization.
    InvitationId
);
id_type!(
    /// A role of the authorization service.
    RoleId
);
id_type!(
    /// A resource type of the authorization service.
    ResourceTypeId
);
id_type!(
    /// A resource action of the authorization service.
    ResourceActionId
);
id_type!(
    /// A grant (of a role or of a single action) to an identity.
    GrantId
);
id_type!(
    /// An event, unique across the platform; consumers use it for idempotency.
    EventId
);

/// The root organization the platform creates on first start. A fixed, documented
/// id (it is not a secret), so that separately deployed services agree on it
/// without talking to each other at start-up.
pub const ROOT_ORGANIZATION_ID: OrganizationId =
    OrganizationId(Uuid::from_u128(0x00000000_0000_4000_8000_000000000001));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_plain_uuid_strings() {
        let id = OrganizationId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.0));
        let back: OrganizationId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!("not-a-uuid".parse::<IdentityId>().is_err());
    }
}
