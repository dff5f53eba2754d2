//! A small Prometheus metrics registry: counters, gauges and histograms with fixed
//! buckets, each a family of series told apart by label values, rendered in the
//! text exposition format 0.0.4.
//!
//! Cheap on the hot path: a series is a handful of atomics. Finding the series of a
//! label set takes the read lock of one of a family's shards (writes happen only
//! the first time a label set is seen); callers that update one series often keep
//! the handle ([`CounterVec::with`] and friends) and pay nothing but the atomics.
//!
//! No storage or HTTP dependency, so the gateway and the services can share it.
//!
//! ```
//! use idp_common::metrics::{Registry, DURATION_BUCKETS};
//! let r = Registry::new();
//! let requests = r.counter("app_requests_total", "Requests.", &["route", "status"]);
//! let latency = r.histogram("app_request_duration_seconds", "Latency.", &["route"], DURATION_BUCKETS);
//! requests.inc(&["/things/{id}", "200"]);
//! latency.observe(&["/things/{id}"], 0.012);
//! assert!(r.render().contains("app_requests_total{route=\"/things/{id}\",status=\"200\"} 1"));
//! ```

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

/// Latency buckets in seconds, 1 ms to 10 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Lag buckets in seconds, 10 ms to 10 min (events waiting in queues or outboxes).
pub const LAG_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

const SHARDS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The value cell of one series.
trait Cell: Send + Sync + 'static {
    fn new(buckets: &[f64]) -> Self;
}

/// A counter: only goes up.
#[derive(Default)]
pub struct CounterCell(AtomicU64);

impl Cell for CounterCell {
    fn new(_: &[f64]) -> Self {
        Self::default()
    }
}

impl CounterCell {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge: a float that is set or moved up and down.
#[derive(Default)]
pub struct GaugeCell(AtomicU64);

impl Cell for GaugeCell {
    fn new(_: &[f64]) -> Self {
        GaugeCell(AtomicU64::new(0f64.to_bits()))
    }
}

fn add_f64(cell: &AtomicU64, delta: f64) {
    let mut cur = cell.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(cur) + delta).to_bits();
        match cell.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

impl GaugeCell {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    pub fn add(&self, delta: f64) {
        add_f64(&self.0, delta);
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A histogram with fixed upper bounds (plus `+Inf`).
pub struct HistogramCell {
    bounds: Arc<[f64]>,
    /// Non-cumulative counts per bound; cumulated when rendered.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    count: AtomicU64,
}

impl Cell for HistogramCell {
    fn new(buckets: &[f64]) -> Self {
        HistogramCell {
            bounds: Arc::from(buckets),
            counts: buckets.iter().map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
        }
    }
}

impl HistogramCell {
    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            if let Some(c) = self.counts.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        add_f64(&self.sum, v);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }
}

struct Series<C> {
    labels: Box<[String]>,
    cell: C,
}

type Shard<C> = RwLock<HashMap<u64, Vec<Arc<Series<C>>>>>;

struct Family<C> {
    name: String,
    help: String,
    kind: Kind,
    label_names: Box<[String]>,
    buckets: Arc<[f64]>,
    hasher: RandomState,
    shards: [Shard<C>; SHARDS],
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

impl<C: Cell> Family<C> {
    fn new(name: &str, help: &str, kind: Kind, labels: &[&str], buckets: &[f64]) -> Self {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            label_names: labels.iter().map(|l| l.to_string()).collect(),
            buckets: Arc::from(buckets),
            hasher: RandomState::new(),
            shards: std::array::from_fn(|_| RwLock::new(HashMap::new())),
        }
    }

    fn hash(&self, values: &[&str]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for i in 0..self.label_names.len() {
            values.get(i).copied().unwrap_or("").hash(&mut h);
        }
        h.finish()
    }

    fn same(&self, series: &Series<C>, values: &[&str]) -> bool {
        series
            .labels
            .iter()
            .enumerate()
            .all(|(i, l)| l == values.get(i).copied().unwrap_or(""))
    }

