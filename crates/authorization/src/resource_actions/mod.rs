//! Resource actions: the second half of the catalog, the actions of each resource
//! type (the access rules are the resource types': `crate::resource_types::service`).
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: access checks, the
//! change, its events), `store` (queries), `types` (filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
