//! The API documents and their pages, served through the gateway without a token.

use serde_json::Value;

use crate::helpers;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

fn has_operation(doc: &Value, method: &str, path: &str) -> bool {
    doc["paths"][path][method].is_object()
}

#[tokio::test]
async fn documents_and_pages_are_served_without_a_token() {
    let stack = helpers::start().await;

    // The merged /identity/v1 document.
    let res = stack
        .client
        .get(stack.url("/identity/v1/docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let identity: Value = res.json().await.unwrap();
    assert!(identity["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(
        identity,
        serde_json::to_value(idp_openapi::public_identity_v1()).unwrap()
    );
    for (method, path) in [
        ("get", "/identity/v1/organizations"),
        ("post", "/identity/v1/organizations/authorize-initiate"),
        ("get", "/identity/v1/identities/self"),
        ("post", "/identity/v1/api-account-identities"),
        ("get", "/identity/v1/invitations"),
        ("post", "/identity/v1/invitations/key/{key}/accept-complete"),
        ("post", "/identity/v1/oauth/token"),
        ("get", "/identity/v1/docs/openapi.json"),
    ] {
        assert!(has_operation(&identity, method, path), "{method} {path}");
    }
    assert!(
        identity["paths"].get("/auth/v1/checks").is_none(),
        "the /identity/v1 document holds only /identity/v1"
    );

    // The authorization document.
    let res = stack
        .client
        .get(stack.url("/auth/v1/docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let auth: Value = res.json().await.unwrap();
    assert!(auth["openapi"].as_str().unwrap().starts_with("3.1."));
    for (method, path) in [
        ("get", "/auth/v1/resource-types"),
        ("post", "/auth/v1/identity-resource-actions"),
        ("get", "/auth/v1/grants"),
        ("post", "/auth/v1/checks"),
        ("get", "/auth/v1/acl"),
    ] {
        assert!(has_operation(&auth, method, path), "{method} {path}");
    }

    // Every operation the documents list reaches its service through the gateway
    // (an unrouted path answers the gateway's "no route" problem) and exists there
    // with its method (else 405); nothing answers a 5xx. Ids are random: reads and
    // changes answer 4xx.
    for doc in [&identity, &auth] {
        for (path, item) in doc["paths"].as_object().unwrap() {
            for m in METHODS {
                if item.get(*m).is_none() {
                    continue;
                }
                let action = if path.starts_with("/identity/v1/invitations") {
                    "decline"
                } else {
                    "activate"
                };
                let concrete = path
                    .replace("{key}", &"A".repeat(36))
                    .replace("{action}", action)
                    .replace("{label}", "no-such-label")
                    .replace("{auth0UserId}", "nobody")
                    .replace("{clientId}", "nobody")
                    .replace("{identityProviderId}", &uuid::Uuid::new_v4().to_string())
                    .replace("{id}", &uuid::Uuid::new_v4().to_string());
                let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
                let res = stack.admin(method, &concrete).await.send().await.unwrap();
                let status = res.status();
                assert_ne!(status, 405, "{m} {concrete}");
                assert!(status.as_u16() < 500, "{m} {concrete}: {status}");
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert!(
                    !body["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("no route")),
                    "{m} {concrete}: the gateway does not route it"
                );
            }
        }
    }

    // The browsable pages.
    for (page, doc) in [
        ("/identity/v1/docs", "/identity/v1/docs/openapi.json"),
        ("/auth/v1/docs", "/auth/v1/docs/openapi.json"),
    ] {
        let res = stack.client.get(stack.url(page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(doc), "{page} loads {doc}");
        assert!(!html.contains("<script src"), "{page}: no external script");
    }

    // Changing the documents is not public.
    let res = stack
        .client
        .post(stack.url("/identity/v1/docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    stack.stop().await;
}

/// Regressions of what fuzzing the documents found: a page number whose offset
/// overflows a signed 64-bit integer made the database layer panic (the
/// connection dropped: 502 at the gateway). Now 400 naming `page`.
#[tokio::test]
async fn huge_page_numbers_are_refused_naming_the_page() {
    let stack = helpers::start().await;
    for list in [
        "/identity/v1/organizations",
        "/identity/v1/identities",
        "/identity/v1/user-identities",
        "/identity/v1/api-account-identities",
        "/identity/v1/identity-preferences",
        "/identity/v1/identity-providers",
        "/identity/v1/default-roles",
        "/identity/v1/open-id-providers",
        "/identity/v1/organization-preferences",
        "/identity/v1/invitations",
        "/auth/v1/roles",
        "/auth/v1/grants",
    ] {
        for query in [
            "page=18446744073709551615",
            "page=9223372036854775807&size=2",
        ] {
            let res = stack
                .admin(reqwest::Method::GET, &format!("{list}?{query}"))
                .await
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "{list}?{query}");
            let p: Value = res.json().await.unwrap();
            assert_eq!(p["errors"][0]["field"], "page", "{list}?{query}");
        }
        // The last page an offset can reach still answers (empty).
        let res = stack
            .admin(
                reqwest::Method::GET,
                &format!("{list}?page=9223372036854775&size=1000"),
            )
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{list}");
        assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!([]));
    }
    stack.stop().await;
}

/// Regression: on PostgreSQL a U+0000 in a filter, a path segment or a body string
/// answered 500 (PostgreSQL text cannot hold it). Now 400 naming the field (404 for
/// a path segment).
#[tokio::test]
async fn nul_characters_are_refused_on_postgres() {
    let Some(stack) = helpers::start_on_servers().await else {
        return;
    };
    for (path, field) in [
        ("/identity/v1/organizations?name=a%00b", "name"),
        ("/identity/v1/user-identities?email=a%00b", "email"),
        (
            "/identity/v1/invitations?invitedEmailAddress=a%00",
            "invitedEmailAddress",
        ),
        ("/auth/v1/resource-types?code=a%00", "code"),
    ] {
        let res = stack
            .admin(reqwest::Method::GET, path)
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], field, "{path}");
    }
    for path in [
        "/identity/v1/api-account-identities/mapping/ab%00",
        &format!(
            "/identity/v1/user-identities/mapping/ab%00/{}",
            uuid::Uuid::new_v4()
        ),
    ] {
        let res = stack
            .admin(reqwest::Method::GET, path)
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let body = serde_json::json!({
        "organizationId": idp_model::ROOT_ORGANIZATION_ID,
        "firstName": "a\u{0}",
        "lastName": "b",
        "email": "nul@example.com",
    });
    let res = stack
        .admin(reqwest::Method::POST, "/identity/v1/user-identities")
        .await
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "firstName");
    let res = stack
        .admin(reqwest::Method::POST, "/auth/v1/resource-types")
        .await
        .json(&serde_json::json!({"code": "nul-type", "name": "a\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    stack.stop().await;
}
