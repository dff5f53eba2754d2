//! The axum plumbing, kept while the identity, invitation and authorization
//! services still run on axum: the axum impls of the shared extractors and answers
//! (`Json`, `Query`, `PathId`, `Caller`, `MaybeCaller`, `PageParams`, `Paged`,
//! `ApiError`), the request layer (request id, access log, request metrics), the
//! common routes, the problem fallbacks and graceful serving.
//!
//! Services reach it through `Foundation::into_axum_app`. When the last service is
//! on actix-web (`crate::web`), this module, that method and the `axum`/`tower`
//! dependencies go.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{
    DefaultBodyLimit, FromRef, FromRequest, FromRequestParts, MatchedPath, Request, State,
};
use axum::http::header::{self, AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use idp_bearer::Verifier;
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::auth::{Caller, MaybeCaller};
use crate::error::ApiError;
use crate::extract::{
    is_json_content_type, not_json, parse_json, parse_path_id, parse_query, too_large, Json,
    PathId, Query,
};
use crate::metrics::{MetricsSources, ServiceMetrics, UNMATCHED};
use crate::paging::{PageParams, Paged};
use crate::request_id::{access_log, request_id_of, InFlight, RequestContext, RequestId, HEADER};
use crate::server::ReadinessCheck;
use crate::Shutdown;

// ----- answers -----

/// Renders a problem body with its status and content type.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (problem, challenge) = self.to_problem();
        let mut res = problem_response(&problem);
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let (headers, body) = self.into_parts();
        let mut res = body.into_response();
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        res
    }
}

// ----- extractors -----

/// Maps a failure to read the body: over the body limit is a 413, anything else a
/// 400 (the connection broke, say).
pub fn body_rejection(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request("could not read the body")
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json_content_type(
            req.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        );
        let body = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if !is_json {
            return Err(not_json());
        }
        parse_json(&body).map(Json)
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

impl<S, T> FromRequestParts<S> for PathId<T>
where
    S: Send + Sync,
    T: FromStr + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| crate::extract::no_such_resource())?;
        parse_path_id(&raw).map(PathId)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        PageParams::from_request(
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        )
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        // Set by the request layer (absent when a router runs without it, in tests).
        let ctx = parts.extensions.get::<RequestContext>().cloned();
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        Caller::authenticate(&verifier, header, ctx.as_ref(), &tracing::Span::current()).await
    }
}

impl<S> FromRequestParts<S> for MaybeCaller
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.headers.get(AUTHORIZATION).is_none() {
            return Ok(MaybeCaller(None));
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|c| MaybeCaller(Some(c)))
    }
}

// ----- the request layer -----

/// The layer (`axum::middleware::from_fn_with_state`), applied per route so that
/// the matched route template is known: request id, span, access log, metrics.
pub async fn request_layer(
    State(metrics): State<Arc<ServiceMetrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = request_id_of(req.headers().get(HEADER).and_then(|v| v.to_str().ok()));
    let route: Arc<str> = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::from(m.as_str()))
        .unwrap_or_else(|| Arc::from(UNMATCHED));
    let method = req.method().clone();
    let path = idp_common::redact::path(req.uri().path()).into_owned();
    let ctx = RequestContext::new(metrics.clone());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(ctx.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        path = %path,
        identity_id = tracing::field::Empty,
        organization_id = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let in_flight = InFlight::start(&metrics);
    let mut res = next.run(req).instrument(span).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    metrics.record_request(method.as_str(), &route, status, elapsed);
    access_log(
        &id,
        method.as_str(),
        &route,
        &path,
        status,
        elapsed,
        ctx.caller(),
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

// ----- the server -----

async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(checks): State<Arc<Vec<ReadinessCheck>>>) -> Response {
    match crate::server::readiness(&checks).await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(failures) => problem_response(&Problem::service_unavailable(failures)),
    }
}

#[derive(Clone)]
struct MetricsState {
    metrics: Arc<ServiceMetrics>,
    sources: MetricsSources,
}

async fn metrics_page(State(st): State<MetricsState>) -> Response {
    let text = st.metrics.render(&st.sources).await;
    (
        [(header::CONTENT_TYPE, idp_common::metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

async fn not_found() -> Response {
    problem_response(&Problem::not_found("no such resource"))
}

async fn method_not_allowed() -> Response {
    problem_response(&crate::server::method_not_allowed())
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
        .route("/metrics", get(metrics_page))
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
        .layer(axum::middleware::from_fn_with_state(metrics, request_layer))
}

/// Handlers that read a raw body (`Bytes`) get axum's plain-text 413 when it is over
/// the limit; every service answers the problem body instead (as the JSON extractor).
async fn problem_for_plain_413(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
        return problem_response(&Problem::payload_too_large(
            "the request body is larger than allowed",
        ));
    }
    res
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
                post(|Json(v): Json<serde_json::Value>| async move { axum::Json(v) }),
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
