//! Queries of the `roles` and `role_actions` tables (their entities:
//! `crate::store::role`, `crate::store::role_action`).

use std::collections::HashSet;

use idp_model::authorization::{Role, RoleType};
use idp_model::{OrganizationId, ResourceActionId, RoleId, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::domain::role_action_ids;
use crate::store::{grant, resource_action, role, role_action};

pub fn is_standard(r: &role::Model) -> bool {
    r.role_type == RoleType::Standard.as_str()
}

pub fn view(r: role::Model, actions: Vec<Uuid>) -> Role {
    let mut ids: Vec<ResourceActionId> = actions.into_iter().map(ResourceActionId).collect();
    ids.sort();
    Role {
        id: RoleId(r.id),
        role_type: if is_standard(&r) {
            RoleType::Standard
        } else {
            RoleType::Custom
        },
        name: r.name,
        organization_id: r.organization_id.map(OrganizationId),
        base_role_id: r.base_role_id.map(RoleId),
        description: r.description,
        resource_action_ids: ids,
        created_at: Timestamp::from(r.created_at),
        last_modified: r.last_modified.map(Timestamp::from),
    }
}

/// The wire form of roles, with their actions.
pub async fn views<C: ConnectionTrait>(
    db: &C,
    roles: Vec<role::Model>,
) -> Result<Vec<Role>, DbErr> {
    let ids: Vec<Uuid> = roles.iter().map(|r| r.id).collect();
    let mut by_role = role_action_ids(db, &ids).await?;
    Ok(roles
        .into_iter()
        .map(|r| {
            let a = by_role.remove(&r.id).unwrap_or_default();
            view(r, a)
        })
        .collect())
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<role::Model>, DbErr> {
    role::Entity::find_by_id(id).one(db).await
}

/// The live roles (of this type; of this organization, with the standard ones),
/// by type and name.
pub async fn list_live<C: ConnectionTrait>(
    db: &C,
    role_type: Option<RoleType>,
    organization: Option<OrganizationId>,
) -> Result<Vec<role::Model>, DbErr> {
    let mut q = role::Entity::find()
        .filter(role::Column::DeletedAt.is_null())
        .order_by_asc(role::Column::RoleType)
        .order_by_asc(role::Column::Name);
    if let Some(t) = role_type {
        q = q.filter(role::Column::RoleType.eq(t.as_str()));
    }
    if let Some(o) = organization {
        // An organization's roles: its custom roles and the standard ones.
        q = q.filter(
            Condition::any()
                .add(role::Column::OrganizationId.eq(o.as_uuid()))
                .add(role::Column::OrganizationId.is_null()),
        );
    }
    q.all(db).await
}

/// The distinct ids of `ids`, or `None` when one names no resource action.
pub async fn existing_actions<C: ConnectionTrait>(
    db: &C,
    ids: &[ResourceActionId],
) -> Result<Option<Vec<Uuid>>, DbErr> {
    let wanted: HashSet<Uuid> = ids.iter().map(|a| a.as_uuid()).collect();
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    if wanted.is_empty() {
        return Ok(Some(wanted));
    }
    let found = resource_action::Entity::find()
        .filter(resource_action::Column::Id.is_in(wanted.clone()))
        .count(db)
        .await?;
    Ok((found == wanted.len() as u64).then_some(wanted))
}

/// Whether a live role of `org` or a standard one other than `except` has this
/// name (case-insensitively).
pub async fn name_taken<C: ConnectionTrait>(
    db: &C,
    org: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, DbErr> {
    let lower = name.to_lowercase();
    Ok(role::Entity::find()
        .filter(role::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(role::Column::OrganizationId.eq(org))
                .add(role::Column::OrganizationId.is_null()),
        )
        .all(db)
        .await?
        .iter()
        .any(|r| Some(r.id) != except && r.name.to_lowercase() == lower))
}

/// The role's actions become `actions`.
pub async fn replace_actions<C: ConnectionTrait>(
    txn: &C,
    role_id: Uuid,
    actions: &[Uuid],
) -> Result<(), DbErr> {
    role_action::Entity::delete_many()
        .filter(role_action::Column::RoleId.eq(role_id))
        .exec(txn)
        .await?;
    if !actions.is_empty() {
        role_action::Entity::insert_many(actions.iter().map(|a| role_action::ActiveModel {
            role_id: Set(role_id),
            resource_action_id: Set(*a),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

pub async fn insert<C: ConnectionTrait>(
    txn: &C,
    r: role::ActiveModel,
) -> Result<role::Model, DbErr> {
    r.insert(txn).await
}

pub async fn update<C: ConnectionTrait>(
    txn: &C,
    r: role::ActiveModel,
) -> Result<role::Model, DbErr> {
    r.update(txn).await
}

/// How many live grants give the role.
pub async fn live_grants<C: ConnectionTrait>(db: &C, role_id: Uuid) -> Result<u64, DbErr> {
    grant::Entity::find()
        .filter(grant::Column::RoleId.eq(role_id))
        .filter(grant::Column::RevokedAt.is_null())
        .count(db)
        .await
}
