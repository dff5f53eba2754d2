//! `POST /identity/v1/oauth/token`: the OAuth 2.0 token endpoint (RFC 6749 §3.2).
//!
//! Client credentials for API-account identities, authenticated by HTTP Basic or
//! by `client_id`/`client_secret` form fields (not both), and the token-exchange
//! grant (RFC 8693, `crate::exchange`). Errors are OAuth error bodies, not
//! problems: `invalid_client` (401) when authentication fails, however it fails,
//! so the answer does not tell an unknown client from a wrong secret.
//!
//! `routes` (the path and the answers' headers), `service` (the grants), `store`
//! (the client lookup).

pub mod routes;
pub mod service;
pub mod store;
