//! The embedded default: the four services and the gateway in one process, on
//! SQLite files under one data directory and an in-process event bus (or
//! PostgreSQL and RabbitMQ when given by URL). `make run` starts it; the
//! end-to-end tests start it the same way, on free ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use idp_common::telemetry::TelemetrySettings;
use idp_common::Secret;
use idp_runtime::server::Deps;
use idp_runtime::settings::CommonSettings;
use idp_runtime::Shutdown;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Settings of the embedded platform: `platform.toml` (or `PLATFORM_CONFIG`), then
/// `PLATFORM__…` variables. Every field has a default, so none is needed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformSettings {
    /// Where the SQLite files, keys and bootstrap credentials live. Default `./data`.
    pub data_dir: String,
    /// The gateway's address. Default `127.0.0.1:8080`.
    pub listen: String,
    /// The URL clients use to reach the gateway (issuer and `authenticationUrl`
    /// derive from it). Default: `http://` + the gateway's bound address.
    pub public_url: String,
    /// Host the services listen on, each on its own port. Default `127.0.0.1`.
    pub services_host: String,
    /// Port of the identity service; 0 picks a free one. Default 8081.
    pub identity_port: u16,
    /// Port of the organization service. Default 8082.
    pub organization_port: u16,
    /// Port of the invitation service. Default 8083.
    pub invitation_port: u16,
    /// Port of the authorization service. Default 8084.
    pub authorization_port: u16,
    /// PostgreSQL server URL without a database name (e.g.
    /// `postgres://postgres@127.0.0.1:5432`); each service gets its database
    /// `{database_prefix}{service}`, created if missing. Default empty: SQLite files.
    pub postgres_url: Secret<String>,
    /// Prefix of the per-service PostgreSQL database names. Default `idp_`.
    pub database_prefix: String,
    /// RabbitMQ URL; empty means the in-process bus. Default empty.
    pub amqp_url: Secret<String>,
    /// The topic exchange. Default `idp.events`.
    pub exchange: String,
    /// Accept `http://` loopback URLs (issuer, JWKS) for OpenID providers: for
    /// tests with a stand-in provider on loopback only. Default false (https only).
    pub allow_http_loopback_providers: bool,
    /// A PEM file of further CA certificates trusted for OpenID providers (the
    /// identity and invitation services' `open_id_providers.ca_file`). Default
    /// empty: the built-in Mozilla roots only.
    pub open_id_providers_ca_file: String,
    /// SMTP server of the invitation service's mail (`SMTP_URL`), e.g.
    /// `smtp://127.0.0.1:2525`. Default empty: messages are written as files under
    /// `{data_dir}/mail`.
    pub smtp_url: Secret<String>,
    /// The sender of every message. Default `no-reply@localhost`.
    pub mail_from: String,
    /// Where support requests are mailed. Default `support@localhost`.
    pub support_to: String,
    /// On SIGTERM the gateway stops accepting and finishes the requests it
    /// accepted (the services still serve them), then the services stop (their
    /// in-flight requests, consumers, a last outbox relay pass); all of it within
    /// this many seconds, else the process exits non-zero. Default 25.
    pub shutdown_grace_secs: u64,
    pub telemetry: TelemetrySettings,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            data_dir: "./data".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            services_host: "127.0.0.1".into(),
            identity_port: 8081,
            organization_port: 8082,
            invitation_port: 8083,
            authorization_port: 8084,
            postgres_url: Secret::new(String::new()),
            database_prefix: "idp_".into(),
            amqp_url: Secret::new(String::new()),
            exchange: "idp.events".into(),
            allow_http_loopback_providers: false,
            open_id_providers_ca_file: String::new(),
            smtp_url: Secret::new(String::new()),
            mail_from: "no-reply@localhost".into(),
            support_to: "support@localhost".into(),
            shutdown_grace_secs: 25,
            telemetry: TelemetrySettings {
                format: idp_common::telemetry::LogFormat::Pretty,
                ..Default::default()
            },
        }
    }
}

impl PlatformSettings {
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var("PLATFORM_CONFIG").unwrap_or_else(|_| "platform.toml".into());
        Ok(idp_common::settings::Layers::new("PLATFORM")
            .file(file)
            .alias("AMQP_URL", "amqp_url")
            .alias("SMTP_URL", "smtp_url")
            .load()?)
    }

    pub fn credentials_file(&self) -> PathBuf {
        Path::new(&self.data_dir).join("bootstrap-credentials.json")
    }
}

/// A running platform.
pub struct Platform {
    pub gateway_addr: SocketAddr,
    pub service_addrs: [SocketAddr; 4],
    pub credentials_file: PathBuf,
    pub public_url: String,
    /// The external signal (SIGTERM, a test); the gateway stops on it.
    shutdown: Shutdown,
    /// The services' signal, triggered once the gateway has stopped.
    services_shutdown: Shutdown,
    gateway_task: JoinHandle<anyhow::Result<()>>,
    service_tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    grace: std::time::Duration,
    /// Closed last, once every part stopped.
    bus: std::sync::Arc<dyn idp_bus::EventBus>,
}

