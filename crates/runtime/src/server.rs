//! What a service's server needs whatever the framework: its dependencies
//! ([`Deps`]), readiness checks, the listener. The actix-web server (common routes,
//! middleware, graceful drain) is `crate::web::server`.

use std::sync::Arc;

use futures::future::BoxFuture;
use idp_model::Problem;
use tokio::net::TcpListener;

use crate::Shutdown;

/// What a service needs from outside: the event bus (shared by all services in the
/// embedded default), the clock, the shutdown signal, and optionally a listener
/// bound beforehand (so a caller can wire addresses before starting anything).
pub struct Deps {
    pub bus: Arc<dyn idp_bus::EventBus>,
    pub clock: crate::clock::SharedClock,
    pub shutdown: Shutdown,
    pub listener: Option<TcpListener>,
    /// Opens when every consumer of the process has subscribed; the outbox relay
    /// publishes nothing before. Standalone services pass an open gate.
    pub start: idp_common::shutdown::Gate,
}

/// One readiness check: a name and an async probe answering `Err(reason)` when not ready.
#[derive(Clone)]
pub struct ReadinessCheck {
    pub name: &'static str,
    pub probe: Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>,
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        ReadinessCheck {
            name,
            probe: Arc::new(move || Box::pin(f())),
        }
    }

    /// Ready when the database answers a ping.
    pub fn database(db: sea_orm::DatabaseConnection) -> Self {
        Self::new("database", move || {
            let db = db.clone();
            async move {
                if crate::db::ping(&db).await {
                    Ok(())
                } else {
                    Err("database does not answer".to_string())
                }
            }
        })
    }
}

/// Runs every check; `Err` lists those that failed (`name: reason; …`).
pub async fn readiness(checks: &[ReadinessCheck]) -> Result<(), String> {
    let mut failures = Vec::new();
    for c in checks {
        if let Err(reason) = (c.probe)().await {
            failures.push(format!("{}: {}", c.name, reason));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The 405 problem of a route that does not take the request's method.
pub fn method_not_allowed() -> Problem {
    Problem::new(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        "this resource does not support that method",
    )
}

/// Binds the listen address (port 0 picks a free port).
pub async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    Ok(l)
}
