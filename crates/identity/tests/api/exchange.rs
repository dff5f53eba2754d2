//! The token-exchange grant with an OpenID provider stand-in served on loopback.

use idp_bearer::oidc::testing::TestOpenIdProvider;
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const ISSUER: &str = "https://login.acme.test";
const CLIENT: &str = "acme-client";

/// An ID token of `idp` (any issuer: `iss` says which).
fn id_token(idp: &TestOpenIdProvider, iss: &str, aud: &str, sub: &str, exp_in: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    idp.sign(&json!({"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in}))
        .unwrap()
}

async fn exchange(app: &TestApp, token: &str) -> (u16, Value) {
    exchange_bound(app, token, None).await
}

/// With `nf_token`: the login bound to the organization of authorize-initiate.
async fn exchange_bound(app: &TestApp, token: &str, nf_token: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", EXCHANGE),
        ("subject_token", token),
        ("subject_token_type", ID_TOKEN),
    ];
    if let Some(t) = nf_token {
        form.push(("nf_token", t));
    }
    let res = app.token_request(&form, None).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_id_token_of_an_active_provider_is_exchanged_for_the_mapped_user() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let keys = TestOpenIdProvider::start(ISSUER).await.unwrap();
        let jwks_uri = keys.jwks_uri.clone();
        let org = Uuid::new_v4();
        let oidp = Uuid::new_v4();
        app.publish("organization.created", Some(org), json!({"id": org, "name": "Acme", "active": true}))
            .await;
        app.publish(
            "open-id-provider.created",
            Some(org),
            json!({"id": oidp, "organizationId": org, "name": "Acme SSO", "clientId": CLIENT,
                "issuer": ISSUER, "jwksUri": jwks_uri, "active": true, "deleted": false}),
        )
        .await;
        app.wait_count("SELECT COUNT(*) FROM open_id_providers_seen", 1).await;
        app.wait_count("SELECT COUNT(*) FROM organizations_seen", 1).await;
        let (s, u) = app
            .call(&admin, Method::POST, "/user-identities",
                Some(json!({"organizationId": org, "firstName": "Sso", "lastName": "User", "email": "sso@acme.com"})))
            .await;
        assert_eq!(s, 201, "{u}");
        let uid = u["id"].as_str().unwrap().to_string();
        let (s, _) = app
            .call(&admin, Method::POST, &format!("/user-identities/{uid}/mapping"),
                Some(json!({"auth0UserId": "ext-1", "identityProviderId": oidp})))
            .await;
        assert_eq!(s, 200);

        // The good case: a token of the mapped user.
        let (s, v) = exchange(&app, &id_token(&keys, ISSUER, CLIENT, "ext-1", 300)).await;
        assert_eq!(s, 200, "{v}");
        // Bound by an nfToken of its organization: accepted; of another organization,
        // or forged: invalid_grant.
        let flows = idp_runtime::flow_token::FlowTokens::from_settings(&app.settings.flow_tokens).unwrap();
        let good = flows.sign(idp_model::OrganizationId(org), "login");
        let elsewhere = flows.sign(idp_model::OrganizationId::new(), "login");
        let forged = idp_runtime::flow_token::FlowTokens::new(b"another key", std::time::Duration::from_secs(60))
            .sign(idp_model::OrganizationId(org), "login");
        let id_tok = id_token(&keys, ISSUER, CLIENT, "ext-1", 300);
        let (s, v) = exchange_bound(&app, &id_tok, Some(&good)).await;
        assert_eq!(s, 200, "{v}");
        for (why, t) in [("another organization", &elsewhere), ("forged", &forged)] {
            let (s, v) = exchange_bound(&app, &id_tok, Some(t)).await;
            assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")), "{why}: {v}");
        }
        assert_eq!(v["token_type"], "Bearer");
        let at = v["access_token"].as_str().unwrap().to_string();
        let (s, me) = app.call(&at, Method::GET, "/identities/self", None).await;
        assert_eq!(s, 200);
        assert_eq!(me["id"], uid.as_str());
        assert_eq!(me["type"], "UserIdentity");

        let count = "SELECT COUNT(*) FROM identities";
        let other_keys = TestOpenIdProvider::start(ISSUER).await.unwrap();
        for (why, token) in [
            ("wrong audience", id_token(&keys, ISSUER, "someone-else", "ext-1", 300)),
            ("wrong issuer", id_token(&keys, "https://evil.test", CLIENT, "ext-1", 300)),
            ("expired", id_token(&keys, ISSUER, CLIENT, "ext-1", -60)),
            ("unmapped subject", id_token(&keys, ISSUER, CLIENT, "ext-unknown", 300)),
            ("another key", id_token(&other_keys, ISSUER, CLIENT, "ext-1", 300)),
            ("not a JWT", "garbage".to_string()),
        ] {
            let (s, v) = exchange(&app, &token).await;
            assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")), "{why}: {v}");
        }
        // Nothing was created on the way: the admin and the one user.
        app.wait_count(count, 2).await;

        let res = app
            .token_request(&[("grant_type", EXCHANGE)], None)
            .await;
        assert_eq!(res.status(), 400);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], "invalid_request");

        // A deactivated user, then a deleted provider: refused.
        let (s, _) = app
            .call(&admin, Method::PUT, &format!("/user-identities/{uid}/deactivate"), None)
            .await;
        assert_eq!(s, 200);
        let (s, _) = exchange(&app, &id_token(&keys, ISSUER, CLIENT, "ext-1", 300)).await;
        assert_eq!(s, 400);
        let (s, _) = app
            .call(&admin, Method::PUT, &format!("/user-identities/{uid}/activate"), None)
            .await;
        assert_eq!(s, 200);
        let (s, _) = exchange(&app, &id_token(&keys, ISSUER, CLIENT, "ext-1", 300)).await;
        assert_eq!(s, 200);
        app.publish("open-id-provider.deleted", Some(org), json!({"id": oidp, "organizationId": org}))
            .await;
        app.wait_count("SELECT COUNT(*) FROM open_id_providers_seen WHERE deleted = true", 1)
            .await;
        let (s, _) = exchange(&app, &id_token(&keys, ISSUER, CLIENT, "ext-1", 300)).await;
        assert_eq!(s, 400);
        app.stop().await;
    })
    .await;
}