const SERVICES: [&str; 4] = ["identity", "organization", "invitation", "authorization"];

async fn ensure_postgres_database(server_url: &str, name: &str) -> anyhow::Result<String> {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let base = server_url.trim_end_matches('/');
    let admin = Database::connect(format!("{base}/postgres")).await?;
    let exists = admin
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        admin
            .execute(Statement::from_string(
                DbBackend::Postgres,
                format!("CREATE DATABASE \"{name}\""),
            ))
            .await?;
    }
    let _ = admin.close().await;
    Ok(format!("{base}/{name}"))
}

impl Platform {
    /// Starts every part and returns once all listen. The bootstrap (root
    /// organization, super-admin account and its credentials file) is done before
    /// this returns.
    pub async fn start(settings: PlatformSettings, shutdown: Shutdown) -> anyhow::Result<Platform> {
        let data = PathBuf::from(&settings.data_dir);
        std::fs::create_dir_all(&data)
            .with_context(|| format!("cannot create the data directory {}", data.display()))?;
        let bus = idp_bus::connect(settings.amqp_url.expose(), &settings.exchange, 32).await?;

        // Bind everything first, so that every part knows every address.
        let mut listeners = Vec::new();
        for port in [
            settings.identity_port,
            settings.organization_port,
            settings.invitation_port,
            settings.authorization_port,
        ] {
            listeners.push(
                idp_runtime::server::bind(&format!("{}:{port}", settings.services_host)).await?,
            );
        }
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .map(|l| l.local_addr())
            .collect::<Result<_, _>>()?;
        let gateway_listener = idp_runtime::server::bind(&settings.listen).await?;
        let gateway_addr = gateway_listener.local_addr()?;
        let public_url = if settings.public_url.is_empty() {
            format!("http://{gateway_addr}")
        } else {
            settings.public_url.trim_end_matches('/').to_string()
        };
        let identity_url = format!("http://{}", addrs[0]);
        let issuer = format!("{public_url}/identity/v1");
        let jwks_url = format!("{identity_url}/identity/v1/.well-known/jwks.json");

        let mut commons = Vec::new();
        for (i, svc) in SERVICES.iter().enumerate() {
            let mut c = CommonSettings::for_service(svc, &addrs[i].to_string());
            c.database.url = if settings.postgres_url.expose().is_empty() {
                Secret::new(format!(
                    "sqlite://{}",
                    data.join(format!("{svc}.db")).display()
                ))
            } else {
                let name = format!("{}{svc}", settings.database_prefix);
                Secret::new(ensure_postgres_database(settings.postgres_url.expose(), &name).await?)
            };
            c.bus.amqp_url = settings.amqp_url.clone();
            c.bus.exchange = settings.exchange.clone();
            c.verifier.issuer = issuer.clone();
            c.verifier.jwks_url = jwks_url.clone();
            c.authz.url = format!("http://{}", addrs[3]);
            c.organizations.url = format!("http://{}", addrs[1]);
            c.telemetry = settings.telemetry.clone();
            c.http.shutdown_grace_secs = settings.shutdown_grace_secs;
            commons.push(c);
        }
        // Relays publish only once every service has built (and so subscribed its
        // consumers): an in-process event published earlier would reach nobody.
        let start = idp_common::shutdown::Gate::closed();
        let services_shutdown = Shutdown::new();
        let deps = |listener: TcpListener| Deps {
            bus: bus.clone(),
            clock: idp_runtime::clock::system(),
            shutdown: services_shutdown.clone(),
            listener: Some(listener),
            start: start.clone(),
        };
        let [identity_listener, organization_listener, invitation_listener, authorization_listener]: [TcpListener; 4] =
            listeners
                .try_into()
                .map_err(|_| anyhow::anyhow!("expected four listeners"))?;

        let mut identity = idp_identity::IdentitySettings {
            common: commons[0].clone(),
            ..Default::default()
        };
        identity.token.public_url = public_url.clone();
        identity.token.key_file = data.join("identity-signing-key.pem").display().to_string();
        identity.secrets.pepper_file = data.join("identity-pepper.key").display().to_string();
        identity.bootstrap.credentials_file = data
            .join("bootstrap-credentials.json")
            .display()
            .to_string();
        // The organization service signs `nfToken`s with this key (it is built, and
        // creates the file, before the identity service reads it).
        identity.flow_tokens.secret_file = data.join("flow-token.key").display().to_string();
        identity.open_id_providers.ca_file = settings.open_id_providers_ca_file.clone();
        let credentials_file = PathBuf::from(&identity.bootstrap.credentials_file);

        // The organization service first: the root organization exists before the
        // identity service creates the super-admin account in it.
        let organization = idp_organization::build(
            idp_organization::Settings {
                common: commons[1].clone(),
                flow_tokens: idp_runtime::flow_token::FlowTokenSettings {
                    secret_file: data.join("flow-token.key").display().to_string(),
                    ..Default::default()
                },
                open_id_providers: idp_organization::settings::OpenIdProviderSettings {
                    allow_http_loopback: settings.allow_http_loopback_providers,
                },
            },
            deps(organization_listener),
        );
        let invitation = idp_invitation::build(
            idp_invitation::Settings {
                common: commons[2].clone(),
                flow_tokens: idp_runtime::flow_token::FlowTokenSettings {
                    secret_file: data.join("flow-token.key").display().to_string(),
                    ..Default::default()
                },
                mail: idp_invitation::settings::MailSettings {
                    dir: data.join("mail").display().to_string(),
                    smtp_url: settings.smtp_url.clone(),
                    from: settings.mail_from.clone(),
                    support_to: settings.support_to.clone(),
                    ..Default::default()
                },
                // The invitation page is served behind this platform's gateway,
                // wherever that listens or is published.
                invitations: idp_invitation::settings::InvitationSettings {
                    default_url: format!("{public_url}/invitation"),
                    ..Default::default()
                },
                open_id_providers: idp_bearer::oidc::OpenIdClientSettings {
                    ca_file: settings.open_id_providers_ca_file.clone(),
                },
            },
            deps(invitation_listener),
        );
        let authorization = idp_authorization::build(
            idp_authorization::Settings {
                common: commons[3].clone(),
                identity_url: format!("http://{}", addrs[0]),
            },
            deps(authorization_listener),
        );
        let organization = organization.await?;
        let identity = idp_identity::build(identity, deps(identity_listener)).await?;
        let invitation = invitation.await?;
        let authorization = authorization.await?;

        let mut gw = idp_gateway::Settings {
            listen: gateway_addr,
            ..Default::default()
        };
        gw.telemetry = settings.telemetry.clone();
        gw.verifier.issuer = issuer;
        gw.verifier.jwks_url = jwks_url;
        for r in gw.routes.iter_mut() {
            let idx = SERVICES.iter().position(|s| *s == r.name);
            if let Some(i) = idx {
                r.upstream = format!("http://{}", addrs[i]);
            }
        }
        // The listener bound above: giving the port back and binding it again
        // could lose it to another process in between.
        let gateway = idp_gateway::build_on(gw, gateway_listener)?;
        gateway.listen_for_revocations(bus.clone()).await?;
        start.open();
        let gateway_addr = gateway.local_addr();

        let mut service_tasks = Vec::new();
        for app in [identity, organization, invitation, authorization] {
            service_tasks.push(tokio::spawn(app.run()));
        }
        let gw_shutdown = shutdown.clone();
        let gateway_task = tokio::spawn(async move { gateway.run(gw_shutdown).await });

        Ok(Platform {
            gateway_addr,
            service_addrs: [addrs[0], addrs[1], addrs[2], addrs[3]],
            credentials_file,
            public_url,
            shutdown,
            services_shutdown,
            gateway_task,
            service_tasks,
            grace: std::time::Duration::from_secs(settings.shutdown_grace_secs),
            bus,
        })
    }

