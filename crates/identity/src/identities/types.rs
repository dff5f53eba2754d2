//! Filters of the `/identities` routes.

use serde::Deserialize;
use uuid::Uuid;

/// The filters of `GET /identities`: those the reference documents for
/// `GET /user-identities` and `GET /api-account-identities`, over both types.
/// Text filters match case-insensitively and whole.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindIdentities {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    /// A user's email or an API account's contact email.
    pub email: Option<String>,
    /// Same column as `email` (the API accounts' name for it).
    pub contact_email: Option<String>,
    /// A user's full name ("first last") or an API account's name.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Users mapped to this identity provider.
    pub identity_provider_id: Option<Uuid>,
    /// `UserIdentity` or `ApiAccountIdentity`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
}
