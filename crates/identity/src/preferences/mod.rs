//! `/identity-preferences`: an identity's free-form preferences (a JSON object).
//! An identity always manages its own; others need `identity-preference:*` in the
//! identity's organization. Deletion is soft (`deletedBy`, `deletedAt`).
//!
//! Like every resource: `routes` (paths and handlers), `service` (what each
//! endpoint does), `store` (its queries), `types` (request bodies).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
