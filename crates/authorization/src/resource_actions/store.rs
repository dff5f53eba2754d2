//! Queries of the `resource_actions` table (its entity:
//! `crate::store::resource_action`) and the standard roles' links to new actions.

use idp_model::authorization::ResourceAction;
use idp_model::{ResourceActionId, ResourceTypeId, Timestamp};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::resource_action::{ActiveModel, Column, Entity, Model};
use crate::store::role_action;

pub fn view(m: Model, type_code: String) -> ResourceAction {
    ResourceAction {
        id: ResourceActionId(m.id),
        code: m.code,
        name: m.name,
        resource_type_id: ResourceTypeId(m.resource_type_id),
        resource_type_code: type_code,
        description: m.description,
        is_system: m.is_system,
        created_at: Timestamp::from(m.created_at),
    }
}

/// Every resource action (of this type, with this code), by type and code.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    resource_type: Option<ResourceTypeId>,
    code: Option<String>,
) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find()
        .order_by_asc(Column::ResourceTypeId)
        .order_by_asc(Column::Code);
    if let Some(t) = resource_type {
        q = q.filter(Column::ResourceTypeId.eq(t.as_uuid()));
    }
    if let Some(code) = code {
        q = q.filter(Column::Code.eq(code));
    }
    q.all(db).await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// A new action of a team's resource type (not a system one).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    resource_type: Uuid,
    code: String,
    name: String,
    description: Option<String>,
    now: OffsetDateTime,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        resource_type_id: Set(resource_type),
        code: Set(code),
        name: Set(name),
        description: Set(description),
        is_system: Set(false),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

/// Gives the action to each of `roles` (those it already has stay as they are).
pub async fn link_roles<C: ConnectionTrait>(
    db: &C,
    action: Uuid,
    roles: &[Uuid],
) -> Result<(), DbErr> {
    if roles.is_empty() {
        return Ok(());
    }
    let links = roles.iter().map(|r| role_action::ActiveModel {
        role_id: Set(*r),
        resource_action_id: Set(action),
    });
    role_action::Entity::insert_many(links)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .do_nothing()
        .exec(db)
        .await?;
    Ok(())
}
