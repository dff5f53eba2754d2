//! Events this service consumes: `identity.created` (the bootstrap Super Admin, the
//! organization's default roles), `identity.deleted`, `default-role.created|deleted`
//! (kept as the organizations' default roles) and `default-role.grant-requested`
//! (the role, once, to every live identity of the organization that lacks it).
//!
//! Every grant made here has a requester (the identity's creator, the caller who
//! asked for the grant to everyone) and is made only when the grant rule lets that
//! requester give it ([`crate::grant_rule`]); it reaches only live identities of
//! the organization. The services that emit these events applied the same rule
//! when they were asked (`POST /auth/v1/grant-checks`).

use std::sync::Arc;

use idp_model::authorization::standard_roles;
use idp_model::events::{types, Envelope, Event};
use idp_runtime::authz::Authz;
use idp_runtime::outbox::{self, ConsumerOptions, RelayHandle};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{ensure_grant, NewGrant, Target};
use crate::grant_rule::{self, EventRequesters};
use crate::store::{known_default_role, known_identity, role};

/// The live default roles of `org`.
pub async fn default_roles_of<C: ConnectionTrait>(txn: &C, org: Uuid) -> anyhow::Result<Vec<Uuid>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(known_default_role::Entity::find()
        .filter(known_default_role::Column::OrganizationId.eq(org))
        .filter(known_default_role::Column::Deleted.eq(false))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect())
}

/// The live identities known in `org`.
async fn identities_of<C: ConnectionTrait>(txn: &C, org: Uuid) -> anyhow::Result<Vec<Uuid>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(known_identity::Entity::find()
        .filter(known_identity::Column::OrganizationId.eq(org))
        .filter(known_identity::Column::Deleted.eq(false))
        .all(txn)
        .await?
        .into_iter()
        .map(|i| i.identity_id)
        .collect())
}

/// Grants `role` in `org` to each identity that lacks it, when `requester` may
/// give it there (the grant rule, on the requester's permissions now). Unknown or
/// deleted roles, custom roles of another organization and roles the requester
/// may not give are skipped (logged): redelivery would not change them.
async fn grant_role<C: ConnectionTrait>(
    txn: &C,
    requesters: &mut EventRequesters,
    requester: Option<Uuid>,
    role_id: Uuid,
    org: Uuid,
    identities: &[Uuid],
    now: OffsetDateTime,
) -> anyhow::Result<Vec<Uuid>> {
    if identities.is_empty() {
        return Ok(Vec::new());
    }
    let Some(r) = role::Entity::find_by_id(role_id).one(txn).await? else {
        tracing::warn!(%role_id, "default role names an unknown role; skipped");
        return Ok(Vec::new());
    };
    if r.deleted_at.is_some() || r.organization_id.is_some_and(|o| o != org) {
        tracing::warn!(%role_id, organization_id = %org, "default role cannot be granted in this organization; skipped");
        return Ok(Vec::new());
    }
    let gives = grant_rule::role_gives(txn, r.id, &r.name).await?;
    let allowed = requesters
        .may_give(txn, requester, org, &gives)
        .await
        .map_err(|e| anyhow::anyhow!("reading the requester's permissions: {e:?}"))?;
    if !allowed {
        tracing::warn!(%role_id, organization_id = %org, requested_by = ?requester,
            "the requester may not grant this role in this organization; not granted");
        return Ok(Vec::new());
    }
    let mut granted = Vec::new();
    for id in identities {
        let new = NewGrant {
            identity: *id,
            target: Target::Role(role_id),
            organization: Some(org),
            path: Vec::new(),
            immutable: false,
            created_by: requester,
        };
        if ensure_grant(txn, new, Some(&r.name), now).await? {
            granted.push(*id);
        }
    }
    Ok(granted)
}

