//! The platform's events as one enum, [`Event`], with one payload struct per event
//! type. Producers enqueue a variant, consumers `match` on
//! [`Event::from_envelope`]. The payloads serialize to exactly the JSON keys the
//! producers wrote before the enum existed (processes of different versions share a
//! broker during a rolling deploy); fields a consumer may not find are `Option` with
//! `#[serde(default)]`, unknown fields are ignored.
//!
//! On the wire an [`Event`] is `{"type": .., "data": ..}` (adjacent tagging, the
//! `type` and `data` of the [`Envelope`]). A type this version does not know parses
//! as [`Event::Unknown`]; a known type whose data does not parse is an error (the
//! consumer dead-letters it as malformed).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{types, Envelope};
use crate::authorization::Grant;
use crate::ids::{
    DefaultRoleId, GrantId, IdentityId, IdentityProviderId, OpenIdProviderId, OrganizationId,
    ResourceActionId, RoleId,
};
use crate::invitation::{Invitation, InvitationState};
use crate::organization::{
    Auth0ConnectionType, DefaultRole, IdentityProvider, MfaProvider, OpenIdProvider, RoleType,
};
use crate::time::Timestamp;

/// `identity.*` (written by the identity service: `identity::events::emit`, the
/// identity row plus what the change adds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityData {
    pub identity_id: IdentityId,
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// `UserIdentity` or `ApiAccountIdentity`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The creator (the requester of its default roles); null for the bootstrap
    /// super admin.
    #[serde(default)]
    pub created_by: Option<IdentityId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_default_roles: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_super_admin: Option<bool>,
    /// Roles to grant besides the organization's default roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_role_ids: Vec<RoleId>,
    /// Made or mapped for this invitation (accepted by key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_added: Option<MappingAdded>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_reset: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_reset_by: Option<IdentityId>,
}

/// The login mapping an `identity.*` event reports as added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingAdded {
    pub id: Uuid,
    pub auth0_user_id: String,
    pub identity_provider_id: Uuid,
}

/// `organization.*` (`organizations::store::event_data` of the organization
/// service).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationData {
    /// The organization's id; producers write it twice, as `id` and as
    /// `organizationId` (the root organization's `organization.created` of earlier
    /// versions only as `organizationId`). Read it with
    /// [`OrganizationData::organization`].
    #[serde(default)]
    pub id: Option<OrganizationId>,
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub mfa_provider: Option<MfaProvider>,
    #[serde(default)]
    pub deleted: Option<bool>,
}

impl OrganizationData {
    /// The organization the event is about (`id`, which every producer writes
    /// with the same value as `organizationId`; else `organizationId`).
    pub fn organization(&self) -> Option<OrganizationId> {
        self.id.or(self.organization_id)
    }
}

/// `identity-provider.*`: the provider as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderData {
    pub id: IdentityProviderId,
    pub organization_id: OrganizationId,
    #[serde(default)]
    pub auth0_connection_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub auth0_connection_type: Option<Auth0ConnectionType>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
}

impl From<&IdentityProvider> for IdentityProviderData {
    fn from(p: &IdentityProvider) -> Self {
        IdentityProviderData {
            id: p.id,
            organization_id: p.organization_id,
            auth0_connection_id: Some(p.auth0_connection_id.clone()),
            name: Some(p.name.clone()),
            auth0_connection_type: Some(p.auth0_connection_type),
            active: Some(p.active),
            created_at: Some(p.created_at),
            updated_at: p.updated_at,
            deleted_at: p.deleted_at,
        }
    }
}

/// `open-id-provider.*`: every field of the provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenIdProviderData {
    pub id: OpenIdProviderId,
    pub organization_id: OrganizationId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub user_info_endpoint: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub created_by: Option<IdentityId>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_by: Option<IdentityId>,
    #[serde(default)]
    pub deleted: Option<bool>,
}

impl From<&OpenIdProvider> for OpenIdProviderData {
    fn from(p: &OpenIdProvider) -> Self {
        OpenIdProviderData {
            id: p.id,
            organization_id: p.organization_id,
            name: Some(p.name.clone()),
            client_id: Some(p.client_id.clone()),
            issuer: Some(p.issuer.clone()),
            authorization_endpoint: p.authorization_endpoint.clone(),
            token_endpoint: p.token_endpoint.clone(),
            user_info_endpoint: p.user_info_endpoint.clone(),
            jwks_uri: Some(p.jwks_uri.clone()),
            active: Some(p.active),
            created_by: p.created_by,
            created_at: Some(p.created_at),
            deleted_at: p.deleted_at,
            deleted_by: p.deleted_by,
            deleted: Some(p.deleted),
        }
    }
}

