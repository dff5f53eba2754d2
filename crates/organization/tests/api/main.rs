//! Integration tests of the organization service: the service on a random port
//! against a fresh database (SQLite, and PostgreSQL on this machine).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod organizations;
mod resources;

use idp_runtime::testing::{assert_common_routes, spawn_service, TestDatabase};
use sea_orm::{ConnectionTrait, EntityTrait, Statement};

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

async fn creates_the_root_organization_once_on(db: TestDatabase) {
    let mut settings = idp_organization::Settings::default();
    settings.common.database = db.settings.clone();
    settings.flow_tokens.secret = idp_runtime::Secret::new("test-flow-secret".into());
    for _ in 0..2 {
        let svc = spawn_service(|deps| idp_organization::build(settings.clone(), deps))
            .await
            .unwrap();
        assert_common_routes(&svc).await;
        svc.stop().await.unwrap();
    }
    let conn = idp_runtime::db::connect(&settings.common.database)
        .await
        .unwrap();
    let root = idp_organization::store::organization::Entity::find_by_id(
        idp_model::ROOT_ORGANIZATION_ID.as_uuid(),
    )
    .one(&conn)
    .await
    .unwrap()
    .expect("the root organization exists");
    assert_eq!(root.label, "root");
    assert!(root.active);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) AS n FROM organizations").await,
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) AS n FROM outbox WHERE event_type = 'organization.created'"
        )
        .await,
        1,
        "one organization.created event, written with the row"
    );
}

#[tokio::test]
async fn root_organization_on_sqlite() {
    creates_the_root_organization_once_on(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn root_organization_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        creates_the_root_organization_once_on(db).await;
    }
}

#[tokio::test]
async fn live_labels_are_unique_in_the_database() {
    let db = TestDatabase::sqlite().unwrap();
    let mut settings = idp_organization::Settings::default();
    settings.common.database = db.settings.clone();
    settings.flow_tokens.secret = idp_runtime::Secret::new("test-flow-secret".into());
    let svc = spawn_service(|deps| idp_organization::build(settings.clone(), deps))
        .await
        .unwrap();
    svc.stop().await.unwrap();
    let conn = idp_runtime::db::connect(&settings.common.database)
        .await
        .unwrap();
    let insert = |id: &str, label: &str, deleted: bool| {
        format!(
            "INSERT INTO organizations (id, name, label, mfa_provider, active, created_at, deleted_at) \
             VALUES ('{id}', 'n', '{label}', 'None', 1, '2024-01-01T00:00:00Z', {})",
            if deleted { "'2024-01-02T00:00:00Z'" } else { "NULL" }
        )
    };
    let b = conn.get_database_backend();
    conn.execute(Statement::from_string(
        b,
        insert(&uuid::Uuid::new_v4().to_string(), "acme", false),
    ))
    .await
    .unwrap();
    // Same label, different case, live: refused by the partial unique index.
    let dup = conn
        .execute(Statement::from_string(
            b,
            insert(&uuid::Uuid::new_v4().to_string(), "ACME", false),
        ))
        .await
        .unwrap_err();
    assert!(idp_runtime::db::unique_violation(&dup).is_some(), "{dup}");
    // A deleted organization does not hold its label.
    conn.execute(Statement::from_string(
        b,
        insert(&uuid::Uuid::new_v4().to_string(), "acme", true),
    ))
    .await
    .unwrap();
}

/// actix-web drops a handler's pending extractors when another one fails: the first
/// request with a token (the signing key not fetched yet) and a bad page number is
/// a 400, and the key fetch it started still completes, so the next request with
/// the same token is served (a dropped fetch used to count as a failed one: 401).
#[tokio::test]
async fn a_failed_extractor_does_not_spoil_the_key_fetch() {
    let h = harness::Harness::start(TestDatabase::sqlite().unwrap()).await;
    let path = "/organizations?page=9223372036854775807&size=2";
    let (status, body) = harness::send(h.admin_req(reqwest::Method::GET, path)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(harness::field(&body), "page");
    let (status, body) = harness::send(h.admin_req(reqwest::Method::GET, "/organizations")).await;
    assert_eq!(status, 200, "{body}");
    h.stop().await;
}
