//! Test support: a fresh database per test, on PostgreSQL (the real server on this
//! machine) or SQLite (a temporary file).
//!
//! When PostgreSQL cannot be reached, tests that need it are skipped with a clear
//! message, except in CI (`CI=true`), where they fail: there they must run.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

use crate::settings::DatabaseSettings;
use crate::Secret;

/// Where the test PostgreSQL server is. Override with `TEST_DATABASE_URL`
/// (a URL to an administrative database such as `postgres`).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Where the test RabbitMQ broker is. Override with `TEST_AMQP_URL`.
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Reports a skipped test, or fails it in CI.
#[allow(clippy::panic)]
pub fn skip_or_fail(what: &str, reason: &str) {
    if in_ci() {
        panic!("{what} is required in CI but not available: {reason}");
    }
    eprintln!("SKIPPED: {what} not available ({reason}); this test did not run");
}

/// A database made for one test. SQLite files live in a temporary directory that
/// is removed with this value; PostgreSQL databases are named `idp_test_*` and are
/// dropped by `make test` before each run.
pub struct TestDatabase {
    pub settings: DatabaseSettings,
    pub backend: DbBackend,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub fn sqlite() -> anyhow::Result<TestDatabase> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("test.db");
        Ok(TestDatabase {
            settings: DatabaseSettings {
                url: Secret::new(format!("sqlite://{}", path.display())),
                max_connections: 5,
                run_migrations: true,
            },
            backend: DbBackend::Sqlite,
            _dir: Some(dir),
        })
    }

    /// A fresh PostgreSQL database, or `None` (after reporting the skip) when the
    /// server is unreachable outside CI.
    pub async fn postgres() -> Option<TestDatabase> {
        match Self::try_postgres().await {
            Ok(db) => Some(db),
            Err(e) => {
                skip_or_fail("PostgreSQL", &format!("{e:#}"));
                None
            }
        }
    }

    async fn try_postgres() -> anyhow::Result<TestDatabase> {
        let admin_url = postgres_admin_url();
        let admin = tokio::time::timeout(Duration::from_secs(5), Database::connect(&admin_url))
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting to {admin_url}"))??;
        let name = format!("idp_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(Statement::from_string(
                DbBackend::Postgres,
                format!("CREATE DATABASE {name}"),
            ))
            .await?;
        let _ = admin.close().await;
        let base = match admin_url.rfind('/') {
            Some(i) => &admin_url[..i],
            None => admin_url.as_str(),
        };
        Ok(TestDatabase {
            settings: DatabaseSettings {
                url: Secret::new(format!("{base}/{name}")),
                max_connections: 5,
                run_migrations: true,
            },
            backend: DbBackend::Postgres,
            _dir: None,
        })
    }
}

/// Runs `f` once per backend: SQLite always, PostgreSQL when available (required in CI).
#[macro_export]
macro_rules! for_each_backend {
    ($f:expr) => {{
        let sqlite = $crate::testing::TestDatabase::sqlite().expect("sqlite test database");
        ($f)(sqlite).await;
        if let Some(pg) = $crate::testing::TestDatabase::postgres().await {
            ($f)(pg).await;
        }
    }};
}

/// A service started for a test on a free port, with the in-process bus.
pub struct SpawnedService {
    pub addr: std::net::SocketAddr,
    pub shutdown: crate::Shutdown,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    pub client: reqwest::Client,
}

impl SpawnedService {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.handle.await?
    }
}

/// Builds a service with `build` (given its `Deps`) and serves it in the background.
pub async fn spawn_service<F, Fut>(build: F) -> anyhow::Result<SpawnedService>
where
    F: FnOnce(crate::server::Deps) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<crate::service::ServiceApp>>,
{
    idp_common::telemetry::init_for_tests();
    let bus = idp_bus::connect("", "test", 8).await?;
    let shutdown = crate::Shutdown::new();
    let listener = crate::server::bind("127.0.0.1:0").await?;
    let app = build(crate::server::Deps {
        bus,
        clock: crate::clock::system(),
        shutdown: shutdown.clone(),
        listener: Some(listener),
        start: idp_common::shutdown::Gate::opened(),
    })
    .await?;
    let addr = app.local_addr();
    let handle = tokio::spawn(app.run());
    Ok(SpawnedService {
        addr,
        shutdown,
        handle,
        client: reqwest::Client::builder().no_proxy().build()?,
    })
}

/// Checks what every service answers: health, readiness, a problem body for an
/// unknown route, and the request id echoed back.
#[allow(clippy::panic)]
pub async fn assert_common_routes(svc: &SpawnedService) {
    for p in ["/healthz", "/readyz"] {
        let res = svc
            .client
            .get(svc.url(p))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(res.status().as_u16(), 200, "{p}");
    }
    let res = svc
        .client
        .get(svc.url("/no/such/route"))
        .header("x-request-id", "test-req-1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("test-req-1")
    );
}
