//! The token-exchange grant with an OpenID provider stand-in served on loopback.

use std::sync::Arc;

use idp_identity::keys::{generate_pem, KeyRing};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const ISSUER: &str = "https://login.acme.test";
const CLIENT: &str = "acme-client";

/// Serves a key ring's JWKS at `http://…/jwks`.
async fn provider_stand_in(keys: Arc<KeyRing>) -> String {
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let keys = keys.clone();
            async move {
                (
                    [("content-type", "application/json")],
                    keys.jwks_json().as_ref().clone(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn id_token(keys: &KeyRing, iss: &str, aud: &str, sub: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    keys.sign(&json!({"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in}))
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
        let keys = Arc::new(KeyRing::from_pem(&generate_pem().unwrap()).unwrap());
        let jwks_uri = provider_stand_in(keys.clone()).await;
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
        let other_keys = KeyRing::from_pem(&generate_pem().unwrap()).unwrap();
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
