//! Who may see and change which identity: the resource actions every endpoint
//! requires, the caller's own identity always readable, reads of what the caller
//! may not read answered as 404 (existence does not leak); changes need only their
//! action, and answer 404 to a caller holding no action on the type there, else 403.

use std::collections::HashMap;

use idp_model::identity::IdentityMapping;
use idp_model::token::IdentityType;
use idp_model::{IdentityId, IdentityProviderId, OrganizationId, ROOT_ORGANIZATION_ID};
use idp_runtime::auth::Caller;
use idp_runtime::authz::{ChangeAccess, Scope};
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::paging::PageParams;
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::state::AppState;
use crate::store::{identity, mapping, organization_seen};
use idp_model::catalog::action;

pub const USER: &str = idp_model::catalog::USER_IDENTITY.code;
pub const API: &str = idp_model::catalog::API_ACCOUNT_IDENTITY.code;
pub const PREFERENCE: &str = idp_model::catalog::IDENTITY_PREFERENCE.code;

pub fn resource_type(kind: IdentityType) -> &'static str {
    match kind {
        IdentityType::UserIdentity => USER,
        IdentityType::ApiAccountIdentity => API,
    }
}

pub fn kind_of(m: &identity::Model) -> IdentityType {
    crate::views::kind_of(m)
}

fn not_found() -> ApiError {
    ApiError::not_found("no such identity")
}

/// An identity the caller may read (itself, or one of an organization where it
/// holds `read` on the identity's type). `kind` narrows the type (another type is
/// 404). Deleted identities are found too (their `deletedAt` says so). One the
/// caller may not read answers as one that does not exist.
pub async fn readable(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: Option<IdentityType>,
) -> ApiResult<identity::Model> {
    let row = identity::Entity::find_by_id(id)
        .one(&st.db)
        .await?
        .ok_or_else(not_found)?;
    let k = kind_of(&row);
    if kind.is_some_and(|want| want != k) {
        return Err(not_found());
    }
    if row.id != caller.identity_id().as_uuid()
        && !st
            .authz
            .allowed(
                caller,
                resource_type(k),
                action::READ,
                Some(OrganizationId(row.organization_id)),
                &[],
            )
            .await?
    {
        return Err(not_found());
    }
    Ok(row)
}

/// A live identity of `kind` the caller may do `action` on. The action is enough
/// (`read` is not needed: the guide grants `update-reset-mfa` alone). 404 when it
/// does not exist, is deleted, or the caller holds no action at all on its type in
/// its organization; 403 when it holds some other action there (or it is the
/// caller itself).
pub async fn changeable(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: IdentityType,
    action: &str,
) -> ApiResult<identity::Model> {
    let row = identity::Entity::find_by_id(id)
        .one(&st.db)
        .await?
        .ok_or_else(not_found)?;
    if kind_of(&row) != kind {
        return Err(not_found());
    }
    let mut access = st
        .authz
        .change_access(
            caller,
            resource_type(kind),
            action,
            Some(OrganizationId(row.organization_id)),
        )
        .await?;
    if access == ChangeAccess::Hidden && row.id == caller.identity_id().as_uuid() {
        // An identity always knows itself.
        access = ChangeAccess::Forbidden;
    }
    if access == ChangeAccess::Hidden || row.deleted_at.is_some() {
        return Err(not_found());
    }
    access.into_result(resource_type(kind), action, "no such identity")?;
    Ok(row)
}

/// Whether identities may be created in `org`: the root organization, or one the
/// organization service announced and did not delete. One the read model does not
/// know yet (its `organization.created` event may still be on its way) is asked of
/// its owner, with the caller's token, before the answer is no: a client that
/// creates an organization and then its first member reads its own write. The
/// owner's answer is not stored (events stay the read model's only writer).
pub async fn organization_exists(st: &AppState, caller: &Caller, org: Uuid) -> ApiResult<bool> {
    if org == ROOT_ORGANIZATION_ID.as_uuid() {
        return Ok(true);
    }
    match organization_seen::Entity::find_by_id(org)
        .one(&st.db)
        .await?
    {
        Some(seen) => Ok(!seen.deleted),
        None => Ok(st
            .organizations
            .lookup(caller, org)
            .await?
            .is_some_and(|o| !o.deleted)),
    }
}

