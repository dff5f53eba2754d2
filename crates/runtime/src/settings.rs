//! Settings pieces every service shares. A service's own settings type embeds them.

use serde::{Deserialize, Serialize};

use idp_bearer::VerifierSettings;
use idp_common::Secret;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user@host:5432/db` or `sqlite://path/to/file.db`. Env: `DATABASE_URL`.
    /// Default: a SQLite file under `./data` named after the service.
    pub url: Secret<String>,
    /// Connection pool size. Default 10.
    pub max_connections: u32,
    /// Run the service's migrations at start-up. Default true; operators who migrate
    /// separately turn it off.
    pub run_migrations: bool,
}

impl DatabaseSettings {
    pub fn sqlite_default(service: &str) -> Self {
        DatabaseSettings {
            url: Secret::new(format!("sqlite://./data/{service}.db")),
            ..Default::default()
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: Secret::new("sqlite://./data/service.db".into()),
            max_connections: 10,
            run_migrations: true,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusSettings {
    /// `amqp://guest:guest@127.0.0.1:5672/%2f` for RabbitMQ; empty means the
    /// in-process bus (embedded default only). Env: `AMQP_URL`.
    pub amqp_url: Secret<String>,
    /// The durable topic exchange every event goes through. Default `idp.events`.
    pub exchange: String,
    /// Unacknowledged deliveries a consumer holds at once. Default 32.
    pub prefetch: u16,
    /// How often the outbox relay looks for unsent events when not woken. Default 500 ms.
    pub relay_poll_ms: u64,
}

impl BusSettings {
    pub fn relay_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.relay_poll_ms.max(10))
    }
}

impl Default for BusSettings {
    fn default() -> Self {
        BusSettings {
            amqp_url: Secret::new(String::new()),
            exchange: "idp.events".into(),
            prefetch: 32,
            relay_poll_ms: 500,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on; port 0 picks a free port. Default per service.
    pub listen: String,
    /// Largest accepted request body in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// On SIGTERM: how long in-flight requests may still run after the listener
    /// closed; then they are dropped and the process exits non-zero. Keep it below
    /// the pod's `terminationGracePeriodSeconds`. Default 25 s.
    pub shutdown_grace_secs: u64,
}

impl HttpSettings {
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_grace_secs)
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: "127.0.0.1:0".into(),
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 25,
        }
    }
}

/// What every service has: where it listens, its database, the bus, and how it
/// verifies bearer tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommonSettings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub verifier: VerifierSettings,
    pub authz: crate::authz::AuthzSettings,
    /// The organization service, asked about organizations the read model lacks.
    pub organizations: crate::organizations::OrganizationsSettings,
    pub telemetry: idp_common::telemetry::TelemetrySettings,
}

impl CommonSettings {
    pub fn for_service(service: &str, listen: &str) -> Self {
        CommonSettings {
            http: HttpSettings {
                listen: listen.into(),
                ..Default::default()
            },
            database: DatabaseSettings::sqlite_default(service),
            bus: BusSettings::default(),
            verifier: VerifierSettings::default(),
            authz: Default::default(),
            organizations: Default::default(),
            telemetry: Default::default(),
        }
    }
}

impl Default for CommonSettings {
    fn default() -> Self {
        Self::for_service("service", "127.0.0.1:0")
    }
}

/// Loads a service's settings: defaults, then its TOML file (path from the
/// `{PREFIX}_CONFIG` variable, else `{service}.toml` in the working directory), then
/// `{PREFIX}__…` variables, with `DATABASE_URL` and `AMQP_URL` as aliases.
pub fn load<T>(prefix: &str, service: &str) -> anyhow::Result<T>
where
    T: serde::de::DeserializeOwned + Serialize + Default,
{
    let file =
        std::env::var(format!("{prefix}_CONFIG")).unwrap_or_else(|_| format!("{service}.toml"));
    Ok(idp_common::settings::Layers::new(prefix)
        .file(file)
        .alias("DATABASE_URL", "database.url")
        .alias("AMQP_URL", "bus.amqp_url")
        .load()?)
}
