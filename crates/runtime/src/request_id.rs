//! Request ids, the access log and request metrics.
//!
//! The id is taken from `X-Request-Id` when the caller (usually the gateway) sent a
//! sane one, generated otherwise; it is echoed on the response and carried by the
//! request's tracing span (with the caller's identity and organization once the
//! bearer extractor verified the token). Each request ends with one access-log line
//! (target `service::access`): request id, method, route template, path (secrets
//! in it redacted), status, duration, and the caller's identity and organization
//! when authenticated. Probe and metrics requests log at debug level.

use std::sync::{Arc, OnceLock};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use idp_model::{IdentityId, OrganizationId};
use tracing::Instrument;

use crate::metrics::{ServiceMetrics, UNMATCHED};

pub const HEADER: &str = "x-request-id";

/// The request id of the current request, available to handlers as an extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Per-request context the layer puts in the request's extensions: the service's
/// metrics (token validations are counted where tokens are verified) and the slot
/// the bearer extractor fills with the authenticated caller, for the access log.
#[derive(Clone)]
pub struct RequestContext {
    pub metrics: Arc<ServiceMetrics>,
    caller: Arc<OnceLock<(IdentityId, OrganizationId)>>,
}

impl RequestContext {
    pub fn set_caller(&self, identity: IdentityId, organization: OrganizationId) {
        let _ = self.caller.set((identity, organization));
    }
}

pub fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// Decrements the in-flight gauge even when the handler's future is dropped.
struct InFlight<'a>(&'a ServiceMetrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The layer (`axum::middleware::from_fn_with_state`), applied per route so that
/// the matched route template is known.
pub async fn layer(
    State(metrics): State<Arc<ServiceMetrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|s| is_sane(s))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route: Arc<str> = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::from(m.as_str()))
        .unwrap_or_else(|| Arc::from(UNMATCHED));
    let method = req.method().clone();
    let path = idp_common::redact::path(req.uri().path()).into_owned();
    let caller = Arc::new(OnceLock::new());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(RequestContext {
        metrics: metrics.clone(),
        caller: caller.clone(),
    });
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
    metrics.request_started();
    let in_flight = InFlight(&metrics);
    let mut res = next.run(req).instrument(span).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    metrics.record_request(&method, &route, status, elapsed);
    let (identity_id, organization_id) = match caller.get() {
        Some((i, o)) => (Some(i.to_string()), Some(o.to_string())),
        None => (None, None),
    };
    let duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    macro_rules! access {
        ($level:expr) => {
            tracing::event!(
                target: "service::access",
                $level,
                request_id = %id,
                method = %method,
                route = %route,
                path = %path,
                status,
                duration_us,
                identity_id,
                organization_id,
                "request"
            )
        };
    }
    if is_probe(&route) {
        access!(tracing::Level::DEBUG);
    } else {
        access!(tracing::Level::INFO);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_the_caller() {
        assert!(is_sane("abc-123_x.y"));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane("x\r\ny"));
    }
}
