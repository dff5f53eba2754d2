//! The identity service through the gateway: API accounts (a created account gets
//! a token with its one-time secret; deactivated, it gets none and its token is
//! refused), user identities, `/identities`, identity preferences, bad input, on
//! SQLite and on PostgreSQL + RabbitMQ.

use std::time::{Duration, Instant};

use idp_model::ROOT_ORGANIZATION_ID;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or("")
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// Waits until the super admin holds every identity action (granted on its
/// `identity.created` event), then until the services' permission caches (1 s)
/// have expired.
async fn admin_ready(stack: &Stack) {
    let (st, me) = send(
        stack
            .admin(Method::GET, "/identity/v1/identities/self")
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let id = me["id"].as_str().unwrap().to_string();
    let want = [
        ("user-identity", "create"),
        ("user-identity", "read"),
        ("user-identity", "update"),
        ("user-identity", "update-reset-mfa"),
        ("api-account-identity", "create"),
        ("api-account-identity", "read"),
        ("api-account-identity", "update"),
        ("identity-preference", "create"),
        ("identity-preference", "read"),
        ("identity-preference", "update"),
        ("identity-preference", "delete"),
        ("organization", "create"),
    ];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (st, perms) = send(
            stack
                .admin(
                    Method::GET,
                    &format!("/auth/v1/identities/{id}/permissions"),
                )
                .await,
        )
        .await;
        let held = |t: &str, a: &str| {
            perms.as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["resourceType"] == t && p["action"] == a && p["organizationId"].is_null()
                })
            })
        };
        if st == 200 && want.iter().all(|(t, a)| held(t, a)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the super admin lacks identity permissions: {st} {perms}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

async fn bearer(stack: &Stack, token: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    stack
        .client
        .request(method, stack.url(path))
        .bearer_auth(token)
}

/// An API account created through the gateway gets a token with its one-time
/// secret and reads itself; deactivated, it gets no token and its token is refused.
async fn api_account_flow(stack: &Stack) {
    admin_ready(stack).await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    // The super admin cannot lock everyone out by deactivating or deleting itself.
    let (st, me) = send(
        stack
            .admin(Method::GET, "/identity/v1/identities/self")
            .await,
    )
    .await;
    assert_eq!(st, 200, "{me}");
    let me = me["id"].as_str().unwrap().to_string();
    for (method, path) in [
        (
            Method::PUT,
            format!("/identity/v1/api-account-identities/{me}/deactivate"),
        ),
        (
            Method::DELETE,
            format!("/identity/v1/api-account-identities/{me}"),
        ),
    ] {
        let (st, p) = send(stack.admin(method, &path).await).await;
        assert_eq!(st, 409, "{path}: {p}");
    }
    let (st, me_after) = send(
        stack
            .admin(Method::GET, "/identity/v1/identities/self")
            .await,
    )
    .await;
    assert_eq!(st, 200, "{me_after}");
    assert_eq!(me_after["active"], true);
    let t = tag();
    let (st, created) = send(stack.admin(Method::POST, "/identity/v1/api-account-identities").await.json(&json!({
        "organizationId": root, "name": format!("HR Bridge {t}"), "contactEmail": "HR.Director@acme.com",
        "description": "description goes here", "grantDefaultRoles": true, "provider": "Cognito"})))
    .await;
    assert_eq!(st, 201, "{created}");
    let mut keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "apiAccountIdentity",
            "authenticationUrl",
            "clientId",
            "password"
        ]
    );
    let acct = &created["apiAccountIdentity"];
    let mut keys: Vec<_> = acct.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "auth0ClientId",
            "authenticationUrl",
            "awsCognitoClientId",
            "contactEmail",
            "createdAt",
            "deletedAt",
            "description",
            "email",
            "id",
            "name",
            "organizationId",
            "tenantId",
            "type",
            "updatedAt"
        ]
    );
    assert_eq!(acct["contactEmail"], "hr.director@acme.com");
    assert_eq!(acct["type"], "ApiAccountIdentity");
    assert_eq!(
        created["authenticationUrl"],
        stack.url("/identity/v1/oauth/token")
    );
    let id = acct["id"].as_str().unwrap().to_string();
    let client_id = created["clientId"].as_str().unwrap().to_string();
    let secret = created["password"].as_str().unwrap().to_string();

    let res = stack.token(&client_id, &secret).await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    let own = tok["access_token"].as_str().unwrap().to_string();
    let (st, me) =
        send(bearer(stack, &own, Method::GET, "/identity/v1/identities/self").await).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["name"], format!("HR Bridge {t}"));

    // Reads, finds, the mapping by client id, update.
    let (st, got) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/api-account-identities/{id}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &got["id"]), (200, &json!(id)));
    let (st, got) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/api-account-identities/mapping/{client_id}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &got["id"]), (200, &json!(id)));
    let (st, list) = send(stack.admin(Method::GET, &format!("/identity/v1/api-account-identities?organizationId={root}&name=HR%20Bridge%20{t}&active=true")).await).await;
    assert_eq!(st, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (st, up) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/api-account-identities/{id}"),
            )
            .await
            .json(&json!({"name": format!("Renamed {t}")})),
    )
    .await;
    assert_eq!((st, &up["name"]), (200, &json!(format!("Renamed {t}"))));
    assert!(up["updatedAt"]["epochSecond"].is_i64());

    // Deactivated: no token, and the token it holds is refused at once.
    let (st, d) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/api-account-identities/{id}/deactivate"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &d["active"]), (200, &json!(false)));
    let res = stack.token(&client_id, &secret).await;
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "invalid_client");
    // Refused everywhere within a second: another service's route through the gateway.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let (st, _) =
            send(bearer(stack, &own, Method::GET, "/identity/v1/organizations").await).await;
        if st == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the deactivated account's token still answers {st}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, _) =
        send(bearer(stack, &own, Method::GET, "/identity/v1/identities/self").await).await;
    assert_eq!(st, 401);

    // Activated again: a new token works.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (st, a) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/api-account-identities/{id}/activate"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &a["active"]), (200, &json!(true)));
    assert_eq!(stack.token(&client_id, &secret).await.status(), 200);
}

