//! The transactional outbox and the idempotent inbox.
//!
//! - **Outbox**: a service writes each event with [`enqueue`] in the same database
//!   transaction as the change it reports. A [`Relay`] publishes unsent rows in
//!   order, marks them sent once the bus confirmed them, and retries with backoff
//!   when the bus is down, so an event is delayed, never lost.
//! - **Inbox**: a consumer applies each event at most once with [`apply_once`]
//!   (the event id is recorded in the same transaction as the work), and
//!   [`run_consumer`] is the loop a service spawns: parse, apply once, ack after
//!   commit, retry on failure, dead-letter poison messages.
//!
//! Both tables come from [`migrations`], which each service puts first in its own
//! migrator:
//!
//! ```ignore
//! impl MigratorTrait for Migrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         let mut m = idp_runtime::outbox::migrations();
//!         m.push(Box::new(m0003_create_identities::Migration));
//!         m
//!     }
//! }
//! ```

mod consumer;
mod inbox;
mod migrations;
mod relay;
pub mod topology;

pub use consumer::{
    handler, run_consumer, spawn_consumer, ConsumerOptions, Handler, ABORT_AFTER_COMMIT_VAR,
};
pub use inbox::{apply_once, Applied};
pub use migrations::{migrations, CreateInbox, CreateOutbox};
pub use relay::{enqueue, enqueue_all, Relay, RelayHandle};
pub use topology::{declare_platform_topology, platform_topology, PLATFORM_CONSUMERS};
