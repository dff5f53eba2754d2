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

/// Unknown paths are 404 problems, a known path without the method a 405 problem,
/// and the API documents are public.
#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let db = TestDatabase::sqlite().unwrap();
    let mut settings = idp_authorization::Settings::default();
    settings.common.database = db.settings.clone();
    let svc = spawn_service(|deps| idp_authorization::build(settings, deps))
        .await
        .unwrap();
    let id = uuid::Uuid::new_v4();
    let cases = [
        (reqwest::Method::GET, "/auth/v1/no-such".to_string(), 404),
        (reqwest::Method::GET, "/auth/v1/roles/".to_string(), 404),
        (reqwest::Method::GET, format!("/auth/v1/roles/{id}/x"), 404),
        (reqwest::Method::PATCH, format!("/auth/v1/roles/{id}"), 405),
        (reqwest::Method::GET, "/auth/v1/checks".to_string(), 405),
        (
            reqwest::Method::PUT,
            "/auth/v1/grant-checks".to_string(),
            405,
        ),
        (
            reqwest::Method::DELETE,
            format!("/auth/v1/grants/{id}"),
            405,
        ),
        (
            reqwest::Method::PUT,
            format!("/auth/v1/identity-resource-actions/{id}"),
            405,
        ),
        (
            reqwest::Method::POST,
            format!("/auth/v1/identities/{id}/permissions"),
            405,
        ),
        (reqwest::Method::DELETE, "/auth/v1/acl".to_string(), 405),
        (
            reqwest::Method::POST,
            "/auth/v1/docs/openapi.json".to_string(),
            405,
        ),
    ];
    for (method, path, status) in cases {
        let res = svc
            .client
            .request(method.clone(), svc.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{method} {path}"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], status, "{method} {path}: {body}");
    }
    for (path, content_type) in [
        ("/auth/v1/docs/openapi.json", "application/json"),
        ("/auth/v1/docs", "text/html; charset=utf-8"),
    ] {
        let res = svc.client.get(svc.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(content_type),
            "{path}"
        );
    }
    svc.stop().await.unwrap();
}
