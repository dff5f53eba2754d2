//! Operations tests of the whole platform: `/metrics` on every service, graceful
//! shutdown under load (the `platform` binary, SIGTERM, restart, no lost event),
//! and the secrecy of the logs of a full run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod child;
mod metrics;
mod secrecy;
mod shutdown;
