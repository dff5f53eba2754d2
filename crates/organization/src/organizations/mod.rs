//! Organizations: find, get (by id or label), create, activate/deactivate, delete,
//! the deprecated add-identity-provider, and the public authorize-initiate.

pub mod providers;
pub mod routes;
pub mod store;
pub mod types;
