//! Inviting and completing an acceptance by key: the invitation mail over SMTP,
//! accept-initiate, accept-complete with an ID token of the organization's OpenID
//! provider (the shared stand-in), bad input, the race of two completions, expiry,
//! and the answer without the identity service.

use std::time::Duration;

use idp_bearer::oidc::testing::TestOpenIdProvider;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::smtp::{decoded, SmtpServer};
use crate::support::*;

const LOGIN_ISSUER: &str = "https://login.acme.test";
const CLIENT: &str = "acme-console";

struct World {
    org: Uuid,
    inviter: Uuid,
    oidp: Uuid,
    idp: TestOpenIdProvider,
}

/// An organization with an OpenID provider, and the inviting identity, as the
/// other services' events describe them.
async fn world(app: &TestApp) -> World {
    world_with(app, TestOpenIdProvider::start(LOGIN_ISSUER).await.unwrap()).await
}

/// As [`world`], with `idp` as the organization's OpenID provider.
async fn world_with(app: &TestApp, idp: TestOpenIdProvider) -> World {
    let org = Uuid::new_v4();
    let inviter = Uuid::new_v4();
    let oidp = Uuid::new_v4();
    let issuer = idp.issuer.clone();
    app.publish(
        "organization.created",
        "organization",
        org,
        json!({"id": org, "name": "Acme Corp", "label": "acme", "active": true}),
    )
    .await;
    app.publish(
        "identity.created",
        "identity",
        org,
        json!({"identityId": inviter, "organizationId": org, "type": "UserIdentity",
            "name": "Ada Admin", "email": "ada@acme.com"}),
    )
    .await;
    app.publish(
        "open-id-provider.created",
        "organization",
        org,
        json!({"id": oidp, "organizationId": org, "name": "Acme SSO", "clientId": CLIENT,
            "issuer": issuer, "jwksUri": idp.jwks_uri, "active": true, "deleted": false}),
    )
    .await;
    for (table, id) in [
        ("organizations_seen", org),
        ("identities_seen", inviter),
        ("open_id_providers_seen", oidp),
    ] {
        app.wait_count(
            &format!("SELECT COUNT(*) FROM {table} WHERE id = ?"),
            vec![id.into()],
            1,
        )
        .await;
    }
    // The read model is the identity service's too (idp_runtime::read_models).
    app.wait_count(
        "SELECT COUNT(*) FROM open_id_providers_seen WHERE id = ? AND name = 'Acme SSO'",
        vec![oidp.into()],
        1,
    )
    .await;
    World {
        org,
        inviter,
        oidp,
        idp,
    }
}

async fn invite(app: &TestApp, w: &World, email: &str) -> Value {
    let (st, inv) = app
        .send(
            app.client
                .post(app.url("/invitations"))
                .bearer_auth(app.token(w.inviter, w.org))
                .json(
                    &json!({"toOrganizationId": w.org, "invitedEmailAddress": email,
                    "invitationUrl": "https://console.acme.test/invitation"}),
                ),
        )
        .await;
    assert_eq!(st, 201, "{inv}");
    inv
}

