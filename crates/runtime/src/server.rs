//! The service server: the common routes (`/healthz`, `/readyz`, `/metrics`), the
//! common layers (request id, access log, request metrics, body limit, problem
//! fallbacks) and graceful serving.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use tokio::net::TcpListener;

use crate::error::problem_response;
use crate::metrics::{MetricsSources, MetricsState, ServiceMetrics};
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

/// Wraps a service's routes with what every service has (fresh metrics, none read
/// at scrape time; services go through [`finish_observed`]).
pub fn finish(routes: Router, checks: Vec<ReadinessCheck>, max_body_bytes: usize) -> Router {
    finish_observed(
        routes,
        checks,
        max_body_bytes,
        ServiceMetrics::new(),
        MetricsSources::default(),
    )
}

/// Wraps a service's routes with what every service has: `/healthz`, `/readyz`,
/// `/metrics` (from `metrics` and `sources`), problem fallbacks, the body limit, and
/// per request the request id, access log and request metrics.
pub fn finish_observed(
    routes: Router,
    checks: Vec<ReadinessCheck>,
    max_body_bytes: usize,
    metrics: Arc<ServiceMetrics>,
    sources: MetricsSources,
) -> Router {
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Arc::new(checks));
    let scrape = Router::new()
        .route("/metrics", get(crate::metrics::handler))
        .with_state(MetricsState {
            metrics: metrics.clone(),
            sources,
        });
    // `layer` wraps each route (and the fallbacks), inside the routing, so the
    // request layer sees the matched route template.
    routes
        .merge(health)
        .merge(scrape)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(problem_for_plain_413))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::request_id::layer,
        ))
}

/// Handlers that read a raw body (`Bytes`) get axum's plain-text 413 when it is over
/// the limit; every service answers the problem body instead (as the JSON extractor).
async fn problem_for_plain_413(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
        return problem_response(&Problem::payload_too_large(
            "the request body is larger than allowed",
        ));
    }
    res
}

/// Binds the listen address (port 0 picks a free port).
pub async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    Ok(l)
}

/// Serves until shutdown, then stops accepting and lets in-flight requests finish
/// (without a time limit; see [`serve_with_grace`]).
pub async fn serve(listener: TcpListener, app: Router, shutdown: Shutdown) -> anyhow::Result<()> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await?;
    Ok(())
}

/// Like [`serve`], but gives in-flight requests at most `grace` after shutdown
/// started; answers an error when some were still running then (they are dropped).
pub async fn serve_with_grace(
    listener: TcpListener,
    app: Router,
    shutdown: Shutdown,
    grace: Duration,
) -> anyhow::Result<()> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let stop = shutdown.clone();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.wait().await })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => return Ok(r?),
        _ = shutdown.wait() => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(r) => Ok(r?),
        Err(_) => anyhow::bail!(
            "requests still in flight {} ms after shutdown started; dropped",
            grace.as_millis()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use tower::ServiceExt;

    async fn send(app: Router, path: &str, body: Vec<u8>, chunked: bool) -> (u16, String, String) {
        let mut req = axum::http::Request::post(path).header("content-type", "application/json");
        let body = if chunked {
            let chunks = futures::stream::iter(
                body.chunks(100)
                    .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
                    .collect::<Vec<_>>(),
            );
            axum::body::Body::from_stream(chunks)
        } else {
            req = req.header("content-length", body.len());
            axum::body::Body::from(body)
        };
        let res = app.oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, ct, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_413_problems() {
        let routes = Router::new()
            .route(
                "/json",
                post(
                    |crate::extract::Json(v): crate::extract::Json<serde_json::Value>| async move {
                        axum::Json(v)
                    },
                ),
            )
            .route(
                "/raw",
                post(|b: bytes::Bytes| async move { b.len().to_string() }),
            );
        let app = finish(routes, Vec::new(), 1024);
        let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(2000)).into_bytes();
        for path in ["/json", "/raw"] {
            for chunked in [false, true] {
                let (status, ct, body) = send(app.clone(), path, big.clone(), chunked).await;
                assert_eq!(status, 413, "{path} chunked={chunked}: {body}");
                assert_eq!(ct, PROBLEM_CONTENT_TYPE, "{path} chunked={chunked}");
                assert!(body.contains("payload-too-large"), "{body}");
            }
            let (status, _, _) = send(app.clone(), path, br#"{"name":"x"}"#.to_vec(), false).await;
            assert_eq!(status, 200, "{path}");
        }
    }
}
