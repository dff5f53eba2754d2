//! `/api-account-identities`: machine credentials (OAuth 2.0 clients of the token
//! endpoint). The secret is shown once, at creation, and stored only as its HMAC.
//!
//! Like every resource: `routes` (paths and handlers), `service` (what each
//! endpoint does), `store` (its queries), `types` (request bodies and filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
