//! The discovery documents (their handlers in `routes` answer them).

use serde_json::{json, Map, Value};

use crate::state::AppState;

/// The grant types the token endpoint accepts (see `crate::token`).
pub const GRANT_TYPES: [&str; 2] = [
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

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

/// OpenID Connect Discovery.
pub fn openid_configuration(st: &AppState) -> Value {
    let mut m = common(st);
    m.insert("subject_types_supported".into(), json!(["public"]));
    m.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256"]),
    );
    Value::Object(m)
}

/// RFC 8414 authorization-server metadata.
pub fn authorization_server(st: &AppState) -> Value {
    Value::Object(common(st))
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
