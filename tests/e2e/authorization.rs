//! The authorization service through the gateway: the bootstrap super admin's
//! permissions, and the guide "Grant a Resource Action to an Identity" verbatim.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn admin_id(stack: &Stack) -> String {
    let me: Value = stack
        .admin(Method::GET, "/identity/v1/identities/self")
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_string()
}

/// The admin's permissions, once the `identity.created` event has been applied.
async fn admin_permissions(stack: &Stack, id: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = stack
            .admin(
                Method::GET,
                &format!("/auth/v1/identities/{id}/permissions"),
            )
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let perms: Vec<Value> = res.json().await.unwrap();
        if !perms.is_empty() || Instant::now() > deadline {
            return perms;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_bootstrap_admin_is_super_admin_platform_wide() {
    let stack = start().await;
    let id = admin_id(&stack).await;
    let perms = admin_permissions(&stack, &id).await;
    let read_org = perms
        .iter()
        .find(|p| p["resourceType"] == "organization" && p["action"] == "read")
        .unwrap_or_else(|| panic!("no organization:read in {perms:?}"));
    assert_eq!(read_org["organizationId"], Value::Null, "platform-wide");
    assert_eq!(read_org["roleName"], "Super Admin");
    assert_eq!(read_org["identityId"], id.as_str());
    assert!(read_org["grantId"].is_string());

    // The Super Admin grant is immutable: listed, and not revocable.
    let grants: Vec<Value> = stack
        .admin(
            Method::GET,
            &format!("/auth/v1/identity-roles?identityId={id}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["isImmutable"], true);
    assert_eq!(grants[0]["organizationId"], Value::Null);
    let gid = grants[0]["id"].as_str().unwrap();
    let res = stack
        .admin(Method::DELETE, &format!("/auth/v1/identity-roles/{gid}"))
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    stack.stop().await;
}

/// The same on PostgreSQL and RabbitMQ: the consumer's queue (`{exchange}.authorization`)
/// gets `identity.created` through the real broker.
#[tokio::test]
async fn the_bootstrap_admin_is_super_admin_on_servers() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    let id = admin_id(&stack).await;
    let perms = admin_permissions(&stack, &id).await;
    assert!(
        perms.iter().any(|p| p["resourceType"] == "grant"
            && p["action"] == "create"
            && p["organizationId"].is_null()
            && p["roleName"] == "Super Admin"),
        "{perms:?}"
    );
    stack.stop().await;
}

/// The guide's calls, in order: identities → resource types → resource actions of
/// `user-identity` → grant `update-reset-mfa` with `path=[]` → verify the grant.
#[tokio::test]
async fn the_guide_grant_a_resource_action_works_verbatim() {
    let stack = start().await;
    let admin = admin_id(&stack).await;
    admin_permissions(&stack, &admin).await;

    // 1. The account to grant to, found in the identity list as the guide does.
    let (made, _) = api_account_token(&stack, "guide target").await;
    let res = stack
        .admin(Method::GET, "/identity/v1/identities")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Vec<Value> = res.json().await.unwrap();
    let account = list
        .iter()
        .find(|i| i["name"] == "guide target")
        .and_then(|i| i["id"].as_str().map(str::to_string))
        .unwrap();
    assert_eq!(account, made);

    // 2. The resource type `user-identity`.
    let res = stack
        .admin(Method::GET, "/auth/v1/resource-types")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-total-count").is_some());
    let types: Vec<Value> = res.json().await.unwrap();
    let resource_type = types
        .iter()
        .find(|t| t["code"] == "user-identity")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_string();

    // 3. Its action `update-reset-mfa`.
    let actions: Vec<Value> = stack
        .admin(
            Method::GET,
            &format!("/auth/v1/resource-actions?resourceTypeId={resource_type}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(actions
        .iter()
        .all(|a| a["resourceTypeId"] == resource_type.as_str()));
    let action = actions
        .iter()
        .find(|a| a["code"] == "update-reset-mfa")
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_string();

    // 4. Grant it.
    let res = stack
        .admin(Method::POST, "/auth/v1/identity-resource-actions")
        .await
        .json(&json!({"identityId": account, "resourceActionId": action, "path": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let grant: Value = res.json().await.unwrap();
    assert_eq!(grant["identityId"], account.as_str());
    assert_eq!(grant["resourceActionId"], action.as_str());
    assert_eq!(grant["path"], json!([]));
    assert_eq!(grant["createdBy"], admin.as_str());
    assert!(grant["lastModified"]["epochSecond"].is_i64());

    // 5. Verify.
    let res = stack
        .admin(
            Method::GET,
            &format!("/auth/v1/grants?resourceActionId={action}&identityId={account}"),
        )
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let grants: Vec<Value> = res.json().await.unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["id"], grant["id"]);

    // The same grant twice is a conflict; the admin's Super Admin role also gives
    // the action, so the admin shows up for it too.
    let res = stack
        .admin(Method::POST, "/auth/v1/identity-resource-actions")
        .await
        .json(&json!({"identityId": account, "resourceActionId": action, "path": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let via_role: Vec<Value> = stack
        .admin(
            Method::GET,
            &format!("/auth/v1/grants?resourceActionId={action}&identityId={admin}"),
        )
        .await
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_role.len(), 1);
    assert_eq!(via_role[0]["roleName"], "Super Admin");

    // A check for the account answers allowed, naming the grant.
    let check: Value = stack
        .admin(Method::POST, "/auth/v1/checks")
        .await
        .json(&json!({
            "identityId": account,
            "action": "update-reset-mfa",
            "resourceType": "user-identity",
            "organizationId": grant["organizationId"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["allowed"], true, "{check}");
    assert_eq!(check["grantId"], grant["id"]);
    stack.stop().await;
}

/// A token for a new API account of the root organization (made by the super admin).
async fn api_account_token(stack: &Stack, name: &str) -> (String, String) {
    let res = stack
        .admin(Method::POST, "/identity/v1/api-account-identities")
        .await
        .json(&json!({"organizationId": idp_model::ROOT_ORGANIZATION_ID, "name": name}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let id = body["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let client_id = body["clientId"].as_str().unwrap();
    let password = body["password"].as_str().unwrap();
    let res = stack.token(client_id, password).await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    (id, tok["access_token"].as_str().unwrap().to_string())
}

async fn send(
    stack: &Stack,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = stack
        .client
        .request(method, stack.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

/// Tenant isolation through the gateway: an Organization Admin of A cannot read,
/// change, grant in or check against B; a path-scoped grant stays in its path; a
/// revoked grant stops working on the next request.
#[tokio::test]
async fn an_organization_admin_of_a_stays_in_a() {
    let stack = start().await;
    let admin = admin_id(&stack).await;
    admin_permissions(&stack, &admin).await;
    let (a, b) = (
        organization(&stack, "A").await,
        organization(&stack, "B").await,
    );
    let (alice, alice_tok) = account_in(&stack, &a, "alice").await;
    let org_admin = idp_model::authorization::standard_roles::ORGANIZATION_ADMIN;
    let read_only = idp_model::authorization::standard_roles::ORGANIZATION_READ_ONLY;
    let res = stack
        .admin(Method::POST, "/auth/v1/identity-roles")
        .await
        .json(&json!({"identityId": alice, "roleId": org_admin, "organizationId": a}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (bob, _) = account_in(&stack, &b, "bob").await;
    let in_b: Value = stack
        .admin(Method::POST, "/auth/v1/identity-roles")
        .await
        .json(&json!({"identityId": bob, "roleId": read_only, "organizationId": b}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b_grant = in_b["id"].as_str().unwrap();

    // Reads in B: 404 / filtered.
    let res = send(
        &stack,
        Method::GET,
        &format!("/auth/v1/identity-roles/{b_grant}"),
        &alice_tok,
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    let list: Vec<Value> = send(
        &stack,
        Method::GET,
        &format!("/auth/v1/grants?organizationId={b}"),
        &alice_tok,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(list.is_empty());
    let res = send(
        &stack,
        Method::GET,
        &format!("/auth/v1/acl?resourceType=organization&resourceId={b}&organizationId={b}"),
        &alice_tok,
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    // Changes, grants and checks in B: 403 (or 404 for a grant alice cannot see).
    let res = send(
        &stack,
        Method::DELETE,
        &format!("/auth/v1/identity-roles/{b_grant}"),
        &alice_tok,
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = send(
        &stack,
        Method::POST,
        "/auth/v1/identity-roles",
        &alice_tok,
        Some(json!({"identityId": bob, "roleId": org_admin, "organizationId": b})),
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = send(&stack, Method::POST, "/auth/v1/checks", &alice_tok,
                   Some(json!({"identityId": bob, "action": "read", "resourceType": "organization", "organizationId": b}))).await;
    assert_eq!(res.status(), 403);
    // A custom role of A cannot be granted in B.
    let custom: Value = send(
        &stack,
        Method::POST,
        "/auth/v1/roles",
        &alice_tok,
        Some(json!({"name": "A helpers", "organizationId": a, "baseRoleId": read_only})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(custom["organizationId"], json!(a));
    let res = stack
        .admin(Method::POST, "/auth/v1/identity-roles")
        .await
        .json(&json!({"identityId": bob, "roleId": custom["id"], "organizationId": b}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Within A, alice grants a path-scoped action; it does not reach outside its path.
    let ui_read = idp_model::authorization::seeded_id("user-identity:read");
    let (carol, _) = account_in(&stack, &a, "carol").await;
    let res = send(&stack, Method::POST, "/auth/v1/identity-resource-actions", &alice_tok,
                   Some(json!({"identityId": carol, "resourceActionId": ui_read, "organizationId": a, "path": ["team-1"]}))).await;
    assert_eq!(res.status(), 201);
    let g: Value = res.json().await.unwrap();
    let checks: Vec<Value> = send(&stack, Method::POST, "/auth/v1/checks", &alice_tok, Some(json!([
        {"identityId": carol, "action": "read", "resourceType": "user-identity", "organizationId": a, "path": ["team-1"], "resourceId": "u1"},
        {"identityId": carol, "action": "read", "resourceType": "user-identity", "organizationId": a, "path": ["team-2"], "resourceId": "u2"},
        {"identityId": carol, "action": "read", "resourceType": "user-identity", "organizationId": a},
    ])))
        .await
        .json()
        .await
        .unwrap();
    let allowed: Vec<bool> = checks
        .iter()
        .map(|c| c["allowed"].as_bool().unwrap())
        .collect();
    assert_eq!(allowed, [true, false, false]);

    // Revoked, the grant stops working on the next request.
    let res = send(
        &stack,
        Method::DELETE,
        &format!(
            "/auth/v1/identity-resource-actions/{}",
            g["id"].as_str().unwrap()
        ),
        &alice_tok,
        None,
    )
    .await;
    assert_eq!(res.status(), 204);
    let check: Value = send(&stack, Method::POST, "/auth/v1/checks", &alice_tok, Some(json!(
        {"identityId": carol, "action": "read", "resourceType": "user-identity", "organizationId": a, "path": ["team-1"]}
    )))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check["allowed"], false);
    stack.stop().await;
}

/// The guide script itself, when HTTPie and jq are installed.
#[tokio::test]
async fn the_guide_script_runs_against_the_platform() {
    let have = |tool: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !have("http") || !have("jq") {
        idp_runtime::testing::skip_or_fail(
            "HTTPie (pip install httpie) and jq",
            "not installed; the guide script did not run",
        );
        return;
    }
    let stack = start().await;
    let admin = admin_id(&stack).await;
    admin_permissions(&stack, &admin).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/guide-grant-resource-action.sh");
    let (gateway, creds) = (stack.url(""), stack.platform.credentials_file.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(script)
            .env("GATEWAY", gateway)
            .env("CREDENTIALS", creds)
            .env_remove("NETFOUNDRY_API_TOKEN")
            .env_remove("MOPENV")
            .env_remove("ACCOUNT")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("granted update-reset-mfa on user-identity"),
        "{stdout}"
    );
    stack.stop().await;
}
