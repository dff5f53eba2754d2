//! The grants an ACL is made of.

use idp_model::{IdentityId, OrganizationId};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::store::grant;

/// The live grants that may cover a resource of `org` (platform-wide ones and
/// `org`'s), of `identity` only when given.
pub async fn live_grants<C: ConnectionTrait>(
    db: &C,
    org: Option<OrganizationId>,
    identity: Option<IdentityId>,
) -> Result<Vec<grant::Model>, DbErr> {
    let mut scope = Condition::any().add(grant::Column::OrganizationId.is_null());
    if let Some(o) = org {
        scope = scope.add(grant::Column::OrganizationId.eq(o.as_uuid()));
    }
    let mut live = grant::Entity::find()
        .filter(grant::Column::RevokedAt.is_null())
        .filter(scope);
    if let Some(who) = identity {
        live = live.filter(grant::Column::IdentityId.eq(who.as_uuid()));
    }
    live.all(db).await
}
