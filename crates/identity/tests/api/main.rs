//! Integration tests of the identity service: the service on a random port, against
//! a fresh database (SQLite, and PostgreSQL on this machine), through HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod exchange;
mod finds;
mod helpers;
mod identities;
mod owner;
mod token;

pub use helpers::*;
