//! Process plumbing shared by every binary of the platform, with no storage
//! dependency (the gateway uses it too): layered configuration, telemetry, a
//! secret wrapper that never prints, and the shutdown signal.

pub mod redact;
pub mod secret;
pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use secret::Secret;
