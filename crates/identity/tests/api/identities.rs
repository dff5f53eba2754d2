//! The identity endpoints: API accounts, users, `/identities`, preferences, the
//! read models fed by events, and enforcement (with a stand-in authorization
//! service).

use std::time::Duration;

use idp_model::events::Envelope;
use idp_model::ROOT_ORGANIZATION_ID;
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const BASE: &str = "/identity/v1";

impl TestApp {
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, self.url(&format!("{BASE}{path}")))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn token_of(&self, client_id: &str, secret: &str) -> reqwest::Response {
        self.token_request(
            &[("grant_type", "client_credentials")],
            Some((client_id, secret)),
        )
        .await
    }

    pub async fn publish(&self, kind: &str, org: Option<Uuid>, data: Value) {
        let e = Envelope::new(
            kind,
            "organization",
            org.map(idp_model::OrganizationId),
            data,
            time::OffsetDateTime::now_utc(),
        );
        self.bus.publish(&e).await.unwrap();
    }

    /// Polls until `sql` (a COUNT, `?` placeholders for `values`) answers `want`.
    pub async fn wait_count_with(&self, sql: &str, values: Vec<sea_orm::Value>, want: i64) {
        let sql = if self.backend == sea_orm::DbBackend::Postgres {
            let mut out = String::new();
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            sql.to_string()
        };
        for _ in 0..100 {
            let row = self
                .db
                .query_one(Statement::from_sql_and_values(
                    self.backend,
                    &sql,
                    values.clone(),
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get_by_index(0).unwrap();
            if n == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{sql} never answered {want}");
    }

    pub async fn wait_count(&self, sql: &str, want: i64) {
        self.wait_count_with(sql, Vec::new(), want).await
    }
}

pub fn field_of(v: &Value) -> String {
    v["errors"][0]["field"].as_str().unwrap_or("").to_string()
}

async fn create_api(app: &TestApp, token: &str, org: Uuid, name: &str) -> Value {
    let (s, v) = app
        .call(
            token,
            Method::POST,
            "/api-account-identities",
            Some(
                json!({"organizationId": org, "name": name, "contactEmail": "Ops@Acme.com",
                "description": "d", "grantDefaultRoles": true, "provider": "Cognito"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v
}

async fn announce_org(app: &TestApp, org: Uuid) {
    app.publish(
        "organization.created",
        Some(org),
        json!({"id": org, "name": "Acme", "label": "acme", "active": true}),
    )
    .await;
    app.wait_count_with(
        "SELECT COUNT(*) FROM organizations_seen WHERE id = ?",
        vec![org.into()],
        1,
    )
    .await;
}

#[tokio::test]
async fn api_accounts_lifecycle() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let root = ROOT_ORGANIZATION_ID.as_uuid();
        let created = create_api(&app, &admin, root, "HR Bridge").await;
        let acct = &created["apiAccountIdentity"];
        for f in [
            "id", "organizationId", "auth0ClientId", "awsCognitoClientId", "authenticationUrl",
            "name", "contactEmail", "description", "active", "createdAt", "updatedAt",
            "deletedAt", "tenantId", "email", "type",
        ] {
            assert!(acct.get(f).is_some(), "{f} missing in {acct}");
        }
        assert_eq!(acct["type"], "ApiAccountIdentity");
        assert_eq!(acct["contactEmail"], "ops@acme.com");
        assert_eq!(acct["email"], "ops@acme.com");
        assert_eq!(acct["tenantId"], root.to_string());
        assert_eq!(acct["awsCognitoClientId"], created["clientId"]);
        assert_eq!(created["authenticationUrl"], acct["authenticationUrl"]);
        let id = acct["id"].as_str().unwrap().to_string();
        let client_id = created["clientId"].as_str().unwrap().to_string();
        let secret = created["password"].as_str().unwrap().to_string();

        // The secret is stored only hashed.
        let row = app
            .db
            .query_one(Statement::from_string(
                app.backend,
                format!("SELECT secret_hash FROM identities WHERE client_id = '{client_id}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        let hash: String = row.try_get_by_index(0).unwrap();
        assert_ne!(hash, secret);

        // Its one-time secret gets a token; the token reads itself.
        let res = app.token_of(&client_id, &secret).await;
        assert_eq!(res.status(), 200);
        let tok: Value = res.json().await.unwrap();
        let own = tok["access_token"].as_str().unwrap().to_string();
        let (s, me) = app.call(&own, Method::GET, "/identities/self", None).await;
        assert_eq!(s, 200);
        assert_eq!(me["id"], id.as_str());

        let (s, got) = app
            .call(&admin, Method::GET, &format!("/api-account-identities/{id}"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(got["name"], "HR Bridge");
        let (s, got) = app
            .call(
                &admin,
                Method::GET,
                &format!("/api-account-identities/mapping/{client_id}"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(got["id"], id.as_str());

        // Finds and filters.
        let (s, list) = app
            .call(
                &admin,
                Method::GET,
                &format!("/api-account-identities?organizationId={root}&name=hr%20bridge&contactEmail=OPS@acme.com&active=true"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        // Auth0 is the reference's deprecated provider: accepted, and it means
        // the same as Cognito here (the platform's own token endpoint).
        let (_, cognito) = app
            .call(&admin, Method::GET, "/api-account-identities?provider=Cognito", None)
            .await;
        let (_, auth0) = app
            .call(&admin, Method::GET, "/api-account-identities?provider=Auth0", None)
            .await;
        assert!(!cognito.as_array().unwrap().is_empty());
        assert_eq!(auth0, cognito);
        let (s, made) = app
            .call(
                &admin,
                Method::POST,
                "/api-account-identities",
                Some(json!({"organizationId": root, "name": "Legacy", "provider": "Auth0"})),
            )
            .await;
        assert_eq!(s, 201, "{made}");
        assert!(made["authenticationUrl"].as_str().unwrap().ends_with("/oauth/token"));
        let (s, _) = app
            .call(
                &admin,
                Method::POST,
                "/api-account-identities",
                Some(json!({"organizationId": root, "name": "Other", "provider": "Okta"})),
            )
            .await;
        assert_eq!(s, 400);
        let (s, _) = app
            .call(&admin, Method::GET, "/api-account-identities?active=maybe", None)
            .await;
        assert_eq!(s, 400);

        // Update.
        let (s, up) = app
            .call(
                &admin,
                Method::PUT,
                &format!("/api-account-identities/{id}"),
                Some(json!({"name": "HR Bridge 2", "description": "new"})),
            )
            .await;
        assert_eq!(s, 200, "{up}");
        assert_eq!(up["name"], "HR Bridge 2");
        assert_eq!(up["contactEmail"], "ops@acme.com");
        assert!(up["updatedAt"]["epochSecond"].is_i64());

        // Deactivated: no token, and the token it holds is refused.
        let (s, d) = app
            .call(&admin, Method::PUT, &format!("/api-account-identities/{id}/deactivate"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(d["active"], false);
        let res = app.token_of(&client_id, &secret).await;
        assert_eq!(res.status(), 401);
        let (s, _) = app.call(&own, Method::GET, "/identities/self", None).await;
        assert_eq!(s, 401);
        let (s, _) = app
            .call(&admin, Method::PUT, &format!("/api-account-identities/{id}/explode"), None)
            .await;
        assert_eq!(s, 404);

        // Activated again: a new token works.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (s, a) = app
            .call(&admin, Method::PUT, &format!("/api-account-identities/{id}/activate"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(a["active"], true);
        assert_eq!(app.token_of(&client_id, &secret).await.status(), 200);

        // Events went through the outbox.
        app.wait_count(
            "SELECT COUNT(*) FROM outbox WHERE event_type IN ('identity.created','identity.updated','identity.deactivated','identity.activated')",
            6,
        )
        .await;

        // Deleted: hidden unless includeDeleted, no token.
        let (s, _) = app
            .call(&admin, Method::DELETE, &format!("/api-account-identities/{id}"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(app.token_of(&client_id, &secret).await.status(), 401);
        let (_, list) = app
            .call(&admin, Method::GET, "/api-account-identities?name=HR%20Bridge%202", None)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 0);
        let (_, list) = app
            .call(
                &admin,
                Method::GET,
                "/api-account-identities?name=HR%20Bridge%202&includeDeleted=true",
                None,
            )
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field_and_bad_ids_404() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let admin = app.admin_token().await;
    let root = ROOT_ORGANIZATION_ID.as_uuid();
    let cases = [
        (
            "/api-account-identities",
            json!({"organizationId": Uuid::new_v4(), "name": "x"}),
            "organizationId",
        ),
        (
            "/api-account-identities",
            json!({"name": "x"}),
            "organizationId",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": "nope", "name": "x"}),
            "organizationId",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": root, "name": 5}),
            "name",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": root, "name": " "}),
            "name",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": root, "name": "x", "contactEmail": "bad"}),
            "contactEmail",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": root, "name": "x", "grantDefaultRoles": "yes"}),
            "grantDefaultRoles",
        ),
        (
            "/api-account-identities",
            json!({"organizationId": root, "name": "x", "provider": "Okta"}),
            "provider",
        ),
        (
            "/user-identities",
            json!({"organizationId": Uuid::new_v4(), "firstName": "a", "lastName": "b", "email": "a@b.io"}),
            "organizationId",
        ),
        (
            "/user-identities",
            json!({"organizationId": root, "firstName": "a", "lastName": "b", "email": "not-an-email"}),
            "email",
        ),
        (
            "/user-identities",
            json!({"organizationId": root, "firstName": "a", "lastName": "b"}),
            "email",
        ),
        (
            "/user-identities",
            json!({"organizationId": root, "firstName": [], "lastName": "b", "email": "a@b.io"}),
            "firstName",
        ),
        (
            "/identity-preferences",
            json!({"preferences": "x"}),
            "preferences",
        ),
        (
            "/identity-preferences",
            json!({"userIdentityId": Uuid::new_v4(), "preferences": {}}),
            "userIdentityId",
        ),
    ];
    for (path, body, field) in cases {
        let (s, v) = app
            .call(&admin, Method::POST, path, Some(body.clone()))
            .await;
        assert_eq!(s, 400, "{path} {body}: {v}");
        assert_eq!(field_of(&v), field, "{path} {body}: {v}");
    }
    let res = app
        .client
        .post(app.url("/identity/v1/user-identities"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    for path in [
        "/identities/nope",
        "/user-identities/nope",
        "/api-account-identities/nope",
        "/identity-preferences/nope",
        "/user-identities/mapping/x/nope",
        "/api-account-identities/mapping/unknown",
    ] {
        let (s, _) = app.call(&admin, Method::GET, path, None).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = app
        .call(
            &admin,
            Method::GET,
            &format!("/identities/{}", Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .call(
            &admin,
            Method::PUT,
            "/user-identities/nope/deactivate",
            None,
        )
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn user_identities_lifecycle_mappings_and_mfa() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let org = Uuid::new_v4();
        announce_org(&app, org).await;
        let (s, u) = app
            .call(
                &admin,
                Method::POST,
                "/user-identities",
                Some(json!({"organizationId": org, "firstName": "Jane", "lastName": "Doe", "email": " Jane.Doe@ACME.com"})),
            )
            .await;
        assert_eq!(s, 201, "{u}");
        for f in [
            "id", "organizationId", "firstName", "lastName", "email", "identityMappings",
            "active", "createdAt", "deletedAt", "tenantId", "name", "type",
        ] {
            assert!(u.get(f).is_some(), "{f} missing in {u}");
        }
        assert_eq!(u["name"], "Jane Doe");
        assert_eq!(u["email"], "jane.doe@acme.com");
        assert_eq!(u["type"], "UserIdentity");
        assert_eq!(u["tenantId"], org.to_string());
        assert_eq!(u["identityMappings"], json!([]));
        let id = u["id"].as_str().unwrap().to_string();

        // The same email (any case) in the same organization: 409; in another: fine.
        let (s, _) = app
            .call(
                &admin,
                Method::POST,
                "/user-identities",
                Some(json!({"organizationId": org, "firstName": "J", "lastName": "D", "email": "JANE.DOE@acme.com"})),
            )
            .await;
        assert_eq!(s, 409);
        let (s, _) = app
            .call(
                &admin,
                Method::POST,
                "/user-identities",
                Some(json!({"organizationId": ROOT_ORGANIZATION_ID, "firstName": "J", "lastName": "D", "email": "jane.doe@acme.com"})),
            )
            .await;
        assert_eq!(s, 201);

        // Update.
        let (s, up) = app
            .call(
                &admin,
                Method::PUT,
                &format!("/user-identities/{id}"),
                Some(json!({"firstName": "Janet"})),
            )
            .await;
        assert_eq!(s, 200, "{up}");
        assert_eq!(up["name"], "Janet Doe");
        assert_eq!(up["email"], "jane.doe@acme.com");

        // Mappings: the provider must be one of the identity's organization.
        let provider = Uuid::new_v4();
        let foreign = Uuid::new_v4();
        app.publish(
            "identity-provider.created",
            Some(org),
            json!({"id": provider, "organizationId": org, "name": "Okta",
                "auth0ConnectionId": "con_okta"}),
        )
        .await;
        app.publish(
            "identity-provider.created",
            None,
            json!({"id": foreign, "organizationId": Uuid::new_v4()}),
        )
        .await;
        app.wait_count("SELECT COUNT(*) FROM identity_providers_seen", 2).await;
        // The read model is the invitation service's too (idp_runtime::read_models).
        app.wait_count(
            "SELECT COUNT(*) FROM identity_providers_seen WHERE auth0_connection_id = 'con_okta'",
            1,
        )
        .await;
        let map = |p: Uuid, sub: &str| json!({"auth0UserId": sub, "identityProviderId": p});
        let (s, v) = app
            .call(&admin, Method::POST, &format!("/user-identities/{id}/mapping"), Some(map(foreign, "sub-1")))
            .await;
        assert_eq!(s, 400);
        assert_eq!(field_of(&v), "identityProviderId");
        let (s, _) = app
            .call(&admin, Method::POST, &format!("/user-identities/{id}/mapping"), Some(map(provider, "sub-1")))
            .await;
        assert_eq!(s, 200);
        let (s, _) = app
            .call(&admin, Method::POST, &format!("/user-identities/{id}/mapping"), Some(map(provider, "sub-1")))
            .await;
        assert_eq!(s, 409);
        let (s, got) = app
            .call(&admin, Method::GET, &format!("/user-identities/mapping/sub-1/{provider}"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(got["id"], id.as_str());
        assert_eq!(got["identityMappings"][0]["auth0UserId"], "sub-1");
        assert_eq!(got["identityMappings"][0]["identityProviderId"], provider.to_string());
        assert_eq!(got["identityMappings"][0]["userIdentityId"], id.as_str());

        // Finds.
        let (_, list) = app
            .call(
                &admin,
                Method::GET,
                &format!("/user-identities?organizationId={org}&identityProviderId={provider}&firstName=janet&lastName=DOE&active=true"),
                None,
            )
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        let (_, list) = app
            .call(&admin, Method::GET, &format!("/user-identities?tenantId={org}&email=nobody@acme.com"), None)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 0);

        // /identities: the guide picks one by email.
        let (s, all) = app.call(&admin, Method::GET, "/identities", None).await;
        assert_eq!(s, 200);
        let emails: Vec<&str> = all
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["email"].as_str())
            .collect();
        assert!(emails.contains(&"jane.doe@acme.com"));
        let (_, one) = app
            .call(&admin, Method::GET, &format!("/identities?organizationId={org}&email=Jane.Doe@acme.com"), None)
            .await;
        assert_eq!(one.as_array().unwrap().len(), 1);
        let (s, g) = app.call(&admin, Method::GET, &format!("/identities/{id}"), None).await;
        assert_eq!(s, 200);
        assert_eq!(g["firstName"], "Janet");

        // Reset MFA: recorded, 200 without a body.
        let res = app
            .client
            .put(app.url(&format!("{BASE}/user-identities/{id}/reset-mfa")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().is_empty());
        app.wait_count_with(
            "SELECT COUNT(*) FROM identities WHERE id = ? AND mfa_reset_at IS NOT NULL AND mfa_reset_by IS NOT NULL AND mfa_enrolled = false",
            vec![id.parse::<Uuid>().unwrap().into()],
            1,
        )
        .await;

        // Deactivate, activate, delete.
        let (s, d) = app
            .call(&admin, Method::PUT, &format!("/user-identities/{id}/deactivate"), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(d["active"], false);
        let (_, list) = app
            .call(&admin, Method::GET, &format!("/user-identities?organizationId={org}&active=false"), None)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (s, _) = app
            .call(&admin, Method::PUT, &format!("/user-identities/{id}/activate"), None)
            .await;
        assert_eq!(s, 200);
        let (s, _) = app
            .call(&admin, Method::DELETE, &format!("/user-identities/{id}"), None)
            .await;
        assert_eq!(s, 200);
        // Deleted: the email is free again.
        let (s, _) = app
            .call(
                &admin,
                Method::POST,
                "/user-identities",
                Some(json!({"organizationId": org, "firstName": "J", "lastName": "D", "email": "jane.doe@acme.com"})),
            )
            .await;
        assert_eq!(s, 201);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn racing_creates_with_one_email_let_one_win() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            let client = app.client.clone();
            let url = app.url(&format!("{BASE}/user-identities"));
            let admin = admin.clone();
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(admin)
                    .json(&json!({"organizationId": ROOT_ORGANIZATION_ID, "firstName": format!("R{i}"), "lastName": "X", "email": "race@acme.com"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }));
        }
        let mut codes = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
        assert!(codes.iter().all(|c| *c == 201 || *c == 409), "{codes:?}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn organization_events_feed_the_read_model_and_deactivation_refuses_tokens() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let admin = app.admin_token().await;
    let org = Uuid::new_v4();
    announce_org(&app, org).await;
    let created = create_api(&app, &admin, org, "svc").await;
    let cid = created["clientId"].as_str().unwrap().to_string();
    let secret = created["password"].as_str().unwrap().to_string();
    let res = app.token_of(&cid, &secret).await;
    assert_eq!(res.status(), 200);
    let tok: Value = res.json().await.unwrap();
    let own = tok["access_token"].as_str().unwrap().to_string();
    app.publish(
        "organization.deactivated",
        Some(org),
        json!({"organizationId": org, "active": false}),
    )
    .await;
    app.wait_count_with(
        "SELECT COUNT(*) FROM organizations_seen WHERE id = ? AND active = false",
        vec![org.into()],
        1,
    )
    .await;
    assert_eq!(app.token_of(&cid, &secret).await.status(), 401);
    let (s, _) = app.call(&own, Method::GET, "/identities/self", None).await;
    assert_eq!(s, 401);
    // Redelivery changes nothing; activation lets tokens be issued again.
    app.publish("organization.activated", Some(org), json!({"id": org}))
        .await;
    app.wait_count_with(
        "SELECT COUNT(*) FROM organizations_seen WHERE id = ? AND active = true",
        vec![org.into()],
        1,
    )
    .await;
    assert_eq!(app.token_of(&cid, &secret).await.status(), 200);
    // A deleted organization takes no new identities.
    app.publish("organization.deleted", Some(org), json!({"id": org}))
        .await;
    app.wait_count_with(
        "SELECT COUNT(*) FROM organizations_seen WHERE id = ? AND deleted = true",
        vec![org.into()],
        1,
    )
    .await;
    let (s, v) = app
        .call(
            &admin,
            Method::POST,
            "/api-account-identities",
            Some(json!({"organizationId": org, "name": "x"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(field_of(&v), "organizationId");
    app.stop().await;
}

#[tokio::test]
async fn enforcement_filters_finds_and_refuses_changes() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let admin = app.admin_token().await;
    let root = ROOT_ORGANIZATION_ID.as_uuid();
    let other = Uuid::new_v4();
    announce_org(&app, other).await;
    let me = create_api(&app, &admin, root, "limited").await;
    let my_id: Uuid = me["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (_, u_root) = app
        .call(&admin, Method::POST, "/user-identities",
            Some(json!({"organizationId": root, "firstName": "R", "lastName": "U", "email": "r@acme.com"})))
        .await;
    let (_, u_other) = app
        .call(&admin, Method::POST, "/user-identities",
            Some(json!({"organizationId": other, "firstName": "O", "lastName": "U", "email": "o@acme.com"})))
        .await;
    let tok: Value = app
        .token_of(
            me["clientId"].as_str().unwrap(),
            me["password"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    let t = tok["access_token"].as_str().unwrap().to_string();

    // No permissions at all: only itself.
    app.authz.restrict(my_id, &[]);
    let (s, all) = app.call(&t, Method::GET, "/identities", None).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![my_id.to_string().as_str()]);
    let (s, _) = app
        .call(&t, Method::GET, &format!("/identities/{my_id}"), None)
        .await;
    assert_eq!(s, 200);
    let uid = u_root["id"].as_str().unwrap();
    let (s, _) = app
        .call(&t, Method::GET, &format!("/user-identities/{uid}"), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .call(&t, Method::POST, "/user-identities",
            Some(json!({"organizationId": root, "firstName": "a", "lastName": "b", "email": "x@acme.com"})))
        .await;
    assert_eq!(s, 403);
    // Its own preferences it manages anyway.
    let (s, p) = app
        .call(
            &t,
            Method::POST,
            "/identity-preferences",
            Some(json!({"preferences": {"theme": "dark"}})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["userIdentityId"], my_id.to_string());
    // Another identity's, holding nothing on preferences there: as for an identity
    // that does not exist (no existence oracle).
    let (s, v) = app
        .call(
            &t,
            Method::POST,
            "/identity-preferences",
            Some(json!({"userIdentityId": uid, "preferences": {}})),
        )
        .await;
    assert_eq!((s, field_of(&v).as_str()), (400, "userIdentityId"), "{v}");

    // Read and reset-mfa in the root organization only.
    app.authz.restrict(
        my_id,
        &[
            ("user-identity", "read", Some(root)),
            ("user-identity", "update-reset-mfa", Some(root)),
        ],
    );
    let (_, list) = app.call(&t, Method::GET, "/user-identities", None).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&uid));
    assert!(!ids.contains(&u_other["id"].as_str().unwrap()));
    let (s, _) = app
        .call(
            &t,
            Method::PUT,
            &format!("/user-identities/{uid}/reset-mfa"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call(
            &t,
            Method::PUT,
            &format!("/user-identities/{uid}/deactivate"),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let oid = u_other["id"].as_str().unwrap();
    let (s, _) = app
        .call(
            &t,
            Method::PUT,
            &format!("/user-identities/{oid}/reset-mfa"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}

#[tokio::test]
async fn identity_preferences_crud() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let admin = app.admin_token().await;
        let (_, u) = app
            .call(&admin, Method::POST, "/user-identities",
                Some(json!({"organizationId": ROOT_ORGANIZATION_ID, "firstName": "P", "lastName": "Q", "email": "p@acme.com"})))
            .await;
        let uid = u["id"].as_str().unwrap();
        let (s, p) = app
            .call(&admin, Method::POST, "/identity-preferences",
                Some(json!({"userIdentityId": uid, "preferences": {"first": "my first preference."}})))
            .await;
        assert_eq!(s, 201, "{p}");
        for f in ["id", "userIdentityId", "preferences", "createdBy", "createdAt", "updatedAt", "deletedBy", "deletedAt"] {
            assert!(p.get(f).is_some(), "{f} missing in {p}");
        }
        assert_eq!(p["userIdentityId"], uid);
        assert_eq!(p["preferences"]["first"], "my first preference.");
        assert!(p["deletedBy"].is_null());
        let pid = p["id"].as_str().unwrap();
        let (s, g) = app.call(&admin, Method::GET, &format!("/identity-preferences/{pid}"), None).await;
        assert_eq!(s, 200);
        assert_eq!(g, p);
        let (s, up) = app
            .call(&admin, Method::PUT, &format!("/identity-preferences/{pid}"),
                Some(json!({"preferences": {"hello": "world"}})))
            .await;
        assert_eq!(s, 200);
        assert_eq!(up["preferences"], json!({"hello": "world"}));
        let (s, list) = app.call(&admin, Method::GET, "/identity-preferences", None).await;
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (s, d) = app.call(&admin, Method::DELETE, &format!("/identity-preferences/{pid}"), None).await;
        assert_eq!(s, 200);
        assert!(d["deletedAt"]["epochSecond"].is_i64());
        assert!(d["deletedBy"].is_string());
        let (s, _) = app.call(&admin, Method::GET, &format!("/identity-preferences/{pid}"), None).await;
        assert_eq!(s, 404);
        let (_, list) = app.call(&admin, Method::GET, "/identity-preferences", None).await;
        assert_eq!(list.as_array().unwrap().len(), 0);
        app.stop().await;
    })
    .await;
}

/// The status and, on 200, the access token of a client-credentials request.
async fn issued(app: &TestApp, client_id: &str, secret: &str) -> (u16, Option<String>) {
    let res = app.token_of(client_id, secret).await;
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap();
    (status, v["access_token"].as_str().map(str::to_string))
}

/// Two replicas of the service on one PostgreSQL database and one RabbitMQ
/// exchange. Replica B remembers a client for the rest of the second in which it
/// read it; replica A deactivates the account. A token B may still issue in that
/// second is refused by B and by A as soon as the revocation has arrived (within
/// 1 s), and from the next second on B issues none. Activated again on A, the
/// account gets working tokens from B.
#[tokio::test]
async fn a_replica_remembering_a_client_issues_no_lasting_token_after_a_deactivation_elsewhere() {
    use idp_runtime::testing::{amqp_url, skip_or_fail, TestDatabase};
    use std::sync::Arc;
    let Some(pg) = TestDatabase::postgres().await else {
        return;
    };
    let exchange = format!("idp.test.{}", Uuid::new_v4().simple());
    let mut buses = Vec::new();
    for _ in 0..2 {
        let bus = idp_bus::AmqpBus::connect(&amqp_url(), &exchange, 8)
            .await
            .unwrap();
        if let Err(e) = bus.wait_connected(Duration::from_secs(3)).await {
            skip_or_fail("RabbitMQ", &e.to_string());
            return;
        }
        buses.push(bus);
    }
    let database = Arc::new(pg);
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut settings = settings_for(&database, dir.path());
    settings.common.bus.exchange = exchange.clone();
    let a = spawn_on(
        settings.clone(),
        database.clone(),
        dir.clone(),
        Arc::new(buses[0].clone()),
    )
    .await;
    let b = spawn_on(settings, database, dir, Arc::new(buses[1].clone())).await;

    let admin = a.admin_token().await;
    let created = create_api(&a, &admin, ROOT_ORGANIZATION_ID.as_uuid(), "replicated").await;
    let id = created["apiAccountIdentity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cid = created["clientId"].as_str().unwrap().to_string();
    let secret = created["password"].as_str().unwrap().to_string();

    // Early in a second: B reads the client, A deactivates it, B is asked again.
    next_second().await;
    let (s, _) = issued(&b, &cid, &secret).await;
    assert_eq!(s, 200);
    let (s, _) = a
        .call(
            &admin,
            Method::PUT,
            &format!("/api-account-identities/{id}/deactivate"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, late) = issued(&b, &cid, &secret).await;
    match (s, late) {
        (401, _) => {}
        (200, Some(late)) => {
            // Issued from B's memory before the revocation reached it: B and A
            // refuse it within a second.
            let (s, _) = a.call(&late, Method::GET, "/identities/self", None).await;
            assert_eq!(s, 401);
            let deadline = std::time::Instant::now() + Duration::from_secs(1);
            loop {
                let (s, _) = b.call(&late, Method::GET, "/identities/self", None).await;
                if s == 401 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "B still accepts {s}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        other => panic!("unexpected answer {other:?}"),
    }
    // From the next second on, B reads the account again and refuses it.
    next_second().await;
    assert_eq!(issued(&b, &cid, &secret).await.0, 401);

    // Activated on A: B issues tokens that work again.
    let (s, _) = a
        .call(
            &admin,
            Method::PUT,
            &format!("/api-account-identities/{id}/activate"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    next_second().await;
    let (s, fresh) = issued(&b, &cid, &secret).await;
    assert_eq!(s, 200);
    let (s, me) = b
        .call(&fresh.unwrap(), Method::GET, "/identities/self", None)
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["id"], id.as_str());

    a.stop().await;
    b.stop().await;
    let bus = &buses[0];
    for spec in idp_runtime::outbox::platform_topology(&exchange) {
        let name = match spec.name() {
            idp_bearer::revocation::LOG => bus.log_queue(idp_bearer::revocation::LOG),
            other => other.to_string(),
        };
        let _ = bus.delete_queue(&name).await;
    }
    let _ = bus.delete_exchange().await;
}
