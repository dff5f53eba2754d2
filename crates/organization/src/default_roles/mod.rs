//! Default roles: roles of the authorization service that every identity of an
//! organization gets (at creation without explicit permissions, or on request).

pub mod roles;
pub mod routes;
pub mod store;
pub mod types;
