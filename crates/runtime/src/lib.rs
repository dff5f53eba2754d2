//! Plumbing shared by the services, so that a service crate reads like its domain:
//! settings pieces, the database (connection, migrations, constraint mapping), the
//! transactional outbox and idempotent inbox, HTTP helpers (problem responses,
//! request ids, paging, strict JSON), the bearer-token extractor, the service
//! server with its health endpoints, and test support.
//!
//! The HTTP layer is actix-web ([`web`]: start there).

pub mod auth;
pub mod authz;
pub mod clock;
pub mod db;
pub mod error;
pub mod extract;
pub mod flow_token;
pub mod grant_check;
pub mod metrics;
pub mod organizations;
pub mod outbox;
pub mod paging;
pub mod query;
pub mod read_models;
pub mod request_id;
pub mod server;
pub mod service;
pub mod settings;
pub mod testing;
pub mod web;
pub mod work;

pub use error::ApiError;
pub use idp_common::{settings::Layers, shutdown::Shutdown, telemetry, Secret};