/// 400 naming `organizationId` unless the organization exists.
pub async fn require_organization(st: &AppState, caller: &Caller, org: Uuid) -> ApiResult<()> {
    if organization_exists(st, caller, org).await? {
        Ok(())
    } else {
        Err(ApiError::invalid("organizationId", "no such organization"))
    }
}

/// The condition "the caller may read this row of `identities`", for finds over
/// the given types: per type, its organizations in the caller's `read` scope; and
/// always the caller itself.
pub async fn read_condition(
    st: &AppState,
    caller: &Caller,
    kinds: &[IdentityType],
) -> ApiResult<Condition> {
    let mut any = Condition::any().add(identity::Column::Id.eq(caller.identity_id().as_uuid()));
    for k in kinds {
        let kind_is = identity::Column::Kind.eq(k.as_str());
        match st
            .authz
            .scope(caller, resource_type(*k), action::READ)
            .await?
        {
            Scope::All => any = any.add(kind_is),
            Scope::Organizations(orgs) if !orgs.is_empty() => {
                any = any.add(
                    Condition::all().add(kind_is).add(
                        identity::Column::OrganizationId
                            .is_in(orgs.iter().map(|o| o.as_uuid()).collect::<Vec<_>>()),
                    ),
                )
            }
            Scope::Organizations(_) => {}
        }
    }
    Ok(any)
}

fn sort_column(field: &str) -> Option<identity::Column> {
    Some(match field {
        "id" => identity::Column::Id,
        "name" => identity::Column::Name,
        "firstName" => identity::Column::FirstName,
        "lastName" => identity::Column::LastName,
        "email" | "contactEmail" => identity::Column::Email,
        "active" => identity::Column::Active,
        "createdAt" => identity::Column::CreatedAt,
        "updatedAt" => identity::Column::UpdatedAt,
        "organizationId" | "tenantId" => identity::Column::OrganizationId,
        "type" => identity::Column::Kind,
        _ => return None,
    })
}

pub const SORTABLE: &[&str] = &[
    "id",
    "name",
    "firstName",
    "lastName",
    "email",
    "contactEmail",
    "active",
    "createdAt",
    "updatedAt",
    "organizationId",
    "tenantId",
    "type",
];

/// One page of a find over `identities`, with the total.
pub async fn page(
    st: &AppState,
    select: Select<identity::Entity>,
    params: &PageParams,
) -> ApiResult<(Vec<identity::Model>, u64)> {
    params.allow_sort(SORTABLE)?;
    let total = select.clone().count(&st.db).await?;
    let mut q = select;
    for s in &params.request.sort {
        if let Some(c) = sort_column(&s.field) {
            let dir = match s.direction {
                idp_model::paging::Direction::Asc => Order::Asc,
                idp_model::paging::Direction::Desc => Order::Desc,
            };
            q = q.order_by(c, dir);
        }
    }
    let rows = q
        .order_by(identity::Column::CreatedAt, Order::Asc)
        .order_by(identity::Column::Id, Order::Asc)
        .offset(params.request.offset())
        .limit(params.request.size)
        .all(&st.db)
        .await?;
    Ok((rows, total))
}

/// Case-insensitive equality on a text column.
pub fn eq_ci(col: identity::Column, value: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col((identity::Entity, col)))).eq(value.trim().to_lowercase())
}

/// The mappings of the given identities, by identity.
pub async fn mappings_of<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<IdentityMapping>>> {
    let mut out: HashMap<Uuid, Vec<IdentityMapping>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = mapping::Entity::find()
        .filter(mapping::Column::IdentityId.is_in(ids.to_vec()))
        .order_by_asc(mapping::Column::CreatedAt)
        .all(db)
        .await?;
    for m in rows {
        out.entry(m.identity_id).or_default().push(IdentityMapping {
            id: m.id,
            auth0_user_id: m.external_subject,
            identity_provider_id: IdentityProviderId(m.identity_provider_id),
            user_identity_id: IdentityId(m.identity_id),
        });
    }
    Ok(out)
}
