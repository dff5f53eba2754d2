//! Bounds of request bodies: every text field has a maximum (400 naming the field),
//! a struct body is an object, and bodies over the limit are 413.

use idp_runtime::testing::TestDatabase;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{json, Harness};

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("<none>")
}

async fn bounded(h: Harness) {
    // Roles: the name and the description, on create and on update.
    let long_desc = "d".repeat(4001);
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "Bounded", "description": long_desc})),
        )
        .await;
    assert_eq!(field(&json(res, 400).await), "description");
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "n".repeat(256)})),
        )
        .await;
    assert_eq!(field(&json(res, 400).await), "name");
    let role = json(
        h.admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "é".repeat(255), "description": "d".repeat(4000)})),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/auth/v1/roles/{}", role["id"].as_str().unwrap());
    let res = h
        .admin(
            Method::PUT,
            &path,
            Some(json!({"description": "d".repeat(1024 * 1024 - 100)})),
        )
        .await;
    assert_eq!(field(&json(res, 400).await), "description");
    // An array is no update (serde would read it as the fields in order).
    let res = h
        .admin(Method::PUT, &path, Some(json!(["x", "y", null])))
        .await;
    json(res, 400).await;
    let res = h
        .admin(Method::PUT, &path, Some(json!({"description": "short"})))
        .await;
    assert_eq!(json(res, 200).await["description"], "short");

    // Resource types: the description too.
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/resource-types",
            Some(json!({"code": "bounded", "name": "B", "description": long_desc})),
        )
        .await;
    assert_eq!(field(&json(res, 400).await), "description");

    // Checks: the codes and the resource id, which a result echoes.
    let me = h.admin.to_string();
    let big = "r".repeat(5000);
    for (check, name) in [
        (
            json!({"identityId": me, "action": big, "resourceType": "role"}),
            "action",
        ),
        (
            json!({"identityId": me, "action": "read", "resourceType": big}),
            "resourceType",
        ),
        (
            json!({"identityId": me, "action": "read", "resourceType": "role", "resourceId": big}),
            "resourceId",
        ),
        (
            json!({"identityId": me, "action": "read", "resourceType": "role", "path": [big]}),
            "path",
        ),
    ] {
        let res = h
            .admin(Method::POST, "/auth/v1/checks", Some(check.clone()))
            .await;
        let text = res.text().await.unwrap();
        assert!(
            !text.contains(&big[..200]),
            "echoed: {}",
            &text[..300.min(text.len())]
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], 400, "{v}");
        assert_eq!(field(&v), name);
        let res = h
            .admin(
                Method::POST,
                "/auth/v1/checks",
                Some(json!({"checks": [check]})),
            )
            .await;
        assert_eq!(field(&json(res, 400).await), format!("checks[0].{name}"));
    }

    // Over the body limit, sent to the service directly: 413, a problem.
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/roles",
            Some(json!({"name": "x", "description": "d".repeat(2 * 1024 * 1024)})),
        )
        .await;
    assert_eq!(
        res.headers()["content-type"],
        idp_model::problem::PROBLEM_CONTENT_TYPE
    );
    assert_eq!(json(res, 413).await["status"], 413);

    // A wrong-typed value is not echoed.
    let secret = format!("eyJhbGciOiJSUzI1NiJ9.{}", "c2VjcmV0".repeat(50));
    let res = h
        .admin(
            Method::POST,
            "/auth/v1/identity-roles",
            Some(json!({"identityId": secret, "roleId": secret})),
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("c2VjcmV0"), "echoed: {text}");
    h.stop().await;
}

#[tokio::test]
async fn bounded_on_sqlite() {
    bounded(Harness::start(TestDatabase::sqlite().unwrap()).await).await;
}
