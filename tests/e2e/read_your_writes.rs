//! A client that creates an organization and at once its first member reads its own
//! write: the identity and invitation services ask the organization service about
//! an organization whose `organization.created` event has not reached them yet.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn post(stack: &Stack, path: &str, body: Value) -> (u16, Value) {
    let res = stack
        .admin(Method::POST, path)
        .await
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `n` times: create an organization, then at once a user, an API account and an
/// invitation in it; every one must be accepted on the first try.
pub async fn create_then_use(stack: &Stack, n: usize) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..n {
        let (st, org) = post(
            stack,
            "/identity/v1/organizations",
            json!({"name": format!("Fresh {i}"), "label": format!("fresh-{}-{i}", &run[..8])}),
        )
        .await;
        assert_eq!(st, 201, "{org}");
        let org_id = org["id"].as_str().unwrap().to_string();
        let (st, v) = post(
            stack,
            "/identity/v1/user-identities",
            json!({"organizationId": org_id, "firstName": "First", "lastName": "Member",
                "email": format!("first-{i}-{}@fresh.test", &run[..8])}),
        )
        .await;
        assert_eq!(st, 201, "iteration {i}: user: {v}");
        let (st, v) = post(
            stack,
            "/identity/v1/api-account-identities",
            json!({"organizationId": org_id, "name": format!("svc {i}")}),
        )
        .await;
        assert_eq!(st, 201, "iteration {i}: API account: {v}");
        let (st, v) = post(
            stack,
            "/identity/v1/invitations",
            json!({"toOrganizationId": org_id,
                "invitedEmailAddress": format!("invitee-{i}-{}@fresh.test", &run[..8])}),
        )
        .await;
        assert_eq!(st, 201, "iteration {i}: invitation: {v}");
    }
    // Still no such organization when there is none.
    let (st, v) = post(
        stack,
        "/identity/v1/user-identities",
        json!({"organizationId": uuid::Uuid::new_v4(), "firstName": "A", "lastName": "B",
            "email": format!("nobody-{}@fresh.test", &run[..8])}),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["errors"][0]["field"], "organizationId", "{v}");
}

#[tokio::test]
async fn a_new_organization_takes_members_at_once_in_process() {
    let stack = start().await;
    create_then_use(&stack, 30).await;
    stack.stop().await;
}

#[tokio::test]
async fn a_new_organization_takes_members_at_once_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    create_then_use(&stack, 30).await;
    stack.stop().await;
}
