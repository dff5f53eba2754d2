//! The identity service's storage: its tables and the queries on them.

pub mod identity;
pub mod invitation_acceptance;
pub mod m0101;
pub mod m0102;
pub mod m0103;
pub mod m0104;
pub mod m0105;
pub mod mapping;
pub mod migrations;
pub mod preference;
#[cfg(test)]
mod stored_times;
pub use idp_runtime::read_models::identity_provider_seen as provider_seen;
pub use idp_runtime::read_models::{open_id_provider_seen, organization_seen};
