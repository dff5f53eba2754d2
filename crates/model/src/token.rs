//! Access-token claims and the OAuth 2.0 token endpoint's wire shapes.

use serde::{Deserialize, Serialize};

use crate::ids::{IdentityId, OrganizationId};

/// `UserIdentity` or `ApiAccountIdentity`, as the reference spells the `type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum IdentityType {
    UserIdentity,
    ApiAccountIdentity,
}

impl IdentityType {
    pub fn as_str(&self) -> &'static str {
        match self {
            IdentityType::UserIdentity => "UserIdentity",
            IdentityType::ApiAccountIdentity => "ApiAccountIdentity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UserIdentity" => Some(IdentityType::UserIdentity),
            "ApiAccountIdentity" => Some(IdentityType::ApiAccountIdentity),
            _ => None,
        }
    }
}

/// The claims of a platform access token (a JWT signed by the identity service).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    pub iss: String,
    /// The identity the token was issued to.
    pub sub: IdentityId,
    pub aud: String,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub jti: String,
    pub organization_id: OrganizationId,
    pub identity_type: IdentityType,
}

/// A successful answer of the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    /// Token exchange only (RFC 8693 §2.2.1): `urn:ietf:params:oauth:token-type:access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
}

/// The error codes of RFC 6749 §5.2 (and RFC 8693) that the token endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

/// An OAuth error body: `{"error": "invalid_client", "error_description": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OAuthError {
    pub fn new(error: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            error_description: Some(description.into()),
        }
    }

    /// 401 for a client that failed to authenticate, 400 for everything else (RFC 6749 §5.2).
    pub fn status(&self) -> u16 {
        match self.error {
            OAuthErrorCode::InvalidClient => 401,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_errors_use_rfc_codes_and_statuses() {
        let e = OAuthError::new(OAuthErrorCode::UnsupportedGrantType, "password");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["error"], "unsupported_grant_type");
        assert_eq!(e.status(), 400);
        assert_eq!(
            OAuthError::new(OAuthErrorCode::InvalidClient, "x").status(),
            401
        );
    }

    #[test]
    fn claims_use_camel_case_names() {
        let c = AccessClaims {
            iss: "i".into(),
            sub: IdentityId::new(),
            aud: "a".into(),
            iat: 1,
            nbf: None,
            exp: 2,
            jti: "j".into(),
            organization_id: OrganizationId::new(),
            identity_type: IdentityType::ApiAccountIdentity,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert!(v.get("organizationId").is_some());
        assert_eq!(v["identityType"], "ApiAccountIdentity");
        assert!(v.get("nbf").is_none());
    }
}
