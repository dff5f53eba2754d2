//! Wire types of the authorization service (`/auth/v1/...`): resource types and
//! actions, roles, grants, checks and the ACL. The effective-permissions shape every
//! service reads lives in [`crate::authz`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{GrantId, IdentityId, OrganizationId, ResourceActionId, ResourceTypeId, RoleId};
use crate::time::Timestamp;

/// The standard (seeded, immutable) roles. Their ids are fixed so that every
/// deployment, and every service (default roles name them), agrees on them.
pub mod standard_roles {
    use super::*;

    pub const SUPER_ADMIN: RoleId = RoleId(Uuid::from_u128(0x00000000_0000_4000_8000_0000000a0001));
    pub const ORGANIZATION_ADMIN: RoleId =
        RoleId(Uuid::from_u128(0x00000000_0000_4000_8000_0000000a0002));
    pub const ORGANIZATION_READ_ONLY: RoleId =
        RoleId(Uuid::from_u128(0x00000000_0000_4000_8000_0000000a0003));
    pub const IDENTITY_ADMIN: RoleId =
        RoleId(Uuid::from_u128(0x00000000_0000_4000_8000_0000000a0004));
    pub const NETWORK_GROUP_ADMIN: RoleId =
        RoleId(Uuid::from_u128(0x00000000_0000_4000_8000_0000000a0005));

    pub const SUPER_ADMIN_NAME: &str = "Super Admin";
    pub const ORGANIZATION_ADMIN_NAME: &str = "Organization Admin";
    pub const ORGANIZATION_READ_ONLY_NAME: &str = "Organization Read Only";
    pub const IDENTITY_ADMIN_NAME: &str = "Identity Admin";
    pub const NETWORK_GROUP_ADMIN_NAME: &str = "Network Group Admin";
}

/// The deterministic id of a seeded resource type (`code`) or action
/// (`type_code:action_code`): every deployment agrees on them. A UUID v8 built from
/// two FNV-1a hashes of the name under a fixed namespace.
pub fn seeded_id(name: &str) -> Uuid {
    fn fnv(seed: u64, bytes: &[u8]) -> u64 {
        let mut h = seed;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
    let full = format!("idp.authorization/{name}");
    let a = fnv(0xcbf2_9ce4_8422_2325, full.as_bytes());
    let b = fnv(0x6c62_272e_07bb_0142, full.as_bytes());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum RoleType {
    Standard,
    Custom,
}

impl RoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleType::Standard => "Standard",
            RoleType::Custom => "Custom",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    pub id: ResourceTypeId,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// Seeded by the platform: cannot be changed.
    pub is_system: bool,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewResourceType {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAction {
    pub id: ResourceActionId,
    pub code: String,
    pub name: String,
    pub resource_type_id: ResourceTypeId,
    /// The code of its resource type, for readers who do not want a second call.
    pub resource_type_code: String,
    pub description: Option<String>,
    pub is_system: bool,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewResourceAction {
    pub resource_type_id: ResourceTypeId,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub role_type: RoleType,
    /// None for standard roles (they exist in every organization).
    pub organization_id: Option<OrganizationId>,
    pub base_role_id: Option<RoleId>,
    pub description: Option<String>,
    pub resource_action_ids: Vec<ResourceActionId>,
    pub created_at: Timestamp,
    pub last_modified: Option<Timestamp>,
}

/// `POST /roles`: a custom role of an organization.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewRole {
    pub name: String,
    /// Default: the caller's organization.
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// Start from this role's actions (usually a standard role).
    #[serde(default)]
    pub base_role_id: Option<RoleId>,
    #[serde(default)]
    pub description: Option<String>,
    /// Added to the base role's actions.
    #[serde(default)]
    pub resource_action_ids: Vec<ResourceActionId>,
}

/// `PUT /roles/{id}`: fields given replace the role's.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub resource_action_ids: Option<Vec<ResourceActionId>>,
}

/// A grant: a role or one resource action given to an identity within a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub id: GrantId,
    pub identity_id: IdentityId,
    /// Set for a role grant.
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
    /// Set for a single-action grant.
    pub resource_action_id: Option<ResourceActionId>,
    /// None: platform-wide.
    pub organization_id: Option<OrganizationId>,
    /// Resource ids narrowing the scope; empty: the whole organization.
    pub path: Vec<String>,
    pub is_immutable: bool,
    pub created_by: Option<IdentityId>,
    pub created_at: Timestamp,
    pub last_modified: Timestamp,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
pub mod explicit_null {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// `POST /identity-roles`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewRoleGrant {
    pub identity_id: IdentityId,
    pub role_id: RoleId,
    /// Left out: the identity's organization (or the caller's when unknown);
    /// `null`: platform-wide (super admins only).
    #[serde(default, deserialize_with = "explicit_null::deserialize")]
    pub organization_id: Option<Option<OrganizationId>>,
    #[serde(default)]
    pub path: Option<Vec<String>>,
}

/// `POST /auth/v1/grant-checks`: may the caller give these roles in an
/// organization? What a service asks before it makes a change that grants by
/// event (a new identity's default roles, a default role granted to everyone),
/// so that the answer to its caller is a 403 naming the role, not a grant that
/// silently never comes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantCheck {
    pub organization_id: OrganizationId,
    /// Roles to check.
    #[serde(default)]
    pub role_ids: Vec<RoleId>,
    /// Also the organization's live default roles.
    #[serde(default)]
    pub default_roles: bool,
}

/// The answer of an allowed grant check: the roles it checked.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantCheckAllowed {
    pub allowed: bool,
    pub role_ids: Vec<RoleId>,
}

