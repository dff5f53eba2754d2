//! Cross-service flows carried by events, through the gateway: an identity created
//! in an organization gets the organization's default roles, once; a default role's
//! grant request reaches every live identity that lacks it, once.

use std::time::{Duration, Instant};

use idp_model::authorization::standard_roles as sr;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn call(stack: &Stack, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    call_as(stack, &stack.admin_token().await, method, path, body).await
}

/// Retries `POST` until the receiving service has learned (by event) what it needs.
async fn create_eventually(stack: &Stack, path: &str, body: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, v) = call(stack, Method::POST, path, Some(body.clone())).await;
        if st == 201 || st == 200 {
            return v;
        }
        assert!(Instant::now() < deadline, "{path}: {st} {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `GET /auth/v1/grants` lists `n` grants of `role` for `identity`,
/// and returns how long that took.
async fn wait_for_role(stack: &Stack, identity: &str, role: uuid::Uuid, n: usize) -> Duration {
    let started = Instant::now();
    loop {
        let (st, g) = call(
            stack,
            Method::GET,
            &format!("/auth/v1/grants?identityId={identity}&roleId={role}"),
            None,
        )
        .await;
        assert_eq!(st, 200, "{g}");
        let got = g.as_array().map(|a| a.len()).unwrap_or(0);
        if got == n {
            return started.elapsed();
        }
        assert!(got < n, "more grants than expected: {g}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "grant never appeared: {g}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn default_roles_flow(stack: &Stack) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = call(
        stack,
        Method::POST,
        "/identity/v1/organizations",
        Some(json!({"name": "Flows", "label": format!("fl-{}", &tag[..10])})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let (st, dr) = call(
        stack,
        Method::POST,
        "/identity/v1/default-roles",
        Some(json!({"organizationId": org_id, "roleType": "Standard", "roleId": sr::ORGANIZATION_READ_ONLY})),
    )
    .await;
    assert_eq!(st, 201, "{dr}");

    // A user created without explicit permissions gets the default role, once.
    let user = create_eventually(
        stack,
        "/identity/v1/user-identities",
        json!({"organizationId": org_id, "firstName": "Dee", "lastName": "Fault", "email": format!("dee-{tag}@example.com")}),
    )
    .await;
    let user_id = user["id"].as_str().unwrap().to_string();
    wait_for_role(stack, &user_id, sr::ORGANIZATION_READ_ONLY.0, 1).await;

    // An API account with grantDefaultRoles false gets nothing; with it (the
    // reference's default when left out), the role.
    let plain = create_eventually(
        stack,
        "/identity/v1/api-account-identities",
        json!({"organizationId": org_id, "name": "plain", "grantDefaultRoles": false}),
    )
    .await;
    let plain_id = plain["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let with = create_eventually(
        stack,
        "/identity/v1/api-account-identities",
        json!({"organizationId": org_id, "name": "with"}),
    )
    .await;
    let with_id = with["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_role(stack, &with_id, sr::ORGANIZATION_READ_ONLY.0, 1).await;

    // Granting the default role to the organization reaches the plain account and
    // duplicates nothing for the others.
    let (st, granted) = call(
        stack,
        Method::POST,
        &format!(
            "/identity/v1/default-roles/{}/grant",
            dr["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!((st, &granted), (200, &json!({})));
    wait_for_role(stack, &plain_id, sr::ORGANIZATION_READ_ONLY.0, 1).await;
    // Let any stray duplicate land before counting again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in [&user_id, &with_id, &plain_id] {
        wait_for_role(stack, id, sr::ORGANIZATION_READ_ONLY.0, 1).await;
    }
}

#[tokio::test]
async fn default_roles_reach_new_identities_and_grant_requests_once() {
    let stack = start().await;
    default_roles_flow(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn default_roles_flow_on_postgres_and_rabbitmq() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    default_roles_flow(&stack).await;
    stack.stop().await;
}