async fn on_event(txn: &DatabaseTransaction, event: Envelope) -> anyhow::Result<Vec<Uuid>> {
    let now = OffsetDateTime::now_utc();
    let mut requesters = EventRequesters::new();
    match Event::of(&event)? {
        Event::IdentityCreated(data) => {
            let identity_id = data.identity_id.0;
            let created_by = data.created_by.map(|c| c.0);
            let grant_default_roles = data.grant_default_roles.unwrap_or(false);
            let mut touched = Vec::new();
            if let Some(org) = data.organization_id.or(event.organization_id).map(|o| o.0) {
                known_identity::Entity::insert(known_identity::ActiveModel {
                    identity_id: Set(identity_id),
                    organization_id: Set(org),
                    deleted: Set(false),
                    wants_default_roles: Set(grant_default_roles),
                    created_at: Set(Some(event.occurred_at)),
                    created_by: Set(created_by),
                })
                .on_conflict(
                    OnConflict::column(known_identity::Column::IdentityId)
                        .do_nothing()
                        .to_owned(),
                )
                .do_nothing()
                .exec(txn)
                .await?;
                let mut roles: Vec<Uuid> = data.default_role_ids.iter().map(|r| r.0).collect();
                if grant_default_roles {
                    roles.extend(default_roles_of(txn, org).await?);
                }
                roles.sort();
                roles.dedup();
                for role_id in &roles {
                    touched.extend(
                        grant_role(
                            txn,
                            &mut requesters,
                            created_by,
                            *role_id,
                            org,
                            &[identity_id],
                            now,
                        )
                        .await?,
                    );
                }
            }
            if data.bootstrap_super_admin == Some(true) {
                if event.source != "identity" {
                    tracing::warn!(source = %event.source, "bootstrapSuperAdmin from a service other than identity; ignored");
                } else {
                    let new = NewGrant {
                        identity: identity_id,
                        target: Target::Role(standard_roles::SUPER_ADMIN.0),
                        organization: None,
                        path: Vec::new(),
                        immutable: true,
                        created_by: None,
                    };
                    if ensure_grant(txn, new, Some(standard_roles::SUPER_ADMIN_NAME), now).await? {
                        tracing::info!(%identity_id, "granted Super Admin (bootstrap)");
                        touched.push(identity_id);
                    }
                }
            }
            Ok(touched)
        }
        Event::DefaultRoleGrantRequested(data) => {
            let org = data.organization_id.0;
            let ids = |v: Option<Vec<idp_model::IdentityId>>| -> Vec<Uuid> {
                v.unwrap_or_default().into_iter().map(|i| i.0).collect()
            };
            // Only live identities of the organization, whatever the request named.
            let mut targets = identities_of(txn, org).await?;
            let included = ids(data.include_identity_ids);
            if !included.is_empty() {
                targets.retain(|i| included.contains(i));
            }
            let excluded = ids(data.exclude_identity_ids);
            targets.retain(|i| !excluded.contains(i));
            grant_role(
                txn,
                &mut requesters,
                data.requested_by.map(|r| r.0),
                data.role_id.0,
                org,
                &targets,
                now,
            )
            .await
        }
        Event::DefaultRoleCreated(data) => {
            let (id, org, role_id) = (data.id.0, data.organization_id.0, data.role_id.0);
            // Identities created after this role whose own event came first.
            let late: Vec<(Uuid, Option<Uuid>)> = known_identity::Entity::find()
                .filter(sea_orm::ColumnTrait::eq(
                    &known_identity::Column::OrganizationId,
                    org,
                ))
                .filter(sea_orm::ColumnTrait::eq(
                    &known_identity::Column::Deleted,
                    false,
                ))
                .filter(sea_orm::ColumnTrait::eq(
                    &known_identity::Column::WantsDefaultRoles,
                    true,
                ))
                .filter(sea_orm::ColumnTrait::gte(
                    &known_identity::Column::CreatedAt,
                    event.occurred_at,
                ))
                .all(txn)
                .await?
                .into_iter()
                .map(|i| (i.identity_id, i.created_by))
                .collect();
            // Each checked against its own creator.
            let mut touched = Vec::new();
            for (identity, creator) in late {
                touched.extend(
                    grant_role(
                        txn,
                        &mut requesters,
                        creator,
                        role_id,
                        org,
                        &[identity],
                        now,
                    )
                    .await?,
                );
            }
            known_default_role::Entity::insert(known_default_role::ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                role_id: Set(role_id),
                deleted: Set(false),
            })
            .on_conflict(
                OnConflict::column(known_default_role::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(txn)
            .await?;
            Ok(touched)
        }
        Event::DefaultRoleDeleted(data) => {
            known_default_role::Entity::update_many()
                .col_expr(
                    known_default_role::Column::Deleted,
                    sea_orm::sea_query::Expr::value(true),
                )
                .filter(sea_orm::ColumnTrait::eq(
                    &known_default_role::Column::Id,
                    data.id.0,
                ))
                .exec(txn)
                .await?;
            Ok(Vec::new())
        }
        Event::IdentityDeleted(data) => {
            known_identity::Entity::update_many()
                .col_expr(
                    known_identity::Column::Deleted,
                    sea_orm::sea_query::Expr::value(true),
                )
                .filter(sea_orm::ColumnTrait::eq(
                    &known_identity::Column::IdentityId,
                    data.identity_id.0,
                ))
                .exec(txn)
                .await?;
            Ok(Vec::new())
        }
        _ => Ok(Vec::new()),
    }
}

/// Subscribes the service's consumer (before the relays open).
pub async fn spawn(
    db: sea_orm::DatabaseConnection,
    bus: Arc<dyn idp_bus::EventBus>,
    exchange: &str,
    authz: Authz,
    decider: crate::decide::Decider,
    relay: RelayHandle,
    shutdown: idp_runtime::Shutdown,
) -> anyhow::Result<()> {
    let options = ConsumerOptions::new(
        format!("{exchange}.authorization"),
        &[
            types::IDENTITY_CREATED,
            types::IDENTITY_DELETED,
            types::DEFAULT_ROLE_CREATED,
            types::DEFAULT_ROLE_DELETED,
            types::DEFAULT_ROLE_GRANT_REQUESTED,
        ],
    )
    // The grant events commit with the consumer's transaction; they go out
    // right after it.
    .wake_after_commit(relay);
    let h = outbox::handler(move |event, txn| {
        let authz = authz.clone();
        let decider = decider.clone();
        Box::pin(async move {
            let touched = on_event(txn, event).await?;
            if !touched.is_empty() {
                // Dropped now, and again when the `grant.created` events of this
                // transaction arrive (after it committed: `decide::listen`).
                for id in touched {
                    authz.invalidate(idp_model::IdentityId(id));
                    decider.invalidate(idp_model::IdentityId(id));
                }
            }
            Ok(())
        })
    });
    outbox::spawn_consumer(db, bus, options, h, shutdown).await?;
    Ok(())
}
