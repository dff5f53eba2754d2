//! Grant checks: whether the caller may give roles in an organization.
//!
//! `routes` (the path and its handler: extract, call `service`, answer) and
//! `service` (the grant rule applied to the roles; the roles are read with the
//! grants' store).

pub mod routes;
pub mod service;
