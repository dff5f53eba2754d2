//! `/identities`: identities of every type. `self` answers the caller's own
//! identity; `{id}` and finds answer each identity in its type's representation.
//!
//! Like every resource: `routes` (its paths and the handlers: extract, call
//! `service`, answer), `service` (what each endpoint does), `types` (filters).
//! `lifecycle` holds what both identity types share: activation and deletion.

pub mod lifecycle;
pub mod routes;
pub mod service;
pub mod types;
