//! In-memory listing: one page of a collection already filtered to what the
//! caller may read, sorted by the request's `sort` fields.

use std::cmp::Ordering;

use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use serde::Serialize;
use serde_json::Value;

fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Object(x), Value::Object(y)) => {
            let k = |o: &serde_json::Map<String, Value>| {
                (
                    o.get("epochSecond").and_then(Value::as_i64).unwrap_or(0),
                    o.get("nano").and_then(Value::as_i64).unwrap_or(0),
                )
            };
            k(x).cmp(&k(y))
        }
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// One page of an in-memory collection (already filtered to what the caller may
/// read), sorted by the request's `sort` fields among `sortable`.
pub fn page<T: Serialize>(
    items: Vec<T>,
    params: PageParams,
    sortable: &[&str],
) -> ApiResult<Paged<Value>> {
    params.allow_sort(sortable)?;
    let mut vals: Vec<Value> = items
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(ApiError::internal)?;
    let sorts = params.request.sort.clone();
    if !sorts.is_empty() {
        vals.sort_by(|a, b| {
            for s in &sorts {
                let o = cmp_json(&a[&s.field], &b[&s.field]);
                let o = match s.direction {
                    idp_model::paging::Direction::Asc => o,
                    idp_model::paging::Direction::Desc => o.reverse(),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    let total = vals.len() as u64;
    let start = params.request.page.saturating_mul(params.request.size);
    let items: Vec<Value> = vals
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(params.request.size).unwrap_or(usize::MAX))
        .collect();
    Ok(Paged::new(items, total, params))
}
