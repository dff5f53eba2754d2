//! Prometheus counters kept in atomics (no locks, no allocation on the hot path).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use idp_bearer::{TokenError, VerifierStats};

/// Upper bounds of the latency histogram, in microseconds.
const BUCKETS_US: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 5_000_000,
];

pub struct Metrics {
    names: Vec<String>,
    /// Per route-name slot: counts by status class 1xx..5xx.
    requests: Vec<[AtomicU64; 5]>,
    token_valid: AtomicU64,
    token_errors: [AtomicU64; TokenError::ALL.len()],
    buckets: [AtomicU64; BUCKETS_US.len()],
    duration_sum_us: AtomicU64,
    duration_count: AtomicU64,
}

impl Metrics {
    /// `names`: one slot per distinct route name (the gateway adds its own ones).
    pub fn new(names: Vec<String>) -> Metrics {
        let requests = names.iter().map(|_| Default::default()).collect();
        Metrics {
            names,
            requests,
            token_valid: AtomicU64::new(0),
            token_errors: Default::default(),
            buckets: Default::default(),
            duration_sum_us: AtomicU64::new(0),
            duration_count: AtomicU64::new(0),
        }
    }

    pub fn name(&self, slot: usize) -> &str {
        self.names.get(slot).map_or("unknown", String::as_str)
    }

    pub fn record_request(&self, slot: usize, status: u16, elapsed: Duration) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        if let Some(c) = self.requests.get(slot).and_then(|r| r.get(class)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_US.iter().position(|b| us <= *b) {
            if let Some(b) = self.buckets.get(i) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_sum_us.fetch_add(us, Ordering::Relaxed);
        self.duration_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_token(&self, outcome: Result<(), TokenError>) {
        match outcome {
            Ok(()) => self.token_valid.fetch_add(1, Ordering::Relaxed),
            Err(e) => match self.token_errors.get(e.index()) {
                Some(c) => c.fetch_add(1, Ordering::Relaxed),
                None => 0,
            },
        };
    }

    /// The Prometheus text exposition.
    pub fn render(&self, verifier: VerifierStats) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP gateway_requests_total Requests answered, by route and status class.\n",
        );
        out.push_str("# TYPE gateway_requests_total counter\n");
        for (name, counts) in self.names.iter().zip(&self.requests) {
            for (i, c) in counts.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "gateway_requests_total{{route=\"{name}\",status=\"{}xx\"}} {}",
                    i + 1,
                    c.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str(
            "# HELP gateway_token_validations_total Bearer-token validations, by outcome.\n",
        );
        out.push_str("# TYPE gateway_token_validations_total counter\n");
        let _ = writeln!(
            out,
            "gateway_token_validations_total{{outcome=\"valid\"}} {}",
            self.token_valid.load(Ordering::Relaxed)
        );
        for (e, c) in TokenError::ALL.iter().zip(&self.token_errors) {
            let _ = writeln!(
                out,
                "gateway_token_validations_total{{outcome=\"{}\"}} {}",
                e.code(),
                c.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP gateway_token_cache_hits_total Tokens served from the verified-token cache.\n",
        );
        out.push_str("# TYPE gateway_token_cache_hits_total counter\n");
        let _ = writeln!(
            out,
            "gateway_token_cache_hits_total {}",
            verifier.cache_hits
        );
        out.push_str("# TYPE gateway_token_cache_misses_total counter\n");
        let _ = writeln!(
            out,
            "gateway_token_cache_misses_total {}",
            verifier.cache_misses
        );
        out.push_str("# TYPE gateway_token_cache_entries gauge\n");
        let _ = writeln!(
            out,
            "gateway_token_cache_entries {}",
            verifier.cached_tokens
        );
        out.push_str("# TYPE gateway_jwks_fetches_total counter\n");
        let _ = writeln!(out, "gateway_jwks_fetches_total {}", verifier.jwks_fetches);
        out.push_str(
            "# HELP gateway_request_duration_seconds Time from request head to response head.\n",
        );
        out.push_str("# TYPE gateway_request_duration_seconds histogram\n");
        let mut cumulative = 0u64;
        for (le, c) in BUCKETS_US.iter().zip(&self.buckets) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gateway_request_duration_seconds_bucket{{le=\"{}\"}} {cumulative}",
                *le as f64 / 1e6
            );
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "gateway_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "gateway_request_duration_seconds_sum {}",
            self.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "gateway_request_duration_seconds_count {count}");
        out
    }
}
