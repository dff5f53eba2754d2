//! The identity service's storage: its tables and the queries on them.

pub mod identity;
pub mod migrations;
