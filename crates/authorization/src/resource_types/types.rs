//! Filters of the resource-type routes.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeFilter {
    pub code: Option<String>,
}
