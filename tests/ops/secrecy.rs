//! The logs of a full run of the `platform` binary (gateway and services, JSON
//! lines) hold no secret: not the bootstrap secret, not a new API account's
//! secret, not a secret tried in vain, no access token or flow token, no
//! invitation key. And each request's access line carries its context.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::child::{client, create_eventually, send, token, Platform};

/// The invitation key from the mail to `email` (the mail outbox under `data/mail`).
async fn key_from_mail(p: &Platform, email: &str) -> String {
    let dir = p.dir.join("data/mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                if text.contains(&format!("To: {email}\r\n")) {
                    let i = text.find("key=").expect("the link carries the key") + 4;
                    let key: String = text[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    assert!(key.len() >= 16, "{text}");
                    return key;
                }
            }
        }
        assert!(Instant::now() < deadline, "no invitation mail to {email}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn no_secret_token_or_invitation_key_reaches_the_logs_of_a_full_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Platform::start(dir.path(), &[]);
    let c = client();
    let token_url = p.url("/identity/v1/oauth/token");
    let creds = p.credentials();
    let (admin_id, admin_secret) = (
        creds["clientId"].as_str().unwrap().to_string(),
        creds["password"].as_str().unwrap().to_string(),
    );
    // (what must never be logged, what it is)
    let mut secrets: Vec<(String, &str)> = vec![(admin_secret.clone(), "bootstrap secret")];

    // Client-credentials token, authenticated calls.
    let admin = token(&c, &token_url, &admin_id, &admin_secret).await;
    secrets.push((admin.clone(), "super-admin access token"));
    let (st, me) = send(
        c.get(p.url("/identity/v1/identities/self"))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    let me_id = me["id"].as_str().unwrap().to_string();
    let root_org = me["organizationId"].as_str().unwrap().to_string();

    // A secret tried in vain is a secret too (a typo of the real one, say).
    let wrong = format!("{admin_secret}x");
    let res = c
        .post(&token_url)
        .basic_auth(&admin_id, Some(&wrong))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    secrets.push((wrong, "a wrong secret"));
    // A forged token (the real one with another signature) is refused and not logged.
    let forged = format!("{}AAAA", &admin[..admin.len() - 4]);
    let (st, _) = send(
        c.get(p.url("/identity/v1/identities/self"))
            .bearer_auth(&forged),
    )
    .await;
    assert_eq!(st, 401);
    secrets.push((forged, "a forged token"));

    // API-account creation: its one-time secret, then its own token.
    let acct = create_eventually(
        &c,
        &admin,
        &p.url("/identity/v1/api-account-identities"),
        json!({"organizationId": root_org, "name": "log-secrecy"}),
    )
    .await;
    let acct_id = acct["clientId"].as_str().unwrap().to_string();
    let acct_secret = acct["password"].as_str().unwrap().to_string();
    secrets.push((acct_secret.clone(), "new API account's secret"));
    let acct_token = token(&c, &token_url, &acct_id, &acct_secret).await;
    secrets.push((acct_token.clone(), "API account's access token"));
    let (st, _) = send(
        c.get(p.url("/identity/v1/identities/self"))
            .bearer_auth(&acct_token),
    )
    .await;
    assert_eq!(st, 200);

    // Invitation: created, its key read from the mail, the by-key flow.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("invitee-{tag}@example.com");
    let inv = create_eventually(
        &c,
        &admin,
        &p.url("/identity/v1/invitations"),
        json!({"toOrganizationId": root_org, "invitedEmailAddress": email}),
    )
    .await;
    assert_eq!(inv["state"], "Open", "{inv}");
    let key = key_from_mail(&p, &email).await;
    secrets.push((key.clone(), "invitation key"));
    let (st, by_key) = send(c.get(p.url(&format!("/identity/v1/invitations/key/{key}")))).await;
    assert_eq!(st, 200, "{by_key}");
    let (st, init) = send(
        c.post(p.url(&format!(
            "/identity/v1/invitations/key/{key}/accept-initiate"
        )))
        .json(&json!({"intermediateReturnUrl": "http://console.example/invitation"})),
    )
    .await;
    assert_eq!(st, 200, "{init}");
    if let Some(nf) = init["nfToken"].as_str() {
        secrets.push((nf.to_string(), "flow token"));
    }
    let (st, declined) =
        send(c.put(p.url(&format!("/identity/v1/invitations/key/{key}/decline")))).await;
    assert_eq!(st, 200, "{declined}");

    // Support requests, anonymous and authenticated.
    let (st, _) = send(
        c.post(p.url("/identity/v1/nfconsole/support/requests"))
            .json(&json!({"name": "Ann", "email": "ann@example.com", "subject": "Hello", "comment": "A question", "type": "question", "priority": "low", "severity": "Severity3"})),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = send(
        c.post(p.url("/identity/v1/nfconsole/support/requests"))
            .bearer_auth(&admin)
            .json(&json!({"subject": "Help", "comment": "Please", "severity": "Severity1"})),
    )
    .await;
    assert_eq!(st, 200);

    p.sigterm();
    let (status, _) = p.wait_exit(Duration::from_secs(60));
    let lines = p.log_lines();
    assert!(status.success(), "exit {status:?}:\n{}", lines.join("\n"));
    assert!(
        lines.len() > 20,
        "too few log lines to judge:\n{}",
        lines.join("\n")
    );

    // The check itself: no line holds any of them, nor a token's signature alone.
    let mut needles: Vec<(String, &str)> = Vec::new();
    for (s, what) in &secrets {
        assert!(s.len() >= 16, "{what} is too short to search for");
        needles.push((s.clone(), what));
        if let Some(sig) = s.rsplit('.').next().filter(|_| s.matches('.').count() == 2) {
            needles.push((sig.to_string(), what));
        }
    }
    for line in &lines {
        for (needle, what) in &needles {
            assert!(
                !line.contains(needle.as_str()),
                "the {what} appears in a log line: {line}"
            );
        }
    }

    // Every line is JSON; the services' access lines carry the request's context.
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&Value> = parsed
        .iter()
        .filter(|v| v["target"] == "service::access")
        .collect();
    let authenticated = access
        .iter()
        .find(|v| v["route"] == "/identity/v1/identities/self" && v["status"] == 200)
        .unwrap_or_else(|| panic!("no access line of GET /identities/self: {access:?}"));
    assert_eq!(
        authenticated["identity_id"],
        me_id.as_str(),
        "{authenticated}"
    );
    assert_eq!(
        authenticated["organization_id"],
        root_org.as_str(),
        "{authenticated}"
    );
    assert_eq!(authenticated["method"], "GET");
    assert!(authenticated["request_id"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(authenticated["duration_us"].is_u64());
    let by_key_line = access
        .iter()
        .find(|v| v["route"] == "/identity/v1/invitations/key/{key}")
        .unwrap_or_else(|| panic!("no access line of the by-key read: {access:?}"));
    assert_eq!(by_key_line["path"], "/identity/v1/invitations/key/***");
    assert!(by_key_line.get("identity_id").is_none(), "{by_key_line}");
    // The gateway's line and the service's line of one request share its id.
    let rid = authenticated["request_id"].as_str().unwrap();
    assert!(
        parsed
            .iter()
            .any(|v| v["target"] == "gateway::access" && v["request_id"] == rid),
        "the gateway's access line has the same request id"
    );
}
