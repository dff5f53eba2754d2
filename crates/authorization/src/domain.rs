//! The domain: effective permissions, grants and their events.

use std::collections::{HashMap, HashSet};

use idp_model::authorization::{standard_roles, Grant};
use idp_model::authz::EffectivePermission;
use idp_model::events::{Envelope, Event, GrantData, RoleUpdatedData};
use idp_model::{GrantId, IdentityId, OrganizationId, ResourceActionId, RoleId, Timestamp};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, TryInsertResult,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::{grant, resource_action, resource_type, role, role_action};
use idp_runtime::error::{ApiError, ApiResult};
use idp_runtime::work::UnitOfWork;

pub const SOURCE: &str = "authorization";

pub fn path_of(g: &grant::Model) -> Vec<String> {
    serde_json::from_str(&g.path).unwrap_or_default()
}

pub fn path_json(path: &[String]) -> String {
    serde_json::to_string(path).unwrap_or_else(|_| "[]".into())
}

/// The uniqueness key of a live grant.
pub fn live_key(
    identity: Uuid,
    role: Option<Uuid>,
    action: Option<Uuid>,
    org: Option<Uuid>,
    path: &[String],
) -> String {
    let what = match (role, action) {
        (Some(r), _) => format!("r:{r}"),
        (None, Some(a)) => format!("a:{a}"),
        (None, None) => "-".into(),
    };
    let org = org.map(|o| o.to_string()).unwrap_or_else(|| "*".into());
    format!("{identity}|{what}|{org}|{}", path_json(path))
}

