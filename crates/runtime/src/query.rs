//! What the finds of every service share: the `deleted` filter, read-scope
//! filtering, sorting and paging over a sea-orm select.

use crate::authz::Scope;
use crate::error::{ApiError, ApiResult};
use crate::paging::PageParams;
use idp_model::paging::Direction;
use sea_orm::sea_query::IntoCondition;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// Which rows a `deleted=true|false|true,false` filter asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    Live,
    Deleted,
    Both,
}

impl Deleted {
    pub fn parse(raw: Option<&str>) -> ApiResult<Deleted> {
        let Some(raw) = raw else {
            return Ok(Deleted::Live);
        };
        let (mut t, mut f) = (false, false);
        for v in raw.split(',').map(str::trim) {
            match v {
                "true" => t = true,
                "false" => f = true,
                _ => {
                    return Err(ApiError::invalid(
                        "deleted",
                        "must be true, false or true,false",
                    ))
                }
            }
        }
        Ok(match (t, f) {
            (true, true) => Deleted::Both,
            (true, false) => Deleted::Deleted,
            _ => Deleted::Live,
        })
    }

    /// Filters `select` on its `deleted_at` column.
    pub fn apply<E: EntityTrait>(self, select: Select<E>, deleted_at: E::Column) -> Select<E> {
        match self {
            Deleted::Live => select.filter(deleted_at.is_null()),
            Deleted::Deleted => select.filter(deleted_at.is_not_null()),
            Deleted::Both => select,
        }
    }
}

/// Restricts `select` to the organizations of `scope`; `None` when the scope is empty
/// (the answer is an empty page).
pub fn in_scope<E: EntityTrait>(
    select: Select<E>,
    org_column: E::Column,
    scope: &Scope,
) -> Option<Select<E>> {
    match scope {
        Scope::All => Some(select),
        Scope::Organizations(set) if set.is_empty() => None,
        Scope::Organizations(set) => {
            let ids: Vec<uuid::Uuid> = set.iter().map(|o| o.as_uuid()).collect();
            Some(select.filter(org_column.is_in(ids).into_condition()))
        }
    }
}

/// Sorts by the requested fields (each checked against `allowed`: wire name and
/// column), then by `tie` (the id) so that pages are stable.
pub fn sorted<E: EntityTrait>(
    mut select: Select<E>,
    params: &PageParams,
    allowed: &[(&str, E::Column)],
    default: E::Column,
    tie: E::Column,
) -> ApiResult<Select<E>> {
    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
    params.allow_sort(&names)?;
    if params.request.sort.is_empty() {
        select = select.order_by(default, Order::Asc);
    }
    for s in &params.request.sort {
        if let Some((_, col)) = allowed.iter().find(|(n, _)| *n == s.field) {
            let order = match s.direction {
                Direction::Asc => Order::Asc,
                Direction::Desc => Order::Desc,
            };
            select = select.order_by(*col, order);
        }
    }
    Ok(select.order_by(tie, Order::Asc))
}

/// One page of `select` and the total count of its rows.
pub async fn page<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    params: &PageParams,
) -> ApiResult<(Vec<E::Model>, u64)>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total = select.clone().count(db).await?;
    let size = params.request.size;
    let rows = select
        .offset(params.request.page.saturating_mul(size))
        .limit(size)
        .all(db)
        .await?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_filter() {
        assert_eq!(Deleted::parse(None).unwrap(), Deleted::Live);
        assert_eq!(Deleted::parse(Some("false")).unwrap(), Deleted::Live);
        assert_eq!(Deleted::parse(Some("true")).unwrap(), Deleted::Deleted);
        assert_eq!(Deleted::parse(Some("true,false")).unwrap(), Deleted::Both);
        assert_eq!(Deleted::parse(Some("false,true")).unwrap(), Deleted::Both);
        assert!(Deleted::parse(Some("maybe")).is_err());
    }
}
