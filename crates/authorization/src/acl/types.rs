//! The query of the ACL route.

use idp_model::{IdentityId, OrganizationId};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclQuery {
    pub resource_type: String,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub organization_id: Option<OrganizationId>,
    /// Comma-separated resource ids above the resource.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    /// Only this principal's entries (the ACL of one identity on the resource).
    #[serde(default)]
    pub identity_id: Option<IdentityId>,
}
