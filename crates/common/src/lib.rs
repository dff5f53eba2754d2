//! Process plumbing shared by every binary of the platform, with no storage
//! dependency (the gateway uses it too): layered configuration, telemetry, a
//! secret wrapper that never prints, the shutdown signal, and a Prometheus metrics
//! registry.

pub mod metrics;
pub mod redact;
pub mod secret;
pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use secret::Secret;
