//! Request bodies and filters of the organization-preference routes.

use idp_model::OrganizationId;
use serde::Deserialize;

/// A JSON object (not an array, string or null).
pub type Preferences = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePreference {
    pub organization_id: OrganizationId,
    pub preferences: Preferences,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePreference {
    pub preferences: Preferences,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindPreferences {
    pub organization_id: Option<OrganizationId>,
    /// `true`, `false` (default) or `true,false`.
    pub deleted: Option<String>,
}
