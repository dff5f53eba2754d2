//! Bounds every resource shares: paths, names and descriptions.

use idp_runtime::error::{ApiError, ApiResult};

/// Checks a path: resource ids, none empty.
pub fn valid_path(field: &str, path: &[String]) -> ApiResult<()> {
    if path.len() > 32 {
        return Err(ApiError::invalid(field, "at most 32 elements"));
    }
    if path.iter().any(|p| p.trim().is_empty() || p.len() > 200) {
        return Err(ApiError::invalid(
            field,
            "elements must be non-empty resource ids of at most 200 characters",
        ));
    }
    Ok(())
}

/// The longest name of a role, resource type or resource action, in characters.
pub const MAX_NAME: usize = 255;
/// The longest description of a role, resource type or resource action.
pub const MAX_DESCRIPTION: usize = 4000;

/// A description of at most [`MAX_DESCRIPTION`] characters (400 naming `description`).
pub fn valid_description(d: Option<&str>) -> ApiResult<()> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(ApiError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        )),
        _ => Ok(()),
    }
}
