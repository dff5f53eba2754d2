//! Integration tests of the invitation service: the service on a random port against a
//! fresh database (SQLite, and PostgreSQL on this machine).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

/// The mail outbox delivers each message once: a second pass finds nothing to
/// send, the file is written once, and the stored body (which may hold a key) is
/// cleared after delivery.
#[tokio::test]
async fn mail_outbox_delivers_once_and_forgets_the_body() {
    use sea_orm::EntityTrait;
    let db = TestDatabase::sqlite().unwrap();
    let conn =
        idp_runtime::db::connect_and_migrate::<idp_invitation::store::Migrator>(&db.settings)
            .await
            .unwrap();
    let clock = idp_runtime::clock::system();
    idp_invitation::mail::enqueue(
        &conn,
        idp_invitation::mail::Message {
            recipient: "a@b.co".into(),
            subject: "Hello\r\nBcc: evil@x.y".into(),
            body: "secret-link".into(),
        },
        clock.now(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let n = idp_invitation::mail::deliver_pending(&conn, dir.path(), "from@x.y", &clock)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = idp_invitation::mail::deliver_pending(&conn, dir.path(), "from@x.y", &clock)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(text.contains("To: a@b.co\r\n"));
    assert!(text.contains("secret-link"));
    assert!(!text.contains("\r\nBcc:"), "no header injection: {text}");
    let rows = idp_invitation::store::mail::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());
    assert!(rows[0].body.is_empty());
}
