//! Request bodies and filters of the API-account routes.

use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindApiAccounts {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
    pub provider: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiAccount {
    pub organization_id: Uuid,
    pub name: String,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub grant_default_roles: Option<bool>,
    pub provider: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateApiAccount {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
}
