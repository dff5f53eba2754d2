//! What the authorization service tells other services about an identity's
//! permissions (the shape of `GET /auth/v1/identities/{id}/permissions`).

use serde::{Deserialize, Serialize};

use crate::ids::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId};

/// One permission an identity holds: an action on a resource type, within a scope,
/// and where it comes from (the grant, and the role if the grant is of a role).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePermission {
    pub identity_id: IdentityId,
    /// Resource type code, e.g. `organization`, `user-identity`.
    pub resource_type: String,
    /// Action code, e.g. `read`, `update-reset-mfa`.
    pub action: String,
    pub resource_action_id: ResourceActionId,
    /// `None`: platform-wide (every organization, and platform-level resources).
    pub organization_id: Option<OrganizationId>,
    /// Resource ids narrowing the scope inside the organization; empty: the whole
    /// organization.
    #[serde(default)]
    pub path: Vec<String>,
    pub grant_id: GrantId,
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
}

impl EffectivePermission {
    /// Whether this permission covers `resource_type:action` on a resource of
    /// `organization` (None = a platform-level resource) at `path`.
    pub fn covers(
        &self,
        resource_type: &str,
        action: &str,
        organization: Option<OrganizationId>,
        path: &[String],
    ) -> bool {
        if self.resource_type != resource_type || self.action != action {
            return false;
        }
        match (self.organization_id, organization) {
            (None, _) => {}
            (Some(mine), Some(theirs)) if mine == theirs => {}
            _ => return false,
        }
        // A grant narrowed to a path covers that path and what lies below it.
        self.path.len() <= path.len() && self.path.iter().zip(path).all(|(a, b)| a == b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(org: Option<OrganizationId>, path: &[&str]) -> EffectivePermission {
        EffectivePermission {
            identity_id: IdentityId::new(),
            resource_type: "user-identity".into(),
            action: "read".into(),
            resource_action_id: ResourceActionId::new(),
            organization_id: org,
            path: path.iter().map(|s| s.to_string()).collect(),
            grant_id: GrantId::new(),
            role_id: None,
            role_name: None,
        }
    }

    #[test]
    fn scope_rules() {
        let a = OrganizationId::new();
        let b = OrganizationId::new();
        assert!(perm(None, &[]).covers("user-identity", "read", Some(a), &[]));
        assert!(perm(None, &[]).covers("user-identity", "read", None, &[]));
        assert!(perm(Some(a), &[]).covers("user-identity", "read", Some(a), &["x".into()]));
        assert!(!perm(Some(a), &[]).covers("user-identity", "read", Some(b), &[]));
        assert!(!perm(Some(a), &[]).covers("user-identity", "read", None, &[]));
        assert!(!perm(Some(a), &[]).covers("user-identity", "update", Some(a), &[]));
        assert!(perm(Some(a), &["x"]).covers(
            "user-identity",
            "read",
            Some(a),
            &["x".into(), "y".into()]
        ));
        assert!(!perm(Some(a), &["x"]).covers("user-identity", "read", Some(a), &["z".into()]));
        assert!(!perm(Some(a), &["x"]).covers("user-identity", "read", Some(a), &[]));
    }
}
