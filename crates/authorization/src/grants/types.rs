//! Filters of the grant routes (the bodies are `idp_model::authorization`'s).

use idp_model::{IdentityId, OrganizationId, ResourceActionId, RoleId};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantFilter {
    pub identity_id: Option<IdentityId>,
    pub role_id: Option<RoleId>,
    pub resource_action_id: Option<ResourceActionId>,
    pub organization_id: Option<OrganizationId>,
}

/// Which grants a route is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/identity-roles`.
    Role,
    /// `/identity-resource-actions`.
    Action,
    /// `/grants`: either.
    Any,
}
