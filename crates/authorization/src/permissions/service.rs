//! What `GET /auth/v1/identities/{id}/permissions` does (its handler in `routes`
//! calls [`permissions`]): what every service's `Authz` client reads.

use idp_model::authz::EffectivePermission;
use idp_model::IdentityId;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};

use crate::state::AppState;
use idp_model::catalog::action;

/// Another identity's permissions need `grant:read` over their scopes.
const G: &str = crate::grants::service::RESOURCE;

/// `GET /identities/{id}/permissions`: the identity's effective permissions, each
/// naming its grant and role. Always allowed for one's own; for another identity,
/// the permissions in scopes where the caller holds `grant:read`.
pub async fn permissions(
    st: &AppState,
    caller: &Caller,
    id: IdentityId,
) -> ApiResult<Vec<EffectivePermission>> {
    // From the decision cache, which is exact (dropped on every grant or role
    // change): other services cache the answer themselves.
    let perms = st.decider.snapshot(id).await?;
    if id == caller.identity_id() {
        return Ok(perms.permissions());
    }
    let mine = st.decider.snapshot(caller.identity_id()).await?;
    if !mine.holds_anywhere(G, action::READ) {
        return Err(ApiError::not_found("no such identity"));
    }
    Ok(perms
        .permissions()
        .into_iter()
        .filter(|p| mine.allows(G, action::READ, p.organization_id, &p.path))
        .collect())
}
