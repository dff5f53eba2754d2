//! The platform's own catalog of resource types and actions: one typed list that
//! the authorization service seeds (with deterministic ids) and every service names
//! its permissions from, by constant. Operators may register further types and
//! actions through the API; those are data, not code, and appear nowhere here.

/// A resource type of the platform: its code (what permissions and grants name)
/// and its display name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType {
    pub code: &'static str,
    pub name: &'static str,
}

pub const ORGANIZATION: ResourceType = ResourceType {
    code: "organization",
    name: "Organization",
};
pub const IDENTITY_PROVIDER: ResourceType = ResourceType {
    code: "identity-provider",
    name: "Identity Provider",
};
pub const DEFAULT_ROLE: ResourceType = ResourceType {
    code: "default-role",
    name: "Default Role",
};
pub const OPEN_ID_PROVIDER: ResourceType = ResourceType {
    code: "open-id-provider",
    name: "OpenID Provider",
};
pub const ORGANIZATION_PREFERENCE: ResourceType = ResourceType {
    code: "organization-preference",
    name: "Organization Preference",
};
pub const USER_IDENTITY: ResourceType = ResourceType {
    code: "user-identity",
    name: "User Identity",
};
pub const API_ACCOUNT_IDENTITY: ResourceType = ResourceType {
    code: "api-account-identity",
    name: "API Account Identity",
};
pub const IDENTITY_PREFERENCE: ResourceType = ResourceType {
    code: "identity-preference",
    name: "Identity Preference",
};
pub const INVITATION: ResourceType = ResourceType {
    code: "invitation",
    name: "Invitation",
};
pub const ROLE: ResourceType = ResourceType {
    code: "role",
    name: "Role",
};
pub const GRANT: ResourceType = ResourceType {
    code: "grant",
    name: "Grant",
};
pub const RESOURCE_TYPE: ResourceType = ResourceType {
    code: "resource-type",
    name: "Resource Type",
};
pub const NETWORK_GROUP: ResourceType = ResourceType {
    code: "network-group",
    name: "Network Group",
};

/// Every resource type of the platform, in the order the catalog lists them.
pub const RESOURCE_TYPES: &[ResourceType] = &[
    ORGANIZATION,
    IDENTITY_PROVIDER,
    DEFAULT_ROLE,
    OPEN_ID_PROVIDER,
    ORGANIZATION_PREFERENCE,
    USER_IDENTITY,
    API_ACCOUNT_IDENTITY,
    IDENTITY_PREFERENCE,
    INVITATION,
    ROLE,
    GRANT,
    RESOURCE_TYPE,
    NETWORK_GROUP,
];

/// The actions of the catalog.
pub mod action {
    pub const CREATE: &str = "create";
    pub const READ: &str = "read";
    pub const UPDATE: &str = "update";
    pub const DELETE: &str = "delete";
    /// `user-identity` only: reset a user's MFA (the authorization guide's example
    /// of a single action granted alone).
    pub const UPDATE_RESET_MFA: &str = "update-reset-mfa";

    /// The actions every resource type has.
    pub const CRUD: &[&str] = &[CREATE, READ, UPDATE, DELETE];
}

/// A permission of the catalog: an action on a resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    pub resource: ResourceType,
    pub action: &'static str,
}

/// Every action of the catalog: CRUD on every type, plus the extra actions.
pub fn permissions() -> Vec<Permission> {
    let mut all: Vec<Permission> = RESOURCE_TYPES
        .iter()
        .flat_map(|&resource| {
            action::CRUD
                .iter()
                .map(move |&action| Permission { resource, action })
        })
        .collect();
    all.push(Permission {
        resource: USER_IDENTITY,
        action: action::UPDATE_RESET_MFA,
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_lists_are_complete() {
        let mut codes: Vec<&str> = RESOURCE_TYPES.iter().map(|t| t.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), RESOURCE_TYPES.len());
        let all = permissions();
        assert_eq!(all.len(), RESOURCE_TYPES.len() * 4 + 1);
        assert!(all.contains(&Permission {
            resource: USER_IDENTITY,
            action: action::UPDATE_RESET_MFA
        }));
    }
}
