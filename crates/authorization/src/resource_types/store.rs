//! Queries of the `resource_types` table (its entity: `crate::store::resource_type`).

use std::collections::HashMap;

use idp_model::authorization::ResourceType;
use idp_model::{ResourceTypeId, Timestamp};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::resource_type::{ActiveModel, Column, Entity, Model};

pub fn view(m: Model) -> ResourceType {
    ResourceType {
        id: ResourceTypeId(m.id),
        code: m.code,
        name: m.name,
        description: m.description,
        is_system: m.is_system,
        created_at: Timestamp::from(m.created_at),
    }
}

/// Every resource type (with this code), by code.
pub async fn list<C: ConnectionTrait>(db: &C, code: Option<String>) -> Result<Vec<Model>, DbErr> {
    let mut q = Entity::find().order_by_asc(Column::Code);
    if let Some(code) = code {
        q = q.filter(Column::Code.eq(code));
    }
    q.all(db).await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// The code of every resource type, by id.
pub async fn codes<C: ConnectionTrait>(db: &C) -> Result<HashMap<Uuid, String>, DbErr> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect())
}

/// A new resource type of a team (not a system one).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    code: String,
    name: String,
    description: Option<String>,
    now: OffsetDateTime,
) -> Result<Model, DbErr> {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(name),
        description: Set(description),
        is_system: Set(false),
        created_at: Set(now),
    }
    .insert(db)
    .await
}
