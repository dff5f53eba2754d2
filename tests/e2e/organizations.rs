//! The organization service through the gateway: organizations, identity providers,
//! default roles, OpenID providers, preferences and the public authorize-initiate,
//! on SQLite and on PostgreSQL + RabbitMQ.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn send(rb: reqwest::RequestBuilder) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or("")
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// The core flow, against any stack.
async fn core_flow(stack: &Stack) {
    let t = tag();
    let label = format!("BEST-{t}");
    let (st, org, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/organizations")
            .await
            .json(&json!({
        "name": "Best Corp.", "label": label, "auth0ConnectionId": "auth0-opaque-connection",
        "identityProviderName": "Corp SAML", "auth0ConnectionType": "Enterprise"})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let mut keys: Vec<_> = org.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "createdAt",
            "defaultRoles",
            "deleted",
            "deletedAt",
            "id",
            "identityProviders",
            "label",
            "mfaProvider",
            "name",
            "openIdProviders",
            "updatedAt"
        ]
    );
    assert_eq!(
        org["identityProviders"][0]["auth0ConnectionType"],
        "Enterprise"
    );
    let id = org["id"].as_str().unwrap().to_string();

    // Conflicts and bad input.
    let (st, _, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/organizations")
            .await
            .json(&json!({"name": "x", "label": label.to_lowercase()})),
    )
    .await;
    assert_eq!(st, 409);
    for (body, f) in [
        (json!({"name": "x", "label": "a label"}), "label"),
        (json!({"name": "", "label": format!("e-{t}")}), "name"),
        (
            json!({"name": "x".repeat(300), "label": format!("e-{t}")}),
            "name",
        ),
        (
            json!({"name": "x", "label": format!("e-{t}"), "auth0ConnectionId": "c", "auth0ConnectionType": "Kerberos"}),
            "auth0ConnectionType",
        ),
    ] {
        let (st, p, _) = send(
            stack
                .admin(Method::POST, "/identity/v1/organizations")
                .await
                .json(&body),
        )
        .await;
        assert_eq!((st, field(&p)), (400, f), "{body} {p}");
    }
    let (st, _, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/organizations")
            .await
            .header("content-type", "application/json")
            .body("{\"name\":"),
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        send(
            stack
                .admin(Method::GET, "/identity/v1/organizations/not-a-uuid")
                .await
        )
        .await
        .0,
        404
    );

    // Reads.
    let (st, got, _) = send(
        stack
            .admin(Method::GET, &format!("/identity/v1/organizations/{id}"))
            .await,
    )
    .await;
    assert_eq!((st, &got["label"]), (200, &json!(label)));
    let (st, got, _) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/organizations/label/{label}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &got["id"]), (200, &json!(id)));
    for i in 0..3 {
        let (st, _, _) = send(
            stack
                .admin(Method::POST, "/identity/v1/organizations")
                .await
                .json(&json!({"name": format!("Paged {t}"), "label": format!("p{i}-{t}")})),
        )
        .await;
        assert_eq!(st, 201);
    }
    let (st, page, h) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/organizations?name=Paged%20{t}&size=2"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(h["x-total-count"], "3");
    assert_eq!(page.as_array().unwrap().len(), 2);
    let (st, p, _) = send(
        stack
            .admin(Method::GET, "/identity/v1/organizations?mfaProviders=Sms")
            .await,
    )
    .await;
    assert_eq!((st, field(&p)), (400, "mfaProviders"));

    // Public login initiation: no token needed.
    let (st, ai, _) = send(
        stack
            .client
            .post(stack.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": label})),
    )
    .await;
    assert_eq!(st, 200, "{ai}");
    assert_eq!(ai["auth0ConnectionIds"], json!(["auth0-opaque-connection"]));
    assert_eq!(ai["nfToken"].as_str().unwrap().split('.').count(), 3);

    // Deactivate (twice: 409), then login initiation is refused like an unknown label.
    let path = format!("/identity/v1/organizations/{id}/deactivate");
    let (st, d, _) = send(stack.admin(Method::PUT, &path).await).await;
    assert_eq!((st, &d["active"]), (200, &json!(false)));
    assert_eq!(send(stack.admin(Method::PUT, &path).await).await.0, 409);
    let (st, _, _) = send(
        stack
            .client
            .post(stack.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": label})),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _, _) = send(
        stack
            .client
            .post(stack.url("/identity/v1/organizations/authorize-initiate"))
            .json(&json!({"label": format!("none-{t}")})),
    )
    .await;
    assert_eq!(st, 404);
    assert_eq!(
        send(
            stack
                .admin(
                    Method::PUT,
                    &format!("/identity/v1/organizations/{id}/activate")
                )
                .await
        )
        .await
        .0,
        200
    );

    // Identity providers.
    let (st, ip, _) = send(stack.admin(Method::POST, "/identity/v1/identity-providers").await.json(&json!({"organizationId": id, "auth0ConnectionId": "google-oauth2", "name": "Google", "auth0ConnectionType": "Social"}))).await;
    assert_eq!(st, 201, "{ip}");
    let (_, _, h) = send(stack.admin(Method::GET, &format!("/identity/v1/identity-providers?organizationId={id}&auth0ConnectionType=Social")).await).await;
    assert_eq!(h["x-total-count"], "1");
    let ip_path = format!(
        "/identity/v1/identity-providers/{}",
        ip["id"].as_str().unwrap()
    );
    assert_eq!(
        send(
            stack
                .admin(Method::PUT, &format!("{ip_path}/activate"))
                .await
        )
        .await
        .0,
        409
    );
    assert_eq!(
        send(stack.admin(Method::DELETE, &ip_path).await).await.0,
        200
    );

    // OpenID providers.
    let (st, op, _) = send(stack.admin(Method::POST, "/identity/v1/open-id-providers").await.json(&json!({"organizationId": id, "name": "ACME", "clientId": "c1", "issuer": "https://auth.example.com", "jwksUri": "https://auth.example.com/jwks"}))).await;
    assert_eq!(st, 201, "{op}");
    let op_path = format!(
        "/identity/v1/open-id-providers/{}",
        op["id"].as_str().unwrap()
    );
    let (st, p, _) = send(stack.admin(Method::PATCH, &op_path).await.json(&json!({}))).await;
    assert_eq!((st, field(&p)), (400, "name"));
    let (st, p, _) = send(stack.admin(Method::POST, "/identity/v1/open-id-providers").await.json(&json!({"organizationId": id, "name": "ACME", "clientId": "c1", "issuer": "http://auth.example.com", "jwksUri": "https://x/jwks"}))).await;
    assert_eq!((st, field(&p)), (400, "issuer"));

    // Preferences.
    let (st, pr, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/organization-preferences")
            .await
            .json(&json!({"organizationId": id, "preferences": {"hello": "world"}})),
    )
    .await;
    assert_eq!(st, 201, "{pr}");

    // Default roles: an unknown role is refused naming roleId; a real one works once.
    let (st, p, _) = send(stack.admin(Method::POST, "/identity/v1/default-roles").await.json(&json!({"organizationId": id, "roleType": "Standard", "roleId": uuid::Uuid::new_v4()}))).await;
    assert_eq!((st, field(&p)), (400, "roleId"), "{p}");
    let (st, roles, _) = send(stack.admin(Method::GET, "/auth/v1/roles").await).await;
    assert_eq!(st, 200, "{roles}");
    let role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roleType"] == "Standard")
        .expect("a standard role")
        .clone();
    let body = json!({"organizationId": id, "roleType": "Standard", "roleId": role["id"]});
    let (st, dr, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/default-roles")
            .await
            .json(&body),
    )
    .await;
    assert_eq!(st, 201, "{dr}");
    assert_eq!(dr["name"], role["name"]);
    assert_eq!(
        send(
            stack
                .admin(Method::POST, "/identity/v1/default-roles")
                .await
                .json(&body)
        )
        .await
        .0,
        409
    );
    let (st, _, _) = send(
        stack
            .admin(
                Method::POST,
                &format!(
                    "/identity/v1/default-roles/{}/grant",
                    dr["id"].as_str().unwrap()
                ),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let (_, got, _) = send(
        stack
            .admin(Method::GET, &format!("/identity/v1/organizations/{id}"))
            .await,
    )
    .await;
    assert_eq!(got["defaultRoles"].as_array().unwrap().len(), 1);
    assert_eq!(got["openIdProviders"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn organizations_through_the_gateway() {
    let stack = start().await;
    core_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn organizations_through_the_gateway_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    core_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn concurrent_duplicate_label_has_exactly_one_winner() {
    let stack = start().await;
    let label = format!("race-{}", tag());
    let token = stack.admin_token().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let rb = stack
            .client
            .post(stack.url("/identity/v1/organizations"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Racer {i}"), "label": label}));
        tasks.push(tokio::spawn(async move {
            rb.send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
    stack.stop().await;
}

#[tokio::test]
async fn organization_routes_need_a_token() {
    let stack = start().await;
    for p in [
        "/identity/v1/organizations",
        "/identity/v1/identity-providers",
        "/identity/v1/default-roles",
        "/identity/v1/open-id-providers",
        "/identity/v1/organization-preferences",
    ] {
        let res = stack.client.get(stack.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 401, "{p}");
    }
    stack.stop().await;
}

/// `organization.deactivated` travels from the outbox to every consumer: the tokens
/// of the organization's identities stop working.
async fn deactivation_revokes_tokens(stack: &Stack) {
    let t = tag();
    let (st, org, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/organizations")
            .await
            .json(&json!({"name": "Revoked", "label": format!("rv-{t}")})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    // The identity service learns of the organization by event: retry the create.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let account = loop {
        let (st, a, _) = send(
            stack
                .admin(Method::POST, "/identity/v1/api-account-identities")
                .await
                .json(&json!({"organizationId": id, "name": format!("bot {t}")})),
        )
        .await;
        if st == 201 {
            break a;
        }
        assert!(std::time::Instant::now() < deadline, "{st} {a}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let res = stack
        .token(
            account["clientId"].as_str().unwrap(),
            account["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = || {
        stack
            .client
            .get(stack.url("/identity/v1/identities/self"))
            .bearer_auth(&token)
    };
    assert_eq!(me().send().await.unwrap().status(), 200);
    let (st, _, _) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/organizations/{id}/deactivate"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let status = me().send().await.unwrap().status().as_u16();
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "token still accepted: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn deactivating_an_organization_revokes_its_tokens() {
    let stack = start().await;
    deactivation_revokes_tokens(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn deactivating_an_organization_revokes_its_tokens_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    deactivation_revokes_tokens(&stack).await;
    stack.stop().await;
}
