//! Integration tests of the identity service: the service on a random port, against
//! a fresh database (SQLite, and PostgreSQL on this machine), through HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exchange;
mod helpers;
mod finds;
mod identities;
mod token;

pub use helpers::*;
