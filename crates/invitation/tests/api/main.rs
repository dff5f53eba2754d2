//! Integration tests of the invitation service: the service on a random port against a
//! fresh database (SQLite, and PostgreSQL on this machine).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acceptance;
mod bounds;
mod mail;
mod owner;
mod routes;
mod smtp;
mod support;
mod support_requests;

use idp_runtime::testing::{assert_common_routes, spawn_service, TestDatabase};

async fn starts_migrates_and_answers_on(db: TestDatabase) {
    let mut settings = idp_invitation::Settings::default();
    settings.common.database = db.settings.clone();
    let dir = tempfile::tempdir().unwrap();
    settings.flow_tokens.secret_file = dir.path().join("flow.key").display().to_string();
    settings.mail.dir = dir.path().join("mail").display().to_string();
    let svc = spawn_service(|deps| idp_invitation::build(settings.clone(), deps))
        .await
        .unwrap();
    assert_common_routes(&svc).await;
    svc.stop().await.unwrap();
    // A second start on the same database finds its migrations applied.
    let svc = spawn_service(|deps| idp_invitation::build(settings, deps))
        .await
        .unwrap();
    assert_common_routes(&svc).await;
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

/// The binary as a migration Job runs it: `IDP_MIGRATE_ONLY=1` applies the
/// migrations and exits 0 without serving.
#[tokio::test]
async fn the_binary_migrates_and_exits_when_asked_to() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("invitation.db");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_invitation-service"))
        .current_dir(dir.path())
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("INVITATION__HTTP__LISTEN", "127.0.0.1:0")
        .env("IDP_MIGRATE_ONLY", "1")
        .env("AMQP_URL", "")
        .status()
        .unwrap();
    assert!(status.success());
    let conn = idp_runtime::db::connect(&idp_runtime::settings::DatabaseSettings {
        url: idp_common::Secret::new(format!("sqlite://{}", db.display())),
        ..Default::default()
    })
    .await
    .unwrap();
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.try_get::<i64>("", "n").unwrap() >= 2,
        "migrations recorded"
    );
}
