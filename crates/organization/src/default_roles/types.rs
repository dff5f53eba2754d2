//! Request bodies and filters of the default-role routes.

use idp_model::organization::RoleType;
use idp_model::{IdentityId, OrganizationId, RoleId};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDefaultRole {
    pub organization_id: OrganizationId,
    pub role_type: RoleType,
    pub role_id: RoleId,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindDefaultRoles {
    pub organization_id: Option<OrganizationId>,
    pub role_id: Option<RoleId>,
    /// One or more of `Standard`, `Custom`, comma-separated.
    pub role_type: Option<String>,
    pub name: Option<String>,
    /// `true`, `false` (default) or `true,false`.
    pub deleted: Option<String>,
}

/// Optional body of `POST /default-roles/{id}/grant`: narrow who gets the role.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantDefaultRole {
    #[serde(default)]
    pub include_identity_ids: Option<Vec<IdentityId>>,
    #[serde(default)]
    pub exclude_identity_ids: Option<Vec<IdentityId>>,
}
