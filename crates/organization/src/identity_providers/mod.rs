//! Identity providers: the Auth0 connections users of an organization log in with.
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does: access checks, the
//! change, its events), `store` (rows and queries), `types` (request bodies and
//! filters).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
