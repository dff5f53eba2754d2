//! Starting the platform on free ports in a temporary data directory.

use idp_model::identity::BootstrapCredentials;
use idp_platform::{Platform, PlatformSettings};
use idp_runtime::Shutdown;
use serde_json::{json, Value};

pub struct Stack {
    pub platform: Platform,
    pub client: reqwest::Client,
    pub creds: BootstrapCredentials,
    pub dir: tempfile::TempDir,
    /// The super-admin's token, fetched once (the gateway rate-limits the token
    /// endpoint per client, as a real client would be).
    admin: tokio::sync::OnceCell<String>,
}

pub fn settings_in(dir: &std::path::Path) -> PlatformSettings {
    PlatformSettings {
        data_dir: dir.join("data").display().to_string(),
        listen: "127.0.0.1:0".into(),
        identity_port: 0,
        organization_port: 0,
        invitation_port: 0,
        authorization_port: 0,
        // The stand-in OpenID providers of the tests serve their JWKS on loopback.
        allow_http_loopback_providers: true,
        ..Default::default()
    }
}

pub async fn start_in(dir: tempfile::TempDir, settings: PlatformSettings) -> Stack {
    idp_common::telemetry::init_for_tests();
    let platform = Platform::start(settings, Shutdown::new())
        .await
        .expect("platform starts");
    let creds: BootstrapCredentials =
        serde_json::from_slice(&std::fs::read(&platform.credentials_file).unwrap()).unwrap();
    let stack = Stack {
        platform,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        creds,
        dir,
        admin: tokio::sync::OnceCell::new(),
    };
    stack.wait_for_super_admin().await;
    stack
}

/// The platform on SQLite files and the in-process bus.
pub async fn start() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_in(dir.path());
    start_in(dir, settings).await
}

/// The platform on PostgreSQL (fresh `idp_test_*` databases) and RabbitMQ (its own
/// exchange), or `None` after reporting the skip when they are unreachable outside CI.
pub async fn start_on_servers() -> Option<Stack> {
    let admin = idp_runtime::testing::postgres_admin_url();
    let server = match admin.rfind('/') {
        Some(i) => admin[..i].to_string(),
        None => admin.clone(),
    };
    idp_runtime::testing::TestDatabase::postgres().await?;
    let amqp = idp_runtime::testing::amqp_url();
    let probe = idp_bus::AmqpBus::connect(&amqp, "idp.test.probe", 1).await;
    let reachable = match &probe {
        Ok(bus) => bus
            .wait_connected(std::time::Duration::from_secs(3))
            .await
            .is_ok(),
        Err(_) => false,
    };
    if !reachable {
        idp_runtime::testing::skip_or_fail("RabbitMQ", &format!("not reachable at {amqp}"));
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    let tag = uuid::Uuid::new_v4().simple().to_string();
    settings.postgres_url = idp_common::Secret::new(server);
    settings.database_prefix = format!("idp_test_{}_", &tag[..12]);
    settings.amqp_url = idp_common::Secret::new(amqp);
    settings.exchange = format!("idp.test.{}", &tag[..12]);
    Some(start_in(dir, settings).await)
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.platform.gateway_addr, path)
    }

    pub async fn token(&self, client_id: &str, secret: &str) -> reqwest::Response {
        self.client
            .post(self.url("/identity/v1/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
    }

    /// The super-admin's Super Admin grant arrives by event (`identity.created` of the
    /// bootstrap, consumed by the authorization service): wait until it holds, asking
    /// the authorization service itself so no other service caches an empty answer.
    pub async fn wait_for_super_admin(&self) {
        let token = self.admin_token().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        // A process accepts no token before it has replayed the revocations
        // (on RabbitMQ, a stream read at start): 503 until then.
        let id = loop {
            let res = self
                .client
                .get(self.url("/identity/v1/identities/self"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let me: serde_json::Value = res.json().await.unwrap_or_default();
            if status == 200 {
                break me["id"].as_str().unwrap().to_string();
            }
            assert!(
                status == 503 && std::time::Instant::now() < deadline,
                "identities/self: {status} {me}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        loop {
            let res = self
                .client
                .get(self.url(&format!("/auth/v1/identities/{id}/permissions")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            if res.status() == 200 {
                let perms: serde_json::Value = res.json().await.unwrap();
                if perms
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["roleName"] == "Super Admin"))
                {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the bootstrap super admin never got its Super Admin grant"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// A request through the gateway with the super-admin's token.
    pub async fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let token = self.admin_token().await;
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    pub async fn admin_token(&self) -> String {
        self.admin
            .get_or_init(|| async {
                let res = self
                    .token(&self.creds.client_id, &self.creds.password)
                    .await;
                assert_eq!(res.status(), 200);
                let v: serde_json::Value = res.json().await.unwrap();
                v["access_token"].as_str().unwrap().to_string()
            })
            .await
            .clone()
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.platform.stop().await.unwrap();
        self.dir
    }
}

/// A request through the gateway with `token`: the status and the body (JSON, or
/// the text as a JSON string).
pub async fn call_as(
    stack: &Stack,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = stack
        .client
        .request(method, stack.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `POST` as the super admin, retried while the receiving service has not yet
/// heard of a new organization.
pub async fn admin_create(stack: &Stack, path: &str, body: Value) -> Value {
    let token = stack.admin_token().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (st, v) = call_as(
            stack,
            &token,
            reqwest::Method::POST,
            path,
            Some(body.clone()),
        )
        .await;
        if st == 201 || st == 200 {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{path}: {st} {v}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn organization(stack: &Stack, name: &str) -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let o = admin_create(
        stack,
        "/identity/v1/organizations",
        json!({"name": name, "label": format!("pv-{}", &tag[..12])}),
    )
    .await;
    o["id"].as_str().unwrap().to_string()
}

/// An API account of `org` without roles, and its token.
pub async fn account_in(stack: &Stack, org: &str, name: &str) -> (String, String) {
    let a = admin_create(
        stack,
        "/identity/v1/api-account-identities",
        json!({"organizationId": org, "name": name, "grantDefaultRoles": false}),
    )
    .await;
    let res = stack
        .token(
            a["clientId"].as_str().unwrap(),
            a["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    (
        a["apiAccountIdentity"]["id"].as_str().unwrap().to_string(),
        t["access_token"].as_str().unwrap().to_string(),
    )
}
