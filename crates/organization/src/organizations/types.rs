//! Request bodies and filters of the organization routes.

use idp_model::organization::{Auth0ConnectionType, Label, Name};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrganization {
    pub name: Name,
    pub label: Label,
    /// With `auth0ConnectionType`: the organization's first identity provider.
    pub auth0_connection_id: Option<Name>,
    pub identity_provider_name: Option<Name>,
    pub auth0_connection_type: Option<Auth0ConnectionType>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddIdentityProvider {
    pub auth0_connection_id: Name,
    pub identity_provider_name: Option<Name>,
    pub auth0_connection_type: Auth0ConnectionType,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindOrganizations {
    pub name: Option<String>,
    pub active: Option<bool>,
    /// One or more of `None`, `GoogleAuthenticator`, comma-separated.
    pub mfa_providers: Option<String>,
    pub include_deleted: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeInitiateRequest {
    pub label: Label,
    #[allow(dead_code)]
    pub intermediate_return_url: Option<String>,
}
