//! Resource types: the first half of the catalog (seeded entries are immutable;
//! other teams register their own with platform-wide `resource-type:create`).
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: access checks, the
//! change), `store` (queries), `types` (filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
