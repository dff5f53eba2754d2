//! The token endpoint, JWKS, discovery and `GET /identities/self`.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn client_credentials_issue_a_verifiable_rs256_token() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let res = app
            .token_request(
                &[("grant_type", "client_credentials")],
                Some((&app.creds.client_id, &app.creds.password)),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().unwrap();

        let jwks: serde_json::Value = app
            .client
            .get(app.url("/identity/v1/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the token's kid is published");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&["platform"]);
        v.set_issuer(&["http://127.0.0.1:8080/identity/v1"]);
        let claims = decode::<serde_json::Value>(token, &key, &v).unwrap().claims;
        assert_eq!(claims["identityType"], "ApiAccountIdentity");
        assert_eq!(
            claims["organizationId"],
            idp_model::ROOT_ORGANIZATION_ID.to_string()
        );
        for c in ["iss", "sub", "aud", "iat", "exp", "jti"] {
            assert!(claims.get(c).is_some(), "claim {c} missing");
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn client_secret_post_is_accepted_too() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let res = app
        .token_request(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app.creds.client_id),
                ("client_secret", &app.creds.password),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    app.stop().await;
}

async fn oauth_error(res: reqwest::Response) -> (u16, String, Option<String>) {
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let v: serde_json::Value = res.json().await.unwrap();
    (
        status,
        v["error"].as_str().unwrap_or("").to_string(),
        challenge,
    )
}

#[tokio::test]
async fn bad_client_authentication_is_invalid_client() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let cc = [("grant_type", "client_credentials")];
        // wrong secret
        let (s, e, ch) = oauth_error(
            app.token_request(&cc, Some((&app.creds.client_id, "wrong")))
                .await,
        )
        .await;
        assert_eq!((s, e.as_str()), (401, "invalid_client"));
        assert!(ch.unwrap().starts_with("Basic"));
        // unknown client
        let (s, e, _) = oauth_error(
            app.token_request(&cc, Some(("nobody", &app.creds.password)))
                .await,
        )
        .await;
        assert_eq!((s, e.as_str()), (401, "invalid_client"));
        // no credentials at all
        let (s, e, _) = oauth_error(app.token_request(&cc, None).await).await;
        assert_eq!((s, e.as_str()), (401, "invalid_client"));
        // deactivated account
        let sql = match app.backend {
            sea_orm::DbBackend::Postgres => {
                "UPDATE identities SET active = false WHERE client_id = $1"
            }
            _ => "UPDATE identities SET active = false WHERE client_id = ?",
        };
        app.db
            .execute(Statement::from_sql_and_values(
                app.backend,
                sql,
                [app.creds.client_id.clone().into()],
            ))
            .await
            .unwrap();
        // A change behind the service's back (no event, as if by another replica
        // whose revocation has not arrived) is read from the next second on.
        next_second().await;
        let (s, e, _) = oauth_error(
            app.token_request(&cc, Some((&app.creds.client_id, &app.creds.password)))
                .await,
        )
        .await;
        assert_eq!((s, e.as_str()), (401, "invalid_client"));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn missing_or_unsupported_grant_types_are_400_with_oauth_codes() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let basic = Some((app.creds.client_id.as_str(), app.creds.password.as_str()));
    let (s, e, _) = oauth_error(app.token_request(&[], basic).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_request"));
    let (s, e, _) = oauth_error(
        app.token_request(&[("grant_type", "password")], basic)
            .await,
    )
    .await;
    assert_eq!((s, e.as_str()), (400, "unsupported_grant_type"));
    let (s, e, _) = oauth_error(
        app.token_request(
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "password"),
            ],
            basic,
        )
        .await,
    )
    .await;
    assert_eq!((s, e.as_str()), (400, "invalid_request"));
    // Not a form body.
    let res = app
        .client
        .post(app.url("/identity/v1/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let (s, e, _) = oauth_error(res).await;
    assert_eq!((s, e.as_str()), (400, "invalid_request"));
    app.stop().await;
}

#[tokio::test]
async fn self_answers_the_callers_identity_with_the_reference_fields() {
    on_each_backend(|db| async move {
        let app = spawn(db).await;
        let token = app.admin_token().await;
        let res = app
            .client
            .get(app.url("/identity/v1/identities/self"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("x-request-id").is_some());
        let v: serde_json::Value = res.json().await.unwrap();
        for f in [
            "id",
            "organizationId",
            "tenantId",
            "name",
            "email",
            "type",
            "active",
            "createdAt",
            "deletedAt",
        ] {
            assert!(v.get(f).is_some(), "field {f} missing in {v}");
        }
        assert_eq!(v["type"], "ApiAccountIdentity");
        assert_eq!(v["organizationId"], v["tenantId"]);
        assert_eq!(v["active"], true);
        assert!(v["createdAt"]["epochSecond"].is_i64());
        assert!(v["deletedAt"].is_null());
        assert_eq!(
            v["authenticationUrl"],
            "http://127.0.0.1:8080/identity/v1/oauth/token"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn self_without_or_with_a_bad_token_is_401() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let res = app
        .client
        .get(app.url("/identity/v1/identities/self"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app
        .client
        .get(app.url("/identity/v1/identities/self"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn a_second_start_reuses_the_data_and_creates_no_second_admin() {
    on_each_backend(|db| async move {
        let db = std::sync::Arc::new(db);
        let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let settings = settings_for(&db, dir.path());
        let first = spawn_with(settings.clone(), db.clone(), dir.clone()).await;
        let creds = first.creds.clone();
        first.stop().await;
        let second = spawn_with(settings, db.clone(), dir.clone()).await;
        assert_eq!(second.creds, creds, "the credentials file is unchanged");
        let count = second
            .db
            .query_one(Statement::from_string(
                second.backend,
                "SELECT COUNT(*) AS n FROM identities",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(count, 1);
        // The first start's secret still works.
        second.admin_token().await;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&second.settings.bootstrap.credentials_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let raw: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&second.settings.bootstrap.credentials_file).unwrap(),
        )
        .unwrap();
        let mut keys: Vec<_> = raw.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["authenticationUrl", "clientId", "password"]);
        second.stop().await;
    })
    .await;
}

#[tokio::test]
async fn discovery_names_the_issuer_token_endpoint_and_jwks() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let v: serde_json::Value = app
        .client
        .get(app.url("/identity/v1/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["issuer"], "http://127.0.0.1:8080/identity/v1");
    assert_eq!(
        v["token_endpoint"],
        "http://127.0.0.1:8080/identity/v1/oauth/token"
    );
    assert_eq!(
        v["jwks_uri"],
        "http://127.0.0.1:8080/identity/v1/.well-known/jwks.json"
    );
    // Only what exists: two grants, client secrets, no authorization endpoint
    // (so no response type), no scopes.
    let grants = json!([
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange"
    ]);
    assert_eq!(v["grant_types_supported"], grants);
    assert_eq!(v["response_types_supported"], json!([]));
    assert!(v.get("authorization_endpoint").is_none(), "{v}");
    assert!(v.get("scopes_supported").is_none(), "{v}");
    assert!(
        v.get("token_endpoint_auth_signing_alg_values_supported")
            .is_none(),
        "{v}"
    );
    assert_eq!(v["subject_types_supported"], json!(["public"]));
    assert_eq!(v["id_token_signing_alg_values_supported"], json!(["RS256"]));

    // RFC 8414 metadata: at the well-known suffix inserted before the issuer's
    // path (§3), and beside the OpenID document.
    for p in [
        "/.well-known/oauth-authorization-server/identity/v1",
        "/identity/v1/.well-known/oauth-authorization-server",
    ] {
        let res = app.client.get(app.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{p}");
        let m: serde_json::Value = res.json().await.unwrap();
        assert_eq!(m["issuer"], "http://127.0.0.1:8080/identity/v1", "{p}");
        assert_eq!(m["token_endpoint"], v["token_endpoint"], "{p}");
        assert_eq!(m["jwks_uri"], v["jwks_uri"], "{p}");
        assert_eq!(m["grant_types_supported"], grants, "{p}");
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"]),
            "{p}"
        );
        assert_eq!(m["response_types_supported"], json!([]), "{p}");
    }
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    for p in ["/healthz", "/readyz"] {
        let res = app.client.get(app.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{p}");
    }
    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    app.stop().await;
}

/// The bootstrap super-admin's `identity.created` names the account (as every
/// other account's does), so its consumers can show it, e.g. as the inviter of
/// the invitations it sends; a blank configured name falls back to the default.
#[tokio::test]
async fn the_bootstrap_admin_is_created_with_its_name_in_the_event() {
    for (configured, expected) in [("Ops Root", "Ops Root"), ("  ", "Platform Super Admin")] {
        let db = std::sync::Arc::new(idp_runtime::testing::TestDatabase::sqlite().unwrap());
        let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let mut settings = settings_for(&db, dir.path());
        settings.bootstrap.admin_name = configured.into();
        let app = spawn_with(settings, db.clone(), dir.clone()).await;
        let rows = app
            .db
            .query_all(Statement::from_string(
                app.backend,
                "SELECT payload FROM outbox WHERE event_type = 'identity.created'",
            ))
            .await
            .unwrap();
        let created: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::from_str(&r.try_get::<String>("", "payload").unwrap()).unwrap())
            .collect();
        assert_eq!(created.len(), 1, "{created:?}");
        let data = &created[0]["data"];
        assert_eq!(data["bootstrapSuperAdmin"], true, "{data}");
        assert_eq!(data["name"], expected, "{data}");
        assert_eq!(data["type"], "ApiAccountIdentity", "{data}");
        // The account itself has the same name.
        let token = app.admin_token().await;
        let me: serde_json::Value = app
            .client
            .get(app.url("/identity/v1/identities/self"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["name"], expected, "{me}");
        app.stop().await;
    }
}

/// Every OAuth answer is uncacheable; a Basic client's 401 challenge names the
/// charset (RFC 6749 §5.2); a body over the limit is a 413 problem.
#[tokio::test]
async fn token_answers_are_not_cached_and_big_bodies_are_413_problems() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let cc = [("grant_type", "client_credentials")];
    let basic = (app.creds.client_id.as_str(), app.creds.password.as_str());
    for (res, status) in [
        (app.token_request(&cc, Some(basic)).await, 200),
        (app.token_request(&[], Some(basic)).await, 400),
        (app.token_request(&cc, Some((basic.0, "wrong"))).await, 401),
    ] {
        assert_eq!(res.status(), status);
        assert_eq!(res.headers()["cache-control"], "no-store", "{status}");
        assert_eq!(res.headers()["pragma"], "no-cache", "{status}");
        assert_eq!(
            res.headers()["content-type"],
            "application/json",
            "{status}"
        );
        if status == 401 {
            assert_eq!(
                res.headers()["www-authenticate"],
                r#"Basic realm="identity", charset="UTF-8""#
            );
        }
    }
    let res = app.token_request(&cc, None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Basic realm="identity""#
    );
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": "invalid_client",
            "error_description": "client authentication is required (HTTP Basic or client_id and client_secret)"})
    );
    let big = format!(
        "grant_type=client_credentials&x={}",
        "a".repeat(2 * 1024 * 1024)
    );
    let res = app
        .client
        .post(app.url("/identity/v1/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    app.stop().await;
}

/// A known path without the method is a 405 problem naming the methods it has;
/// an unknown path (inside `/identity/v1` too) a 404 problem.
#[tokio::test]
async fn other_methods_are_405_problems_and_unknown_paths_404_problems() {
    let app = spawn(idp_runtime::testing::TestDatabase::sqlite().unwrap()).await;
    let token = app.admin_token().await;
    let id = uuid::Uuid::new_v4();
    for (method, path, allowed) in [
        (
            reqwest::Method::GET,
            "/identity/v1/oauth/token".to_string(),
            "POST",
        ),
        (
            reqwest::Method::POST,
            "/identity/v1/identities".to_string(),
            "GET",
        ),
        (
            reqwest::Method::DELETE,
            "/identity/v1/identities/self".to_string(),
            "GET",
        ),
        (
            reqwest::Method::POST,
            "/identity/v1/.well-known/jwks.json".to_string(),
            "GET",
        ),
        (
            reqwest::Method::PUT,
            "/identity/v1/api-account-identities/mapping/some-client".to_string(),
            "GET",
        ),
        (
            reqwest::Method::POST,
            format!("/identity/v1/user-identities/{id}/reset-mfa"),
            "PUT",
        ),
        (
            reqwest::Method::PUT,
            format!("/identity/v1/user-identities/{id}/mapping"),
            "POST",
        ),
        (
            reqwest::Method::GET,
            format!("/identity/v1/user-identities/{id}/activate"),
            "PUT",
        ),
        (
            reqwest::Method::POST,
            "/.well-known/oauth-authorization-server/identity/v1".to_string(),
            "GET",
        ),
    ] {
        let res = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let allow = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(allow.contains(allowed), "{method} {path}: allow {allow:?}");
    }
    // `mapping/x` is `/{id}/{action}`, which has only PUT.
    for (path, status) in [
        ("/identity/v1/nope", 404),
        ("/identity/v1/identities/self/more", 404),
        ("/identity/v1/user-identities/mapping/x", 405),
        ("/identity/v1/docs/nope", 404),
    ] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    // The docs are served at their absolute paths, beside the scope.
    let res = app
        .client
        .get(app.url("/identity/v1/docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
}
