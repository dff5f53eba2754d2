//! The service server: the common routes (`/healthz`, `/readyz`), the common
//! layers (request id, body limit, problem fallbacks) and graceful serving.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use idp_model::Problem;
use tokio::net::TcpListener;

use crate::error::problem_response;
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

async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(checks): State<Arc<Vec<ReadinessCheck>>>) -> Response {
    let mut failures = Vec::new();
    for c in checks.iter() {
        if let Err(reason) = (c.probe)().await {
            failures.push(format!("{}: {}", c.name, reason));
        }
    }
    if failures.is_empty() {
        axum::Json(serde_json::json!({"status": "ready"})).into_response()
    } else {
        problem_response(&Problem::service_unavailable(failures.join("; ")))
    }
}

async fn not_found() -> Response {
    problem_response(&Problem::not_found("no such resource"))
}

async fn method_not_allowed() -> Response {
    problem_response(&Problem::new(
        StatusCode::METHOD_NOT_ALLOWED.as_u16(),
        "method-not-allowed",
        "Method Not Allowed",
        "this resource does not support that method",
    ))
}

/// Wraps a service's routes with what every service has.
pub fn finish(routes: Router, checks: Vec<ReadinessCheck>, max_body_bytes: usize) -> Router {
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Arc::new(checks));
    routes
        .merge(health)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(crate::request_id::layer))
}

/// Binds the listen address (port 0 picks a free port).
pub async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    Ok(l)
}

/// Serves until shutdown, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, app: Router, shutdown: Shutdown) -> anyhow::Result<()> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await?;
    Ok(())
}
