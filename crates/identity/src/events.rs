//! Events: what this service emits (through the outbox, in the transaction of the
//! change) and what it consumes (read models of the organization service's
//! organizations, identity providers and OpenID providers).
//!
//! Emitted (`source: "identity"`, envelope `organizationId` = the identity's):
//! - `identity.created`: `identityId`, `organizationId`, `type`, `name`, `email`,
//!   `grantDefaultRoles`
//! - `identity.updated`, `identity.activated`, `identity.deactivated`,
//!   `identity.deleted`: `identityId`, `organizationId`, `type`, `name`, `email`
//!   (`identity.updated` for a reset of the second factor also carries
//!   `mfaReset: true`).
//!
//! Consumed (queue `{exchange}.identity`): `organization.*`, `identity-provider.*`,
//! `open-id-provider.*`. Payload field names are the reference's; missing fields
//! are tolerated.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use idp_bus::EventBus;
use idp_model::events::{types, Envelope};
use idp_model::OrganizationId;
use idp_runtime::outbox::{self, ConsumerOptions};
use idp_runtime::Shutdown;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel,
};
use serde_json::{json, Value};

use crate::settings::IdentitySettings;
use crate::state::AppState;
use crate::store::{identity, open_id_provider_seen, organization_seen, provider_seen};

/// Writes an identity event into the outbox (call inside the change's transaction).
pub async fn emit<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    m: &identity::Model,
    extra: Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut data = json!({
        "identityId": m.id,
        "organizationId": m.organization_id,
        "type": m.kind,
        "name": m.name,
        "email": m.email,
    });
    if let (Some(d), Value::Object(e)) = (data.as_object_mut(), extra) {
        d.extend(e);
    }
    let event = Envelope::new(
        kind,
        "identity",
        Some(OrganizationId(m.organization_id)),
        data,
        now,
    );
    outbox::enqueue(conn, &event).await
}

pub async fn spawn_consumers(
    st: &AppState,
    settings: &IdentitySettings,
    bus: Arc<dyn EventBus>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let queue = format!("{}.identity", settings.common.bus.exchange);
    let st2 = st.clone();
    let h = outbox::handler(move |event, txn| {
        let st = st2.clone();
        Box::pin(async move { on_event(&st, event, txn).await })
    });
    outbox::spawn_consumer(
        st.db.clone(),
        bus,
        ConsumerOptions::new(
            queue,
            &[
                "organization.*",
                "identity-provider.*",
                "open-id-provider.*",
            ],
        ),
        h,
        shutdown,
    )
    .await?;
    Ok(())
}

use idp_model::events::payload::{state_change, str_of, uuid_of};

pub async fn on_event(
    st: &AppState,
    event: Envelope,
    txn: &DatabaseTransaction,
) -> anyhow::Result<()> {
    let (family, action) = event
        .kind
        .split_once('.')
        .unwrap_or((event.kind.as_str(), ""));
    let now = event.occurred_at;
    match family {
        "organization" => on_organization(st, &event, action, txn, now).await,
        "identity-provider" => on_identity_provider(&event, action, txn, now).await,
        "open-id-provider" => on_open_id_provider(&event, action, txn, now).await,
        _ => Ok(()),
    }
}

async fn on_organization(
    st: &AppState,
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["organizationId", "id"]).or(event.organization_id.map(|o| o.0))
    else {
        tracing::warn!(event_type = %event.kind, "organization event without an id; ignored");
        return Ok(());
    };
    let (active, deleted) = state_change(action, d);
    let existing = organization_seen::Entity::find_by_id(id).one(txn).await?;
    match existing {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(n) = str_of(d, "name") {
                am.name = Set(Some(n));
            }
            if let Some(l) = str_of(d, "label") {
                am.label = Set(Some(l));
            }
            if let Some(a) = active {
                am.active = Set(a);
            }
            if let Some(x) = deleted {
                am.deleted = Set(x);
            }
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            organization_seen::Entity::insert(organization_seen::ActiveModel {
                id: Set(id),
                name: Set(str_of(d, "name")),
                label: Set(str_of(d, "label")),
                active: Set(active.unwrap_or(true)),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    if event.kind == types::ORGANIZATION_DEACTIVATED || action == "deleted" {
        // Tokens of the organization's identities stop working here at once.
        st.verifier
            .revoke_organization(OrganizationId(id), st.clock.now().timestamp());
    }
    Ok(())
}

async fn on_identity_provider(
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["identityProviderId", "id"]) else {
        tracing::warn!(event_type = %event.kind, "identity-provider event without an id; ignored");
        return Ok(());
    };
    let org = uuid_of(d, &["organizationId", "tenantId"]).or(event.organization_id.map(|o| o.0));
    let (active, deleted) = state_change(action, d);
    match provider_seen::Entity::find_by_id(id).one(txn).await? {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(o) = org {
                am.organization_id = Set(o);
            }
            if let Some(a) = active {
                am.active = Set(a);
            }
            if let Some(x) = deleted {
                am.deleted = Set(x);
            }
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            let Some(org) = org else {
                tracing::warn!(event_type = %event.kind, "identity-provider event without an organization; ignored");
                return Ok(());
            };
            provider_seen::Entity::insert(provider_seen::ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                active: Set(active.unwrap_or(true)),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}

async fn on_open_id_provider(
    event: &Envelope,
    action: &str,
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let d = &event.data;
    let Some(id) = uuid_of(d, &["openIdProviderId", "id"]) else {
        tracing::warn!(event_type = %event.kind, "open-id-provider event without an id; ignored");
        return Ok(());
    };
    let org = uuid_of(d, &["organizationId"]).or(event.organization_id.map(|o| o.0));
    let (active, deleted) = state_change(action, d);
    match open_id_provider_seen::Entity::find_by_id(id)
        .one(txn)
        .await?
    {
        Some(row) => {
            let mut am = row.into_active_model();
            if let Some(o) = org {
                am.organization_id = Set(o);
            }
            for (field, col) in [
                ("name", &mut am.name),
                ("clientId", &mut am.client_id),
                ("issuer", &mut am.issuer),
                ("jwksUri", &mut am.jwks_uri),
            ] {
                if let Some(v) = str_of(d, field) {
                    *col = Set(Some(v));
                }
            }
            if let Some(a) = active {
                am.active = Set(a);
            }
            if let Some(x) = deleted {
                am.deleted = Set(x);
            }
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            let Some(org) = org else {
                tracing::warn!(event_type = %event.kind, "open-id-provider event without an organization; ignored");
                return Ok(());
            };
            open_id_provider_seen::Entity::insert(open_id_provider_seen::ActiveModel {
                id: Set(id),
                organization_id: Set(org),
                name: Set(str_of(d, "name")),
                client_id: Set(str_of(d, "clientId")),
                issuer: Set(str_of(d, "issuer")),
                jwks_uri: Set(str_of(d, "jwksUri")),
                active: Set(active.unwrap_or(true)),
                deleted: Set(deleted.unwrap_or(false)),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}
