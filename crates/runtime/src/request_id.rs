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

use idp_model::{IdentityId, OrganizationId};

use crate::metrics::ServiceMetrics;

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
    pub fn new(metrics: Arc<ServiceMetrics>) -> Self {
        RequestContext {
            metrics,
            caller: Arc::new(OnceLock::new()),
        }
    }

    /// The authenticated caller, once the bearer extractor verified its token.
    pub fn caller(&self) -> Option<(IdentityId, OrganizationId)> {
        self.caller.get().copied()
    }

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

pub(crate) fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// Counts a request in flight; decrements the gauge even when the handler's future
/// is dropped.
pub struct InFlight<'a>(&'a ServiceMetrics);

impl<'a> InFlight<'a> {
    pub fn start(metrics: &'a ServiceMetrics) -> Self {
        metrics.request_started();
        InFlight(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The request id a request carries: the caller's when sane, else a new one.
pub fn request_id_of(header: Option<&str>) -> String {
    header
        .filter(|s| is_sane(s))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Emits the access-log line of one answered request (target `service::access`;
/// probes and scrapes at debug level).
#[allow(clippy::too_many_arguments)]
pub fn access_log(
    request_id: &str,
    method: &str,
    route: &str,
    path: &str,
    status: u16,
    elapsed: std::time::Duration,
    caller: Option<(IdentityId, OrganizationId)>,
) {
    let (identity_id, organization_id) = match caller {
        Some((i, o)) => (Some(i.to_string()), Some(o.to_string())),
        None => (None, None),
    };
    let duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    macro_rules! access {
        ($level:expr) => {
            tracing::event!(
                target: "service::access",
                $level,
                request_id = %request_id,
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
    if is_probe(route) {
        access!(tracing::Level::DEBUG);
    } else {
        access!(tracing::Level::INFO);
    }
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
