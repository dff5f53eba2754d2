//! Spawning the identity service for a test, and typed request helpers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use uuid::Uuid;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use idp_bus::EventBus;
use idp_identity::{Deps, IdentitySettings};
use idp_model::identity::BootstrapCredentials;
use idp_runtime::testing::TestDatabase;
use idp_runtime::Shutdown;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub creds: BootstrapCredentials,
    pub db: sea_orm::DatabaseConnection,
    pub settings: IdentitySettings,
    pub shutdown: Shutdown,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub dir: Arc<tempfile::TempDir>,
    pub backend: sea_orm::DbBackend,
    pub bus: Arc<dyn EventBus>,
    pub authz: AuthzStub,
    _database: Arc<TestDatabase>,
}

type Restrictions = Arc<std::sync::Mutex<HashMap<Uuid, Vec<(String, String, Option<Uuid>)>>>>;

/// A stand-in for the authorization service's permissions endpoint: every identity
/// holds every identity action platform-wide, unless the test restricted it to a
/// list of `(resource type, action, organization)`.
#[derive(Clone)]
pub struct AuthzStub {
    pub url: String,
    restricted: Restrictions,
    /// Serves as long as the stub lives.
    _server: Arc<MockServer>,
}

const TYPES: [(&str, &[&str]); 3] = [
    (
        "user-identity",
        &["create", "read", "update", "delete", "update-reset-mfa"],
    ),
    (
        "api-account-identity",
        &["create", "read", "update", "delete"],
    ),
    (
        "identity-preference",
        &["create", "read", "update", "delete"],
    ),
];

impl AuthzStub {
    pub async fn start() -> AuthzStub {
        let restricted: Restrictions = Default::default();
        let r = restricted.clone();
        let server = MockServer::start().await;
        // Grant checks are allowed here (the rule is the authorization service's,
        // tested there and end to end through the gateway).
        Mock::given(method("POST"))
            .and(path("/auth/v1/grant-checks"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"allowed": true, "roleIds": []})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/auth/v1/identities/[^/]+/permissions$"))
            .respond_with(move |req: &wiremock::Request| {
                let segments: Vec<&str> = req.url.path().split('/').collect();
                let Some(Ok(id)) = segments.get(4).map(|s| s.parse::<Uuid>()) else {
                    return ResponseTemplate::new(400);
                };
                let list: Vec<(String, String, Option<Uuid>)> = match r.lock().unwrap().get(&id) {
                    Some(l) => l.clone(),
                    None => TYPES
                        .iter()
                        .flat_map(|(t, acts)| {
                            acts.iter().map(|a| (t.to_string(), a.to_string(), None))
                        })
                        .collect(),
                };
                let perms: Vec<serde_json::Value> = list
                    .into_iter()
                    .map(|(t, a, org)| {
                        serde_json::json!({
                            "identityId": id,
                            "resourceType": t,
                            "action": a,
                            "resourceActionId": Uuid::new_v4(),
                            "organizationId": org,
                            "path": [],
                            "grantId": Uuid::new_v4(),
                            "roleId": null,
                            "roleName": null,
                        })
                    })
                    .collect();
                ResponseTemplate::new(200).set_body_json(perms)
            })
            .mount(&server)
            .await;
        AuthzStub {
            url: server.uri(),
            restricted,
            _server: Arc::new(server),
        }
    }

    /// From now on `identity` holds only these permissions.
    pub fn restrict(&self, identity: Uuid, perms: &[(&str, &str, Option<Uuid>)]) {
        self.restricted.lock().unwrap().insert(
            identity,
            perms
                .iter()
                .map(|(t, a, o)| (t.to_string(), a.to_string(), *o))
                .collect(),
        );
    }
}

pub fn settings_for(db: &TestDatabase, dir: &std::path::Path) -> IdentitySettings {
    let mut s = IdentitySettings::default();
    s.common.http.listen = "127.0.0.1:0".into();
    s.common.database = db.settings.clone();
    s.token.key_file = dir.join("key.pem").display().to_string();
    s.secrets.pepper_file = dir.join("pepper.key").display().to_string();
    s.bootstrap.credentials_file = dir.join("creds.json").display().to_string();
    s.flow_tokens.secret_file = dir.join("flow-token.key").display().to_string();
    // No organization service: only the read model answers (tests/api/owner.rs
    // sets a stand-in).
    s.common.organizations.url = String::new();
    s
}

pub async fn spawn_with(
    settings: IdentitySettings,
    database: Arc<TestDatabase>,
    dir: Arc<tempfile::TempDir>,
) -> TestApp {
    let bus: Arc<dyn EventBus> = idp_bus::connect("", "test", 8).await.unwrap();
    spawn_on(settings, database, dir, bus).await
}

/// The service on `bus` (several replicas share one database and one bus).
pub async fn spawn_on(
    mut settings: IdentitySettings,
    database: Arc<TestDatabase>,
    dir: Arc<tempfile::TempDir>,
    bus: Arc<dyn EventBus>,
) -> TestApp {
    idp_common::telemetry::init_for_tests();
    let authz = AuthzStub::start().await;
    settings.common.authz.url = authz.url.clone();
    settings.common.authz.cache_ttl_ms = 0;
    let shutdown = Shutdown::new();
    let app = idp_identity::build(
        settings.clone(),
        Deps {
            bus: bus.clone(),
            clock: idp_runtime::clock::system(),
            shutdown: shutdown.clone(),
            listener: None,
            start: idp_common::shutdown::Gate::opened(),
        },
    )
    .await
    .expect("identity service builds");
    let addr = app.local_addr();
    let handle = tokio::spawn(app.run());
    let creds: BootstrapCredentials = serde_json::from_slice(
        &std::fs::read(&settings.bootstrap.credentials_file).expect("credentials file"),
    )
    .expect("credentials parse");
    let db = idp_runtime::db::connect(&settings.common.database)
        .await
        .unwrap();
    TestApp {
        addr,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        creds,
        db,
        settings,
        shutdown,
        handle,
        dir,
        backend: database.backend,
        bus,
        authz,
        _database: database,
    }
}

pub async fn spawn(database: TestDatabase) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let settings = settings_for(&database, dir.path());
    spawn_with(settings, Arc::new(database), dir).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn token_request(
        &self,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/identity/v1/oauth/token"))
            .form(form);
        if let Some((u, p)) = basic {
            req = req.basic_auth(u, Some(p));
        }
        req.send().await.unwrap()
    }

    pub async fn admin_token(&self) -> String {
        let res = self
            .token_request(
                &[("grant_type", "client_credentials")],
                Some((&self.creds.client_id, &self.creds.password)),
            )
            .await;
        assert_eq!(res.status(), 200);
        let v: serde_json::Value = res.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.handle.await;
    }
}

/// Runs an async test body against SQLite and, when reachable (always in CI), PostgreSQL.
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

/// Sleeps until just after the wall clock's next second begins (the token endpoint
/// remembers a client for the rest of the second in which it read it).
pub async fn next_second() {
    let now = time::OffsetDateTime::now_utc();
    let into = u64::from(now.millisecond());
    tokio::time::sleep(std::time::Duration::from_millis(1000 - into + 20)).await;
}
