//! Invitations into organizations: the authenticated API (`service`: find, read,
//! create, accept/decline/revoke) and the public flow of the invited person by
//! the key of the mailed link (`by_key`: read, decline, accept-initiate,
//! accept-complete).
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service` or `by_key`, answer), `service` (what each endpoint does: access
//! checks, the change, its events), `store` (rows and queries), `types` (request
//! bodies, filters, path segments); `keys` makes and hashes the keys.

pub mod by_key;
pub mod keys;
pub mod routes;
pub mod service;
pub mod store;
pub mod types;
