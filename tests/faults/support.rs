//! What the fault tests share: the servers (skipped outside CI when absent), a
//! client of the platform's public API through the gateway, the embedded platform
//! on PostgreSQL and RabbitMQ (optionally behind the fault proxy), and checks that
//! the event flows went quiet.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use idp_bus::{AmqpBus, EventBus};
use idp_model::identity::BootstrapCredentials;
use idp_model::ids::RoleId;
use idp_platform::{Platform, PlatformSettings};
use idp_runtime::outbox::topology::{queue_name, PLATFORM_CONSUMERS};
use idp_runtime::Shutdown;
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{json, Value};

/// PostgreSQL server URL (without database) and RabbitMQ URL, or `None` after
/// reporting the skip (a failure in CI).
pub async fn servers() -> Option<(String, String)> {
    let admin = idp_runtime::testing::postgres_admin_url();
    let pg = match tokio::time::timeout(Duration::from_secs(5), Database::connect(&admin)).await {
        Ok(Ok(db)) => {
            let _ = db.close().await;
            match admin.rfind('/') {
                Some(i) => admin[..i].to_string(),
                None => admin.clone(),
            }
        }
        other => {
            let reason = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            idp_runtime::testing::skip_or_fail("PostgreSQL", &reason);
            return None;
        }
    };
    let amqp = idp_runtime::testing::amqp_url();
    let probe = AmqpBus::connect(&amqp, "idp.test.probe", 1).await;
    let reachable = match &probe {
        Ok(bus) => bus.wait_connected(Duration::from_secs(3)).await.is_ok(),
        Err(_) => false,
    };
    if let Ok(bus) = probe {
        bus.close();
    }
    if !reachable {
        idp_runtime::testing::skip_or_fail("RabbitMQ", &format!("not reachable at {amqp}"));
        return None;
    }
    Some((pg, amqp))
}

/// The broker's address (for the proxy) from an AMQP URL.
pub fn amqp_addr(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).unwrap();
    let rest = rest.rsplit('@').next().unwrap();
    let hostport = rest.split('/').next().unwrap();
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5672")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport.parse().unwrap()
}

/// `url` with its host and port replaced by `addr` (user, password, vhost kept).
pub fn amqp_via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, hostpart) = match rest.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), rest),
    };
    let vhost = hostpart.split_once('/').map(|(_, v)| v).unwrap_or("");
    format!("{scheme}://{userinfo}{addr}/{vhost}")
}

pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A client of the platform through its gateway, as the super-admin.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub creds: BootstrapCredentials,
    admin: tokio::sync::Mutex<Option<String>>,
}