/// `default-role.created`, `default-role.deleted`: the default role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultRoleData {
    pub id: DefaultRoleId,
    pub organization_id: OrganizationId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role_type: Option<RoleType>,
    pub role_id: RoleId,
    #[serde(default)]
    pub created_by: Option<IdentityId>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
    #[serde(default)]
    pub deleted_by: Option<IdentityId>,
    #[serde(default)]
    pub deleted: Option<bool>,
}

impl From<&DefaultRole> for DefaultRoleData {
    fn from(r: &DefaultRole) -> Self {
        DefaultRoleData {
            id: r.id,
            organization_id: r.organization_id,
            name: Some(r.name.clone()),
            role_type: Some(r.role_type),
            role_id: r.role_id,
            created_by: r.created_by,
            created_at: Some(r.created_at),
            deleted_at: r.deleted_at,
            deleted_by: r.deleted_by,
            deleted: Some(r.deleted),
        }
    }
}

/// `default-role.grant-requested`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRequestedData {
    pub default_role_id: DefaultRoleId,
    pub organization_id: OrganizationId,
    pub role_id: RoleId,
    #[serde(default)]
    pub role_type: Option<RoleType>,
    /// Who asked; none: nothing is granted.
    #[serde(default)]
    pub requested_by: Option<IdentityId>,
    /// Only these identities (when given and not empty).
    #[serde(default)]
    pub include_identity_ids: Option<Vec<IdentityId>>,
    /// Never these identities.
    #[serde(default)]
    pub exclude_identity_ids: Option<Vec<IdentityId>>,
}

/// `invitation.*`: the invitation as the API shows it, plus `via` for an answer
/// and, for an acceptance completed by key, the login.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationData {
    pub id: Uuid,
    pub from_identity_id: IdentityId,
    pub to_organization_id: OrganizationId,
    pub invited_email_address: String,
    pub expiration: Timestamp,
    #[serde(default)]
    pub target_user_identity_id: Option<IdentityId>,
    #[serde(default)]
    pub accepted: Option<bool>,
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
    #[serde(default)]
    pub response_received_at: Option<Timestamp>,
    /// Deprecated: the same as `toOrganizationId`.
    pub to_tenant_id: OrganizationId,
    pub state: InvitationState,
    /// `api` or `key` (answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The login of an acceptance completed by key: the invitation's id again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    /// The invited address, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id_provider_id: Option<OpenIdProviderId>,
    /// The ID token's `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

impl From<&Invitation> for InvitationData {
    fn from(i: &Invitation) -> Self {
        InvitationData {
            id: i.id,
            from_identity_id: i.from_identity_id,
            to_organization_id: i.to_organization_id,
            invited_email_address: i.invited_email_address.clone(),
            expiration: i.expiration,
            target_user_identity_id: i.target_user_identity_id,
            accepted: i.accepted,
            revoked_at: i.revoked_at,
            response_received_at: i.response_received_at,
            to_tenant_id: i.to_tenant_id,
            state: i.state,
            via: None,
            invitation_id: None,
            organization_id: None,
            email: None,
            open_id_provider_id: None,
            subject: None,
            name: None,
            given_name: None,
            family_name: None,
        }
    }
}

/// `grant.created`, `grant.revoked`: the grant, plus `revokedAt` once revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantData {
    pub id: GrantId,
    pub identity_id: IdentityId,
    #[serde(default)]
    pub role_id: Option<RoleId>,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub resource_action_id: Option<ResourceActionId>,
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    #[serde(default)]
    pub path: Vec<String>,
    #[serde(default)]
    pub is_immutable: bool,
    #[serde(default)]
    pub created_by: Option<IdentityId>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub last_modified: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl From<&Grant> for GrantData {
    fn from(g: &Grant) -> Self {
        GrantData {
            id: g.id,
            identity_id: g.identity_id,
            role_id: g.role_id,
            role_name: g.role_name.clone(),
            resource_action_id: g.resource_action_id,
            organization_id: g.organization_id,
            path: g.path.clone(),
            is_immutable: g.is_immutable,
            created_by: g.created_by,
            created_at: Some(g.created_at),
            last_modified: Some(g.last_modified),
            revoked_at: None,
        }
    }
}

