//! Effective permissions of an identity (what every service's `Authz` reads).
//!
//! `routes` (the path and its handler: extract, call `service`, answer) and
//! `service` (from the decision cache: no store of its own).

pub mod routes;
pub mod service;
