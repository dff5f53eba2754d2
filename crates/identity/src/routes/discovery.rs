//! JWKS and discovery: what OAuth 2.0 / OIDC clients and token verifiers read.
//!
//! Two metadata documents describe the issuer `{public_url}/identity/v1`:
//!
//! - OpenID Connect Discovery at `{issuer}/.well-known/openid-configuration` (the
//!   only place: OpenID Discovery §4 puts it under the issuer's path, so the root
//!   `/.well-known/openid-configuration` would describe the issuer `{public_url}`,
//!   which is not this one; the gateway serves none there);
//! - RFC 8414 authorization-server metadata at
//!   `/.well-known/oauth-authorization-server{issuer path}` (§3: the well-known
//!   suffix inserted before the issuer's path) and, for clients that append it to
//!   the issuer as for OpenID, at `{issuer}/.well-known/oauth-authorization-server`.
//!
//! Both advertise what the token endpoint really does: the `client_credentials`
//! and token-exchange grants, client secrets by Basic or form fields. There is no
//! authorization endpoint, so `response_types_supported` is empty; no scopes, no
//! ID tokens or userinfo of the platform's own (the OpenID document still names
//! RS256 and `public` subjects, which OpenID Discovery requires and which are what
//! the access tokens are).

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::state::AppState;

/// The grant types the token endpoint accepts (see `routes::token`).
pub const GRANT_TYPES: [&str; 2] = [
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

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

/// What both documents say.
fn common(st: &AppState) -> Map<String, Value> {
    let base = st.token.public_url.trim_end_matches('/');
    let mut m = Map::new();
    m.insert("issuer".into(), json!(st.token.issuer()));
    m.insert("token_endpoint".into(), json!(st.token.token_endpoint()));
    m.insert(
        "jwks_uri".into(),
        json!(format!("{base}/identity/v1/.well-known/jwks.json")),
    );
    m.insert("grant_types_supported".into(), json!(GRANT_TYPES));
    m.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(["client_secret_basic", "client_secret_post"]),
    );
    // No authorization endpoint: no response type exists.
    m.insert("response_types_supported".into(), json!([]));
    m
}

pub async fn openid_configuration(State(st): State<AppState>) -> Response {
    let mut m = common(&st);
    m.insert("subject_types_supported".into(), json!(["public"]));
    m.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256"]),
    );
    axum::Json(Value::Object(m)).into_response()
}

/// RFC 8414 authorization-server metadata.
pub async fn oauth_authorization_server(State(st): State<AppState>) -> Response {
    axum::Json(Value::Object(common(&st))).into_response()
}

/// Where RFC 8414 §3 puts the metadata of `issuer`: the well-known suffix
/// inserted between the host and the issuer's path.
pub fn rfc8414_path(issuer: &str) -> String {
    let after_scheme = issuer.split_once("://").map(|(_, r)| r).unwrap_or(issuer);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("")
        .trim_end_matches('/');
    format!("/.well-known/oauth-authorization-server{path}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::rfc8414_path;

    #[test]
    fn the_metadata_path_inserts_the_suffix_before_the_issuer_path() {
        for (issuer, path) in [
            (
                "http://127.0.0.1:8080/identity/v1",
                "/.well-known/oauth-authorization-server/identity/v1",
            ),
            (
                "https://idp.example.com/identity/v1/",
                "/.well-known/oauth-authorization-server/identity/v1",
            ),
            (
                "https://idp.example.com",
                "/.well-known/oauth-authorization-server",
            ),
        ] {
            assert_eq!(rfc8414_path(issuer), path, "{issuer}");
        }
    }
}
