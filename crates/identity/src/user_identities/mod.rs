//! `/user-identities`: people. `name` is "firstName lastName"; the email is valid,
//! lower-cased, and unique among the live user identities of one organization
//! (checked first, enforced by a partial unique index so that a race answers 409).
//!
//! Like every resource: `routes` (paths and handlers), `service` (what each
//! endpoint does), `store` (its queries), `types` (request bodies and filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