/// `role.updated`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleUpdatedData {
    pub id: RoleId,
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// The role's actions now, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_action_ids: Option<Vec<ResourceActionId>>,
}

/// The error of an event whose type is known but whose data does not parse.
#[derive(Debug)]
pub struct MalformedEvent {
    pub type_name: String,
    pub error: serde_json::Error,
}

impl std::fmt::Display for MalformedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed {} data: {}", self.type_name, self.error)
    }
}

impl std::error::Error for MalformedEvent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What a process does on an event besides its service's consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    None,
    /// Every process refuses tokens issued before it (the revocation log).
    RevokesTokens,
    /// Every process drops cached permissions (a transient broadcast queue).
    DropsPermissionCaches,
}

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) = $constant:ident, $effect:ident, [$($consumer:literal),*]; )*) => {
        /// Every event of the platform, one variant per type (see the module doc).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Event {
            $( $(#[$doc])* $variant($payload), )*
            /// A type this version does not know (a newer producer's): kept as is.
            Unknown { type_name: String, data: Value },
        }

        impl Event {
            /// Every known type, in declaration order (`types::ALL` is this list).
            pub const TYPES: &'static [&'static str] = &[$( types::$constant, )*];

            /// The type (routing key) of this event.
            pub fn type_name(&self) -> &str {
                match self {
                    $( Event::$variant(_) => types::$constant, )*
                    Event::Unknown { type_name, .. } => type_name,
                }
            }

            /// The `data` of the envelope.
            pub fn to_data(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $( Event::$variant(d) => serde_json::to_value(d), )*
                    Event::Unknown { data, .. } => Ok(data.clone()),
                }
            }

            /// The event of an envelope's `type` and `data`: [`Event::Unknown`] for
            /// a type this version does not know, an error for a known type whose
            /// data does not parse.
            pub fn from_envelope(type_name: &str, data: &Value) -> Result<Event, MalformedEvent> {
                let malformed = |error| MalformedEvent { type_name: type_name.to_string(), error };
                match type_name {
                    $( types::$constant => <$payload>::deserialize(data).map(Event::$variant).map_err(malformed), )*
                    _ => Ok(Event::Unknown { type_name: type_name.to_string(), data: data.clone() }),
                }
            }

            /// The JSON keys of the payload of `type_name` (the catalogue documents
            /// exactly these); `None` for an unknown type.
            pub fn fields(type_name: &str) -> Option<&'static [&'static str]> {
                match type_name {
                    $( types::$constant => Some(field_names::<$payload>()), )*
                    _ => None,
                }
            }

            /// The services whose durable consumer queue receives events of
            /// `type_name` (the topology `PLATFORM_CONSUMERS` is checked against it);
            /// none for an unknown type.
            pub fn consumers(type_name: &str) -> &'static [&'static str] {
                match type_name {
                    $( types::$constant => &[$($consumer),*], )*
                    _ => &[],
                }
            }

            fn effect_of(type_name: &str) -> Effect {
                match type_name {
                    $( types::$constant => Effect::$effect, )*
                    _ => Effect::None,
                }
            }
        }
    };
}

