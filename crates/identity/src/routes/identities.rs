//! `/identities`: identities of every type. `self` answers the caller's own
//! identity; `{id}` and finds answer each identity in its type's representation.

use axum::extract::State;
use axum::Json;
use idp_model::identity::AnyIdentity;
use idp_model::token::IdentityType;
use idp_runtime::auth::Caller;
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::extract::{PathId, Query};
use idp_runtime::paging::{PageParams, Paged};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::access;
use crate::state::AppState;
use crate::store::identity;
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

pub async fn get_self(State(st): State<AppState>, caller: Caller) -> ApiResult<Json<AnyIdentity>> {
    let row = identity::Entity::find_by_id(caller.identity_id().as_uuid())
        .one(&st.db)
        .await?;
    match row {
        Some(m) if m.deleted_at.is_none() && m.active => Ok(Json(one(&st, &m).await?)),
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

pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId<Uuid>,
) -> ApiResult<Json<AnyIdentity>> {
    let m = access::readable(&st, &caller, id, None).await?;
    Ok(Json(one(&st, &m).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub organization_id: Option<Uuid>,
    /// Deprecated alias of `organizationId`.
    pub tenant_id: Option<Uuid>,
    pub email: Option<String>,
    pub active: Option<bool>,
    pub include_deleted: Option<bool>,
}

/// Every identity the caller may read (users and API accounts), as a JSON array.
pub async fn find(
    State(st): State<AppState>,
    caller: Caller,
    Query(f): Query<Filter>,
    params: PageParams,
) -> ApiResult<Paged<AnyIdentity>> {
    let mut q = identity::Entity::find().filter(
        access::read_condition(
            &st,
            &caller,
            &[IdentityType::UserIdentity, IdentityType::ApiAccountIdentity],
        )
        .await?,
    );
    if let Some(o) = f.organization_id.or(f.tenant_id) {
        q = q.filter(identity::Column::OrganizationId.eq(o));
    }
    if let Some(e) = f.email.as_deref() {
        q = q.filter(identity::Column::Email.eq(e.trim().to_lowercase()));
    }
    if let Some(a) = f.active {
        q = q.filter(identity::Column::Active.eq(a));
    }
    if !f.include_deleted.unwrap_or(false) {
        q = q.filter(identity::Column::DeletedAt.is_null());
    }
    let (rows, total) = access::page(&st, q, &params).await?;
    Ok(Paged::new(full(&st, &rows).await?, total, params))
}
