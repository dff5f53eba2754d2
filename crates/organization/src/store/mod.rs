//! The organization service's storage.

pub mod bootstrap;
pub mod m0101;
pub mod migrations;
pub mod organization;
