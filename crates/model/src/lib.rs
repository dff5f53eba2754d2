//! Wire types shared by every service of the platform.
//!
//! Nothing here does I/O: the crate holds the identifiers, the JSON shapes of the
//! public API (with the reference's exact field names), the timestamp format, the
//! problem body, paging, token claims and the event envelope. Services, the gateway
//! and clients all speak through these types, so a field renamed here is renamed
//! everywhere at once.

pub mod authorization;
pub mod authz;
pub mod catalog;
pub mod email;
pub mod events;
pub mod identity;
pub mod ids;
pub mod invitation;
pub mod organization;
pub mod paging;
pub mod problem;
pub mod time;
pub mod token;

pub use email::Email;
pub use ids::*;
pub use problem::{FieldError, Problem};
pub use time::Timestamp;
