//! OpenID providers: external issuers whose ID tokens the token endpoint exchanges.

pub mod routes;
pub mod store;
pub mod types;
