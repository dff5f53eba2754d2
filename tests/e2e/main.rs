//! End-to-end tests: the whole platform (four services and the gateway), started as
//! `make run` starts it, exercised only through the gateway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authorization;
mod binary;
mod change_rule;
mod docs;
mod flows;
mod foundation;
mod helpers;
mod identities;
mod invitations;
mod organizations;
mod privilege;
mod read_your_writes;