fn key_in(text: &str) -> String {
    let i = text.find("key=").expect("the link carries the key") + 4;
    let key: String = text[i..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert_eq!(key.len(), 36, "{text}");
    key
}

async fn initiate(app: &TestApp, key: &str) -> String {
    let (st, v) = app
        .send(
            app.client
                .post(app.url(&format!("/invitations/key/{key}/accept-initiate"))),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    v["nfToken"].as_str().unwrap().to_string()
}

async fn complete(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    app.send(
        app.client
            .post(app.url(&format!("/invitations/key/{key}/accept-complete")))
            .json(&body),
    )
    .await
}

fn field(v: &Value) -> &str {
    v["errors"][0]["field"].as_str().unwrap_or("")
}

/// Plays the identity service: once `invitation.accepted` of `invitation` is in
/// the outbox, answers with `identity.created` naming the invitation.
async fn identity_service_answers(app: &TestApp, org: Uuid, invitation: &str) -> (Uuid, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let accepted = loop {
        let found = app
            .outbox("invitation.accepted")
            .await
            .into_iter()
            .find(|e| e["data"]["invitationId"] == invitation);
        if let Some(e) = found {
            break e;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no invitation.accepted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let user = Uuid::new_v4();
    app.publish(
        "identity.created",
        "identity",
        org,
        json!({"identityId": user, "organizationId": org, "type": "UserIdentity",
            "name": "New Person", "email": accepted["data"]["email"],
            "grantDefaultRoles": true, "invitationId": invitation}),
    )
    .await;
    (user, accepted)
}

#[tokio::test]
async fn an_invitation_mailed_by_smtp_is_completed_once_with_a_login() {
    on_each_backend(|db| async move {
        let smtp = SmtpServer::start("127.0.0.1:0").await;
        let app = spawn(db, |s| {
            s.mail.smtp_url = idp_common::Secret::new(smtp.url());
            s.mail.from = "invitations@platform.test".into();
        })
        .await;
        let w = world(&app).await;
        let inv = invite(&app, &w, "New.Person@Acme.com").await;
        let id = inv["id"].as_str().unwrap().to_string();
        // Stored lower-cased.
        assert_eq!(inv["invitedEmailAddress"], "new.person@acme.com");

        // The mail arrives by SMTP: it names the organization and the inviter and
        // carries the invitation URL with the key.
        let mail = smtp.wait_for("new.person@acme.com").await;
        assert_eq!(mail.from, "invitations@platform.test");
        let text = decoded(&mail.data);
        assert!(text.contains("Acme Corp"), "{text}");
        assert!(text.contains("Ada Admin"), "{text}");
        assert!(
            text.contains("https://console.acme.test/invitation?key="),
            "{text}"
        );
        assert!(mail.data.contains("@idp.invitation>"), "{}", mail.data);
        let key = key_in(&text);
        // Marked sent, the stored body (which held the key) cleared.
        app.wait_count(
            "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL AND body = ''",
            vec![],
            1,
        )
        .await;

        let nf = initiate(&app, &key).await;
        let good = w
            .idp
            .id_token(CLIENT, "ext-42", Some("NEW.PERSON@acme.com"), 300)
            .unwrap();

        // Bad input: 400 naming the missing field; 401 naming the credential.
        for (body, status, name) in [
            (json!({"idToken": good}), 400, "nfToken"),
            (json!({"nfToken": nf}), 400, "idToken"),
            (json!({"nfToken": "", "idToken": good}), 400, "nfToken"),
            (json!({"nfToken": "garbage", "idToken": good}), 401, "nfToken"),
            (json!({"nfToken": nf, "idToken": "garbage"}), 401, "idToken"),
        ] {
            let (st, p) = complete(&app, &key, body.clone()).await;
            assert_eq!((st, field(&p)), (status, name), "{body}: {p}");
        }
        let (st, _) = app
            .send(
                app.client
                    .post(app.url(&format!("/invitations/key/{key}/accept-complete")))
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await;
        assert_eq!(st, 400);
        // An nfToken of another invitation (or of the login flow) completes nothing.
        let other = invite(&app, &w, "someone@acme.com").await;
        let other_key = key_in(&decoded(&smtp.wait_for("someone@acme.com").await.data));
        let other_nf = initiate(&app, &other_key).await;
        let flows =
            idp_runtime::flow_token::FlowTokens::from_settings(&app.settings.flow_tokens).unwrap();
        let login_nf = flows.sign(idp_model::OrganizationId(w.org), "login");
        for nf_token in [&other_nf, &login_nf] {
            let (st, p) = complete(&app, &key, json!({"nfToken": nf_token, "idToken": good})).await;
            assert_eq!((st, field(&p)), (401, "nfToken"), "{p}");
        }
        // ID tokens that prove no login at the organization's providers.
        let stranger = TestOpenIdProvider::start(LOGIN_ISSUER).await.unwrap();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        for (why, tok) in [
            ("another client", w.idp.id_token("other-client", "ext-42", None, 300).unwrap()),
            ("expired", w.idp.id_token(CLIENT, "ext-42", None, -120).unwrap()),
            ("another key", stranger.id_token(CLIENT, "ext-42", None, 300).unwrap()),
            (
                "another issuer",
                w.idp
                    .sign(&json!({"iss": "https://evil.test", "aud": CLIENT, "sub": "x", "exp": now + 300}))
                    .unwrap(),
            ),
        ] {
            let (st, p) = complete(&app, &key, json!({"nfToken": nf, "idToken": tok})).await;
            assert_eq!((st, field(&p)), (401, "idToken"), "{why}: {p}");
        }
        // A login whose email is not the invited address: 403 (a leaked key does not
        // let another person in).
        let intruder = w
            .idp
            .id_token(CLIENT, "ext-99", Some("intruder@evil.test"), 300)
            .unwrap();
        let (st, p) = complete(&app, &key, json!({"nfToken": nf, "idToken": intruder})).await;
        assert_eq!(st, 403, "{p}");
        assert!(app.outbox("invitation.accepted").await.is_empty());

        // Two racing completions: exactly one wins; it answers once the identity
        // service reported the user identity.
        let body = json!({"nfToken": nf, "idToken": good});
        let (a, b, (user, accepted)) = tokio::join!(
            complete(&app, &key, body.clone()),
            complete(&app, &key, body.clone()),
            identity_service_answers(&app, w.org, &id),
        );
        let mut codes = [a.0, b.0];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "{a:?} {b:?}");
        let won = if a.0 == 200 { a.1 } else { b.1 };
        assert_eq!(won["state"], "Accepted");
        assert_eq!(won["accepted"], true);
        assert!(won["responseReceivedAt"].is_object());
        assert_eq!(won["targetUserIdentityId"], user.to_string());
        let (st, got) = app
            .send(
                app.client
                    .get(app.url(&format!("/invitations/{id}")))
                    .bearer_auth(app.token(w.inviter, w.org)),
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(got, won);

        // One invitation.accepted, in the transaction of the change, with what the
        // identity service needs, and never the key.
        let events = app.outbox("invitation.accepted").await;
        assert_eq!(events.len(), 1);
        let d = &accepted["data"];
        assert_eq!(d["invitationId"], id.as_str());
        assert_eq!(d["organizationId"], w.org.to_string());
        assert_eq!(d["email"], "new.person@acme.com");
        assert_eq!(d["openIdProviderId"], w.oidp.to_string());
        assert_eq!(d["subject"], "ext-42");
        assert_eq!(d["via"], "key");
        assert!(d["targetUserIdentityId"].is_null());
        assert!(!accepted.to_string().contains(&key));

        // Completed once: a third attempt, and a decline, are conflicts.
        let (st, _) = complete(&app, &key, body).await;
        assert_eq!(st, 409);
        let (st, _) = app
            .send(app.client.put(app.url(&format!("/invitations/key/{key}/decline"))))
            .await;
        assert_eq!(st, 409);
        // The other invitation is untouched.
        let (_, o) = app
            .send(
                app.client
                    .get(app.url(&format!("/invitations/{}", other["id"].as_str().unwrap())))
                    .bearer_auth(app.token(w.inviter, w.org)),
            )
            .await;
        assert_eq!(o["state"], "Open");
        app.stop().await;
    })
    .await;
}

/// Without an answer of the identity service within the wait, the completion is
/// 202 with the accepted invitation; a key of the wrong shape is 404.
#[tokio::test]
async fn without_the_identity_service_the_completion_is_202() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap(), |s| {
        s.invitations.accept_wait_ms = 300;
    })
    .await;
    let w = world(&app).await;
    let inv = invite(&app, &w, "late@acme.com").await;
    let mail_dir = app.dir.path().join("mail");
    let key = {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = std::fs::read_dir(&mail_dir)
                .map(|d| {
                    d.flatten()
                        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                        .find(|t| t.contains("To: late@acme.com"))
                })
                .unwrap_or_default();
            if let Some(t) = found {
                break key_in(&t);
            }
            assert!(std::time::Instant::now() < deadline, "no mail file");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let nf = initiate(&app, &key).await;
    let tok = w
        .idp
        .id_token(CLIENT, "ext-7", Some("late@acme.com"), 300)
        .unwrap();
    let (st, v) = complete(&app, &key, json!({"nfToken": nf, "idToken": tok})).await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["state"], "Accepted");
    assert_eq!(v["id"], inv["id"]);
    assert!(v["targetUserIdentityId"].is_null());
    for bad in ["short", &format!("{}-", &key[..35]), &format!("{key}x")] {
        let (st, _) = complete(&app, bad, json!({"nfToken": nf, "idToken": tok})).await;
        assert_eq!(st, 404, "{bad}");
    }
    app.stop().await;
}

/// An expired invitation reads as Expired and cannot be completed (409).
#[tokio::test]
async fn an_expired_invitation_cannot_be_completed() {
    let db = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&db, dir.path());
    let clock = idp_runtime::clock::FixedClock::new(OffsetDateTime::now_utc());
    let app = spawn_with(db, dir, settings, std::sync::Arc::new(clock.clone())).await;
    let w = world(&app).await;
    invite(&app, &w, "slow@acme.com").await;
    let mail_dir = app.dir.path().join("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let key = loop {
        let found = std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .find(|t| t.contains("To: slow@acme.com"))
            })
            .unwrap_or_default();
        if let Some(t) = found {
            break key_in(&t);
        }
        assert!(std::time::Instant::now() < deadline, "no mail file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let nf = initiate(&app, &key).await;
    clock.advance(time::Duration::days(8));
    let tok = w
        .idp
        .id_token(CLIENT, "ext-8", Some("slow@acme.com"), 300)
        .unwrap();
    let (st, p) = complete(&app, &key, json!({"nfToken": nf, "idToken": tok})).await;
    assert_eq!(st, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("Expired"), "{p}");
    let (st, v) = app
        .send(app.client.get(app.url(&format!("/invitations/key/{key}"))))
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["state"], "Expired");
    assert!(app.outbox("invitation.accepted").await.is_empty());
    app.stop().await;
}

/// A provider in its default configuration puts no email in the ID token: the
/// invited address must be vouched for as the login's verified email, by the ID
/// token or by the provider's userinfo endpoint (over TLS, with the login's
/// access token); otherwise 403 naming `idToken`, and the invitation stays Open
/// with no event.
#[tokio::test]
async fn completing_needs_a_verified_email_of_the_invited_address() {
    let idp = TestOpenIdProvider::start_tls().await.unwrap();
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = idp.write_ca_file(ca_dir.path()).unwrap();
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap(), |s| {
        s.open_id_providers.ca_file = ca_file.clone();
    })
    .await;
    let w = world_with(&app, idp).await;
    let inv = invite(&app, &w, "invited@acme.com").await;
    let id = inv["id"].as_str().unwrap().to_string();
    let mail_dir = app.dir.path().join("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let key = loop {
        let found = std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .find(|t| t.contains("To: invited@acme.com"))
            })
            .unwrap_or_default();
        if let Some(t) = found {
            break key_in(&t);
        }
        assert!(std::time::Instant::now() < deadline, "no mail file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let nf = initiate(&app, &key).await;
    let tok = |extra: Value| w.idp.id_token_with(CLIENT, "ext-5", &extra, 300).unwrap();
    w.idp
        .set_userinfo(
            "at-unverified",
            json!({"sub": "ext-5", "email": "invited@acme.com", "email_verified": false}),
        )
        .unwrap();
    w.idp
        .set_userinfo(
            "at-other-sub",
            json!({"sub": "ext-6", "email": "invited@acme.com", "email_verified": true}),
        )
        .unwrap();
    w.idp
        .set_userinfo(
            "at-other-address",
            json!({"sub": "ext-5", "email": "someone@else.test", "email_verified": true}),
        )
        .unwrap();
    w.idp
        .set_userinfo(
            "at-good",
            json!({"sub": "ext-5", "email": "Invited@Acme.com", "email_verified": true}),
        )
        .unwrap();
    for (why, body) in [
        (
            "no email",
            json!({"nfToken": nf, "idToken": tok(json!({}))}),
        ),
        (
            "unverified",
            json!({"nfToken": nf, "idToken": tok(json!({"email": "invited@acme.com", "email_verified": false}))}),
        ),
        (
            "email_verified absent",
            json!({"nfToken": nf, "idToken": tok(json!({"email": "invited@acme.com"}))}),
        ),
        (
            "another address",
            json!({"nfToken": nf, "idToken": tok(json!({"email": "someone@else.test", "email_verified": true}))}),
        ),
        (
            "userinfo: unverified",
            json!({"nfToken": nf, "idToken": tok(json!({})), "accessToken": "at-unverified"}),
        ),
        (
            "userinfo: another subject",
            json!({"nfToken": nf, "idToken": tok(json!({})), "accessToken": "at-other-sub"}),
        ),
        (
            "userinfo: another address",
            json!({"nfToken": nf, "idToken": tok(json!({})), "accessToken": "at-other-address"}),
        ),
        (
            "userinfo: unknown access token",
            json!({"nfToken": nf, "idToken": tok(json!({})), "accessToken": "at-unknown"}),
        ),
    ] {
        let (st, p) = complete(&app, &key, body).await;
        assert_eq!((st, field(&p)), (403, "idToken"), "{why}: {p}");
        assert_eq!(p["status"], 403, "{why}: {p}");
        assert!(
            !p.to_string().contains("at-"),
            "{why}: the access token is not echoed: {p}"
        );
    }
    assert!(w.idp.userinfo_calls() >= 4);
    assert!(app.outbox("invitation.accepted").await.is_empty());
    let (_, v) = app
        .send(
            app.client
                .get(app.url(&format!("/invitations/{id}")))
                .bearer_auth(app.token(w.inviter, w.org)),
        )
        .await;
    assert_eq!(v["state"], "Open");

    // The userinfo endpoint vouches for the invited address: accepted.
    let (done, _) = tokio::join!(
        complete(
            &app,
            &key,
            json!({"nfToken": nf, "idToken": tok(json!({})), "accessToken": "at-good"}),
        ),
        identity_service_answers(&app, w.org, &id),
    );
    assert_eq!(done.0, 200, "{}", done.1);
    assert_eq!(done.1["state"], "Accepted");
    assert_eq!(app.outbox("invitation.accepted").await.len(), 1);
    app.stop().await;
}
