//! Identity providers: the Auth0 connections users of an organization log in with.

pub mod routes;
pub mod store;
pub mod types;
