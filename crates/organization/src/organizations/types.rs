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
    pub intermediate_return_url: Option<ReturnUrl>,
}

/// A return URL of the login flow: at most [`MAX_URL_LEN`] characters (it is
/// not used by this service, only bounded).
///
/// [`MAX_URL_LEN`]: crate::open_id_providers::types::MAX_URL_LEN
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct ReturnUrl(#[allow(dead_code)] String);

impl TryFrom<String> for ReturnUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        use crate::open_id_providers::types::MAX_URL_LEN;
        if s.chars().count() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters long"));
        }
        Ok(ReturnUrl(s))
    }
}
