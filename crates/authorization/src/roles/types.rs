//! Filters of the role routes (the bodies are `idp_model::authorization`'s).

use idp_model::authorization::RoleType;
use idp_model::OrganizationId;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleFilter {
    pub organization_id: Option<OrganizationId>,
    pub role_type: Option<RoleType>,
    pub name: Option<String>,
}