    /// The series of `values` (missing values count as empty, extra ones are ignored).
    fn series(&self, values: &[&str]) -> Arc<Series<C>> {
        let h = self.hash(values);
        let shard = &self.shards[(h as usize) % SHARDS];
        if let Some(s) = read(shard)
            .get(&h)
            .and_then(|v| v.iter().find(|s| self.same(s, values)))
        {
            return s.clone();
        }
        let mut map = write(shard);
        let bucket = map.entry(h).or_default();
        if let Some(s) = bucket.iter().find(|s| self.same(s, values)) {
            return s.clone();
        }
        let s = Arc::new(Series {
            labels: (0..self.label_names.len())
                .map(|i| values.get(i).copied().unwrap_or("").to_string())
                .collect(),
            cell: C::new(&self.buckets),
        });
        bucket.push(s.clone());
        s
    }

    fn with<R>(&self, values: &[&str], f: impl FnOnce(&C) -> R) -> R {
        let h = self.hash(values);
        let shard = &self.shards[(h as usize) % SHARDS];
        {
            let map = read(shard);
            if let Some(s) = map
                .get(&h)
                .and_then(|v| v.iter().find(|s| self.same(s, values)))
            {
                return f(&s.cell);
            }
        }
        f(&self.series(values).cell)
    }

    fn sorted(&self) -> Vec<Arc<Series<C>>> {
        let mut all: Vec<Arc<Series<C>>> = self
            .shards
            .iter()
            .flat_map(|s| read(s).values().flatten().cloned().collect::<Vec<_>>())
            .collect();
        all.sort_by(|a, b| a.labels.cmp(&b.labels));
        all
    }

    fn header(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, escape_help(&self.help));
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind.as_str());
    }