impl Api {
    pub fn new(base: String, creds: BootstrapCredentials) -> Api {
        Api {
            base,
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            creds,
            admin: tokio::sync::Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
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

    /// An access token for `client_id`, retried while the platform starts.
    pub async fn token_of(&self, client_id: &str, secret: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let res = self.token(client_id, secret).await;
            let status = res.status().as_u16();
            if status == 200 {
                let v: Value = res.json().await.unwrap();
                return v["access_token"].as_str().unwrap().to_string();
            }
            let body = res.text().await.unwrap_or_default();
            assert!(Instant::now() < deadline, "no token: {status} {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn admin_token(&self) -> String {
        let mut t = self.admin.lock().await;
        if let Some(t) = &*t {
            return t.clone();
        }
        let token = self
            .token_of(&self.creds.client_id.clone(), &self.creds.password.clone())
            .await;
        *t = Some(token.clone());
        token
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        send(req).await
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.admin_token().await;
        self.call_as(&token, method, path, body).await
    }

    /// The super-admin's Super Admin grant arrives by event; waits for it.
    pub async fn wait_for_super_admin(&self) {
        let token = self.admin_token().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let id = loop {
            let (st, me) = self
                .call_as(&token, Method::GET, "/identity/v1/identities/self", None)
                .await;
            if st == 200 {
                break me["id"].as_str().unwrap().to_string();
            }
            assert!(Instant::now() < deadline, "self: {st} {me}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        loop {
            let (st, perms) = self
                .call_as(
                    &token,
                    Method::GET,
                    &format!("/auth/v1/identities/{id}/permissions"),
                    None,
                )
                .await;
            if st == 200
                && perms
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["roleName"] == "Super Admin"))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the bootstrap super admin never got its Super Admin grant: {st} {perms}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST` retried until the receiving service learned (by event) what it needs.
    pub async fn create_eventually(&self, path: &str, body: Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (st, v) = self.call(Method::POST, path, Some(body.clone())).await;
            if st == 201 || st == 200 {
                return v;
            }
            assert!(Instant::now() < deadline, "{path}: {st} {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new organization with `default_roles`; returns its id.
    pub async fn organization_with_default_roles(&self, default_roles: &[RoleId]) -> String {
        let t = tag();
        let (st, org) = self
            .call(
                Method::POST,
                "/identity/v1/organizations",
                Some(json!({"name": format!("Faults {t}"), "label": format!("faults-{t}")})),
            )
            .await;
        assert_eq!(st, 201, "{org}");
        let org_id = org["id"].as_str().unwrap().to_string();
        for role in default_roles {
            let (st, dr) = self
                .call(
                    Method::POST,
                    "/identity/v1/default-roles",
                    Some(json!({"organizationId": org_id, "roleType": "Standard", "roleId": role})),
                )
                .await;
            assert_eq!(st, 201, "{dr}");
        }
        org_id
    }

    /// A user of `org` (created without explicit permissions); returns its id.
    pub async fn create_user(&self, org: &str) -> String {
        let t = tag();
        let v = self
            .create_eventually(
                "/identity/v1/user-identities",
                json!({"organizationId": org, "firstName": "Fault", "lastName": t, "email": format!("f-{t}@example.com")}),
            )
            .await;
        v["id"].as_str().unwrap().to_string()
    }

    /// An API account of `org`; returns `(id, clientId, secret)`.
    pub async fn create_api_account(
        &self,
        org: &str,
        grant_default_roles: bool,
    ) -> (String, String, String) {
        let v = self
            .create_eventually(
                "/identity/v1/api-account-identities",
                json!({"organizationId": org, "name": format!("acct {}", tag()), "grantDefaultRoles": grant_default_roles}),
            )
            .await;
        (
            v["apiAccountIdentity"]["id"].as_str().unwrap().to_string(),
            v["clientId"].as_str().unwrap().to_string(),
            v["password"].as_str().unwrap().to_string(),
        )
    }

    /// Every live grant of `role` in `org` (all pages).
    pub async fn role_grants(&self, org: &str, role: RoleId) -> Vec<Value> {
        let mut all = Vec::new();
        for page in 0.. {
            let (st, v) = self
                .call(
                    Method::GET,
                    &format!(
                        "/auth/v1/grants?organizationId={org}&roleId={role}&size=1000&page={page}"
                    ),
                    None,
                )
                .await;
            assert_eq!(st, 200, "{v}");
            let items = v.as_array().unwrap().clone();
            let n = items.len();
            all.extend(items);
            if n < 1000 {
                break;
            }
        }
        all
    }

    /// How many grants of `role` each identity has in `org`.
    pub async fn grant_counts(&self, org: &str, role: RoleId) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for g in self.role_grants(org, role).await {
            *counts
                .entry(g["identityId"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
        counts
    }

    /// Waits until each of `identities` has a grant of each of `roles` in `org`
    /// (asserting nobody ever has two), at most `timeout`.
    pub async fn wait_for_default_grants(
        &self,
        org: &str,
        roles: &[RoleId],
        identities: &[String],
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let mut missing = 0;
            for role in roles {
                let counts = self.grant_counts(org, *role).await;
                for (id, n) in &counts {
                    assert!(*n <= 1, "{id} has {n} grants of {role}");
                }
                missing += identities
                    .iter()
                    .filter(|i| !counts.contains_key(*i))
                    .count();
            }
            if missing == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{missing} default-role grants still missing after {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Asserts the grants of `roles` in `org` are exactly one per identity in
    /// `identities`, nobody else's.
    pub async fn assert_exact_grants(&self, org: &str, roles: &[RoleId], identities: &[String]) {
        for role in roles {
            let counts = self.grant_counts(org, *role).await;
            let mut expected: Vec<&String> = identities.iter().collect();
            expected.sort();
            let mut got: Vec<&String> = counts.keys().collect();
            got.sort();
            assert_eq!(got.len(), expected.len(), "grants of {role} in {org}");
            assert_eq!(got, expected, "grants of {role} in {org}");
            assert!(
                counts.values().all(|n| *n == 1),
                "a duplicate grant of {role}"
            );
        }
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Where the events of one platform instance live: its services' databases and
/// its exchange. Used to wait until every event was published and consumed, and
/// to remove the broker objects at the end.
pub struct EventPlumbing {
    pub amqp_url: String,
    pub exchange: String,
    pub databases: Vec<String>,
}

impl EventPlumbing {
    /// Waits until no outbox holds an unpublished event and no consumer queue
    /// holds a message (events then still in a consumer's hands are acked ones
    /// being finished, or duplicates the inbox drops).
    pub async fn wait_quiet(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let bus = AmqpBus::connect(&self.amqp_url, &self.exchange, 1)
            .await
            .unwrap();
        bus.wait_connected(Duration::from_secs(10)).await.unwrap();
        let mut dbs = Vec::new();
        for url in &self.databases {
            dbs.push(Database::connect(url).await.unwrap());
        }
        loop {
            let mut busy = Vec::new();
            for (db, url) in dbs.iter().zip(&self.databases) {
                let row = db
                    .query_one(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL",
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                let n: i64 = row.try_get("", "n").unwrap();
                if n > 0 {
                    busy.push(format!("{n} unpublished in {}", db_name(url)));
                }
            }
            for c in PLATFORM_CONSUMERS {
                let q = queue_name(&self.exchange, c.service);
                let n = bus.queue_depth(&q).await.unwrap();
                if n > 0 {
                    busy.push(format!("{n} waiting in {q}"));
                }
            }
            if busy.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "events still moving: {busy:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for db in dbs {
            let _ = db.close().await;
        }
        bus.close();
    }

    /// Deletes the exchange, the consumer queues, their dead-letter queues and the
    /// revocation log of this instance.
    pub async fn remove_broker_objects(&self) {
        let Ok(bus) = AmqpBus::connect(&self.amqp_url, &self.exchange, 1).await else {
            return;
        };
        if bus.wait_connected(Duration::from_secs(5)).await.is_err() {
            return;
        }
        for c in PLATFORM_CONSUMERS {
            let _ = bus
                .delete_queue(&queue_name(&self.exchange, c.service))
                .await;
        }
        let _ = bus
            .delete_queue(&bus.log_queue(idp_bearer::revocation::LOG))
            .await;
        let _ = bus.delete_exchange().await;
        bus.close();
    }

    /// A bus on this instance's exchange, straight to RabbitMQ.
    pub async fn bus(&self) -> AmqpBus {
        let bus = AmqpBus::connect(&self.amqp_url, &self.exchange, 8)
            .await
            .unwrap();
        bus.wait_connected(Duration::from_secs(10)).await.unwrap();
        bus
    }

    /// Sanity check of the bus used by the tests.
    pub async fn healthy(&self) -> bool {
        self.bus().await.health().await.is_ok()
    }
}

fn db_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The embedded platform (every service and the gateway in this process) on
/// PostgreSQL and the broker at `amqp_url` (possibly the fault proxy).
pub struct Embedded {
    pub platform: Option<Platform>,
    pub api: Api,
    pub events: EventPlumbing,
    _dir: tempfile::TempDir,
}

impl Embedded {
    pub async fn start(pg_server: &str, amqp_url: &str, broker_url: &str) -> Embedded {
        idp_common::telemetry::init_for_tests();
        let dir = tempfile::tempdir().unwrap();
        let t = tag();
        let prefix = format!("idp_test_{t}_");
        let exchange = format!("idp.test.{t}");
        let settings = PlatformSettings {
            data_dir: dir.path().join("data").display().to_string(),
            listen: "127.0.0.1:0".into(),
            identity_port: 0,
            organization_port: 0,
            invitation_port: 0,
            authorization_port: 0,
            postgres_url: idp_common::Secret::new(pg_server.to_string()),
            database_prefix: prefix.clone(),
            amqp_url: idp_common::Secret::new(amqp_url.to_string()),
            exchange: exchange.clone(),
            ..Default::default()
        };
        let platform = Platform::start(settings, Shutdown::new()).await.unwrap();
        let creds: BootstrapCredentials =
            serde_json::from_slice(&std::fs::read(&platform.credentials_file).unwrap()).unwrap();
        let api = Api::new(format!("http://{}", platform.gateway_addr), creds);
        api.wait_for_super_admin().await;
        let databases = ["identity", "organization", "invitation", "authorization"]
            .iter()
            .map(|s| format!("{pg_server}/{prefix}{s}"))
            .collect();
        Embedded {
            platform: Some(platform),
            api,
            events: EventPlumbing {
                amqp_url: broker_url.to_string(),
                exchange,
                databases,
            },
            _dir: dir,
        }
    }

    pub async fn stop(mut self) {
        if let Some(p) = self.platform.take() {
            p.stop().await.unwrap();
        }
        self.events.remove_broker_objects().await;
    }
}
