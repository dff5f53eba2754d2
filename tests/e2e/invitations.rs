//! Invitations and support requests through the gateway: create → list/filter →
//! read by key (public) → decline by key; revoke (409 the second time); the
//! invitation email; accept-initiate; bad input; support requests; acceptance
//! completed with a login at a stand-in OpenID provider → the new user gets a
//! platform token and holds the organization's default roles; the race of two
//! completions.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn call(stack: &Stack, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = stack.admin(method, path).await;
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

/// Retries `POST` until the invitation service has learned (by event) what it needs.
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

/// The key from the invitation email sent to `email` (written under `data/mail`).
async fn key_from_mail(stack: &Stack, email: &str) -> String {
    let dir = stack.dir.path().join("data").join("mail");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                if text.contains(&format!("To: {email}\r\n")) {
                    let i = text.find("key=").expect("the link carries the key") + 4;
                    let key: String = text[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect();
                    assert_eq!(key.len(), 36, "{text}");
                    return key;
                }
            }
        }
        assert!(Instant::now() < deadline, "no invitation mail to {email}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const INVITATION_FIELDS: [&str; 11] = [
    "accepted",
    "expiration",
    "fromIdentityId",
    "id",
    "invitedEmailAddress",
    "responseReceivedAt",
    "revokedAt",
    "state",
    "targetUserIdentityId",
    "toOrganizationId",
    "toTenantId",
];

