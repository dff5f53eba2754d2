//! Integration tests of the authorization service: the service on a random port
//! against a fresh database (SQLite, and PostgreSQL on this machine), with tokens
//! of a test issuer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bounds;
mod decisions;
mod ensure;
mod harness;
mod privilege;
mod scenarios;

use idp_runtime::testing::{assert_common_routes, spawn_service, TestDatabase};

async fn starts_migrates_and_answers_on(db: TestDatabase) {
    let mut settings = idp_authorization::Settings::default();
    settings.common.database = db.settings.clone();
    let svc = spawn_service(|deps| idp_authorization::build(settings.clone(), deps))
        .await
        .unwrap();
    assert_common_routes(&svc).await;
    svc.stop().await.unwrap();
    // A second start on the same database finds its migrations applied and the
    // catalog seeded.
    let svc = spawn_service(|deps| idp_authorization::build(settings, deps))
        .await
        .unwrap();
    assert_common_routes(&svc).await;
    let res = svc
        .client
        .get(svc.url("/auth/v1/resource-types"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    svc.stop().await.unwrap();
}

#[tokio::test]
async fn starts_on_sqlite() {
    starts_migrates_and_answers_on(TestDatabase::sqlite().unwrap()).await;
}

#[tokio::test]
async fn starts_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        starts_migrates_and_answers_on(db).await;
    }
}
