//! What both identity types share: activation, deactivation and (soft) deletion,
//! each with its event; a deactivation or deletion refuses the identity's tokens
//! here once committed (other services on the event).

use idp_model::events::Event;
use idp_model::token::IdentityType;
use idp_model::{IdentityId, OrganizationId};
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::work::UnitOfWork;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use uuid::Uuid;

use crate::access;
use crate::events;
use crate::state::AppState;
use crate::store::identity;
use idp_model::catalog::action;

/// An identity cannot deactivate or delete itself: the last administrator (the
/// bootstrap super admin, say) would lock everyone out. Another identity with the
/// action does it.
fn not_oneself(caller: &Caller, id: Uuid, what: &str) -> ApiResult<()> {
    if caller.identity_id().as_uuid() == id {
        return Err(ApiError::conflict(format!(
            "an identity cannot {what} itself; ask another administrator"
        )));
    }
    Ok(())
}

/// Once `w` is committed: the identity's tokens are refused here (when `revoke`),
/// and the token endpoint reads its client again.
fn after_change(st: &AppState, w: &mut UnitOfWork, m: &identity::Model, revoke: bool) {
    let verifier = st.verifier.clone();
    let clients = st.clients.clone();
    let (id, client_id, at) = (m.id, m.client_id.clone(), w.now().unix_timestamp());
    w.after_commit(move || {
        if revoke {
            verifier.revoke_identity(IdentityId(id), at);
        }
        clients.forget(client_id.as_deref());
    });
}

/// Activates (`active`) or deactivates an identity: idempotent; a change emits
/// its event, and a deactivation refuses the identity's tokens.
pub async fn set_active(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: IdentityType,
    active: bool,
) -> ApiResult<identity::Model> {
    let row = access::changeable(st, caller, id, kind, action::UPDATE).await?;
    if !active {
        not_oneself(caller, id, "deactivate")?;
    }
    if row.active == active {
        return Ok(row);
    }
    let mut w = st.work.begin().await?;
    let mut am = row.into_active_model();
    am.active = Set(active);
    am.updated_at = Set(Some(w.now()));
    let m = am.update(w.txn()).await?;
    let event = if active {
        Event::IdentityActivated(events::identity(&m))
    } else {
        Event::IdentityDeactivated(events::identity(&m))
    };
    w.enqueue_event(Some(OrganizationId(m.organization_id)), &event)?;
    after_change(st, &mut w, &m, !active);
    w.commit().await?;
    Ok(m)
}

/// Marks an identity deleted (hidden from finds unless `includeDeleted=true`),
/// inactive, and refuses its tokens.
pub async fn soft_delete(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: IdentityType,
) -> ApiResult<identity::Model> {
    let row = access::changeable(st, caller, id, kind, action::DELETE).await?;
    not_oneself(caller, id, action::DELETE)?;
    let mut w = st.work.begin().await?;
    let now = w.now();
    let mut am = row.into_active_model();
    am.active = Set(false);
    am.deleted_at = Set(Some(now));
    am.updated_at = Set(Some(now));
    let m = am.update(w.txn()).await?;
    w.enqueue_event(
        Some(OrganizationId(m.organization_id)),
        &Event::IdentityDeleted(events::identity(&m)),
    )?;
    after_change(st, &mut w, &m, true);
    w.commit().await?;
    Ok(m)
}