fn fields(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

async fn invitations_flow(stack: &Stack) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = call(
        stack,
        Method::POST,
        "/identity/v1/organizations",
        Some(json!({"name": "Invited Org", "label": format!("inv-{}", &tag[..10])})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let user = create_eventually(
        stack,
        "/identity/v1/user-identities",
        json!({"organizationId": org_id, "firstName": "First", "lastName": "Last", "email": format!("target-{tag}@acme.com")}),
    )
    .await;
    let user_id = user["id"].as_str().unwrap().to_string();
    let (st, ip) = call(
        stack,
        Method::POST,
        "/identity/v1/identity-providers",
        Some(json!({"organizationId": org_id, "auth0ConnectionId": format!("conn-{tag}"), "name": "Google", "auth0ConnectionType": "Social"})),
    )
    .await;
    assert_eq!(st, 201, "{ip}");

    // One set of email rules: an address the identity API refuses cannot be
    // invited either (its identity would be made from it on acceptance).
    for bad in ["jane@acme..com", "jane@-acme.com", "ja(ne@acme.com"] {
        for (path, body) in [
            (
                "/identity/v1/user-identities",
                json!({"organizationId": org_id, "firstName": "F", "lastName": "L", "email": bad}),
            ),
            (
                "/identity/v1/invitations",
                json!({"toOrganizationId": org_id, "invitedEmailAddress": bad}),
            ),
        ] {
            let (st, problem) = call(stack, Method::POST, path, Some(body)).await;
            assert_eq!(st, 400, "{path} took {bad:?}: {problem}");
            assert!(
                !problem.to_string().contains(bad),
                "the refused value is echoed"
            );
        }
    }

    // Create (retried until the organization and the target identity are known).
    let email = format!("new.employee-{tag}@acme.com");
    let inv = create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": email, "invitationUrl": "http://acme.console.example/invitation", "targetUserIdentityId": user_id}),
    )
    .await;
    assert_eq!(fields(&inv), INVITATION_FIELDS, "{inv}");
    assert_eq!(inv["state"], "Open");
    assert_eq!(inv["toTenantId"], org_id);
    let (_, me) = call(stack, Method::GET, "/identity/v1/identities/self", None).await;
    assert_eq!(inv["fromIdentityId"], me["id"]);
    assert!(inv["accepted"].is_null() && inv["revokedAt"].is_null());
    assert!(inv["responseReceivedAt"].is_null());
    assert!(inv["expiration"]["epochSecond"].as_i64().unwrap() > 6 * 86400);
    assert!(!inv.to_string().contains("key"), "no key in the API: {inv}");
    let id = inv["id"].as_str().unwrap().to_string();

    // Read and list with filters.
    let (st, got) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(got, inv);
    for q in [
        format!("toOrganizationId={org_id}"),
        format!("toTenantId={org_id}"),
        format!("invitedEmailAddress={email}"),
        format!("targetIdentityId={user_id}"),
        format!("toOrganizationId={org_id}&states=Open,Declined"),
    ] {
        let (st, list) = call(
            stack,
            Method::GET,
            &format!("/identity/v1/invitations?{q}"),
            None,
        )
        .await;
        assert_eq!(st, 200, "{q}: {list}");
        assert_eq!(list.as_array().unwrap().len(), 1, "{q}: {list}");
        assert_eq!(list[0]["id"], id.as_str());
    }
    let (_, none) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations?toOrganizationId={org_id}&states=Revoked"),
        None,
    )
    .await;
    assert_eq!(none, json!([]));
    let (st, bad) = call(
        stack,
        Method::GET,
        "/identity/v1/invitations?states=Nope",
        None,
    )
    .await;
    assert_eq!(st, 400, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "states");
    let (st, _) = call(
        stack,
        Method::GET,
        "/identity/v1/invitations/not-a-uuid",
        None,
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(st, 404);

    // The email names the organization and carries the key; read by key, publicly.
    let key = key_from_mail(stack, &email).await;
    let mail_text = std::fs::read_dir(stack.dir.path().join("data/mail"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .find(|t| t.contains(&key))
        .unwrap();
    assert!(mail_text.contains("Invited Org"), "{mail_text}");
    assert!(mail_text.contains("http://acme.console.example/invitation?key="));
    let (st, by_key) = send(
        stack
            .client
            .get(stack.url(&format!("/identity/v1/invitations/key/{key}"))),
    )
    .await;
    assert_eq!(st, 200, "{by_key}");
    assert_eq!(by_key["state"], "Open");
    assert_eq!(by_key["invitedEmailAddress"], email.as_str());
    assert_eq!(by_key["toOrganizationName"], "Invited Org");
    assert_eq!(by_key["toTenantLabel"], org["label"]);
    assert_eq!(
        by_key["targetIdentity"]["email"],
        format!("target-{tag}@acme.com")
    );
    assert_eq!(by_key["targetIdentity"]["name"], "First Last");
    assert!(by_key["fromIdentity"].is_object(), "{by_key}");
    assert!(by_key["accepted"].is_null());
    for (bad, want) in [
        ("short", 404),
        ("x".repeat(36).as_str(), 404),
        (&format!("{}-", &key[..35]), 404),
    ] {
        let (st, _) = send(
            stack
                .client
                .get(stack.url(&format!("/identity/v1/invitations/key/{bad}"))),
        )
        .await;
        assert_eq!(st, want, "{bad}");
    }

    // Accept-initiate: a flow token and the organization's connection ids.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, init) = send(
            stack
                .client
                .post(stack.url(&format!(
                    "/identity/v1/invitations/key/{key}/accept-initiate"
                )))
                .json(&json!({"intermediateReturnUrl": "http://console.example/invitation"})),
        )
        .await;
        assert_eq!(st, 200, "{init}");
        assert_eq!(init["nfToken"].as_str().unwrap().split('.').count(), 3);
        if init["auth0ConnectionIds"] == json!([format!("conn-{tag}")]) {
            break;
        }
        assert!(Instant::now() < deadline, "{init}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Decline by key; a second decline is a conflict; the plain update too.
    let (st, declined) = send(
        stack
            .client
            .put(stack.url(&format!("/identity/v1/invitations/key/{key}/decline"))),
    )
    .await;
    assert_eq!(st, 200, "{declined}");
    assert_eq!(declined["state"], "Declined");
    assert_eq!(declined["accepted"], false);
    let (st, _) = send(
        stack
            .client
            .put(stack.url(&format!("/identity/v1/invitations/key/{key}/decline"))),
    )
    .await;
    assert_eq!(st, 409);
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/invitations/{id}/accept"),
        None,
    )
    .await;
    assert_eq!(st, 409);
    let (st, _) = send(stack.client.post(stack.url(&format!(
        "/identity/v1/invitations/key/{key}/accept-initiate"
    ))))
    .await;
    assert_eq!(st, 409);
    let (_, got) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(got["state"], "Declined");
    assert!(got["responseReceivedAt"].is_object());

    // Revoke an open one; the second revoke is a conflict.
    let inv2 = create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": format!("second-{tag}@acme.com")}),
    )
    .await;
    assert!(inv2["targetUserIdentityId"].is_null());
    let id2 = inv2["id"].as_str().unwrap();
    let (st, rev) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/invitations/{id2}/revoke"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{rev}");
    assert_eq!(rev["state"], "Revoked");
    assert!(rev["accepted"].is_null());
    assert!(rev["revokedAt"].is_object() && rev["responseReceivedAt"].is_object());
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/invitations/{id2}/revoke"),
        None,
    )
    .await;
    assert_eq!(st, 409);
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/invitations/{id2}/decline"),
        None,
    )
    .await;
    assert_eq!(st, 409);
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/invitations/{id2}/frobnicate"),
        None,
    )
    .await;
    assert_eq!(st, 404);
    let (_, revoked) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations?toOrganizationId={org_id}&states=Revoked"),
        None,
    )
    .await;
    assert_eq!(revoked.as_array().unwrap().len(), 1);

    // The plain accept of an open invitation.
    let inv3 = create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toTenantId": org_id, "invitedEmailAddress": format!("third-{tag}@acme.com")}),
    )
    .await;
    let (st, acc) = call(
        stack,
        Method::PUT,
        &format!(
            "/identity/v1/invitations/{}/accept",
            inv3["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(st, 200, "{acc}");
    assert_eq!(acc["state"], "Accepted");
    assert_eq!(acc["accepted"], true);
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!(
            "/identity/v1/invitations/{}/revoke",
            inv3["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(st, 409, "an accepted invitation cannot be revoked");

    // Two racing declines by key: exactly one wins.
    let race_email = format!("race-{tag}@acme.com");
    create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": race_email}),
    )
    .await;
    let race_key = key_from_mail(stack, &race_email).await;
    let url = stack.url(&format!("/identity/v1/invitations/key/{race_key}/decline"));
    let (a, b) = tokio::join!(send(stack.client.put(&url)), send(stack.client.put(&url)));
    let mut codes = [a.0, b.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");

    // Paging: the total in X-Total-Count, one per page.
    let res = stack
        .admin(Method::GET, &format!("/identity/v1/invitations?toOrganizationId={org_id}&size=1&page=1&sort=createdAt,desc"))
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "4");
    let page: Value = res.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);

    // An API account without grants: 403 to invite, nothing to list, 404 to read.
    let (st, acct) = call(
        stack,
        Method::POST,
        "/identity/v1/api-account-identities",
        Some(json!({"organizationId": org_id, "name": format!("No Grants {tag}"), "grantDefaultRoles": false})),
    )
    .await;
    assert_eq!(st, 201, "{acct}");
    let res = stack
        .token(
            acct["clientId"].as_str().unwrap(),
            acct["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    let tok = tok["access_token"].as_str().unwrap().to_string();
    let (st, p) = send(
        stack
            .client
            .post(stack.url("/identity/v1/invitations"))
            .bearer_auth(&tok)
            .json(&json!({"toOrganizationId": org_id, "invitedEmailAddress": "x@y.co"})),
    )
    .await;
    assert_eq!(st, 403, "{p}");
    let (st, list) = send(
        stack
            .client
            .get(stack.url("/identity/v1/invitations"))
            .bearer_auth(&tok),
    )
    .await;
    assert_eq!((st, list), (200, json!([])));
    let (st, _) = send(
        stack
            .client
            .get(stack.url(&format!("/identity/v1/invitations/{id}")))
            .bearer_auth(&tok),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = send(
        stack
            .client
            .put(stack.url(&format!("/identity/v1/invitations/{id}/revoke")))
            .bearer_auth(&tok),
    )
    .await;
    assert_eq!(st, 404);

    // Bad input: 400 naming the field.
    let other_org = create_eventually(
        stack,
        "/identity/v1/organizations",
        json!({"name": "Other", "label": format!("oth-{}", &tag[..10])}),
    )
    .await;
    for (body, field) in [
        (json!({"invitedEmailAddress": "a@b.co"}), "toOrganizationId"),
        (json!({"toOrganizationId": org_id}), "invitedEmailAddress"),
        (
            json!({"toOrganizationId": org_id, "invitedEmailAddress": "nope"}),
            "invitedEmailAddress",
        ),
        (
            json!({"toOrganizationId": uuid::Uuid::new_v4(), "invitedEmailAddress": "a@b.co"}),
            "toOrganizationId",
        ),
        (
            json!({"toOrganizationId": "not-a-uuid", "invitedEmailAddress": "a@b.co"}),
            "toOrganizationId",
        ),
        (
            json!({"toOrganizationId": org_id, "invitedEmailAddress": "a@b.co", "invitationUrl": "javascript:x"}),
            "invitationUrl",
        ),
        (
            json!({"toOrganizationId": other_org["id"], "invitedEmailAddress": "a@b.co", "targetUserIdentityId": user_id}),
            "targetUserIdentityId",
        ),
    ] {
        // The other organization may not be known yet (events): retry briefly.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (st, p) = call(
                stack,
                Method::POST,
                "/identity/v1/invitations",
                Some(body.clone()),
            )
            .await;
            assert_eq!(st, 400, "{body}: {p}");
            if p["errors"][0]["field"] == field {
                break;
            }
            assert!(Instant::now() < deadline, "{body}: {p}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // A deactivated organization takes no invitations.
    let (st, _) = call(
        stack,
        Method::PUT,
        &format!("/identity/v1/organizations/{org_id}/deactivate"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, p) = call(
            stack,
            Method::POST,
            "/identity/v1/invitations",
            Some(json!({"toOrganizationId": org_id, "invitedEmailAddress": "late@b.co"})),
        )
        .await;
        if st == 400 {
            assert_eq!(p["errors"][0]["field"], "toOrganizationId");
            break;
        }
        assert_eq!(st, 201, "{p}");
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // No token: 401 at the gateway.
    let (st, _) = send(stack.client.get(stack.url("/identity/v1/invitations"))).await;
    assert_eq!(st, 401);
}

async fn support_requests(stack: &Stack) {
    let url = stack.url("/identity/v1/nfconsole/support/requests");
    let good = json!({"name": "Curious George", "email": "george@curious-client.com", "selectedOrganizationId": null, "selectedNetworkId": null, "subject": "Sales Contact Request", "comment": "This looks great!  I'd like a sales rep to contact me.", "type": "question", "priority": "high", "severity": "Severity3", "recentErrorMessages": null});
    let (st, body) = send(stack.client.post(&url).json(&good)).await;
    assert_eq!(st, 200, "{body}");
    for (patch, field) in [
        (json!({"subject": ""}), "subject"),
        (json!({"comment": null}), "comment"),
        (json!({"type": "complaint"}), "type"),
        (json!({"priority": "whenever"}), "priority"),
        (json!({"severity": "Severity9"}), "severity"),
        (json!({"email": null}), "email"),
    ] {
        let mut b = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let (st, p) = send(stack.client.post(&url).json(&b)).await;
        assert_eq!(st, 400, "{b}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    // With a token, name and email come from the caller.
    let (st, _) = send(
        stack
            .admin(Method::POST, "/identity/v1/nfconsole/support/requests")
            .await
            .json(&json!({"subject": "Help", "comment": "Please", "severity": "Severity1"})),
    )
    .await;
    assert_eq!(st, 200);
    // Both reach the support mailbox.
    let dir = stack.dir.path().join("data").join("mail");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let texts: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        let sales = texts.iter().any(|t| {
            t.contains("Sales Contact Request") && t.contains("george@curious-client.com")
        });
        let help = texts
            .iter()
            .any(|t| t.contains("] Help") && t.contains("Severity1"));
        if sales && help {
            break;
        }
        assert!(Instant::now() < deadline, "support mail missing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The invitation service's outbox (SQLite file) holds the events of the flow, in
/// the documented shape, and never a key.
async fn events_were_written(stack: &Stack) {
    use sea_orm::ConnectionTrait;
    let path = stack.dir.path().join("data").join("invitation.db");
    let conn = idp_runtime::db::connect(&idp_runtime::settings::DatabaseSettings {
        url: idp_common::Secret::new(format!("sqlite://{}", path.display())),
        ..Default::default()
    })
    .await
    .unwrap();
    let rows = conn
        .query_all(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT event_type, payload FROM outbox ORDER BY seq",
        ))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    let mail_keys: Vec<String> = std::fs::read_dir(stack.dir.path().join("data/mail"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let t = std::fs::read_to_string(e.path()).ok()?;
            let i = t.find("key=")? + 4;
            Some(t[i..i + 36].to_string())
        })
        .collect();
    assert!(!mail_keys.is_empty());
    for r in rows {
        let kind: String = r.try_get("", "event_type").unwrap();
        let payload: String = r.try_get("", "payload").unwrap();
        for k in &mail_keys {
            assert!(
                !payload.contains(k.as_str()),
                "a key in an event: {payload}"
            );
        }
        let v: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(v["source"], "invitation");
        assert_eq!(v["organizationId"], v["data"]["toOrganizationId"]);
        kinds.push(kind);
    }
    for k in [
        "invitation.created",
        "invitation.declined",
        "invitation.revoked",
        "invitation.accepted",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing: {kinds:?}");
    }
    let _ = conn.close().await;
}

/// Invite → mail → read by key → accept-initiate → accept-complete with an ID token
/// of the organization's OpenID provider (a stand-in on loopback) → the token
/// exchange gives the new user a platform token → the user holds the
/// organization's default role. Then two racing completions: one 200, one 409.
async fn acceptance_flow(stack: &Stack) {
    use idp_bearer::oidc::testing::TestOpenIdProvider;
    use idp_model::authorization::standard_roles as sr;

    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = call(
        stack,
        Method::POST,
        "/identity/v1/organizations",
        Some(json!({"name": "Accepting Org", "label": format!("acc-{}", &tag[..10])})),
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
    let issuer = format!("https://login-{}.e2e.test", &tag[..8]);
    let client_id = format!("console-{}", &tag[..8]);
    let idp = TestOpenIdProvider::start(&issuer).await.unwrap();
    let op = create_eventually(
        stack,
        "/identity/v1/open-id-providers",
        json!({"organizationId": org_id, "name": "Acme SSO", "clientId": client_id,
            "issuer": issuer, "jwksUri": idp.jwks_uri}),
    )
    .await;
    assert!(op["id"].is_string(), "{op}");

    // Invite (mixed case: stored lower-cased); the key comes by mail.
    let email = format!("Invitee-{tag}@Acme.com");
    let lower = email.to_lowercase();
    let inv = create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": email}),
    )
    .await;
    assert_eq!(inv["invitedEmailAddress"], lower.as_str());
    let id = inv["id"].as_str().unwrap().to_string();
    let key = key_from_mail(stack, &lower).await;
    let (st, by_key) = send(
        stack
            .client
            .get(stack.url(&format!("/identity/v1/invitations/key/{key}"))),
    )
    .await;
    assert_eq!((st, &by_key["state"]), (200, &json!("Open")), "{by_key}");
    assert_eq!(by_key["toOrganizationName"], "Accepting Org");

    let initiate = |key: String| async move {
        let (st, init) = send(stack.client.post(stack.url(&format!(
            "/identity/v1/invitations/key/{key}/accept-initiate"
        ))))
        .await;
        assert_eq!(st, 200, "{init}");
        init["nfToken"].as_str().unwrap().to_string()
    };
    let nf = initiate(key.clone()).await;
    let id_token = idp
        .id_token(
            &client_id,
            &format!("sub-{tag}"),
            Some(&email.to_uppercase()),
            300,
        )
        .unwrap();
    let complete_url = stack.url(&format!(
        "/identity/v1/invitations/key/{key}/accept-complete"
    ));
    let body = json!({"nfToken": nf, "idToken": id_token});

    // Bad input first: missing fields name them; a forged nfToken is 401.
    for (b, status, field) in [
        (json!({"idToken": id_token}), 400, "nfToken"),
        (json!({"nfToken": nf}), 400, "idToken"),
        (
            json!({"nfToken": "x.y.z", "idToken": id_token}),
            401,
            "nfToken",
        ),
    ] {
        let (st, p) = send(stack.client.post(&complete_url).json(&b)).await;
        assert_eq!(
            (st, p["errors"][0]["field"].as_str()),
            (status, Some(field)),
            "{p}"
        );
    }

    // Complete (the invitation service learns the provider by event: a 401 on
    // idToken until then).
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = loop {
        let (st, v) = send(stack.client.post(&complete_url).json(&body)).await;
        if st == 200 {
            break v;
        }
        assert_eq!(
            (st, v["errors"][0]["field"].as_str()),
            (401, Some("idToken")),
            "{v}"
        );
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["state"], "Accepted");
    assert_eq!(done["accepted"], true);
    let user_id = done["targetUserIdentityId"].as_str().unwrap().to_string();
    let (st, got) = call(
        stack,
        Method::GET,
        &format!("/identity/v1/invitations/{id}"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(got, done);
    let (st, _) = send(stack.client.post(&complete_url).json(&body)).await;
    assert_eq!(st, 409, "completed once");

    // At once: the same ID token is exchanged for a platform token of the new user.
    let res = stack
        .client
        .post(stack.url("/identity/v1/oauth/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", id_token.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    let user_token = tok["access_token"].as_str().unwrap().to_string();
    let (st, me) = send(
        stack
            .client
            .get(stack.url("/identity/v1/identities/self"))
            .bearer_auth(&user_token),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["id"], user_id.as_str());
    assert_eq!(me["email"], lower.as_str());
    assert_eq!(me["organizationId"], org_id.as_str());

    // The organization's default role, granted by event.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, g) = call(
            stack,
            Method::GET,
            &format!(
                "/auth/v1/grants?identityId={user_id}&roleId={}",
                sr::ORGANIZATION_READ_ONLY.0
            ),
            None,
        )
        .await;
        assert_eq!(st, 200, "{g}");
        if g.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "no default role: {g}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Two racing completions of another invitation: exactly one wins.
    let race_email = format!("racer-{tag}@acme.com");
    create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": race_email}),
    )
    .await;
    let race_key = key_from_mail(stack, &race_email).await;
    let race_nf = initiate(race_key.clone()).await;
    let race_body = json!({"nfToken": race_nf,
        "idToken": idp.id_token(&client_id, &format!("racer-{tag}"), Some(&race_email), 300).unwrap()});
    let url = stack.url(&format!(
        "/identity/v1/invitations/key/{race_key}/accept-complete"
    ));
    let (a, b) = tokio::join!(
        send(stack.client.post(&url).json(&race_body)),
        send(stack.client.post(&url).json(&race_body))
    );
    let mut codes = [a.0, b.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
}

#[tokio::test]
async fn invitations_and_support_on_sqlite() {
    let stack = start().await;
    invitations_flow(&stack).await;
    support_requests(&stack).await;
    acceptance_flow(&stack).await;
    events_were_written(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn invitations_on_servers() {
    if let Some(stack) = start_on_servers().await {
        invitations_flow(&stack).await;
        acceptance_flow(&stack).await;
        stack.stop().await;
    }
}

/// Invites someone (no `invitationUrl`) into a new organization as the
/// super-admin; answers the text of the invitation mail and its key.
async fn default_link_mail(stack: &Stack) -> (String, String) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = call(
        stack,
        Method::POST,
        "/identity/v1/organizations",
        Some(json!({"name": "Link Org", "label": format!("lnk-{}", &tag[..10])})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let email = format!("link-{tag}@acme.com");
    create_eventually(
        stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org["id"], "invitedEmailAddress": email}),
    )
    .await;
    let key = key_from_mail(stack, &email).await;
    let text = std::fs::read_dir(stack.dir.path().join("data/mail"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .find(|t| t.contains(&format!("To: {email}\r\n")))
        .unwrap();
    (text, key)
}

/// The link of an invitation that names no `invitationUrl` points at this
/// platform's gateway: its bound address (`PLATFORM__LISTEN`, here a free port,
/// never 8080), or `PLATFORM__PUBLIC_URL` when set; and the mail names the
/// bootstrap super-admin who sent it.
#[tokio::test]
async fn the_default_invitation_link_follows_the_platform_address() {
    let stack = start().await;
    assert_ne!(stack.platform.gateway_addr.port(), 8080);
    let (text, key) = default_link_mail(&stack).await;
    let want = format!("http://{}/invitation?key=", stack.platform.gateway_addr);
    assert!(text.contains(&want), "{want} in {text}");
    assert!(
        text.contains("Platform Super Admin invited you"),
        "the inviter is named: {text}"
    );
    let (st, by_key) = send(
        stack
            .client
            .get(stack.url(&format!("/identity/v1/invitations/key/{key}"))),
    )
    .await;
    assert_eq!(st, 200, "{by_key}");
    assert_eq!(
        by_key["fromIdentity"]["name"], "Platform Super Admin",
        "{by_key}"
    );
    stack.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.public_url = "https://idp.example.test/".into();
    let stack = start_in(dir, settings).await;
    let (text, _) = default_link_mail(&stack).await;
    assert!(
        text.contains("\r\nhttps://idp.example.test/invitation?key="),
        "{text}"
    );
    stack.stop().await;
}

/// An OpenID provider served over real TLS (a CA made for the test, trusted by
/// `open_id_providers_ca_file`), registered with https URLs while
/// `allow_http_loopback_providers` is off. Its ID token carries no email (a
/// provider's default configuration): completing refuses it (403) until the
/// login's access token lets the provider's userinfo endpoint vouch for the
/// invited address; then the same ID token is exchanged for a platform token.
#[tokio::test]
async fn a_provider_over_tls_completes_an_invitation_and_signs_in() {
    use idp_bearer::oidc::testing::TestOpenIdProvider;

    let idp = TestOpenIdProvider::start_tls().await.unwrap();
    assert!(idp.issuer.starts_with("https://"), "{}", idp.issuer);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.allow_http_loopback_providers = false;
    settings.open_id_providers_ca_file = idp.write_ca_file(dir.path()).unwrap();
    let stack = start_in(dir, settings).await;

    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = call(
        &stack,
        Method::POST,
        "/identity/v1/organizations",
        Some(json!({"name": "TLS Org", "label": format!("tls-{}", &tag[..10])})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let client_id = format!("console-{}", &tag[..8]);
    let op = create_eventually(
        &stack,
        "/identity/v1/open-id-providers",
        json!({"organizationId": org_id, "name": "TLS SSO", "clientId": client_id,
            "issuer": idp.issuer, "jwksUri": idp.jwks_uri}),
    )
    .await;
    assert!(op["id"].is_string(), "{op}");
    let email = format!("tls-{tag}@acme.com");
    create_eventually(
        &stack,
        "/identity/v1/invitations",
        json!({"toOrganizationId": org_id, "invitedEmailAddress": email}),
    )
    .await;
    let key = key_from_mail(&stack, &email).await;
    let (st, init) = send(stack.client.post(stack.url(&format!(
        "/identity/v1/invitations/key/{key}/accept-initiate"
    ))))
    .await;
    assert_eq!(st, 200, "{init}");
    let nf = init["nfToken"].as_str().unwrap().to_string();
    let sub = format!("sub-{tag}");
    let id_token = idp.id_token(&client_id, &sub, None, 300).unwrap();
    idp.set_userinfo(
        "access-1",
        json!({"sub": sub, "email": email, "email_verified": true}),
    )
    .unwrap();
    let url = stack.url(&format!(
        "/identity/v1/invitations/key/{key}/accept-complete"
    ));

    // No email in the ID token, no access token: 403 once the invitation service
    // knows the provider (401 on idToken until its event arrived).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (st, v) = send(
            stack
                .client
                .post(&url)
                .json(&json!({"nfToken": nf, "idToken": id_token})),
        )
        .await;
        if st == 403 {
            assert_eq!(v["errors"][0]["field"], "idToken", "{v}");
            break;
        }
        assert_eq!(
            (st, v["errors"][0]["field"].as_str()),
            (401, Some("idToken")),
            "{v}"
        );
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, done) = send(
        stack
            .client
            .post(&url)
            .json(&json!({"nfToken": nf, "idToken": id_token, "accessToken": "access-1"})),
    )
    .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["state"], "Accepted");
    let user_id = done["targetUserIdentityId"].as_str().unwrap().to_string();

    // The token exchange verifies the same ID token against the JWKS over TLS.
    let res = stack
        .client
        .post(stack.url("/identity/v1/oauth/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", id_token.as_str()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    assert_eq!(
        tok["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let (st, me) = send(
        stack
            .client
            .get(stack.url("/identity/v1/identities/self"))
            .bearer_auth(tok["access_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["id"], user_id.as_str());
    stack.stop().await;
}
