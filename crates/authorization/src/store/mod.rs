//! The authorization service's storage. Applied migrations are never edited; changes
//! come as new ones.

pub mod entities;
pub mod migrations;

pub use entities::*;
pub use migrations::Migrator;
