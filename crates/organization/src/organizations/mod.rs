//! Organizations: find, get (by id or label), create, activate/deactivate, delete,
//! the deprecated add-identity-provider, and the public authorize-initiate
//! (`login`).
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: access checks, the
//! change, its events), `store` (rows and queries), `types` (request bodies and
//! filters).

pub mod login;
pub mod routes;
pub mod service;
pub mod store;
pub mod types;
