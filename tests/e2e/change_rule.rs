//! The rule of every change, through the gateway: holding the action on a resource
//! is enough to perform it (the guide grants `update-reset-mfa` on `user-identity`
//! alone, and the grantee resets MFA with it); a caller holding no action at all
//! on the resource's type in its organization gets 404, as for a resource that
//! does not exist; one holding some other action there, 403. Reads keep needing
//! `read`. And no existence oracle in identity preferences.

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

fn as_(stack: &Stack, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    stack
        .client
        .request(method, stack.url(path))
        .bearer_auth(token)
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// Retries a request until its status is `want` (grants and organizations arrive
/// by event), answering the last status and body.
async fn until(want: u16, mut make: impl FnMut() -> reqwest::RequestBuilder) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (st, body) = send(make()).await;
        if st == want || Instant::now() > deadline {
            return (st, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An API account of the root organization with no role, and its token.
async fn bare_api_account(stack: &Stack, name: &str) -> (String, String) {
    let (st, body) = send(
        stack
            .admin(Method::POST, "/identity/v1/api-account-identities")
            .await
            .json(&json!({"organizationId": ROOT_ORGANIZATION_ID, "name": name})),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let id = body["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = stack
        .token(
            body["clientId"].as_str().unwrap(),
            body["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    (id, tok["access_token"].as_str().unwrap().to_string())
}

/// A user of `org` (retried until the organization has reached the identity
/// service).
async fn user_in(stack: &Stack, org: &str) -> String {
    let email = format!("u-{}@acme.com", tag());
    let admin = stack.admin_token().await;
    let (st, u) = until(201, || {
        as_(stack, Method::POST, "/identity/v1/user-identities", &admin).json(
            &json!({"organizationId": org, "firstName": "U", "lastName": "Ser", "email": email}),
        )
    })
    .await;
    assert_eq!(st, 201, "{u}");
    u["id"].as_str().unwrap().to_string()
}

/// The guide's calls, as the guide makes them: find the account, the resource
/// type `user-identity`, its action `update-reset-mfa`, and grant it with
/// `path: []`. Answers the grant.
async fn grant_reset_mfa_by_the_guide(stack: &Stack, account: &str) -> Value {
    let (st, list) = send(stack.admin(Method::GET, "/identity/v1/identities").await).await;
    assert_eq!(st, 200);
    assert!(
        list.as_array().unwrap().iter().any(|i| i["id"] == account),
        "the account is listed"
    );
    let (st, types) = send(stack.admin(Method::GET, "/auth/v1/resource-types").await).await;
    assert_eq!(st, 200);
    let rt = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "user-identity")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_string();
    let (st, actions) = send(
        stack
            .admin(
                Method::GET,
                &format!("/auth/v1/resource-actions?resourceTypeId={rt}"),
            )
            .await,
    )
    .await;
    assert_eq!(st, 200);
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "update-reset-mfa")
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_string();
    let (st, grant) = send(
        stack
            .admin(Method::POST, "/auth/v1/identity-resource-actions")
            .await
            .json(&json!({"identityId": account, "resourceActionId": action, "path": []})),
    )
    .await;
    assert_eq!(st, 201, "{grant}");
    grant
}

#[tokio::test]
async fn the_guides_grant_alone_lets_the_grantee_reset_mfa_and_nothing_else() {
    let stack = start().await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    let (alice, tok) = bare_api_account(&stack, &format!("alice-{}", tag())).await;
    // Alice holds nothing.
    let (st, perms) = send(
        stack
            .admin(
                Method::GET,
                &format!("/auth/v1/identities/{alice}/permissions"),
            )
            .await,
    )
    .await;
    assert_eq!((st, perms.clone()), (200, json!([])), "{perms}");

    let user = user_in(&stack, &root).await;
    let (st, org_b) = send(
        stack
            .admin(Method::POST, "/identity/v1/organizations")
            .await
            .json(&json!({
        "name": "Other", "label": format!("other-{}", tag()), "auth0ConnectionId": "conn",
        "identityProviderName": "Corp", "auth0ConnectionType": "Enterprise"})),
    )
    .await;
    assert_eq!(st, 201, "{org_b}");
    let other = user_in(&stack, org_b["id"].as_str().unwrap()).await;

    let reset = |id: &str| {
        as_(
            &stack,
            Method::PUT,
            &format!("/identity/v1/user-identities/{id}/reset-mfa"),
            &tok,
        )
    };
    // Before the grant alice holds no action on user identities anywhere: the user
    // is hidden, as one that does not exist.
    let (st, body) = send(reset(&user)).await;
    assert_eq!(st, 404, "{body}");
    let (st_missing, missing) = send(reset(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!((st_missing, &missing["detail"]), (404, &body["detail"]));

    let grant = grant_reset_mfa_by_the_guide(&stack, &alice).await;
    assert_eq!(grant["organizationId"], root.as_str(), "{grant}");

    // The grant takes effect on the next requests: reset-mfa answers 200.
    let (st, body) = until(200, || reset(&user)).await;
    assert_eq!(st, 200, "{body}");

    // Nothing else: the user stays unreadable (reads need `read`)…
    let (st, _) = send(as_(
        &stack,
        Method::GET,
        &format!("/identity/v1/user-identities/{user}"),
        &tok,
    ))
    .await;
    assert_eq!(st, 404);
    let (st, _) = send(as_(
        &stack,
        Method::GET,
        &format!("/identity/v1/identities/{user}"),
        &tok,
    ))
    .await;
    assert_eq!(st, 404);
    // …other changes of it are 403: alice holds an action on user identities of
    // this organization, so it may know the user exists…
    let (st, body) = send(
        as_(
            &stack,
            Method::PUT,
            &format!("/identity/v1/user-identities/{user}"),
            &tok,
        )
        .json(&json!({"firstName": "Mallory"})),
    )
    .await;
    assert_eq!(st, 403, "{body}");
    for (method, path) in [
        (
            Method::DELETE,
            format!("/identity/v1/user-identities/{user}"),
        ),
        (
            Method::PUT,
            format!("/identity/v1/user-identities/{user}/deactivate"),
        ),
    ] {
        let (st, body) = send(as_(&stack, method, &path, &tok)).await;
        assert_eq!(st, 403, "{path}: {body}");
    }
    // …and a user of another organization is hidden: 404 for every change.
    let (st, _) = send(reset(&other)).await;
    assert_eq!(st, 404);
    let (st, _) = send(as_(
        &stack,
        Method::DELETE,
        &format!("/identity/v1/user-identities/{other}"),
        &tok,
    ))
    .await;
    assert_eq!(st, 404);
    // Its own account (another resource type, where it holds nothing) it knows.
    let (st, _) = send(as_(
        &stack,
        Method::PUT,
        &format!("/identity/v1/api-account-identities/{alice}/deactivate"),
        &tok,
    ))
    .await;
    assert_eq!(st, 403);
    stack.stop().await;
}

/// `POST /identity-preferences` for another organization's user answers as for an
/// identity that does not exist, to a caller that holds nothing on preferences
/// there; 403 only to one that holds something.
#[tokio::test]
async fn a_preference_for_a_hidden_identity_answers_as_for_a_missing_one() {
    let stack = start().await;
    let root = ROOT_ORGANIZATION_ID.to_string();
    let (bob, tok) = bare_api_account(&stack, &format!("bob-{}", tag())).await;
    let user = user_in(&stack, &root).await;
    let create = |target: &str| {
        as_(
            &stack,
            Method::POST,
            "/identity/v1/identity-preferences",
            &tok,
        )
        .json(&json!({"userIdentityId": target, "preferences": {"theme": "dark"}}))
    };
    let (st_missing, missing) = send(create(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(st_missing, 400, "{missing}");
    assert_eq!(missing["errors"][0]["field"], "userIdentityId");
    let (st, hidden) = send(create(&user)).await;
    assert_eq!((st, &hidden), (st_missing, &missing));

    // Holding `identity-preference:read` there, bob may know the user exists.
    let read = idp_model::authorization::seeded_id("identity-preference:read");
    let (st, g) = send(
        stack
            .admin(Method::POST, "/auth/v1/identity-resource-actions")
            .await
            .json(&json!({"identityId": bob, "resourceActionId": read, "organizationId": root, "path": []})),
    )
    .await;
    assert_eq!(st, 201, "{g}");
    let (st, body) = until(403, || create(&user)).await;
    assert_eq!(st, 403, "{body}");
    // Its own preferences it always may create.
    let (st, body) = send(create(&bob)).await;
    assert_eq!(st, 201, "{body}");
    stack.stop().await;
}
