//! JWKS and OpenID discovery: what OAuth 2.0 / OIDC clients and token verifiers read.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn jwks(State(st): State<AppState>) -> Response {
    let body = st.keys.jwks_json();
    let mut res = (*body).clone().into_response();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

pub async fn openid_configuration(State(st): State<AppState>) -> Response {
    let issuer = st.token.issuer();
    let base = st.token.public_url.trim_end_matches('/');
    axum::Json(serde_json::json!({
        "issuer": issuer,
        "token_endpoint": st.token.token_endpoint(),
        "jwks_uri": format!("{base}/identity/v1/.well-known/jwks.json"),
        "grant_types_supported": [
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "organizationId", "identityType"]
    }))
    .into_response()
}
