//! A service's Prometheus metrics, served at `GET /metrics` (OpenMetrics text,
//! unauthenticated like the probes; the gateway does not route it, Prometheus
//! scrapes each pod directly).
//!
//! Two registries make up the page:
//! - the service's own ([`ServiceMetrics`]): HTTP requests per route template and
//!   status, token validations by outcome, the verifier's cache, the outbox depth;
//! - the process-wide one ([`idp_common::metrics::Registry::global`]): the outbox
//!   relays and the event consumers, which record without knowing their service
//!   (their series carry the event `type` and the consumer `queue`). In a
//!   deployment a process is one service; in the embedded platform every service's
//!   page shows these process-wide series.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use idp_bearer::{TokenError, Verifier};
use idp_common::metrics::{
    CounterVec, GaugeVec, HistogramVec, Registry, DURATION_BUCKETS, LAG_BUCKETS,
};

use crate::outbox::RelayHandle;

/// The per-service families.
pub struct ServiceMetrics {
    registry: Registry,
    requests: CounterVec,
    durations: HistogramVec,
    in_flight: GaugeVec,
    tokens: CounterVec,
    outbox_depth: GaugeVec,
    token_cache: GaugeVec,
    token_cache_hits: CounterVec,
    token_cache_misses: CounterVec,
    jwks_fetches: CounterVec,
}

/// Route label of requests no route matched (404 fallback).
pub const UNMATCHED: &str = "unmatched";

impl ServiceMetrics {
    pub fn new() -> Arc<ServiceMetrics> {
        let registry = Registry::new();
        let requests = registry.counter(
            "idp_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            &["method", "route", "status"],
        );
        let durations = registry.histogram(
            "idp_http_request_duration_seconds",
            "Time from request to response head, by method, route template and status.",
            &["method", "route", "status"],
            DURATION_BUCKETS,
        );
        let in_flight = registry.gauge(
            "idp_http_requests_in_flight",
            "Requests being handled now.",
            &[],
        );
        let tokens = registry.counter(
            "idp_token_validations_total",
            "Bearer-token validations by this service, by outcome (valid or the refusal reason).",
            &["outcome"],
        );
        tokens.with(&["valid"]);
        for e in TokenError::ALL {
            tokens.with(&[e.code()]);
        }
        let outbox_depth = registry.gauge(
            "idp_outbox_depth",
            "Events in this service's outbox not yet published (read at scrape time).",
            &[],
        );
        // The verifier keeps its own counters; they are copied at scrape time.
        let token_cache_hits = registry.counter(
            "idp_token_cache_hits_total",
            "Token validations answered from the verified-token cache.",
            &[],
        );
        let token_cache_misses = registry.counter(
            "idp_token_cache_misses_total",
            "Token validations that had to verify a signature.",
            &[],
        );
        let token_cache = registry.gauge(
            "idp_token_cache_entries",
            "Verified tokens held in the cache.",
            &[],
        );
        let jwks_fetches = registry.counter("idp_jwks_fetches_total", "JWKS fetches.", &[]);
        in_flight.set(&[], 0.0);
        Arc::new(ServiceMetrics {
            registry,
            requests,
            durations,
            in_flight,
            tokens,
            outbox_depth,
            token_cache,
            token_cache_hits,
            token_cache_misses,
            jwks_fetches,
        })
    }

    /// Records one answered request. `route` is the route template (never the raw
    /// path, which holds ids).
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let mut buf = itoa_status(status);
        let status = status_str(&mut buf);
        let labels = [method, route, status];
        self.requests.inc(&labels);
        self.durations.observe_duration(&labels, elapsed);
    }

    pub fn request_started(&self) {
        self.in_flight.add(&[], 1.0);
    }

    pub fn request_finished(&self) {
        self.in_flight.add(&[], -1.0);
    }

    /// Records a bearer-token validation: `Ok` or the refusal reason.
    pub fn record_token(&self, outcome: Result<(), TokenError>) {
        match outcome {
            Ok(()) => self.tokens.inc(&["valid"]),
            Err(e) => self.tokens.inc(&[e.code()]),
        }
    }

    /// The page: this service's families (refreshed from `sources`), then the
    /// process-wide ones.
    pub async fn render(&self, sources: &MetricsSources) -> String {
        if let Some(relay) = &sources.relay {
            self.outbox_depth.set(&[], relay.depth().await as f64);
        }
        if let Some(v) = &sources.verifier {
            let s = v.stats();
            self.token_cache_hits.set_total(&[], s.cache_hits);
            self.token_cache_misses.set_total(&[], s.cache_misses);
            self.token_cache.set(&[], s.cached_tokens as f64);
            self.jwks_fetches.set_total(&[], s.jwks_fetches);
        }
        let mut out = String::with_capacity(16 * 1024);
        self.registry.render_into(&mut out);
        outbox_metrics();
        Registry::global().render_into(&mut out);
        idp_common::metrics::end_page(&mut out);
        out
    }
}

