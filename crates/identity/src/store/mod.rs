//! The identity service's storage: its tables and the queries on them.

pub mod identity;
pub mod invitation_acceptance;
pub mod m0101;
pub mod m0102;
pub mod m0103;
pub mod mapping;
pub mod migrations;
pub mod open_id_provider_seen;
pub mod organization_seen;
pub mod preference;
pub mod provider_seen;
