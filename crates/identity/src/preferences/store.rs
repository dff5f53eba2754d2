//! The queries of the identity-preference routes (`identity_preferences`).

use idp_runtime::error::ApiResult;
use idp_runtime::paging::PageParams;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::store::preference::{Column, Entity, Model};

pub const SORTABLE: &[&str] = &["createdAt", "updatedAt", "id"];

/// A live (not deleted) preference.
pub async fn live<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Option<Model>> {
    Ok(Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| p.deleted_at.is_none()))
}

/// One page of the live preferences matching `cond`, with the total.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    params: &PageParams,
) -> ApiResult<(Vec<Model>, u64)> {
    let q = Entity::find()
        .filter(cond)
        .filter(Column::DeletedAt.is_null());
    let total = q.clone().count(db).await?;
    let mut q = q;
    for s in &params.request.sort {
        let col = match s.field.as_str() {
            "updatedAt" => Column::UpdatedAt,
            "id" => Column::Id,
            _ => Column::CreatedAt,
        };
        let dir = match s.direction {
            idp_model::paging::Direction::Asc => Order::Asc,
            idp_model::paging::Direction::Desc => Order::Desc,
        };
        q = q.order_by(col, dir);
    }
    let rows = q
        .order_by(Column::CreatedAt, Order::Asc)
        .order_by(Column::Id, Order::Asc)
        .offset(params.request.offset())
        .limit(params.request.size)
        .all(db)
        .await?;
    Ok((rows, total))
}