fn method_label(m: &str) -> &'static str {
    match m {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn itoa_status(status: u16) -> [u8; 3] {
    let s = status.clamp(100, 999);
    [
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]
}

fn status_str(buf: &mut [u8; 3]) -> &str {
    std::str::from_utf8(buf).unwrap_or("000")
}

/// What `/metrics` reads at scrape time besides the counters.
#[derive(Clone, Default)]
pub struct MetricsSources {
    pub relay: Option<RelayHandle>,
    pub verifier: Option<Verifier>,
}

/// The process-wide families of the outbox relays and the consumers.
pub struct OutboxMetrics {
    /// `type`
    pub published: CounterVec,
    pub publish_duration: HistogramVec,
    pub publish_failures: CounterVec,
    /// `queue`, `type`, `outcome`: applied, duplicate, retried, dead_lettered,
    /// malformed, db_error.
    pub consumed: CounterVec,
    /// `queue`: now minus the event's `occurredAt` when it was applied.
    pub lag: HistogramVec,
    /// `queue`: the lag of the last applied event.
    pub last_lag: GaugeVec,
    /// `queue`, `reason`: malformed, handler_failed.
    pub dead_lettered: CounterVec,
}

/// The outbox and consumer families (registered in the process-wide registry on
/// first use).
pub fn outbox_metrics() -> &'static OutboxMetrics {
    static M: OnceLock<OutboxMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let r = Registry::global();
        let published = r.counter(
            "idp_outbox_published_total",
            "Events the outbox relays published (confirmed by the bus), by type.",
            &["type"],
        );
        let publish_duration = r.histogram(
            "idp_outbox_publish_duration_seconds",
            "Time to publish one event until the bus confirmed it.",
            &[],
            DURATION_BUCKETS,
        );
        let publish_failures = r.counter(
            "idp_outbox_publish_failures_total",
            "Publish attempts that failed (the event stays in the outbox and is retried).",
            &[],
        );
        publish_failures.with(&[]);
        let consumed = r.counter(
            "idp_events_consumed_total",
            "Deliveries handled by the consumers, by queue, event type and outcome.",
            &["queue", "type", "outcome"],
        );
        let lag = r.histogram(
            "idp_consumer_lag_seconds",
            "Time from an event's occurredAt until a consumer applied it.",
            &["queue"],
            LAG_BUCKETS,
        );
        let last_lag = r.gauge(
            "idp_consumer_last_lag_seconds",
            "Lag of the last event each consumer applied.",
            &["queue"],
        );
        let dead_lettered = r.counter(
            "idp_dead_lettered_total",
            "Messages a consumer sent to its dead-letter queue, by reason.",
            &["queue", "reason"],
        );
        OutboxMetrics {
            published,
            publish_duration,
            publish_failures,
            consumed,
            lag,
            last_lag,
            dead_lettered,
        }
    })
}

impl OutboxMetrics {
    /// Shows a consumer's series (at 0) from its start on.
    pub fn consumer_started(&self, queue: &str) {
        self.lag.with(&[queue]);
        self.dead_lettered.with(&[queue, "malformed"]);
        self.dead_lettered.with(&[queue, "handler_failed"]);
    }

    /// One delivery's outcome; `occurred_at` is given for applied events (lag).
    pub fn consumed(
        &self,
        queue: &str,
        kind: &str,
        outcome: &str,
        occurred_at: Option<time::OffsetDateTime>,
    ) {
        self.consumed.inc(&[queue, kind, outcome]);
        if let Some(at) = occurred_at {
            let lag = Duration::try_from(time::OffsetDateTime::now_utc() - at)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64();
            self.lag.observe(&[queue], lag);
            self.last_lag.set(&[queue], lag);
        }
        match outcome {
            "malformed" => self.dead_lettered.inc(&[queue, "malformed"]),
            "dead_lettered" => self.dead_lettered.inc(&[queue, "handler_failed"]),
            _ => {}
        }
    }

    pub fn published(&self, kind: &str, elapsed: Duration) {
        self.published.inc(&[kind]);
        self.publish_duration.observe_duration(&[], elapsed);
    }

    pub fn publish_failed(&self) {
        self.publish_failures.inc(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_service_page_parses_and_labels_requests_by_route_template() {
        let m = ServiceMetrics::new();
        m.record_request("GET", "/things/{id}", 200, Duration::from_millis(3));
        m.record_request("GET", "/things/{id}", 404, Duration::from_millis(1));
        m.record_token(Err(TokenError::Expired));
        outbox_metrics().consumed(
            "q.test",
            "thing.created",
            "applied",
            Some(time::OffsetDateTime::now_utc()),
        );
        let text = m.render(&MetricsSources::default()).await;
        let samples = idp_common::metrics::parse_text(&text).unwrap();
        let get = |name: &str, labels: &[(&str, &str)]| {
            samples
                .iter()
                .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
                .map(|s| s.value)
        };
        assert_eq!(
            get(
                "idp_http_requests_total",
                &[
                    ("method", "GET"),
                    ("route", "/things/{id}"),
                    ("status", "200")
                ]
            ),
            Some(1.0)
        );
        assert_eq!(
            get(
                "idp_http_request_duration_seconds_count",
                &[("route", "/things/{id}"), ("status", "404")]
            ),
            Some(1.0)
        );
        assert_eq!(
            get("idp_token_validations_total", &[("outcome", "expired")]),
            Some(1.0)
        );
        assert_eq!(
            get("idp_token_validations_total", &[("outcome", "valid")]),
            Some(0.0)
        );
        assert!(get(
            "idp_events_consumed_total",
            &[("queue", "q.test"), ("outcome", "applied")]
        )
        .is_some());
        assert!(get("idp_consumer_lag_seconds_count", &[("queue", "q.test")]).is_some());
        assert!(get("idp_outbox_publish_failures_total", &[]).is_some());
        assert_eq!(status_str(&mut itoa_status(201)), "201");
    }
}
