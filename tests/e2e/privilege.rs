//! Nobody may cause a grant they could not make directly, through the gateway to
//! the real services: a matrix of (caller's grants) × (endpoint that makes, changes
//! or revokes a grant, directly or by event) × (same or other organization). Each
//! cell asserts the answer and that no grant came into being, changed or went
//! away that the caller could not have made itself.

use std::time::{Duration, Instant};

use idp_model::authorization::{seeded_id, standard_roles as sr};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn give_role(stack: &Stack, who: &str, role: uuid::Uuid, org: &str) -> String {
    let g = admin_create(
        stack,
        "/auth/v1/identity-roles",
        json!({"identityId": who, "roleId": role, "organizationId": org}),
    )
    .await;
    g["id"].as_str().unwrap().to_string()
}

async fn give_actions(stack: &Stack, who: &str, org: &str, actions: &[&str]) {
    for a in actions {
        admin_create(
            stack,
            "/auth/v1/identity-resource-actions",
            json!({"identityId": who, "resourceActionId": seeded_id(a), "organizationId": org, "path": []}),
        )
        .await;
    }
}

/// Every live grant of the platform, as (identity, role or action, organization).
async fn all_grants(stack: &Stack) -> Vec<String> {
    let token = stack.admin_token().await;
    let (st, g) = call_as(
        stack,
        &token,
        Method::GET,
        "/auth/v1/grants?size=1000",
        None,
    )
    .await;
    assert_eq!(st, 200, "{g}");
    let mut v: Vec<String> = g
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} {} {} {}",
                x["identityId"], x["roleId"], x["resourceActionId"], x["organizationId"]
            )
        })
        .collect();
    v.sort();
    v
}

async fn wait_for_grant(stack: &Stack, who: &str, role: uuid::Uuid) {
    let token = stack.admin_token().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, g) = call_as(
            stack,
            &token,
            Method::GET,
            &format!("/auth/v1/grants?identityId={who}&roleId={role}"),
            None,
        )
        .await;
        if g.as_array().is_some_and(|a| !a.is_empty()) {
            return;
        }
        assert!(Instant::now() < deadline, "{who} never got {role}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `name` names an identity of the platform (as the super admin sees).
async fn exists(stack: &Stack, name: &str) -> bool {
    let token = stack.admin_token().await;
    let (_, list) = call_as(
        stack,
        &token,
        Method::GET,
        "/identity/v1/identities?size=1000",
        None,
    )
    .await;
    list.as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == name || i["email"] == name)
}

struct Callers {
    /// Creates API accounts, users and invitations in A; nothing else.
    creator: String,
    /// Manages A's default roles; nothing else.
    default_roles: String,
    /// `grant:*` in A plus the Organization Read Only role.
    grants: String,
    /// Organization Admin of A.
    admin: String,
}