/// The `data` of `invitation.accepted` as the invitation service writes it: the
/// invitation as its API shows it, with `login`'s fields (a completion by key adds
/// `invitationId`, `openIdProviderId`, `subject`, names).
fn accepted_invitation(
    id: Uuid,
    org: Uuid,
    email: &str,
    target: Option<Value>,
    login: Value,
) -> Value {
    let mut v = json!({"id": id, "fromIdentityId": Uuid::new_v4(), "toOrganizationId": org,
        "toTenantId": org, "invitedEmailAddress": email, "targetUserIdentityId": target,
        "expiration": {"epochSecond": 4_000_000_000i64, "nano": 0}, "accepted": true,
        "revokedAt": null, "responseReceivedAt": null, "state": "Accepted"});
    if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), login) {
        o.extend(extra);
    }
    v
}

/// `invitation.accepted` with a login makes the invited person a user identity of
/// the organization, mapped to that login (so the exchange gives a token at once),
/// once per invitation however often it arrives; an existing target identity is
/// mapped instead of a new one made; a plain accept (no login) maps nobody.
#[tokio::test]
async fn an_accepted_invitation_makes_a_mapped_user_once() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let idp = TestOpenIdProvider::start(ISSUER).await.unwrap();
        let org = Uuid::new_v4();
        let oidp = Uuid::new_v4();
        app.publish("organization.created", Some(org), json!({"id": org, "name": "Acme", "active": true}))
            .await;
        app.publish(
            "open-id-provider.created",
            Some(org),
            json!({"id": oidp, "organizationId": org, "clientId": CLIENT, "issuer": ISSUER,
                "jwksUri": idp.jwks_uri, "active": true, "deleted": false}),
        )
        .await;
        app.wait_count("SELECT COUNT(*) FROM open_id_providers_seen", 1).await;
        app.wait_count("SELECT COUNT(*) FROM organizations_seen", 1).await;

        let invitation = Uuid::new_v4();
        let accepted = accepted_invitation(invitation, org, "new.person@acme.com", None, json!({
            "invitationId": invitation, "organizationId": org, "email": "new.person@acme.com",
            "openIdProviderId": oidp, "subject": "ext-new", "givenName": "New", "familyName": "Person",
            "via": "key"}));
        // Three deliveries (distinct event ids, as a replay would have): one identity.
        for _ in 0..3 {
            app.publish("invitation.accepted", Some(org), accepted.clone()).await;
        }
        app.wait_count("SELECT COUNT(*) FROM invitation_acceptances", 1).await;
        // A plain accept (no login) maps nobody.
        app.publish("invitation.accepted", Some(org),
            accepted_invitation(Uuid::new_v4(), org, "plain@acme.com", None, json!({"via": "api"})))
            .await;
        let (s, v) = exchange(&app, &id_token(&idp, ISSUER, CLIENT, "ext-new", 300)).await;
        assert_eq!(s, 200, "{v}");
        let at = v["access_token"].as_str().unwrap().to_string();
        let (s, me) = app.call(&at, Method::GET, "/identities/self", None).await;
        assert_eq!(s, 200, "{me}");
        assert_eq!(me["email"], "new.person@acme.com");
        assert_eq!(me["name"], "New Person");
        assert_eq!(me["organizationId"], org.to_string());
        // Admin + the new user; the plain accept created nobody.
        app.wait_count("SELECT COUNT(*) FROM identities", 2).await;
        let count = |sql: &'static str| {
            let db = app.db.clone();
            let backend = app.backend;
            async move {
                let row = db
                    .query_one(Statement::from_string(backend, sql))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<i64>(0).unwrap()
            }
        };
        assert_eq!(count("SELECT COUNT(*) FROM identities").await, 2);
        assert_eq!(count("SELECT COUNT(*) FROM identity_mappings").await, 1);
        // One identity.created for it, with the invitation id and default roles.
        let rows = app
            .db
            .query_all(Statement::from_string(
                app.backend,
                "SELECT payload FROM outbox WHERE event_type = 'identity.created'",
            ))
            .await
            .unwrap();
        let created: Vec<Value> = rows
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.try_get::<String>("", "payload").unwrap()).unwrap())
            .filter(|v| v["data"]["invitationId"] == invitation.to_string())
            .collect();
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0]["data"]["identityId"], me["id"]);
        assert_eq!(created[0]["data"]["grantDefaultRoles"], true);

        // An invitation for an existing user: that user is mapped, nobody is created.
        let (s, u) = app
            .call(&admin, Method::POST, "/user-identities",
                Some(json!({"organizationId": org, "firstName": "Old", "lastName": "Timer", "email": "old@acme.com"})))
            .await;
        assert_eq!(s, 201, "{u}");
        let second = Uuid::new_v4();
        app.publish("invitation.accepted", Some(org),
            accepted_invitation(second, org, "Someone.Else@acme.com", Some(u["id"].clone()), json!({
                "invitationId": second, "organizationId": org, "email": "someone.else@acme.com",
                "openIdProviderId": oidp, "subject": "ext-old"})))
            .await;
        app.wait_count("SELECT COUNT(*) FROM invitation_acceptances", 2).await;
        let (s, v) = exchange(&app, &id_token(&idp, ISSUER, CLIENT, "ext-old", 300)).await;
        assert_eq!(s, 200, "{v}");
        let at = v["access_token"].as_str().unwrap().to_string();
        let (_, me) = app.call(&at, Method::GET, "/identities/self", None).await;
        assert_eq!(me["id"], u["id"]);
        assert_eq!(count("SELECT COUNT(*) FROM identities").await, 3);
        app.stop().await;
    })
    .await;
}

