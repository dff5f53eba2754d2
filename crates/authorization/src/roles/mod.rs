//! Roles: the standard (seeded, immutable) ones and custom roles of an organization.
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: access checks, the
//! change, its events), `store` (queries), `types` (filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