events! {
    IdentityCreated(IdentityData) = IDENTITY_CREATED, None, ["invitation", "authorization"];
    IdentityUpdated(IdentityData) = IDENTITY_UPDATED, None, ["invitation"];
    IdentityActivated(IdentityData) = IDENTITY_ACTIVATED, None, ["invitation"];
    IdentityDeactivated(IdentityData) = IDENTITY_DEACTIVATED, RevokesTokens, ["invitation"];
    IdentityDeleted(IdentityData) = IDENTITY_DELETED, RevokesTokens, ["invitation", "authorization"];
    OrganizationCreated(OrganizationData) = ORGANIZATION_CREATED, None, ["identity", "invitation"];
    OrganizationActivated(OrganizationData) = ORGANIZATION_ACTIVATED, None, ["identity", "invitation"];
    OrganizationDeactivated(OrganizationData) = ORGANIZATION_DEACTIVATED, RevokesTokens, ["identity", "invitation"];
    OrganizationDeleted(OrganizationData) = ORGANIZATION_DELETED, RevokesTokens, ["identity", "invitation"];
    IdentityProviderCreated(IdentityProviderData) = IDENTITY_PROVIDER_CREATED, None, ["identity", "invitation"];
    IdentityProviderUpdated(IdentityProviderData) = IDENTITY_PROVIDER_UPDATED, None, ["identity", "invitation"];
    IdentityProviderActivated(IdentityProviderData) = IDENTITY_PROVIDER_ACTIVATED, None, ["identity", "invitation"];
    IdentityProviderDeactivated(IdentityProviderData) = IDENTITY_PROVIDER_DEACTIVATED, None, ["identity", "invitation"];
    IdentityProviderDeleted(IdentityProviderData) = IDENTITY_PROVIDER_DELETED, None, ["identity", "invitation"];
    OpenIdProviderCreated(OpenIdProviderData) = OPEN_ID_PROVIDER_CREATED, None, ["identity", "invitation"];
    OpenIdProviderUpdated(OpenIdProviderData) = OPEN_ID_PROVIDER_UPDATED, None, ["identity", "invitation"];
    OpenIdProviderDeleted(OpenIdProviderData) = OPEN_ID_PROVIDER_DELETED, None, ["identity", "invitation"];
    DefaultRoleCreated(DefaultRoleData) = DEFAULT_ROLE_CREATED, None, ["authorization"];
    DefaultRoleDeleted(DefaultRoleData) = DEFAULT_ROLE_DELETED, None, ["authorization"];
    DefaultRoleGrantRequested(GrantRequestedData) = DEFAULT_ROLE_GRANT_REQUESTED, None, ["authorization"];
    InvitationCreated(InvitationData) = INVITATION_CREATED, None, [];
    InvitationAccepted(InvitationData) = INVITATION_ACCEPTED, None, ["identity"];
    InvitationDeclined(InvitationData) = INVITATION_DECLINED, None, [];
    InvitationRevoked(InvitationData) = INVITATION_REVOKED, None, [];
    GrantCreated(GrantData) = GRANT_CREATED, DropsPermissionCaches, [];
    GrantRevoked(GrantData) = GRANT_REVOKED, DropsPermissionCaches, [];
    RoleUpdated(RoleUpdatedData) = ROLE_UPDATED, DropsPermissionCaches, [];
}

impl Event {
    /// The event of an envelope (see [`Event::from_envelope`]).
    pub fn of(envelope: &Envelope) -> Result<Event, MalformedEvent> {
        Event::from_envelope(&envelope.kind, &envelope.data)
    }

    /// Whether events of `type_name` revoke tokens in every process (bound to the
    /// revocation log).
    pub fn revokes_tokens(type_name: &str) -> bool {
        Event::effect_of(type_name) == Effect::RevokesTokens
    }

    /// Whether events of `type_name` drop cached permissions in every process
    /// (bound to each process's transient grant queue).
    pub fn drops_permission_caches(type_name: &str) -> bool {
        Event::effect_of(type_name) == Effect::DropsPermissionCaches
    }

    /// The known types that revoke tokens.
    pub fn revoking_types() -> impl Iterator<Item = &'static str> {
        Event::TYPES
            .iter()
            .copied()
            .filter(|t| Event::revokes_tokens(t))
    }

    /// The known types that drop cached permissions.
    pub fn permission_cache_types() -> impl Iterator<Item = &'static str> {
        Event::TYPES
            .iter()
            .copied()
            .filter(|t| Event::drops_permission_caches(t))
    }

    /// A new envelope carrying this event.
    pub fn envelope(
        &self,
        source: &str,
        organization_id: Option<OrganizationId>,
        occurred_at: time::OffsetDateTime,
    ) -> Result<Envelope, serde_json::Error> {
        Ok(Envelope::new(
            self.type_name(),
            source,
            organization_id,
            self.to_data()?,
            occurred_at,
        ))
    }
}

/// `{"type": .., "data": ..}`.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeStruct};
        let data = self.to_data().map_err(S::Error::custom)?;
        let mut st = s.serialize_struct("Event", 2)?;
        st.serialize_field("type", self.type_name())?;
        st.serialize_field("data", &data)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            type_name: String,
            #[serde(default)]
            data: Value,
        }
        let t = Tagged::deserialize(d)?;
        Event::from_envelope(&t.type_name, &t.data).map_err(de::Error::custom)
    }
}

/// The serialized field names of the struct `T` (what serde's derive passes to
/// `deserialize_struct`).
fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    struct Introspect<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Introspect<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("introspected"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}
