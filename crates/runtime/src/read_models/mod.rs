//! Read models that more than one service keeps, each in its own database, fed by
//! the same events: each entity and its event handler live here once. Every
//! handler creates the row on the first event about it and afterwards changes only
//! the fields an event names (events may carry some fields only).

use sea_orm::ActiveValue::{self, Set};

pub mod identity_provider_seen;
pub mod open_id_provider_seen;
pub mod organization_seen;

/// The `active`/`deleted` columns after an event that says what it says of them.
fn set_state(
    active_col: &mut ActiveValue<bool>,
    deleted_col: &mut ActiveValue<bool>,
    active: Option<bool>,
    deleted: Option<bool>,
) {
    if let Some(a) = active {
        *active_col = Set(a);
    }
    if let Some(x) = deleted {
        *deleted_col = Set(x);
    }
}
