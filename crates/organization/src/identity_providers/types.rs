//! Request bodies and filters of the identity-provider routes.

use idp_model::organization::{Auth0ConnectionType, Name};
use idp_model::OrganizationId;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentityProvider {
    pub organization_id: OrganizationId,
    pub auth0_connection_id: Name,
    pub name: Name,
    pub auth0_connection_type: Auth0ConnectionType,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIdentityProvider {
    pub name: Name,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindIdentityProviders {
    pub name: Option<String>,
    pub organization_id: Option<OrganizationId>,
    /// One or more, comma-separated.
    pub auth0_connection_id: Option<String>,
    /// One or more of the connection types, comma-separated.
    pub auth0_connection_type: Option<String>,
    pub active: Option<bool>,
    /// `true`, `false` (default) or `true,false`.
    pub deleted: Option<String>,
}