    fn labels(&self, out: &mut String, values: &[String], extra: Option<(&str, &str)>) {
        if values.is_empty() && extra.is_none() {
            return;
        }
        out.push('{');
        let mut first = true;
        for (n, v) in self.label_names.iter().zip(values.iter()) {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{n}=\"{}\"", escape_label(v));
        }
        if let Some((n, v)) = extra {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "{n}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A float as the exposition format writes it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

trait Render: Send + Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> Kind;
    fn label_names(&self) -> &[String];
    fn render(&self, out: &mut String);
    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync>;
}

impl Render for Family<CounterCell> {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn label_names(&self) -> &[String] {
        &self.label_names
    }
    fn render(&self, out: &mut String) {
        self.header(out);
        for s in self.sorted() {
            out.push_str(&self.name);
            self.labels(out, &s.labels, None);
            let _ = writeln!(out, " {}", s.cell.get());
        }
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

impl Render for Family<GaugeCell> {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn label_names(&self) -> &[String] {
        &self.label_names
    }
    fn render(&self, out: &mut String) {
        self.header(out);
        for s in self.sorted() {
            out.push_str(&self.name);
            self.labels(out, &s.labels, None);
            let _ = writeln!(out, " {}", number(s.cell.get()));
        }
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

impl Render for Family<HistogramCell> {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> Kind {
        self.kind
    }
    fn label_names(&self) -> &[String] {
        &self.label_names
    }
    fn render(&self, out: &mut String) {
        self.header(out);
        for s in self.sorted() {
            let h = &s.cell;
            // Buckets first, then the count: a concurrent observation can only make
            // the count larger, never a bucket larger than `+Inf`.
            let mut cumulative = 0u64;
            for (le, c) in h.bounds.iter().zip(h.counts.iter()) {
                cumulative += c.load(Ordering::Relaxed);
                let _ = write!(out, "{}_bucket", self.name);
                self.labels(out, &s.labels, Some(("le", &number(*le))));
                let _ = writeln!(out, " {cumulative}");
            }
            let sum = h.sum();
            let count = h.count().max(cumulative);
            let _ = write!(out, "{}_bucket", self.name);
            self.labels(out, &s.labels, Some(("le", "+Inf")));
            let _ = writeln!(out, " {count}");
            let _ = write!(out, "{}_sum", self.name);
            self.labels(out, &s.labels, None);
            let _ = writeln!(out, " {}", number(sum));
            let _ = write!(out, "{}_count", self.name);
            self.labels(out, &s.labels, None);
            let _ = writeln!(out, " {count}");
        }
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// A family of counters. Clones share it.
#[derive(Clone)]
pub struct CounterVec(Arc<Family<CounterCell>>);

/// One counter series, kept by callers that update it often.
#[derive(Clone)]
pub struct Counter(Arc<Series<CounterCell>>);

impl CounterVec {
    /// Adds 1 to the series of `labels` (values in the order the family names them).
    pub fn inc(&self, labels: &[&str]) {
        self.0.with(labels, |c| c.inc());
    }
    pub fn add(&self, labels: &[&str], n: u64) {
        self.0.with(labels, |c| c.add(n));
    }
    /// The series of `labels`, created at 0 if new (so it shows before it counts).
    pub fn with(&self, labels: &[&str]) -> Counter {
        Counter(self.0.series(labels))
    }
    pub fn get(&self, labels: &[&str]) -> u64 {
        self.0.with(labels, |c| c.get())
    }
    /// Sets the series to `total`: for counters kept elsewhere (another component's
    /// own atomics) and copied at scrape time. `total` must never go down.
    pub fn set_total(&self, labels: &[&str], total: u64) {
        self.0.with(labels, |c| c.0.store(total, Ordering::Relaxed));
    }
}

impl Counter {
    pub fn inc(&self) {
        self.0.cell.inc();
    }
    pub fn add(&self, n: u64) {
        self.0.cell.add(n);
    }
    pub fn get(&self) -> u64 {
        self.0.cell.get()
    }
}

/// A family of gauges. Clones share it.
#[derive(Clone)]
pub struct GaugeVec(Arc<Family<GaugeCell>>);

/// One gauge series.
#[derive(Clone)]
pub struct Gauge(Arc<Series<GaugeCell>>);

impl GaugeVec {
    pub fn set(&self, labels: &[&str], v: f64) {
        self.0.with(labels, |g| g.set(v));
    }
    pub fn add(&self, labels: &[&str], delta: f64) {
        self.0.with(labels, |g| g.add(delta));
    }
    pub fn with(&self, labels: &[&str]) -> Gauge {
        Gauge(self.0.series(labels))
    }
    pub fn get(&self, labels: &[&str]) -> f64 {
        self.0.with(labels, |g| g.get())
    }
}

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.cell.set(v);
    }
    pub fn add(&self, delta: f64) {
        self.0.cell.add(delta);
    }
    pub fn get(&self) -> f64 {
        self.0.cell.get()
    }
}

/// A family of histograms. Clones share it.
#[derive(Clone)]
pub struct HistogramVec(Arc<Family<HistogramCell>>);

/// One histogram series.
#[derive(Clone)]
pub struct Histogram(Arc<Series<HistogramCell>>);

impl HistogramVec {
    pub fn observe(&self, labels: &[&str], v: f64) {
        self.0.with(labels, |h| h.observe(v));
    }
    pub fn observe_duration(&self, labels: &[&str], d: Duration) {
        self.observe(labels, d.as_secs_f64());
    }
    pub fn with(&self, labels: &[&str]) -> Histogram {
        Histogram(self.0.series(labels))
    }
    /// How many observations the series of `labels` has.
    pub fn count(&self, labels: &[&str]) -> u64 {
        self.0.with(labels, |h| h.count())
    }
}

impl Histogram {
    pub fn observe(&self, v: f64) {
        self.0.cell.observe(v);
    }
    pub fn observe_duration(&self, d: Duration) {
        self.0.cell.observe_duration(d);
    }
    pub fn count(&self) -> u64 {
        self.0.cell.count()
    }
}

/// A set of metric families, rendered together.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Vec<Arc<dyn Render>>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry (for parts that are not tied to one service, e.g.
    /// the outbox relays and consumers).
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// Registers (or finds, when already registered with the same type and labels) a
    /// family. A name taken by another type or label set gives a family that works
    /// but is not rendered, and a warning: metrics never fail the caller.
    fn family<C>(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        labels: &[&str],
        buckets: &[f64],
    ) -> Arc<Family<C>>
    where
        C: Cell,
        Family<C>: Render,
    {
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = families.iter().find(|f| f.name() == name) {
            let same_labels = existing.label_names().len() == labels.len()
                && existing
                    .label_names()
                    .iter()
                    .zip(labels)
                    .all(|(a, b)| a == b);
            if existing.kind() == kind && same_labels {
                if let Ok(f) = existing.clone().as_any().downcast::<Family<C>>() {
                    return f;
                }
            }
            tracing::warn!(
                metric = name,
                "metric registered twice with different types or labels; the second is not exported"
            );
            return Arc::new(Family::new(name, help, kind, labels, buckets));
        }
        let f = Arc::new(Family::<C>::new(name, help, kind, labels, buckets));
        families.push(f.clone());
        f
    }

    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> CounterVec {
        CounterVec(self.family(name, help, Kind::Counter, labels, &[]))
    }

    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        GaugeVec(self.family(name, help, Kind::Gauge, labels, &[]))
    }

    /// `buckets`: increasing upper bounds (`+Inf` is implied), e.g. [`DURATION_BUCKETS`].
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> HistogramVec {
        let mut b: Vec<f64> = buckets.iter().copied().filter(|v| v.is_finite()).collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        HistogramVec(self.family(name, help, Kind::Histogram, labels, &b))
    }

    /// Appends the text exposition of every family, in registration order.
    pub fn render_into(&self, out: &mut String) {
        let families: Vec<Arc<dyn Render>> = self
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for f in families {
            f.render(out);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render_into(&mut out);
        out
    }
}

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One sample of a parsed exposition.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// Parses and checks a text exposition (format 0.0.4): comment and sample syntax,
/// metric and label names, quoted and escaped label values, numbers; every sample
/// belongs to the family of the `# TYPE` line before it (histograms through their
/// `_bucket`, `_sum` and `_count` series), no family is declared twice, and each
/// histogram's buckets are cumulative and end in `+Inf` equal to its `_count`.
/// For tests and tools: answers the samples or what is wrong, with the line.
pub fn parse_text(text: &str) -> Result<Vec<Sample>, String> {
    fn is_name(s: &str, colon: bool) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    }
    fn value(s: &str) -> Option<f64> {
        match s {
            "+Inf" | "Inf" => Some(f64::INFINITY),
            "-Inf" => Some(f64::NEG_INFINITY),
            "NaN" => Some(f64::NAN),
            _ => s.parse().ok(),
        }
    }
    let mut samples = Vec::new();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut current: Option<(String, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {line}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let mut parts = rest.trim_start().splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), _) if is_name(name, true) => {}
                (Some("TYPE"), Some(name), Some(kind)) if is_name(name, true) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at("unknown type"));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(at("family declared twice"));
                    }
                    current = Some((name.to_string(), kind.to_string()));
                }
                (Some("HELP" | "TYPE"), _, _) => return Err(at("malformed HELP/TYPE")),
                _ => {}
            }
            continue;
        }
        let (name_end, labels_part, rest) = match line.find(['{', ' ']) {
            Some(i) if line[i..].starts_with('{') => {
                let body = &line[i + 1..];
                let mut labels = std::collections::BTreeMap::new();
                let mut pos = 0;
                let bytes: Vec<char> = body.chars().collect();
                loop {
                    if bytes.get(pos) == Some(&'}') {
                        pos += 1;
                        break;
                    }
                    let start = pos;
                    while bytes.get(pos).is_some_and(|c| *c != '=') {
                        pos += 1;
                    }
                    let lname: String = bytes[start..pos.min(bytes.len())].iter().collect();
                    if !is_name(&lname, false) || bytes.get(pos + 1) != Some(&'"') {
                        return Err(at("bad label"));
                    }
                    pos += 2;
                    let mut v = String::new();
                    loop {
                        match bytes.get(pos) {
                            None => return Err(at("unterminated label value")),
                            Some('"') => break,
                            Some('\\') => {
                                match bytes.get(pos + 1) {
                                    Some('\\') => v.push('\\'),
                                    Some('"') => v.push('"'),
                                    Some('n') => v.push('\n'),
                                    _ => return Err(at("bad escape")),
                                }
                                pos += 2;
                            }
                            Some(c) => {
                                v.push(*c);
                                pos += 1;
                            }
                        }
                    }
                    pos += 1;
                    if labels.insert(lname, v).is_some() {
                        return Err(at("label repeated"));
                    }
                    match bytes.get(pos) {
                        Some(',') => pos += 1,
                        Some('}') => {}
                        _ => return Err(at("expected , or }")),
                    }
                }
                let rest: String = bytes[pos.min(bytes.len())..].iter().collect();
                (i, labels, rest)
            }
            Some(i) => (i, std::collections::BTreeMap::new(), line[i..].to_string()),
            None => return Err(at("no value")),
        };
        let name = &line[..name_end];
        if !is_name(name, true) {
            return Err(at("bad metric name"));
        }
        let mut fields = rest.split_whitespace();
        let v = fields
            .next()
            .and_then(value)
            .ok_or_else(|| at("bad value"))?;
        if let Some(ts) = fields.next() {
            if ts.parse::<i64>().is_err() {
                return Err(at("bad timestamp"));
            }
        }
        if fields.next().is_some() || !rest.starts_with(' ') {
            return Err(at("trailing text"));
        }
        let Some((family, kind)) = &current else {
            return Err(at("sample before any TYPE"));
        };
        let belongs = match kind.as_str() {
            "histogram" => [
                format!("{family}_bucket"),
                format!("{family}_sum"),
                format!("{family}_count"),
            ]
            .contains(&name.to_string()),
            _ => name == family,
        };
        if !belongs {
            return Err(at("sample outside its family"));
        }
        if kind == "histogram" && name.ends_with("_bucket") && !labels_part.contains_key("le") {
            return Err(at("bucket without le"));
        }
        samples.push(Sample {
            name: name.to_string(),
            labels: labels_part,
            value: v,
        });
    }
    // Histograms: cumulative buckets ending at +Inf = _count, per label set.
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        let key = |s: &Sample| {
            let mut l = s.labels.clone();
            l.remove("le");
            format!("{l:?}")
        };
        // Per label set (without `le`): its (le, cumulative count) buckets and `_count`.
        type Buckets = (Vec<(f64, f64)>, Option<f64>);
        let mut series: HashMap<String, Buckets> = HashMap::new();
        for s in &samples {
            if s.name == format!("{family}_bucket") {
                let le = s.label("le").and_then(value).unwrap_or(f64::NAN);
                series.entry(key(s)).or_default().0.push((le, s.value));
            } else if s.name == format!("{family}_count") {
                series.entry(key(s)).or_default().1 = Some(s.value);
            }
        }
        for (labels, (buckets, count)) in series {
            let ok_order = buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            let last = buckets.last().copied();
            if !ok_order || last.map(|l| l.0) != Some(f64::INFINITY) || last.map(|l| l.1) != count {
                return Err(format!(
                    "histogram {family}{labels}: buckets not cumulative or +Inf != _count"
                ));
            }
        }
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render_in_the_text_format() {
        let r = Registry::new();
        let c = r.counter(
            "t_requests_total",
            "Requests.\nSecond line",
            &["route", "status"],
        );
        c.inc(&["/a/{id}", "200"]);
        c.inc(&["/a/{id}", "200"]);
        c.add(&["/b", "404"], 3);
        let g = r.gauge("t_depth", "Depth.", &[]);
        g.set(&[], 7.0);
        g.add(&[], -2.5);
        let h = r.histogram("t_seconds", "Latency.", &["route"], &[0.1, 1.0]);
        h.observe(&["/a"], 0.05);
        h.observe(&["/a"], 0.5);
        h.observe(&["/a"], 5.0);
        let text = r.render();
        let expected = "\
# HELP t_requests_total Requests.\\nSecond line
# TYPE t_requests_total counter
t_requests_total{route=\"/a/{id}\",status=\"200\"} 2
t_requests_total{route=\"/b\",status=\"404\"} 3
# HELP t_depth Depth.
# TYPE t_depth gauge
t_depth 4.5
# HELP t_seconds Latency.
# TYPE t_seconds histogram
t_seconds_bucket{route=\"/a\",le=\"0.1\"} 1
t_seconds_bucket{route=\"/a\",le=\"1\"} 2
t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3
t_seconds_sum{route=\"/a\"} 5.55
t_seconds_count{route=\"/a\"} 3
";
        assert_eq!(text, expected);
        let samples = parse_text(&text).unwrap();
        assert_eq!(samples.len(), 8);
        assert_eq!(c.get(&["/a/{id}", "200"]), 2);
        assert_eq!(h.count(&["/a"]), 3);
    }

    #[test]
    fn label_values_are_escaped() {
        let r = Registry::new();
        let c = r.counter("t_total", "x", &["v"]);
        c.inc(&["a\"b\\c\nd"]);
        assert!(r.render().contains("t_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
    }

    #[test]
    fn registering_the_same_family_twice_shares_it_and_a_clash_is_not_exported() {
        let r = Registry::new();
        let a = r.counter("t_total", "x", &["k"]);
        let b = r.counter("t_total", "x", &["k"]);
        a.inc(&["1"]);
        b.inc(&["1"]);
        assert_eq!(a.get(&["1"]), 2);
        let clash = r.gauge("t_total", "x", &["k"]);
        clash.set(&["1"], 9.0);
        let text = r.render();
        assert!(text.contains("t_total{k=\"1\"} 2\n"), "{text}");
        assert!(!text.contains(" 9\n"), "{text}");
    }

    #[test]
    fn handles_and_lookups_reach_the_same_series_from_many_threads() {
        let r = Arc::new(Registry::new());
        let c = r.counter("t_total", "x", &["k"]);
        let kept = c.with(&["a"]);
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let c = c.clone();
                let kept = kept.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.inc(&["a"]);
                        kept.inc();
                        c.inc(&[if i % 2 == 0 { "b" } else { "c" }]);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(&["a"]), 8000);
        assert_eq!(c.get(&["b"]) + c.get(&["c"]), 4000);
    }

    #[test]
    fn the_checker_refuses_what_is_not_the_text_format() {
        let ok = "# TYPE a counter\na{x=\"1\"} 2\n";
        assert_eq!(parse_text(ok).unwrap()[0].label("x"), Some("1"));
        for bad in [
            "a 1\n",
            "# TYPE a counter\nb 1\n",
            "# TYPE a counter\na{x=1} 2\n",
            "# TYPE a counter\na{x=\"1\"} two\n",
            "# TYPE a counter\n# TYPE a counter\n",
            "# TYPE 1a counter\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
        ] {
            assert!(parse_text(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn missing_label_values_count_as_empty() {
        let r = Registry::new();
        let c = r.counter("t_total", "x", &["a", "b"]);
        c.inc(&["x"]);
        c.inc(&["x", ""]);
        assert!(r.render().contains("t_total{a=\"x\",b=\"\"} 2\n"));
    }
}
