//! The organization service's storage.

pub mod bootstrap;
pub mod migrations;
pub mod organization;