    /// Stops every part and waits for them, in order: the gateway first (it stops
    /// accepting and finishes what it accepted while the services still answer
    /// it), then the services. An error when that took longer than the grace
    /// period (what was still running is dropped) or a part failed.
    pub async fn stop(self) -> anyhow::Result<()> {
        let started = tokio::time::Instant::now();
        let deadline = started + self.grace;
        self.shutdown.trigger();
        let mut failures = Vec::new();
        match tokio::time::timeout_at(deadline, self.gateway_task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => failures.push(format!("gateway: {e:#}")),
            Ok(Err(e)) => failures.push(format!("gateway task: {e}")),
            Err(_) => {
                failures.push("gateway: still draining at the end of the grace period".into())
            }
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "gateway stopped; stopping the services"
        );
        self.services_shutdown.trigger();
        for (name, t) in SERVICES.iter().zip(self.service_tasks) {
            match tokio::time::timeout_at(deadline, t).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => failures.push(format!("{name}: {e:#}")),
                Ok(Err(e)) => failures.push(format!("{name} task: {e}")),
                Err(_) => failures.push(format!(
                    "{name}: still draining at the end of the grace period"
                )),
            }
        }
        // While the runtime still runs: a clean stop logs no error of the broker's
        // client library.
        self.bus.shutdown().await;
        if failures.is_empty() {
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "platform stopped"
            );
            Ok(())
        } else {
            anyhow::bail!("unclean shutdown: {}", failures.join("; "))
        }
    }

    /// Waits until the shutdown signal, then for every part.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.shutdown.wait().await;
        self.stop().await
    }
}
