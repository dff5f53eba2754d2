//! Grants: roles (`/identity-roles`) and single actions (`/identity-resource-actions`)
//! given to identities, and `/grants`, every grant that gives an action or role.
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: the grant rule, the
//! change, its events and the cache drops), `store` (queries), `types` (filters).
//! The grant rows and their events are `crate::domain`'s (the event consumer
//! makes grants too).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