/// `PUT /identity-roles/{id}`: replaces the grant's role, keeping its scope.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleGrantReplacement {
    pub role_id: RoleId,
}

/// `POST /identity-resource-actions`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewActionGrant {
    pub identity_id: IdentityId,
    pub resource_action_id: ResourceActionId,
    /// As for [`NewRoleGrant::organization_id`].
    #[serde(default, deserialize_with = "explicit_null::deserialize")]
    pub organization_id: Option<Option<OrganizationId>>,
    #[serde(default)]
    pub path: Option<Vec<String>>,
}

/// One permission check.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckRequest {
    pub identity_id: IdentityId,
    /// Action code, e.g. `read`.
    pub action: String,
    /// Resource type code, e.g. `user-identity`.
    pub resource_type: String,
    /// None: a platform-level resource.
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Where the resource sits inside its organization (resource ids, outermost first).
    #[serde(default)]
    pub path: Vec<String>,
}

/// The answer to one check: allowed or not, and the grant (and role) that allows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    pub identity_id: IdentityId,
    pub action: String,
    pub resource_type: String,
    pub organization_id: Option<OrganizationId>,
    pub resource_id: Option<String>,
    pub path: Vec<String>,
    pub allowed: bool,
    pub grant_id: Option<GrantId>,
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
}

/// `POST /checks` with `{"checks": [...]}`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckBatch<T> {
    pub checks: Vec<T>,
}

/// One row of `GET /acl`: an identity that may do `action` on the resource, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AclEntry {
    pub identity_id: IdentityId,
    pub resource_type: String,
    pub action: String,
    pub resource_action_id: ResourceActionId,
    pub organization_id: Option<OrganizationId>,
    pub path: Vec<String>,
    pub grant_id: GrantId,
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_stable_and_distinct() {
        assert_eq!(seeded_id("organization"), seeded_id("organization"));
        assert_ne!(seeded_id("organization"), seeded_id("organization:read"));
        assert_eq!(seeded_id("x").get_version_num(), 8);
    }

    #[test]
    fn organization_left_out_differs_from_null() {
        let id = IdentityId::new();
        let a = ResourceActionId::new();
        let left_out: NewActionGrant = serde_json::from_value(
            serde_json::json!({"identityId": id, "resourceActionId": a, "path": []}),
        )
        .unwrap();
        assert_eq!(left_out.organization_id, None);
        let null: NewActionGrant = serde_json::from_value(
            serde_json::json!({"identityId": id, "resourceActionId": a, "organizationId": null}),
        )
        .unwrap();
        assert_eq!(null.organization_id, Some(None));
    }
}
