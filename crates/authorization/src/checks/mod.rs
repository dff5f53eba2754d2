//! Checks: "may this identity do this action on this resource?", one or a batch.
//!
//! `routes` (the path and its handler: extract, call `service`, answer) and
//! `service` (the checks, from the decision cache: no store of its own).

pub mod routes;
pub mod service;
