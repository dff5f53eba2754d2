//! First start: the root organization, with the platform's well-known id.

use idp_model::events::{Event, OrganizationData};
use idp_model::ROOT_ORGANIZATION_ID;
use idp_runtime::outbox::RelayHandle;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
use time::OffsetDateTime;

use super::organization;

pub const ROOT_LABEL: &str = "root";

pub async fn ensure_root_organization(
    db: &DatabaseConnection,
    now: OffsetDateTime,
    relay: &RelayHandle,
) -> anyhow::Result<()> {
    if organization::Entity::find_by_id(ROOT_ORGANIZATION_ID.as_uuid())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let txn = db.begin().await?;
    let inserted = organization::Entity::insert(organization::ActiveModel {
        id: Set(ROOT_ORGANIZATION_ID.as_uuid()),
        name: Set("Root".into()),
        label: Set(ROOT_LABEL.into()),
        mfa_provider: Set("None".into()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(None),
        deleted_at: Set(None),
        created_by: Set(None),
    })
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        // Another replica won the race; the root exists.
        Err(e) if idp_runtime::db::unique_violation(&e).is_some() => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let event = Event::OrganizationCreated(OrganizationData {
        id: Some(ROOT_ORGANIZATION_ID),
        organization_id: Some(ROOT_ORGANIZATION_ID),
        name: Some("Root".into()),
        label: Some(ROOT_LABEL.into()),
        active: Some(true),
        mfa_provider: None,
        deleted: Some(false),
    })
    .envelope("organization", Some(ROOT_ORGANIZATION_ID), now)
    .map_err(|e| anyhow::anyhow!(e))?;
    idp_runtime::outbox::enqueue(&txn, &event).await?;
    relay.commit(txn).await?;
    tracing::info!(organization_id = %ROOT_ORGANIZATION_ID, "created the root organization");
    Ok(())
}
