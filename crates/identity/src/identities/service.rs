//! What the `/identity/v1/identities/**` endpoints do (their handlers in `routes`
//! call these).

use idp_model::identity::AnyIdentity;
use idp_model::token::IdentityType;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::sea_query::Query as SqlQuery;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::types::FindIdentities;
use crate::access;
use crate::state::AppState;
use crate::store::{identity, mapping};
use crate::views;

async fn full(st: &AppState, rows: &[identity::Model]) -> ApiResult<Vec<AnyIdentity>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut maps = access::mappings_of(&st.db, &ids).await?;
    let url = st.token.token_endpoint();
    Ok(rows
        .iter()
        .map(|m| views::any_with(m, &url, maps.remove(&m.id).unwrap_or_default()))
        .collect())
}

async fn one(st: &AppState, m: &identity::Model) -> ApiResult<AnyIdentity> {
    full(st, std::slice::from_ref(m))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("identity view missing")))
}

pub async fn get_self(st: &AppState, caller: &Caller) -> ApiResult<AnyIdentity> {
    let row = identity::Entity::find_by_id(caller.identity_id().as_uuid())
        .one(&st.db)
        .await?;
    match row {
        Some(m) if m.deleted_at.is_none() && m.active => one(st, &m).await,
        // A valid signature for an identity that is gone or deactivated: the token
        // no longer stands for anyone who may act.
        _ => Err(ApiError::Unauthenticated {
            challenge:
                r#"Bearer error="invalid_token", error_description="the identity is not active""#
                    .into(),
            detail: "the identity of this token is not active".into(),
        }),
    }
}

pub async fn get(st: &AppState, caller: &Caller, id: Uuid) -> ApiResult<AnyIdentity> {
    let m = access::readable(st, caller, id, None).await?;
    one(st, &m).await
}

fn kinds_of(raw: Option<&str>) -> ApiResult<Vec<IdentityType>> {
    const BOTH: [IdentityType; 2] = [IdentityType::UserIdentity, IdentityType::ApiAccountIdentity];
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(BOTH.to_vec());
    };
    BOTH.iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(raw))
        .map(|k| vec![*k])
        .ok_or_else(|| {
            ApiError::invalid("type", "must be one of [UserIdentity, ApiAccountIdentity]")
        })
}

/// Every identity the caller may read (users and API accounts), as a JSON array.
pub async fn find(
    st: &AppState,
    caller: &Caller,
    f: FindIdentities,
    params: PageParams,
) -> ApiResult<Paged<AnyIdentity>> {
    let kinds = kinds_of(f.kind.as_deref())?;
    let mut q = identity::Entity::find()
        .filter(identity::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .filter(access::read_condition(st, caller, &kinds).await?);
    if let Some(o) = f.organization_id.or(f.tenant_id) {
        q = q.filter(identity::Column::OrganizationId.eq(o));
    }
    for e in [f.email.as_deref(), f.contact_email.as_deref()]
        .into_iter()
        .flatten()
    {
        q = q.filter(access::eq_ci(identity::Column::Email, e));
    }
    for (col, v) in [
        (identity::Column::Name, f.name.as_deref()),
        (identity::Column::FirstName, f.first_name.as_deref()),
        (identity::Column::LastName, f.last_name.as_deref()),
    ] {
        if let Some(v) = v {
            q = q.filter(access::eq_ci(col, v));
        }
    }
    if let Some(p) = f.identity_provider_id {
        q = q.filter(
            identity::Column::Id.in_subquery(
                SqlQuery::select()
                    .column(mapping::Column::IdentityId)
                    .from(mapping::Entity)
                    .and_where(mapping::Column::IdentityProviderId.eq(p))
                    .to_owned(),
            ),
        );
    }
    if let Some(a) = f.active {
        q = q.filter(identity::Column::Active.eq(a));
    }
    if !f.include_deleted.unwrap_or(false) {
        q = q.filter(identity::Column::DeletedAt.is_null());
    }
    let (rows, total) = access::page(st, q, &params).await?;
    Ok(Paged::new(full(st, &rows).await?, total, params))
}
