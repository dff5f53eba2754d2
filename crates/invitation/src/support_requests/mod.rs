//! Support requests: `POST /nfconsole/support/requests` (public), validated,
//! stored, and mailed to `mail.support_to` through the mail outbox.
//!
//! Like every resource: `routes` (its path and the handler: extract, call
//! `service`, answer), `service` (what the endpoint does), `store` (rows),
//! `types` (the request body).

pub mod routes;
pub mod service;
pub mod store;
pub mod types;
