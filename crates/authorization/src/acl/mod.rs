//! The ACL of a resource: who may do what on it, through which grant and role.
//!
//! `routes` (the path and its handler: extract, call `service`, answer),
//! `service` (the access check and the entries), `store` (the grants read),
//! `types` (the query).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