/// A provider served over real TLS on loopback (a CA made by the test, trusted by
/// `open_id_providers.ca_file`): its ID token is exchanged, the JWKS read over
/// HTTPS; without the CA the same token is refused (the keys cannot be read).
#[tokio::test]
async fn an_id_token_of_a_provider_over_tls_is_exchanged() {
    let idp = TestOpenIdProvider::start_tls().await.unwrap();
    assert!(
        idp.jwks_uri.starts_with("https://127.0.0.1:"),
        "{}",
        idp.jwks_uri
    );
    let database = idp_runtime::testing::TestDatabase::sqlite().unwrap();
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut settings = settings_for(&database, dir.path());
    settings.open_id_providers.ca_file = idp.write_ca_file(dir.path()).unwrap();
    let app = spawn_with(settings, std::sync::Arc::new(database), dir).await;
    let untrusting = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let org = Uuid::new_v4();
    let oidp = Uuid::new_v4();
    for a in [&app, &untrusting] {
        a.publish(
            "organization.created",
            Some(org),
            json!({"id": org, "name": "Acme", "active": true}),
        )
        .await;
        a.publish(
            "open-id-provider.created",
            Some(org),
            json!({"id": oidp, "organizationId": org, "clientId": CLIENT, "issuer": idp.issuer,
                "jwksUri": idp.jwks_uri, "active": true, "deleted": false}),
        )
        .await;
        a.wait_count("SELECT COUNT(*) FROM open_id_providers_seen", 1)
            .await;
        a.wait_count("SELECT COUNT(*) FROM organizations_seen", 1)
            .await;
        let admin = a.admin_token().await;
        let (s, u) = a
            .call(&admin, Method::POST, "/user-identities",
                Some(json!({"organizationId": org, "firstName": "Tls", "lastName": "User", "email": "tls@acme.com"})))
            .await;
        assert_eq!(s, 201, "{u}");
        let uid = u["id"].as_str().unwrap().to_string();
        let (s, _) = a
            .call(
                &admin,
                Method::POST,
                &format!("/user-identities/{uid}/mapping"),
                Some(json!({"auth0UserId": "ext-tls", "identityProviderId": oidp})),
            )
            .await;
        assert_eq!(s, 200);
    }
    let token = id_token(&idp, &idp.issuer, CLIENT, "ext-tls", 300);
    let (s, v) = exchange(&app, &token).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(idp.jwks_fetches(), 1);
    let (s, v) = exchange(&untrusting, &token).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert_eq!(
        idp.jwks_fetches(),
        1,
        "no JWKS read without trusting the CA"
    );
    app.stop().await;
    untrusting.stop().await;
}
