//! Fault tests of the events between the services, on the real PostgreSQL and
//! RabbitMQ (skipped outside CI when they are absent): the broker taken away while
//! identities are created, the authorization service stopped, a consumer that dies
//! between its commit and its ack, a malformed message, a thousand concurrent
//! creations; and the cross-service flows in deployment mode (every service and
//! the gateway its own process).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod broker;
mod consumers;
mod deploy;
mod deployment;
mod load;
mod proxy;
mod read_your_writes;
mod support;
