//! Filters of the resource-action routes.

use idp_model::ResourceTypeId;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionFilter {
    pub resource_type_id: Option<ResourceTypeId>,
    pub code: Option<String>,
}
