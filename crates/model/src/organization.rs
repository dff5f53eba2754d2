//! Organizations and what belongs to them (identity providers, default roles,
//! OpenID providers, preferences), with the reference's JSON names, plus the
//! validated values parsed at the edge (labels, names, enums).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{
    DefaultRoleId, IdentityId, IdentityProviderId, OpenIdProviderId, OrganizationId, RoleId,
};
use crate::time::Timestamp;

/// Declares a closed set of wire values: serde by name, `FromStr` whose error lists
/// the allowed values, `as_str`, `ALL`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }
            /// `must be one of [A, B]`: the message of a bad value.
            pub fn allowed() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("must be one of [{}]", names.join(", "))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("'{s}' is not allowed; {}", Self::allowed()))
            }
        }
    };
}

wire_enum!(
    /// The kind of Auth0 connection an identity provider stands for.
    Auth0ConnectionType { Database, Social, Enterprise, Passwordless }
);
wire_enum!(
    /// The MFA provider an organization requires.
    MfaProvider { None, GoogleAuthenticator }
);
wire_enum!(
    /// Whether a role is from the standard catalog or an organization's own.
    RoleType { Standard, Custom }
);

/// Parses a comma-separated list of enum values (a multi-valued query filter).
pub fn parse_list<T: FromStr<Err = String>>(raw: &str) -> Result<Vec<T>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(T::from_str)
        .collect()
}

/// An organization label: 1–63 letters, digits and dashes. Unique among live
/// organizations, case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    pub const MAX_LEN: usize = 63;
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Label {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(format!("must be 1 to {} characters long", Self::MAX_LEN));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("must contain only letters, digits and dashes".into());
        }
        Ok(Label(s))
    }
}

impl FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Label::try_from(s.to_string())
    }
}

impl From<Label> for String {
    fn from(l: Label) -> String {
        l.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (or any short required text): not blank, at most 255 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 255;
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters long", Self::MAX_LEN));
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Name(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login provider (an Auth0 connection) of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProvider {
    pub id: IdentityProviderId,
    pub organization_id: OrganizationId,
    pub auth0_connection_id: String,
    pub name: String,
    pub auth0_connection_type: Auth0ConnectionType,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

/// A role granted automatically to the identities of an organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultRole {
    pub id: DefaultRoleId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub role_type: RoleType,
    pub role_id: RoleId,
    pub created_by: Option<IdentityId>,
    pub created_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub deleted_by: Option<IdentityId>,
    pub deleted: bool,
}

/// An OpenID provider whose ID tokens the platform exchanges for its own tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenIdProvider {
    pub id: OpenIdProviderId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub client_id: String,
    /// Exactly as given (compared byte for byte with the `iss` of ID tokens).
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub user_info_endpoint: Option<String>,
    pub jwks_uri: String,
    pub active: bool,
    pub created_by: Option<IdentityId>,
    pub created_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub deleted_by: Option<IdentityId>,
    pub deleted: bool,
}

/// An organization with its active identity providers, default roles and OpenID
/// providers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub label: String,
    pub identity_providers: Vec<IdentityProvider>,
    pub default_roles: Vec<DefaultRole>,
    pub open_id_providers: Vec<OpenIdProvider>,
    pub active: bool,
    /// `null` when the organization requires no MFA.
    pub mfa_provider: Option<MfaProvider>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub deleted: bool,
}

/// Free-form preferences of an organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationPreference {
    pub id: uuid::Uuid,
    pub organization_id: OrganizationId,
    pub preferences: serde_json::Value,
    pub created_by: Option<IdentityId>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub deleted_by: Option<IdentityId>,
    pub deleted_at: Option<Timestamp>,
}

/// The answer of `POST /organizations/authorize-initiate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeInitiate {
    pub nf_token: String,
    pub auth0_connection_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!("ACME-0".parse::<Label>().is_ok());
        assert!("a".parse::<Label>().is_ok());
        assert!("x".repeat(63).parse::<Label>().is_ok());
        assert!("x".repeat(64).parse::<Label>().is_err());
        assert!("".parse::<Label>().is_err());
        assert!("has space".parse::<Label>().is_err());
        assert!("under_score".parse::<Label>().is_err());
        assert!("ünï".parse::<Label>().is_err());
        let err = serde_json::from_str::<Label>("\"a b\"").unwrap_err();
        assert!(err.to_string().contains("letters, digits and dashes"));
    }

    #[test]
    fn names() {
        assert!(Name::try_from("Best Corp.".to_string()).is_ok());
        assert!(Name::try_from("   ".to_string()).is_err());
        assert!(Name::try_from(String::new()).is_err());
        assert!(Name::try_from("x".repeat(256)).is_err());
        assert!(Name::try_from("x".repeat(255)).is_ok());
    }

    #[test]
    fn enums_list_their_values() {
        assert_eq!(
            "Social".parse::<Auth0ConnectionType>(),
            Ok(Auth0ConnectionType::Social)
        );
        let e = "Bogus".parse::<RoleType>().unwrap_err();
        assert!(e.contains("[Standard, Custom]"), "{e}");
        let e = serde_json::from_str::<MfaProvider>("\"Sms\"").unwrap_err();
        assert!(e.to_string().contains("GoogleAuthenticator"), "{e}");
        assert_eq!(
            parse_list::<RoleType>("Standard, Custom").unwrap(),
            vec![RoleType::Standard, RoleType::Custom]
        );
        assert!(parse_list::<RoleType>("Standard,Nope").is_err());
    }

    #[test]
    fn organization_has_the_reference_fields() {
        let o = Organization {
            id: OrganizationId::new(),
            name: "n".into(),
            label: "l".into(),
            identity_providers: vec![],
            default_roles: vec![],
            open_id_providers: vec![],
            active: true,
            mfa_provider: None,
            created_at: Timestamp::now(),
            updated_at: None,
            deleted_at: None,
            deleted: false,
        };
        let v = serde_json::to_value(&o).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "active",
                "createdAt",
                "defaultRoles",
                "deleted",
                "deletedAt",
                "id",
                "identityProviders",
                "label",
                "mfaProvider",
                "name",
                "openIdProviders",
                "updatedAt"
            ]
        );
        assert!(v["mfaProvider"].is_null());
    }
}
