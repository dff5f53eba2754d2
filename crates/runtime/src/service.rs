//! The frame of a service: bind, connect and migrate the database, start the outbox
//! relay, make the token verifier; then serve the service's routes until shutdown.
//! A service crate supplies its migrator and its routes, nothing else: on
//! actix-web with [`Foundation::into_app`] (see `crate::web`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::web::ServiceConfig;
use idp_bearer::Verifier;
use idp_bus::EventBus;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;

use crate::authz::Authz;
use crate::clock::SharedClock;
use crate::metrics::{MetricsSources, ServiceMetrics};
use crate::outbox::{Relay, RelayHandle};
use crate::server::{self, Deps, ReadinessCheck};
use crate::settings::CommonSettings;
use crate::web::server::WebApp;
use crate::Shutdown;

/// Everything a service's handlers build on, ready before its routes exist.
pub struct Foundation {
    pub db: DatabaseConnection,
    pub relay: RelayHandle,
    pub verifier: Verifier,
    /// Enforcement: the caller's permissions from the authorization service.
    pub authz: Authz,
    /// The owner of organizations, for those the read model does not know yet.
    pub organizations: crate::organizations::OrganizationOwner,
    pub clock: SharedClock,
    pub bus: Arc<dyn EventBus>,
    pub shutdown: Shutdown,
    /// The service's metrics (`/metrics`); a service may register its own families.
    pub metrics: Arc<ServiceMetrics>,
    listener: TcpListener,
    max_body_bytes: usize,
    shutdown_grace: std::time::Duration,
}