/// Resource actions by id, with their type's code.
pub async fn actions_with_types<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (resource_action::Model, String)>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let actions = resource_action::Entity::find()
        .filter(resource_action::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let type_ids: Vec<Uuid> = actions
        .iter()
        .map(|a| a.resource_type_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let types: HashMap<Uuid, String> = resource_type::Entity::find()
        .filter(resource_type::Column::Id.is_in(type_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.code))
        .collect();
    Ok(actions
        .into_iter()
        .filter_map(|a| {
            let code = types.get(&a.resource_type_id)?.clone();
            Some((a.id, (a, code)))
        })
        .collect())
}

/// The action ids of each role.
pub async fn role_action_ids<C: ConnectionTrait>(
    db: &C,
    role_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, DbErr> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if role_ids.is_empty() {
        return Ok(out);
    }
    for ra in role_action::Entity::find()
        .filter(role_action::Column::RoleId.is_in(role_ids.to_vec()))
        .all(db)
        .await?
    {
        out.entry(ra.role_id)
            .or_default()
            .push(ra.resource_action_id);
    }
    Ok(out)
}

pub async fn role_names<C: ConnectionTrait>(
    db: &C,
    role_ids: &[Uuid],
) -> Result<HashMap<Uuid, String>, DbErr> {
    if role_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(role::Entity::find()
        .filter(role::Column::Id.is_in(role_ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// Expands grants into the permissions they give (a role grant gives each of the
/// role's actions), naming the grant and role of each.
pub async fn expand<C: ConnectionTrait>(
    db: &C,
    grants: &[grant::Model],
) -> Result<Vec<EffectivePermission>, DbErr> {
    let role_ids: Vec<Uuid> = grants
        .iter()
        .filter_map(|g| g.role_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let by_role = role_action_ids(db, &role_ids).await?;
    let names = role_names(db, &role_ids).await?;
    let mut action_ids: HashSet<Uuid> =
        grants.iter().filter_map(|g| g.resource_action_id).collect();
    for ids in by_role.values() {
        action_ids.extend(ids.iter().copied());
    }
    let action_ids: Vec<Uuid> = action_ids.into_iter().collect();
    let actions = actions_with_types(db, &action_ids).await?;
    let mut out = Vec::new();
    for g in grants {
        let path = path_of(g);
        let (ids, role_id): (Vec<Uuid>, Option<Uuid>) = match (g.role_id, g.resource_action_id) {
            (Some(r), _) => (by_role.get(&r).cloned().unwrap_or_default(), Some(r)),
            (None, Some(a)) => (vec![a], None),
            (None, None) => (Vec::new(), None),
        };
        for id in ids {
            if let Some((a, type_code)) = actions.get(&id) {
                out.push(EffectivePermission {
                    identity_id: IdentityId(g.identity_id),
                    resource_type: type_code.clone(),
                    action: a.code.clone(),
                    resource_action_id: ResourceActionId(a.id),
                    organization_id: g.organization_id.map(OrganizationId),
                    path: path.clone(),
                    grant_id: GrantId(g.id),
                    role_id: role_id.map(RoleId),
                    role_name: role_id.and_then(|r| names.get(&r).cloned()),
                });
            }
        }
    }
    Ok(out)
}

pub async fn live_grants_of<C: ConnectionTrait>(
    db: &C,
    identity: IdentityId,
) -> Result<Vec<grant::Model>, DbErr> {
    grant::Entity::find()
        .filter(grant::Column::IdentityId.eq(identity.as_uuid()))
        .filter(grant::Column::RevokedAt.is_null())
        .order_by_asc(grant::Column::CreatedAt)
        .order_by_asc(grant::Column::Id)
        .all(db)
        .await
}

pub async fn effective_permissions<C: ConnectionTrait>(
    db: &C,
    identity: IdentityId,
) -> ApiResult<Vec<EffectivePermission>> {
    let grants = live_grants_of(db, identity).await?;
    Ok(expand(db, &grants).await?)
}

/// Whether some permission covers `resource_type:action` at `org`/`path`.
pub fn holds(
    perms: &[EffectivePermission],
    resource_type: &str,
    action: &str,
    org: Option<OrganizationId>,
    path: &[String],
) -> bool {
    perms
        .iter()
        .any(|p| p.covers(resource_type, action, org, path))
}

/// Whether the permissions include `resource_type:action` in any scope.
pub fn holds_anywhere(perms: &[EffectivePermission], resource_type: &str, action: &str) -> bool {
    perms
        .iter()
        .any(|p| p.resource_type == resource_type && p.action == action)
}

/// A super admin: holds the Super Admin role platform-wide.
pub fn is_super_admin(perms: &[EffectivePermission]) -> bool {
    perms.iter().any(|p| {
        p.role_id == Some(standard_roles::SUPER_ADMIN)
            && p.organization_id.is_none()
            && p.path.is_empty()
    })
}

/// The wire form of grants (role names looked up).
pub async fn views<C: ConnectionTrait>(
    db: &C,
    grants: Vec<grant::Model>,
) -> Result<Vec<Grant>, DbErr> {
    let role_ids: Vec<Uuid> = grants
        .iter()
        .filter_map(|g| g.role_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let names = role_names(db, &role_ids).await?;
    Ok(grants.into_iter().map(|g| view(&g, &names)).collect())
}

pub fn view(g: &grant::Model, names: &HashMap<Uuid, String>) -> Grant {
    Grant {
        id: GrantId(g.id),
        identity_id: IdentityId(g.identity_id),
        role_id: g.role_id.map(RoleId),
        role_name: g.role_id.and_then(|r| names.get(&r).cloned()),
        resource_action_id: g.resource_action_id.map(ResourceActionId),
        organization_id: g.organization_id.map(OrganizationId),
        path: path_of(g),
        is_immutable: g.is_immutable,
        created_by: g.created_by.map(IdentityId),
        created_at: Timestamp::from(g.created_at),
        last_modified: Timestamp::from(g.last_modified),
    }
}

/// What a new grant gives.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Role(Uuid),
    Action(Uuid),
}

pub struct NewGrant {
    pub identity: Uuid,
    pub target: Target,
    pub organization: Option<Uuid>,
    pub path: Vec<String>,
    pub immutable: bool,
    pub created_by: Option<Uuid>,
}

/// The envelope of a grant event (`Event::GrantCreated`/`GrantRevoked`) about
/// the grant's organization.
fn grant_envelope(
    event: &Event,
    org: Option<OrganizationId>,
    now: OffsetDateTime,
) -> Result<Envelope, DbErr> {
    event
        .envelope(SOURCE, org, now)
        .map_err(|e| DbErr::Custom(format!("writing a grant event: {e}")))
}

/// The row of a new grant (not written yet). Its times are cut to microseconds, as
/// the databases keep them, so the row, its event and every later read agree.
fn grant_row(new: NewGrant, now: OffsetDateTime) -> grant::Model {
    let now = idp_runtime::clock::to_micros(now);
    let (role_id, action_id) = match new.target {
        Target::Role(r) => (Some(r), None),
        Target::Action(a) => (None, Some(a)),
    };
    let key = live_key(
        new.identity,
        role_id,
        action_id,
        new.organization,
        &new.path,
    );
    grant::Model {
        id: Uuid::now_v7(),
        identity_id: new.identity,
        role_id,
        resource_action_id: action_id,
        organization_id: new.organization,
        path: path_json(&new.path),
        is_immutable: new.immutable,
        created_by: new.created_by,
        created_at: now,
        last_modified: now,
        revoked_at: None,
        live_key: Some(key),
    }
}

/// The wire form of the new grant `g`, as its `grant.created` carries it.
/// `role_name` names its role when the caller has it at hand; otherwise it is read.
async fn created_view<C: ConnectionTrait>(
    txn: &C,
    g: &grant::Model,
    role_name: Option<&str>,
) -> Result<Grant, DbErr> {
    let names = match (g.role_id, role_name) {
        (Some(r), Some(n)) => HashMap::from([(r, n.to_string())]),
        (Some(r), None) => role_names(txn, &[r]).await?,
        (None, _) => HashMap::new(),
    };
    Ok(view(g, &names))
}

/// Writes `grant.created` for the row `g`. `role_name` as in [`created_view`].
async fn grant_created<C: ConnectionTrait>(
    txn: &C,
    g: &grant::Model,
    role_name: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let v = created_view(txn, g, role_name).await?;
    let event = Event::GrantCreated((&v).into());
    idp_runtime::outbox::enqueue(txn, &grant_envelope(&event, v.organization_id, now)?).await
}

/// Inserts a grant and its `grant.created` event. A live grant of the same thing
/// in the same scope makes this fail with a unique violation. `role_name`: as in
/// [`ensure_grant`].
pub async fn insert_grant<C: ConnectionTrait>(
    txn: &C,
    new: NewGrant,
    role_name: Option<&str>,
    now: OffsetDateTime,
) -> Result<grant::Model, DbErr> {
    let g = grant_row(new, now);
    grant::Entity::insert(g.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    grant_created(txn, &g, role_name, now).await?;
    Ok(g)
}

/// Inserts a grant as part of the unit of work `w`, with its `grant.created`
/// event. A live grant of the same thing in the same scope is a 409 with
/// `conflict`. `role_name`: as in [`ensure_grant`].
pub async fn insert_grant_in(
    w: &mut UnitOfWork,
    new: NewGrant,
    role_name: Option<&str>,
    conflict: &str,
) -> ApiResult<grant::Model> {
    let g = grant_row(new, w.now());
    grant::Entity::insert(g.clone().into_active_model())
        .exec_without_returning(w.txn())
        .await
        .map_err(|e| ApiError::from_db_conflict(e, conflict))?;
    let v = created_view(w.txn(), &g, role_name)
        .await
        .map_err(|e| ApiError::from_db_conflict(e, conflict))?;
    w.enqueue_event(v.organization_id, &Event::GrantCreated((&v).into()))?;
    Ok(g)
}

/// Inserts the grant unless a live one of the same thing and scope exists (event
/// consumers: exactly once), in one statement (`ON CONFLICT` on the live key, so
/// a concurrent insert of the same grant is no error either). Answers whether it
/// inserted. `role_name` is the role's name for the event, when the caller
/// already read the role (one query fewer); `None` reads it.
pub async fn ensure_grant<C: ConnectionTrait>(
    txn: &C,
    new: NewGrant,
    role_name: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let g = grant_row(new, now);
    let inserted = grant::Entity::insert(g.clone().into_active_model())
        .on_conflict(
            OnConflict::column(grant::Column::LiveKey)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(txn)
        .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(false);
    }
    grant_created(txn, &g, role_name, now).await?;
    Ok(true)
}

/// Revokes a live grant: the row as it is now, and the data of its
/// `grant.revoked` (the grant with `revokedAt`).
async fn revoke_row<C: ConnectionTrait>(
    txn: &C,
    g: grant::Model,
    now: OffsetDateTime,
) -> Result<(grant::Model, Event), DbErr> {
    let mut am = g.into_active_model();
    am.revoked_at = Set(Some(now));
    am.live_key = Set(None);
    am.last_modified = Set(now);
    let g = am.update(txn).await?;
    let names = role_names(txn, &g.role_id.into_iter().collect::<Vec<_>>()).await?;
    let mut v = GrantData::from(&view(&g, &names));
    v.revoked_at = Some(Timestamp::from(now));
    Ok((g, Event::GrantRevoked(v)))
}

/// Revokes a live grant and writes `grant.revoked`.
pub async fn revoke<C: ConnectionTrait>(
    txn: &C,
    g: grant::Model,
    now: OffsetDateTime,
) -> Result<grant::Model, DbErr> {
    let (g, event) = revoke_row(txn, g, now).await?;
    let event = grant_envelope(&event, g.organization_id.map(OrganizationId), now)?;
    idp_runtime::outbox::enqueue(txn, &event).await?;
    Ok(g)
}

/// Revokes a live grant as part of the unit of work `w`, with its `grant.revoked`.
pub async fn revoke_in(w: &mut UnitOfWork, g: grant::Model) -> ApiResult<grant::Model> {
    let (g, event) = revoke_row(w.txn(), g, w.now()).await?;
    w.enqueue_event(g.organization_id.map(OrganizationId), &event)?;
    Ok(g)
}

/// A live grant by id.
pub async fn live_grant<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<grant::Model> {
    match grant::Entity::find_by_id(id).one(db).await? {
        Some(g) if g.revoked_at.is_none() => Ok(g),
        _ => Err(ApiError::not_found("no such grant")),
    }
}

/// Adds `role.updated` to the unit of work `w` (`data`: `id`, `organizationId`,
/// `resourceActionIds` when they changed): every holder's effective permissions
/// changed, which each replica's decision cache learns from it.
pub fn role_updated(
    w: &mut UnitOfWork,
    role_id: Uuid,
    organization: Option<Uuid>,
    actions: Option<&[Uuid]>,
) -> ApiResult<()> {
    let event = Event::RoleUpdated(RoleUpdatedData {
        id: RoleId(role_id),
        organization_id: organization.map(OrganizationId),
        resource_action_ids: actions.map(|a| a.iter().copied().map(ResourceActionId).collect()),
    });
    w.enqueue_event(organization.map(OrganizationId), &event)
}
