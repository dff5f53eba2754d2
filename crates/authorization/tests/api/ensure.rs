//! `domain::ensure_grant`, what the event consumer grants default roles with:
//! once per live grant, one `grant.created` each, on SQLite and PostgreSQL.

use idp_authorization::domain::{self, ensure_grant, NewGrant, Target};
use idp_authorization::store::{self, grant};
use idp_model::authorization::standard_roles as sr;
use idp_runtime::testing::TestDatabase;
use sea_orm::{ConnectionTrait, EntityTrait, Statement, TransactionTrait};
use time::OffsetDateTime;
use uuid::Uuid;

fn read_only(identity: Uuid, org: Uuid) -> NewGrant {
    NewGrant {
        identity,
        target: Target::Role(sr::ORGANIZATION_READ_ONLY.0),
        organization: Some(org),
        path: Vec::new(),
        immutable: false,
        created_by: None,
    }
}

/// The `grant.created` payloads in the outbox about `identity`.
async fn created_events(
    conn: &sea_orm::DatabaseConnection,
    identity: Uuid,
) -> Vec<serde_json::Value> {
    let rows = conn
        .query_all(Statement::from_string(
            conn.get_database_backend(),
            "SELECT payload FROM outbox WHERE event_type = 'grant.created' ORDER BY seq",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.try_get::<String>("", "payload").unwrap())
                .unwrap()
        })
        .filter(|e| e["data"]["identityId"] == identity.to_string())
        .collect()
}

async fn once_per_live_grant(db: TestDatabase) {
    let conn = idp_runtime::db::connect_and_migrate::<store::Migrator>(&db.settings)
        .await
        .unwrap();
    idp_authorization::catalog::seed(&conn, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (who, org) = (Uuid::now_v7(), Uuid::now_v7());

    // First time: inserted, with its event naming the role (given by the caller).
    let txn = conn.begin().await.unwrap();
    assert!(ensure_grant(
        &txn,
        read_only(who, org),
        Some("Given Name"),
        OffsetDateTime::now_utc()
    )
    .await
    .unwrap());
    // Again in the same transaction, and again after the commit: nothing, and no
    // error that would spoil the transaction.
    assert!(
        !ensure_grant(&txn, read_only(who, org), None, OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    txn.commit().await.unwrap();
    assert!(
        !ensure_grant(&conn, read_only(who, org), None, OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    let live: Vec<grant::Model> = grant::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.identity_id == who)
        .collect();
    assert_eq!(live.len(), 1, "one grant row: {live:?}");
    let events = created_events(&conn, who).await;
    assert_eq!(events.len(), 1, "one grant.created: {events:?}");
    assert_eq!(events[0]["data"]["roleName"], "Given Name");
    assert_eq!(events[0]["data"]["id"], live[0].id.to_string());

    // Revoked, the same grant can be given again; without a name, the role's own
    // is read for the event.
    domain::revoke(&conn, live[0].clone(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(
        ensure_grant(&conn, read_only(who, org), None, OffsetDateTime::now_utc())
            .await
            .unwrap()
    );
    let events = created_events(&conn, who).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1]["data"]["roleName"],
        sr::ORGANIZATION_READ_ONLY_NAME
    );
    // The event's times are the row's, as a read gives them back.
    let again = grant::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.identity_id == who && g.revoked_at.is_none())
        .unwrap();
    assert_eq!(events[1]["data"]["id"], again.id.to_string());
    assert_eq!(
        events[1]["data"]["createdAt"],
        serde_json::to_value(idp_model::Timestamp::from(again.created_at)).unwrap()
    );
}

#[tokio::test]
async fn ensure_grant_gives_once_per_live_grant_on_sqlite() {
    once_per_live_grant(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn ensure_grant_gives_once_per_live_grant_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        once_per_live_grant(db).await;
    }
}
