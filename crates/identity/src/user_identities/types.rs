//! Request bodies and filters of the user-identity routes.

use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindUserIdentities {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    pub identity_provider_id: Option<Uuid>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserIdentity {
    pub organization_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserIdentity {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// `POST /user-identities/{id}/mapping`: a login at an identity provider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapLogin {
    pub auth0_user_id: String,
    pub identity_provider_id: Uuid,
}