async fn user_flow(stack: &Stack) {
    admin_ready(stack).await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    let t = tag();
    let email = format!("jane.{t}@acme.com");
    let (st, u) = send(stack.admin(Method::POST, "/identity/v1/user-identities").await.json(&json!({
        "organizationId": root, "firstName": "Jane", "lastName": "Doe", "email": email.to_uppercase()})))
    .await;
    assert_eq!(st, 201, "{u}");
    let mut keys: Vec<_> = u.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "active",
            "createdAt",
            "deletedAt",
            "email",
            "firstName",
            "id",
            "identityMappings",
            "lastName",
            "name",
            "organizationId",
            "tenantId",
            "type"
        ]
    );
    assert_eq!(u["email"], email.as_str());
    assert_eq!(u["name"], "Jane Doe");
    assert_eq!(u["type"], "UserIdentity");
    assert_eq!(u["tenantId"], u["organizationId"]);
    let id = u["id"].as_str().unwrap().to_string();
    let (st, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/user-identities")
            .await
            .json(&json!({
        "organizationId": root, "firstName": "J", "lastName": "D", "email": email})),
    )
    .await;
    assert_eq!(st, 409);

    // The guide: find an identity by email in /identities.
    let (st, all) = send(stack.admin(Method::GET, "/identity/v1/identities").await).await;
    assert_eq!(st, 200);
    let found: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["email"] == json!(email))
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
    let (st, one) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/identities?email={email}&active=true"),
            )
            .await,
    )
    .await;
    assert_eq!((st, one.as_array().unwrap().len()), (200, 1));
    let (st, g) = send(
        stack
            .admin(Method::GET, &format!("/identity/v1/identities/{id}"))
            .await,
    )
    .await;
    assert_eq!((st, &g["firstName"]), (200, &json!("Jane")));

    let (st, got) = send(
        stack
            .admin(Method::GET, &format!("/identity/v1/user-identities/{id}"))
            .await,
    )
    .await;
    assert_eq!((st, &got["id"]), (200, &json!(id)));
    let (st, list) = send(stack.admin(Method::GET, &format!("/identity/v1/user-identities?organizationId={root}&email={email}&firstName=jane")).await).await;
    assert_eq!((st, list.as_array().unwrap().len()), (200, 1), "{list}");
    let (st, up) = send(
        stack
            .admin(Method::PUT, &format!("/identity/v1/user-identities/{id}"))
            .await
            .json(&json!({"firstName": "Janet"})),
    )
    .await;
    assert_eq!((st, &up["name"]), (200, &json!("Janet Doe")));
    let (st, _) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/user-identities/{id}/reset-mfa"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, d) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/user-identities/{id}/deactivate"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &d["active"]), (200, &json!(false)));
    let (st, a) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/user-identities/{id}/activate"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &a["active"]), (200, &json!(true)));

    // Preferences of that user, and the caller's own (no userIdentityId).
    let (st, p) = send(
        stack
            .admin(Method::POST, "/identity/v1/identity-preferences")
            .await
            .json(&json!({
        "userIdentityId": id, "preferences": {"first": "my first preference."}})),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    let mut keys: Vec<_> = p.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "createdAt",
            "createdBy",
            "deletedAt",
            "deletedBy",
            "id",
            "preferences",
            "updatedAt",
            "userIdentityId"
        ]
    );
    let pid = p["id"].as_str().unwrap().to_string();
    let (st, own) = send(
        stack
            .admin(Method::POST, "/identity/v1/identity-preferences")
            .await
            .json(&json!({"preferences": {"theme": "dark"}})),
    )
    .await;
    assert_eq!(st, 201);
    assert_eq!(own["userIdentityId"], own["createdBy"]);
    let (st, up) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/identity-preferences/{pid}"),
            )
            .await
            .json(&json!({"preferences": {"hello": "world"}})),
    )
    .await;
    assert_eq!((st, &up["preferences"]), (200, &json!({"hello": "world"})));
    let (st, g) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/identity-preferences/{pid}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &g["preferences"]), (200, &json!({"hello": "world"})));
    let (st, list) = send(
        stack
            .admin(Method::GET, "/identity/v1/identity-preferences")
            .await,
    )
    .await;
    assert_eq!(st, 200);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == json!(pid)));
    let (st, d) = send(
        stack
            .admin(
                Method::DELETE,
                &format!("/identity/v1/identity-preferences/{pid}"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    assert!(d["deletedBy"].is_string());
    assert_eq!(
        send(
            stack
                .admin(
                    Method::GET,
                    &format!("/identity/v1/identity-preferences/{pid}")
                )
                .await
        )
        .await
        .0,
        404
    );
}

async fn bad_input(stack: &Stack) {
    admin_ready(stack).await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    let unknown = uuid::Uuid::new_v4().to_string();
    for (path, body, f) in [
        (
            "/identity/v1/api-account-identities",
            json!({"organizationId": unknown, "name": "x"}),
            "organizationId",
        ),
        (
            "/identity/v1/api-account-identities",
            json!({"organizationId": root, "name": 1}),
            "name",
        ),
        (
            "/identity/v1/api-account-identities",
            json!({"organizationId": root, "name": "x", "contactEmail": "nope"}),
            "contactEmail",
        ),
        (
            "/identity/v1/user-identities",
            json!({"organizationId": unknown, "firstName": "a", "lastName": "b", "email": "a@b.io"}),
            "organizationId",
        ),
        (
            "/identity/v1/user-identities",
            json!({"organizationId": root, "firstName": "a", "lastName": "b", "email": "a@@b"}),
            "email",
        ),
        (
            "/identity/v1/user-identities",
            json!({"organizationId": "x", "firstName": "a", "lastName": "b", "email": "a@b.io"}),
            "organizationId",
        ),
        (
            "/identity/v1/identity-preferences",
            json!({"preferences": 3}),
            "preferences",
        ),
    ] {
        let (st, p) = send(stack.admin(Method::POST, path).await.json(&body)).await;
        assert_eq!((st, field(&p)), (400, f), "{path} {body} {p}");
    }
    let (st, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/user-identities")
            .await
            .header("content-type", "application/json")
            .body("{\"firstName\":"),
    )
    .await;
    assert_eq!(st, 400);
    for path in [
        "/identity/v1/identities/not-a-uuid",
        "/identity/v1/user-identities/not-a-uuid",
        "/identity/v1/api-account-identities/not-a-uuid",
        "/identity/v1/identity-preferences/not-a-uuid",
    ] {
        assert_eq!(
            send(stack.admin(Method::GET, path).await).await.0,
            404,
            "{path}"
        );
    }
    let (st, _) = send(stack.client.get(stack.url("/identity/v1/identities"))).await;
    assert_eq!(st, 401);
}

/// An identity in an organization made through the organization service: the
/// identity service learns the organization (and its identity provider) from events.
async fn organization_flow(stack: &Stack) {
    admin_ready(stack).await;
    let t = tag();
    let (st, org) = send(stack.admin(Method::POST, "/identity/v1/organizations").await.json(&json!({
        "name": "Acme", "label": format!("acme-{t}"), "auth0ConnectionId": "conn", "identityProviderName": "Corp",
        "auth0ConnectionType": "Enterprise"})))
    .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let provider = org["identityProviders"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The organization arrives by event: retry until the create is accepted.
    let deadline = Instant::now() + Duration::from_secs(10);
    let u = loop {
        let (st, u) = send(stack.admin(Method::POST, "/identity/v1/user-identities").await.json(&json!({
            "organizationId": org_id, "firstName": "Org", "lastName": "User", "email": format!("u-{t}@acme.com")})))
        .await;
        if st == 201 {
            break u;
        }
        assert!(Instant::now() < deadline && st == 400, "{st} {u}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = u["id"].as_str().unwrap().to_string();
    // The identity provider arrives by its own event, possibly after the
    // organization's: retry while it is unknown.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, m) = send(
            stack
                .admin(
                    Method::POST,
                    &format!("/identity/v1/user-identities/{id}/mapping"),
                )
                .await
                .json(&json!({
            "auth0UserId": format!("ext-{t}"), "identityProviderId": provider})),
        )
        .await;
        if st == 200 {
            break;
        }
        assert!(Instant::now() < deadline && st == 400, "{st} {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (st, _) = send(
        stack
            .admin(
                Method::POST,
                &format!("/identity/v1/user-identities/{id}/mapping"),
            )
            .await
            .json(&json!({
        "auth0UserId": format!("ext-{t}"), "identityProviderId": provider})),
    )
    .await;
    assert_eq!(st, 409);
    let (st, got) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/user-identities/mapping/ext-{t}/{provider}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, &got["id"]), (200, &json!(id)));
    assert_eq!(
        got["identityMappings"][0]["identityProviderId"],
        provider.as_str()
    );
    let (st, list) = send(
        stack
            .admin(
                Method::GET,
                &format!("/identity/v1/user-identities?identityProviderId={provider}"),
            )
            .await,
    )
    .await;
    assert_eq!((st, list.as_array().unwrap().len()), (200, 1));

    // An API account of the organization: once the organization is deactivated it
    // gets no token, and the token it holds is refused.
    let (st, created) = send(
        stack
            .admin(Method::POST, "/identity/v1/api-account-identities")
            .await
            .json(&json!({
        "organizationId": org_id, "name": format!("svc {t}")})),
    )
    .await;
    assert_eq!(st, 201, "{created}");
    let cid = created["clientId"].as_str().unwrap().to_string();
    let secret = created["password"].as_str().unwrap().to_string();
    let res = stack.token(&cid, &secret).await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    let own = tok["access_token"].as_str().unwrap().to_string();
    let (st, _) = send(
        stack
            .admin(
                Method::PUT,
                &format!("/identity/v1/organizations/{org_id}/deactivate"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let token_status = stack.token(&cid, &secret).await.status().as_u16();
        let (self_status, _) =
            send(bearer(stack, &own, Method::GET, "/identity/v1/identities/self").await).await;
        if token_status == 401 && self_status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {token_status} / {self_status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn api_accounts_through_the_gateway() {
    let stack = start().await;
    api_account_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn api_accounts_through_the_gateway_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    api_account_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn user_identities_and_preferences_through_the_gateway() {
    let stack = start().await;
    user_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn user_identities_and_preferences_through_the_gateway_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    user_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn identity_bad_input_through_the_gateway() {
    let stack = start().await;
    bad_input(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn identities_of_an_organization_made_by_the_organization_service() {
    let stack = start().await;
    organization_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn identities_of_an_organization_made_by_the_organization_service_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    organization_flow(&stack).await;
    stack.stop().await;
}

/// An API account without grants sees only itself, may read itself and manage its
/// own preferences, and is refused everything else.
async fn enforcement_flow(stack: &Stack) {
    admin_ready(stack).await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    let (_, admin) = send(
        stack
            .admin(Method::GET, "/identity/v1/identities/self")
            .await,
    )
    .await;
    let admin_id = admin["id"].as_str().unwrap().to_string();
    let (st, created) = send(
        stack
            .admin(Method::POST, "/identity/v1/api-account-identities")
            .await
            .json(&json!({
        "organizationId": root, "name": format!("limited {}", tag()), "grantDefaultRoles": false})),
    )
    .await;
    assert_eq!(st, 201, "{created}");
    let id = created["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tok: Value = stack
        .token(
            created["clientId"].as_str().unwrap(),
            created["password"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    let t = tok["access_token"].as_str().unwrap().to_string();
    let (st, all) = send(bearer(stack, &t, Method::GET, "/identity/v1/identities").await).await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    let (st, _) = send(
        bearer(
            stack,
            &t,
            Method::GET,
            &format!("/identity/v1/identities/{id}"),
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = send(
        bearer(
            stack,
            &t,
            Method::GET,
            &format!("/identity/v1/identities/{admin_id}"),
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = send(bearer(stack, &t, Method::POST, "/identity/v1/user-identities").await.json(&json!({
        "organizationId": root, "firstName": "a", "lastName": "b", "email": format!("x-{}@acme.com", tag())})))
    .await;
    assert_eq!(st, 403);
    let (st, _) = send(
        bearer(
            stack,
            &t,
            Method::PUT,
            &format!("/identity/v1/api-account-identities/{admin_id}/deactivate"),
        )
        .await,
    )
    .await;
    assert_eq!(st, 404);
    let (st, p) = send(
        bearer(stack, &t, Method::POST, "/identity/v1/identity-preferences")
            .await
            .json(&json!({"preferences": {"a": 1}})),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    assert_eq!(p["userIdentityId"], id.as_str());
    let (st, list) =
        send(bearer(stack, &t, Method::GET, "/identity/v1/identity-preferences").await).await;
    assert_eq!((st, list.as_array().unwrap().len()), (200, 1));
}

#[tokio::test]
async fn identity_endpoints_enforce_resource_actions() {
    let stack = start().await;
    enforcement_flow(&stack).await;
    stack.stop().await;
}