async fn privilege_matrix(stack: &Stack) {
    let a = organization(stack, "A").await;
    let b = organization(stack, "B").await;
    // A's default role is the Organization Admin role; B's the Read Only role.
    let dr_a = admin_create(
        stack,
        "/identity/v1/default-roles",
        json!({"organizationId": a, "roleType": "Standard", "roleId": sr::ORGANIZATION_ADMIN}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dr_b = admin_create(
        stack,
        "/identity/v1/default-roles",
        json!({"organizationId": b, "roleType": "Standard", "roleId": sr::ORGANIZATION_READ_ONLY}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (creator, creator_tok) = account_in(stack, &a, "creator").await;
    give_actions(
        stack,
        &creator,
        &a,
        &[
            "api-account-identity:create",
            "user-identity:create",
            "invitation:create",
        ],
    )
    .await;
    let (dr_manager, dr_tok) = account_in(stack, &a, "default-role manager").await;
    give_actions(
        stack,
        &dr_manager,
        &a,
        &["default-role:read", "default-role:update"],
    )
    .await;
    let (grants, grants_tok) = account_in(stack, &a, "grant manager").await;
    give_actions(
        stack,
        &grants,
        &a,
        &["grant:create", "grant:read", "grant:update", "grant:delete"],
    )
    .await;
    give_role(stack, &grants, sr::ORGANIZATION_READ_ONLY.0, &a).await;
    let (admin, admin_tok) = account_in(stack, &a, "admin of A").await;
    give_role(stack, &admin, sr::ORGANIZATION_ADMIN.0, &a).await;
    let c = Callers {
        creator: creator_tok,
        default_roles: dr_tok,
        grants: grants_tok,
        admin: admin_tok,
    };
    // A stronger admin of A, and a member of B.
    let (strong, _) = account_in(stack, &a, "strong").await;
    let strong_grant = give_role(stack, &strong, sr::ORGANIZATION_ADMIN.0, &a).await;
    let (member_b, _) = account_in(stack, &b, "member of B").await;
    let before = all_grants(stack).await;

    // 1. An API account created with the default roles (grantDefaultRoles left
    //    out: true) by a caller that cannot grant A's Organization Admin role.
    for (org, tok, want) in [
        (&a, &c.creator, 403),
        (&b, &c.creator, 403),
        (&b, &c.admin, 403),
    ] {
        let name = format!("account-{}", uuid::Uuid::new_v4().simple());
        let (st, p) = call_as(
            stack,
            tok,
            Method::POST,
            "/identity/v1/api-account-identities",
            Some(json!({"organizationId": org, "name": name})),
        )
        .await;
        assert_eq!(st, want, "{p}");
        assert!(!p.to_string().contains("password"), "{p}");
        assert!(!exists(stack, &name).await, "{name} was created");
    }
    let (_, p) = call_as(
        stack,
        &c.creator,
        Method::POST,
        "/identity/v1/api-account-identities",
        Some(json!({"organizationId": a, "name": "x"})),
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("Organization Admin") && detail.contains("grantDefaultRoles"),
        "{detail}"
    );
    //    Without the default roles the creator may create it.
    let (st, made) = call_as(
        stack,
        &c.creator,
        Method::POST,
        "/identity/v1/api-account-identities",
        Some(json!({"organizationId": a, "name": "plain", "grantDefaultRoles": false})),
    )
    .await;
    assert_eq!(st, 201, "{made}");
    let plain = made["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // 2. A user (users always get the default roles), and an invitation (the
    //    invited person would).
    let email = format!("u-{}@example.com", uuid::Uuid::new_v4().simple());
    let (st, p) = call_as(
        stack,
        &c.creator,
        Method::POST,
        "/identity/v1/user-identities",
        Some(json!({"organizationId": a, "firstName": "U", "lastName": "Ser", "email": email})),
    )
    .await;
    assert_eq!(st, 403, "{p}");
    assert!(!exists(stack, &email).await);
    let (st, p) = call_as(
        stack,
        &c.creator,
        Method::POST,
        "/identity/v1/invitations",
        Some(json!({"toOrganizationId": a, "invitedEmailAddress": email})),
    )
    .await;
    assert_eq!(st, 403, "{p}");

    // 3. A default role granted to named identities: the caller itself, an
    //    identity of B.
    for (dr, tok, want) in [
        (&dr_a, &c.default_roles, 403),
        (&dr_a, &c.creator, 404),
        (&dr_a, &c.grants, 403),
        (&dr_b, &c.default_roles, 404),
        (&dr_b, &c.admin, 404),
    ] {
        let (st, p) = call_as(
            stack,
            tok,
            Method::POST,
            &format!("/identity/v1/default-roles/{dr}/grant"),
            Some(json!({"includeIdentityIds": [dr_manager, member_b, creator]})),
        )
        .await;
        assert_eq!(st, want, "{dr} {p}");
    }

    // 4. Another identity's stronger grant, changed or revoked by a narrow
    //    grant manager (or by callers without any grant action).
    for tok in [&c.grants, &c.creator, &c.default_roles] {
        let (st, p) = call_as(
            stack,
            tok,
            Method::PUT,
            &format!("/auth/v1/identity-roles/{strong_grant}"),
            Some(json!({"roleId": sr::ORGANIZATION_READ_ONLY})),
        )
        .await;
        assert!(st == 403 || st == 404, "{st} {p}");
        let (st, p) = call_as(
            stack,
            tok,
            Method::DELETE,
            &format!("/auth/v1/identity-roles/{strong_grant}"),
            None,
        )
        .await;
        assert!(st == 403 || st == 404, "{st} {p}");
    }

    // 5. Direct grants to identities that are not live identities of A.
    for body in [
        json!({"identityId": member_b, "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": a}),
        json!({"identityId": uuid::Uuid::new_v4(), "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": a}),
        json!({"identityId": member_b, "roleId": sr::ORGANIZATION_READ_ONLY}),
    ] {
        let (st, p) = call_as(
            stack,
            &c.admin,
            Method::POST,
            "/auth/v1/identity-roles",
            Some(body),
        )
        .await;
        assert_eq!(
            (st, p["errors"][0]["field"].clone()),
            (400, json!("identityId")),
            "{p}"
        );
    }
    let (st, _) = call_as(
        stack,
        &c.grants,
        Method::POST,
        "/auth/v1/identity-roles",
        Some(json!({"identityId": member_b, "roleId": sr::ORGANIZATION_READ_ONLY, "organizationId": b})),
    )
    .await;
    assert_eq!(st, 403);

    // Let any event a refused request might have caused land (a grant by an
    // allowed caller passes through the same consumer after them), then nothing
    // but that grant and the plain account's absence of roles changed.
    let (st, p) = call_as(
        stack,
        &c.admin,
        Method::POST,
        &format!("/identity/v1/default-roles/{dr_a}/grant"),
        Some(json!({"includeIdentityIds": [plain, member_b]})),
    )
    .await;
    assert_eq!(st, 200, "{p}");
    wait_for_grant(stack, &plain, sr::ORGANIZATION_ADMIN.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut want = before.clone();
    want.push(format!(
        "\"{plain}\" \"{}\" null \"{a}\"",
        sr::ORGANIZATION_ADMIN
    ));
    want.sort();
    assert_eq!(
        all_grants(stack).await,
        want,
        "only the admin's grant to the plain account was added"
    );

    // The Organization Admin of A may do what it could do directly.
    let (st, made) = call_as(
        stack,
        &c.admin,
        Method::POST,
        "/identity/v1/api-account-identities",
        Some(json!({"organizationId": a, "name": "by the admin"})),
    )
    .await;
    assert_eq!(st, 201, "{made}");
    wait_for_grant(
        stack,
        made["apiAccountIdentity"]["id"].as_str().unwrap(),
        sr::ORGANIZATION_ADMIN.0,
    )
    .await;
    let (st, p) = call_as(
        stack,
        &c.admin,
        Method::PUT,
        &format!("/auth/v1/identity-roles/{strong_grant}"),
        Some(json!({"roleId": sr::ORGANIZATION_READ_ONLY})),
    )
    .await;
    assert_eq!(st, 200, "{p}");
    let _ = (admin, grants);
}

#[tokio::test]
async fn nobody_causes_a_grant_it_could_not_make() {
    let stack = start().await;
    privilege_matrix(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn nobody_causes_a_grant_it_could_not_make_on_servers() {
    if let Some(stack) = start_on_servers().await {
        privilege_matrix(&stack).await;
        stack.stop().await;
    }
}
