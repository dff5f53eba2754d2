//! Request bodies, filters and URL rules of the OpenID-provider routes.

use idp_model::organization::Name;
use idp_model::OrganizationId;
use idp_runtime::error::{ApiError, ApiResult};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOpenIdProvider {
    pub organization_id: OrganizationId,
    pub name: Name,
    pub client_id: Name,
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub user_info_endpoint: Option<String>,
    pub jwks_uri: String,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOpenIdProvider {
    pub name: Option<Name>,
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindOpenIdProviders {
    pub organization_id: Option<OrganizationId>,
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub active: Option<bool>,
    /// `true`, `false` (default) or `true,false`.
    pub deleted: Option<String>,
}

pub const MAX_URL_LEN: usize = 2048;

/// An https URL with a host (or, when allowed, http on a loopback host); 400 naming
/// `field` otherwise. The value is kept exactly as given.
pub fn check_url(field: &str, value: &str, allow_http_loopback: bool) -> ApiResult<()> {
    if value.len() > MAX_URL_LEN {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_URL_LEN} characters long"),
        ));
    }
    let url = reqwest::Url::parse(value)
        .map_err(|_| ApiError::invalid(field, "must be an absolute https URL"))?;
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err(ApiError::invalid(field, "must name a host"));
    }
    let loopback = matches!(host, "127.0.0.1" | "[::1]" | "::1" | "localhost");
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http_loopback && loopback => Ok(()),
        _ => Err(ApiError::invalid(field, "must use the https scheme")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("issuer", "https://auth.example.com", false).is_ok());
        assert!(check_url("issuer", "https://auth", false).is_ok());
        assert!(check_url("issuer", "http://auth.example.com", false).is_err());
        assert!(check_url("issuer", "http://127.0.0.1:9000/x", false).is_err());
        assert!(check_url("issuer", "http://127.0.0.1:9000/x", true).is_ok());
        assert!(check_url("issuer", "http://example.com", true).is_err());
        assert!(check_url("issuer", "not a url", false).is_err());
        assert!(check_url("issuer", "ftp://x", false).is_err());
    }
}
