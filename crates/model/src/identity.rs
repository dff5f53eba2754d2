//! Identity representations, as the reference shows them.

use serde::{Deserialize, Serialize};

use crate::ids::{IdentityId, IdentityProviderId, OrganizationId};
use crate::time::Timestamp;
use crate::token::IdentityType;

/// An identity regardless of its type: the common fields of user and API-account
/// identities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: IdentityId,
    pub organization_id: OrganizationId,
    /// Deprecated mirror of `organizationId`.
    pub tenant_id: OrganizationId,
    pub name: String,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub kind: IdentityType,
    pub active: bool,
    pub created_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

/// A link between a user identity and a login at an identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityMapping {
    pub id: uuid::Uuid,
    pub auth0_user_id: String,
    pub identity_provider_id: IdentityProviderId,
    pub user_identity_id: IdentityId,
}

/// A person's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub id: IdentityId,
    pub organization_id: OrganizationId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub identity_mappings: Vec<IdentityMapping>,
    pub active: bool,
    pub created_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub tenant_id: OrganizationId,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: IdentityType,
}

/// A machine credential: an OAuth 2.0 client of the platform's token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiAccountIdentity {
    pub id: IdentityId,
    pub organization_id: OrganizationId,
    pub auth0_client_id: Option<String>,
    pub aws_cognito_client_id: Option<String>,
    pub authentication_url: String,
    pub name: String,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub tenant_id: OrganizationId,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub kind: IdentityType,
}

/// The answer of `POST /api-account-identities`: the account and its one-time secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiAccount {
    pub api_account_identity: ApiAccountIdentity,
    pub client_id: String,
    pub password: String,
    pub authentication_url: String,
}

/// `GET /identities/self` and `GET /identities/{id}` answer the identity in its own
/// type's full representation (the reference's example of `self` is a user identity
/// with its mappings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AnyIdentity {
    User(UserIdentity),
    ApiAccount(ApiAccountIdentity),
}

/// The credentials file the platform writes on first start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub password: String,
    pub authentication_url: String,
}

/// An identity's free-form preferences (`/identity-preferences`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityPreference {
    pub id: uuid::Uuid,
    pub user_identity_id: IdentityId,
    pub preferences: serde_json::Value,
    pub created_by: Option<IdentityId>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub deleted_by: Option<IdentityId>,
    pub deleted_at: Option<Timestamp>,
}