impl Foundation {
    /// Binds (or takes the pre-bound listener), connects and migrates the database
    /// with `M`, and starts the outbox relay. An empty `verifier.jwks_url` means this
    /// process serves the JWKS itself (the identity service).
    pub async fn prepare<M: MigratorTrait>(
        common: &CommonSettings,
        deps: Deps,
    ) -> anyhow::Result<Foundation> {
        let listener = match deps.listener {
            Some(l) => l,
            None => server::bind(&common.http.listen).await?,
        };
        let addr = listener.local_addr()?;
        let mut verifier_settings = common.verifier.clone();
        if verifier_settings.jwks_url.is_empty() {
            verifier_settings.jwks_url = format!("http://{addr}/identity/v1/.well-known/jwks.json");
        }
        let db = crate::db::connect_and_migrate::<M>(&common.database).await?;
        let verifier = Verifier::new(verifier_settings);
        // Deactivated identities' and organizations' tokens are refused from the
        // event on, not from their expiry.
        idp_bearer::revocation::listen(deps.bus.clone(), verifier.clone()).await?;
        // Every consumer queue of the platform exists before this relay publishes,
        // so no event is dropped for want of its queue (on every reconnect too).
        crate::outbox::declare_platform_topology(&*deps.bus, &common.bus.exchange).await?;
        let authz = Authz::over_http(&common.authz)?;
        authz.listen_for_grants(deps.bus.clone()).await?;
        let organizations = crate::organizations::OrganizationOwner::new(&common.organizations)?;
        let relay = Relay::spawn_after(
            db.clone(),
            deps.bus.clone(),
            common.bus.relay_poll(),
            deps.shutdown.clone(),
            deps.start.clone(),
        );
        Ok(Foundation {
            db,
            relay,
            verifier,
            authz,
            organizations,
            clock: deps.clock,
            bus: deps.bus,
            shutdown: deps.shutdown,
            metrics: ServiceMetrics::new(),
            listener,
            max_body_bytes: common.http.max_body_bytes,
            shutdown_grace: common.http.shutdown_grace(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The service's actix-web app: its routes (`configure` registers them and the
    /// service's app data, on every worker) with the common ones; readiness checks
    /// the database, the bus and the revocation log, plus `extra` checks of the
    /// service's own.
    pub fn into_app(
        self,
        configure: impl Fn(&mut ServiceConfig) + Send + Sync + 'static,
        extra: Vec<ReadinessCheck>,
    ) -> ServiceApp {
        let checks = self.checks(extra);
        let web = WebApp::new(configure, checks, self.max_body_bytes)
            .observed(self.metrics.clone(), self.sources())
            .verifier(self.verifier.clone());
        self.serving(web)
    }

    fn checks(&self, extra: Vec<ReadinessCheck>) -> Vec<ReadinessCheck> {
        let bus = self.bus.clone();
        let verifier = self.verifier.clone();
        let mut checks = vec![
            ReadinessCheck::database(self.db.clone()),
            ReadinessCheck::new("bus", move || {
                let bus = bus.clone();
                async move { bus.health().await }
            }),
            // No token is accepted before the revocations were replayed: not
            // ready until then.
            ReadinessCheck::new("revocations", move || {
                let known = verifier.revocations_known();
                async move {
                    if known {
                        Ok(())
                    } else {
                        Err("the revocation log is not replayed yet".to_string())
                    }
                }
            }),
        ];
        checks.extend(extra);
        checks
    }

    fn sources(&self) -> MetricsSources {
        MetricsSources {
            relay: Some(self.relay.clone()),
            verifier: Some(self.verifier.clone()),
        }
    }

    fn serving(self, app: WebApp) -> ServiceApp {
        ServiceApp {
            app,
            listener: self.listener,
            shutdown: self.shutdown,
            verifier: self.verifier,
            relay: self.relay,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

/// A service ready to serve.
pub struct ServiceApp {
    listener: TcpListener,
    app: WebApp,
    shutdown: Shutdown,
    verifier: Verifier,
    relay: RelayHandle,
    shutdown_grace: std::time::Duration,
}

impl ServiceApp {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The service's token verifier (events feed its revocations).
    pub fn verifier(&self) -> Verifier {
        self.verifier.clone()
    }

    /// Serves until shutdown; then stops accepting, lets in-flight requests finish
    /// (for at most `http.shutdown_grace_secs`) and waits for the outbox relay's
    /// last pass (it publishes for up to 2 s more; what is left goes out after
    /// restart). An error when requests had to be dropped.
    pub async fn run(self) -> anyhow::Result<()> {
        let served =
            crate::web::server::serve(self.listener, self.app, self.shutdown, self.shutdown_grace)
                .await;
        self.relay.join().await;
        served
    }
}

/// `main` of a service running as its own process: telemetry, signals, the bus
/// from configuration, then build and serve.
pub async fn run_standalone<F, Fut>(
    name: &str,
    common: &CommonSettings,
    build: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Deps) -> Fut,
    Fut: Future<Output = anyhow::Result<ServiceApp>>,
{
    idp_common::telemetry::init(&common.telemetry);
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    let bus = idp_bus::connect(
        common.bus.amqp_url.expose(),
        &common.bus.exchange,
        common.bus.prefetch,
    )
    .await?;
    let app = build(Deps {
        bus: bus.clone(),
        clock: crate::clock::system(),
        shutdown: shutdown.clone(),
        listener: None,
        start: idp_common::shutdown::Gate::opened(),
    })
    .await?;
    // `IDP_MIGRATE_ONLY=1`: a migration Job runs the image once; building the
    // service applied the migrations (and the first-start bootstrap), so stop here.
    if std::env::var("IDP_MIGRATE_ONLY").is_ok_and(|v| v == "1" || v == "true") {
        tracing::info!(
            service = name,
            "migrations applied; exiting (IDP_MIGRATE_ONLY)"
        );
        shutdown.trigger();
        bus.shutdown().await;
        return Ok(());
    }
    tracing::info!(service = name, addr = %app.local_addr(), "listening");
    let ran = app.run().await;
    // Closed before `main` returns: the runtime must still run the connection's
    // tasks while it closes (else the client library logs errors on a clean stop).
    bus.shutdown().await;
    ran
}
