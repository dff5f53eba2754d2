//! The walking skeleton, through the gateway: bootstrap credentials, a token by the
//! client-credentials grant, `GET /identities/self`, health, discovery.

use crate::helpers::*;

#[tokio::test]
async fn bootstrap_credentials_give_a_token_that_reads_self_through_the_gateway() {
    let stack = start().await;
    // The credentials file: exactly three fields, readable by its owner only.
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stack.platform.credentials_file).unwrap()).unwrap();
    let mut keys: Vec<_> = raw.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["authenticationUrl", "clientId", "password"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stack.platform.credentials_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        stack.creds.authentication_url,
        stack.url("/identity/v1/oauth/token"),
        "authenticationUrl is the gateway's token endpoint"
    );

    let res = stack
        .token(&stack.creds.client_id, &stack.creds.password)
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let token = body["access_token"].as_str().unwrap();

    let res = stack
        .client
        .get(stack.url("/identity/v1/identities/self"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-request-id").is_some());
    let me: serde_json::Value = res.json().await.unwrap();
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
        assert!(me.get(f).is_some(), "field {f} missing: {me}");
    }
    assert_eq!(me["type"], "ApiAccountIdentity");
    assert_eq!(
        me["organizationId"],
        idp_model::ROOT_ORGANIZATION_ID.to_string()
    );
    assert_eq!(me["awsCognitoClientId"], stack.creds.client_id.as_str());
    stack.stop().await;
}

#[tokio::test]
async fn the_gateway_refuses_requests_without_a_valid_token() {
    let stack = start().await;
    let res = stack
        .client
        .get(stack.url("/identity/v1/identities/self"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = stack
        .client
        .get(stack.url("/identity/v1/identities/self"))
        .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A real token with one signature byte changed.
    let token = stack.admin_token().await;
    let mut bytes = token.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let res = stack
        .client
        .get(stack.url("/identity/v1/identities/self"))
        .bearer_auth(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    stack.stop().await;
}

#[tokio::test]
async fn token_endpoint_errors_through_the_gateway() {
    let stack = start().await;
    let res = stack.token(&stack.creds.client_id, "wrong-secret").await;
    assert_eq!(res.status(), 401);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    let res = stack.token("unknown-client", &stack.creds.password).await;
    assert_eq!(res.status(), 401);
    let res = stack
        .client
        .post(stack.url("/identity/v1/oauth/token"))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["error"], "unsupported_grant_type");
    stack.stop().await;
}

#[tokio::test]
async fn health_readiness_and_discovery_through_the_gateway() {
    let stack = start().await;
    for p in ["/healthz", "/readyz"] {
        let res = stack.client.get(stack.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{p}");
    }
    // The issuer is {public_url}/identity/v1: its OpenID discovery document is
    // under its path (OpenID Discovery §4), its RFC 8414 metadata at the
    // well-known suffix inserted before that path (§3) and beside the OpenID one.
    for p in [
        "/identity/v1/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/identity/v1",
        "/identity/v1/.well-known/oauth-authorization-server",
    ] {
        let res = stack.client.get(stack.url(p)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{p}");
        let conf: serde_json::Value = res.json().await.unwrap();
        assert_eq!(conf["issuer"], stack.url("/identity/v1"), "{p}");
        assert_eq!(
            conf["token_endpoint"],
            stack.url("/identity/v1/oauth/token"),
            "{p}"
        );
        assert_eq!(
            conf["response_types_supported"],
            serde_json::json!([]),
            "{p}"
        );
    }
    // No document at the root claims that issuer.
    let res = stack
        .client
        .get(stack.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let jwks: serde_json::Value = stack
        .client
        .get(stack.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    stack.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_data_keeps_the_admin_and_its_secret() {
    let stack = start().await;
    let creds = stack.creds.clone();
    let dir = stack.stop().await;
    let settings = settings_in(dir.path());
    let again = start_in(dir, settings).await;
    assert_eq!(again.creds.client_id, creds.client_id);
    let res = again.token(&creds.client_id, &creds.password).await;
    assert_eq!(res.status(), 200);
    again.stop().await;
}

#[tokio::test]
async fn the_walking_skeleton_runs_on_postgres_and_rabbitmq_too() {
    let Some(stack) = start_on_servers().await else {
        return;
    };
    let res = stack
        .admin(reqwest::Method::GET, "/identity/v1/identities/self")
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for p in ["/healthz", "/readyz"] {
        assert_eq!(
            stack
                .client
                .get(stack.url(p))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{p}"
        );
    }
    stack.stop().await;
}
