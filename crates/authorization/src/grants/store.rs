//! Queries of the `grants` table (its entity: `crate::store::grant`) for the
//! grant routes.

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::types::{GrantFilter, Kind};
use crate::store::{grant, role, role_action};

/// Live grants of `kind` matching the filter, oldest first. For [`Kind::Any`] a
/// `resourceActionId` filter also finds the grants of roles that carry the action.
pub async fn find_live<C: ConnectionTrait>(
    db: &C,
    f: GrantFilter,
    kind: Kind,
) -> Result<Vec<grant::Model>, DbErr> {
    let mut q = grant::Entity::find()
        .filter(grant::Column::RevokedAt.is_null())
        .order_by_asc(grant::Column::CreatedAt)
        .order_by_asc(grant::Column::Id);
    match kind {
        Kind::Role => q = q.filter(grant::Column::RoleId.is_not_null()),
        Kind::Action => q = q.filter(grant::Column::ResourceActionId.is_not_null()),
        Kind::Any => {}
    }
    if let Some(i) = f.identity_id {
        q = q.filter(grant::Column::IdentityId.eq(i.as_uuid()));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(grant::Column::OrganizationId.eq(o.as_uuid()));
    }
    if let Some(r) = f.role_id {
        q = q.filter(grant::Column::RoleId.eq(r.as_uuid()));
    }
    if let Some(a) = f.resource_action_id {
        if kind == Kind::Any {
            // Directly, or through a role that carries the action.
            let roles: HashSet<Uuid> = role_action::Entity::find()
                .filter(role_action::Column::ResourceActionId.eq(a.as_uuid()))
                .all(db)
                .await?
                .into_iter()
                .map(|ra| ra.role_id)
                .collect();
            let mut cond = Condition::any().add(grant::Column::ResourceActionId.eq(a.as_uuid()));
            if !roles.is_empty() {
                cond = cond.add(grant::Column::RoleId.is_in(roles.into_iter().collect::<Vec<_>>()));
            }
            q = q.filter(cond);
        } else {
            q = q.filter(grant::Column::ResourceActionId.eq(a.as_uuid()));
        }
    }
    q.all(db).await
}

pub async fn role<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<role::Model>, DbErr> {
    role::Entity::find_by_id(id).one(db).await
}
