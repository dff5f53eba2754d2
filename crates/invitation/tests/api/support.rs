//! Spawning the invitation service for a test with what it needs around it: an
//! in-process bus (to feed it other services' events), a stand-in token issuer
//! (the shared OpenID-provider double signs platform access tokens and serves
//! their JWKS), a stand-in authorization service that allows every invitation
//! action, and optionally a fixed clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idp_bearer::oidc::testing::TestOpenIdProvider;
use idp_bus::EventBus;
use idp_model::events::Envelope;
use idp_runtime::clock::SharedClock;
use idp_runtime::testing::TestDatabase;
use idp_runtime::Shutdown;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const ISSUER: &str = "https://issuer.platform.test/identity/v1";

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub db: sea_orm::DatabaseConnection,
    pub backend: sea_orm::DbBackend,
    pub bus: Arc<dyn EventBus>,
    pub settings: idp_invitation::Settings,
    pub issuer: TestOpenIdProvider,
    pub shutdown: Shutdown,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub dir: tempfile::TempDir,
    _authz: MockServer,
    _database: TestDatabase,
}

/// Answers every identity's permissions: every invitation action, platform-wide;
/// and every grant check (`POST /auth/v1/grant-checks`) as allowed (the rule is
/// the authorization service's, tested there and end to end).
async fn authz_stand_in() -> (String, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/v1/grant-checks"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"allowed": true, "roleIds": []})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/auth/v1/identities/[^/]+/permissions$"))
        .respond_with(|req: &Request| {
            let segment = req.url.path_segments().and_then(|mut s| s.nth(3));
            let Some(id) = segment.and_then(|s| Uuid::parse_str(s).ok()) else {
                return ResponseTemplate::new(400);
            };
            let perms: Vec<Value> = ["create", "read", "update", "delete"]
                .iter()
                .map(|a| {
                    json!({"identityId": id, "resourceType": "invitation", "action": a,
                "resourceActionId": Uuid::new_v4(), "organizationId": null, "path": [],
                "grantId": Uuid::new_v4(), "roleId": null, "roleName": null})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(perms)
        })
        .mount(&server)
        .await;
    (server.uri(), server)
}

/// Settings for a test in `dir` (files, flow-token secret) on `db`.
pub fn settings_for(db: &TestDatabase, dir: &std::path::Path) -> idp_invitation::Settings {
    let mut s = idp_invitation::Settings::default();
    s.common.http.listen = "127.0.0.1:0".into();
    s.common.database = db.settings.clone();
    s.flow_tokens.secret_file = dir.join("flow.key").display().to_string();
    s.mail.dir = dir.join("mail").display().to_string();
    s.mail.poll_ms = 50;
    // No organization service: only the read model answers (tests/api/owner.rs
    // sets a stand-in).
    s.common.organizations.url = String::new();
    s
}

pub async fn spawn_with(
    database: TestDatabase,
    dir: tempfile::TempDir,
    mut settings: idp_invitation::Settings,
    clock: SharedClock,
) -> TestApp {
    idp_common::telemetry::init_for_tests();
    let issuer = TestOpenIdProvider::start(ISSUER).await.unwrap();
    settings.common.verifier.issuer = ISSUER.into();
    settings.common.verifier.jwks_url = issuer.jwks_uri.clone();
    let (authz_url, authz) = authz_stand_in().await;
    settings.common.authz.url = authz_url;
    settings.common.authz.cache_ttl_ms = 0;
    let bus: Arc<dyn EventBus> = idp_bus::connect("", "test", 8).await.unwrap();
    let shutdown = Shutdown::new();
    let app = idp_invitation::build(
        settings.clone(),
        idp_invitation::Deps {
            bus: bus.clone(),
            clock,
            shutdown: shutdown.clone(),
            listener: None,
            start: idp_common::shutdown::Gate::opened(),
        },
    )
    .await
    .expect("invitation service builds");
    let addr = app.local_addr();
    let handle = tokio::spawn(app.run());
    let db = idp_runtime::db::connect(&settings.common.database)
        .await
        .unwrap();
    TestApp {
        addr,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        db,
        backend: database.backend,
        bus,
        settings,
        issuer,
        shutdown,
        handle,
        dir,
        _authz: authz,
        _database: database,
    }
}

pub async fn spawn(
    database: TestDatabase,
    tune: impl FnOnce(&mut idp_invitation::Settings),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&database, dir.path());
    tune(&mut settings);
    spawn_with(database, dir, settings, idp_runtime::clock::system()).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/identity/v1{}", self.addr, path)
    }

    /// A platform access token of `identity` in `org`.
    pub fn token(&self, identity: Uuid, org: Uuid) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.issuer
            .sign(
                &json!({"iss": ISSUER, "sub": identity, "aud": "platform", "iat": now,
                "exp": now + 600, "jti": Uuid::new_v4().to_string(), "organizationId": org,
                "identityType": "UserIdentity"}),
            )
            .unwrap()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Publishes an event as another service would.
    pub async fn publish(&self, kind: &str, source: &str, org: Uuid, data: Value) {
        let e = Envelope::new(
            kind,
            source,
            Some(idp_model::OrganizationId(org)),
            data,
            time::OffsetDateTime::now_utc(),
        );
        self.bus.publish(&e).await.unwrap();
    }

    fn sql(&self, sql: &str) -> String {
        if self.backend == sea_orm::DbBackend::Postgres {
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
        }
    }

    /// The first column of the first row of `sql` (a COUNT), `?` placeholders.
    pub async fn count(&self, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
        let row = self
            .db
            .query_one(Statement::from_sql_and_values(
                self.backend,
                self.sql(sql),
                values,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Polls until `sql` (a COUNT) answers `want`.
    pub async fn wait_count(&self, sql: &str, values: Vec<sea_orm::Value>, want: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = self.count(sql, values.clone()).await;
            if n == want {
                return;
            }
            assert!(Instant::now() < deadline, "{sql}: {n}, want {want}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The payloads (envelopes) of the outbox events of `kind`.
    pub async fn outbox(&self, kind: &str) -> Vec<Value> {
        let rows = self
            .db
            .query_all(Statement::from_sql_and_values(
                self.backend,
                self.sql("SELECT payload FROM outbox WHERE event_type = ? ORDER BY seq"),
                vec![kind.into()],
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| serde_json::from_str(&r.try_get::<String>("", "payload").unwrap()).unwrap())
            .collect()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.handle.await;
    }
}

/// Runs a test body on SQLite and, when reachable (always in CI), PostgreSQL.
pub async fn on_each_backend<F, Fut>(f: F)
where
    F: Fn(TestDatabase) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f(TestDatabase::sqlite().unwrap()).await;
    if let Some(pg) = TestDatabase::postgres().await {
        f(pg).await;
    }
}
