//! Request bodies of the identity-preference routes.

use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePreference {
    pub user_identity_id: Option<Uuid>,
    pub preferences: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePreference {
    pub preferences: serde_json::Value,
}
