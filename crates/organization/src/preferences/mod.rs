//! Organization preferences: one free-form JSON object per organization.

pub mod routes;
pub mod store;
pub mod types;
