//! The platform's Prometheus metrics on `prometheus-client`: counters, gauges and
//! histograms with fixed buckets, each a family of series told apart by label
//! values, rendered in the OpenMetrics text format ([`CONTENT_TYPE`]).
//!
//! What this module adds to the crate: families declared by name, label names and
//! help at run time (`registry.counter(name, help, &["route", "status"])`) and
//! updated with label values in that order; a family registered twice with the
//! same type and labels is shared, a name clash is not exported (metrics never fail
//! the caller); a process-wide registry; and [`parse_text`], a checker of the
//! exposition for tests and tools.
//!
//! Counter names end in `_total` (the sample's name; OpenMetrics names the family
//! without it). Help texts end in a full stop.
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

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter as PcCounter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge as PcGauge;
use prometheus_client::metrics::histogram::Histogram as PcHistogram;

/// Latency buckets in seconds, 1 ms to 10 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Lag buckets in seconds, 10 ms to 10 min (events waiting in queues or outboxes).
pub const LAG_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

/// The content type of the exposition (OpenMetrics text 1.0.0).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label values of one series; the names are the family's. Missing values
/// count as empty, extra ones are ignored.
#[derive(Clone, Debug)]
struct Labels {
    names: Arc<[String]>,
    values: Box<[String]>,
}

impl Labels {
    fn of(names: &Arc<[String]>, values: &[&str]) -> Labels {
        Labels {
            names: names.clone(),
            values: (0..names.len())
                .map(|i| values.get(i).copied().unwrap_or("").to_string())
                .collect(),
        }
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Eq for Labels {}

impl std::hash::Hash for Labels {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.values.hash(state);
    }
}

impl EncodeLabelSet for Labels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        for (name, value) in self.names.iter().zip(self.values.iter()) {
            (name.as_str(), value.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// Makes the histograms of a family with its buckets.
#[derive(Clone)]
struct Buckets(Arc<[f64]>);

impl MetricConstructor<PcHistogram> for Buckets {
    fn new_metric(&self) -> PcHistogram {
        PcHistogram::new(self.0.iter().copied())
    }
}

type GaugeF64 = PcGauge<f64, AtomicU64>;
type CounterFamily = Family<Labels, PcCounter>;
type GaugeFamily = Family<Labels, GaugeF64>;
type HistogramFamily = Family<Labels, PcHistogram, Buckets>;

/// A registered family, as the registry finds it again by name.
struct Known {
    kind: &'static str,
    labels: Arc<[String]>,
    family: Box<dyn Any + Send + Sync>,
}

/// A set of metric families, rendered together.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    registry: prometheus_client::registry::Registry,
    known: HashMap<String, Known>,
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
    /// but is not rendered, and a warning.
    fn family<F>(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        labels: &[&str],
        make: impl FnOnce() -> F,
    ) -> (F, Arc<[String]>)
    where
        F: prometheus_client::registry::Metric + Clone + Any + Send + Sync,
    {
        let names: Arc<[String]> = labels.iter().map(|l| l.to_string()).collect();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = inner.known.get(name) {
            if known.kind == kind && known.labels == names {
                if let Some(f) = known.family.downcast_ref::<F>() {
                    return (f.clone(), known.labels.clone());
                }
            }
            tracing::warn!(
                metric = name,
                "metric registered twice with different types or labels; the second is not exported"
            );
            return (make(), names);
        }
        let family = make();
        // The crate appends `_total` to a counter's samples and a full stop to help.
        let registered = match kind {
            "counter" => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        let help = help.strip_suffix('.').unwrap_or(help);
        inner.registry.register(registered, help, family.clone());
        inner.known.insert(
            name.to_string(),
            Known {
                kind,
                labels: names.clone(),
                family: Box::new(family.clone()),
            },
        );
        (family, names)
    }

    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> CounterVec {
        let (family, names) = self.family(name, help, "counter", labels, CounterFamily::default);
        CounterVec { family, names }
    }

    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
        let (family, names) = self.family(name, help, "gauge", labels, GaugeFamily::default);
        GaugeVec { family, names }
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
        let buckets = Buckets(Arc::from(b));
        let (family, names) = self.family(name, help, "histogram", labels, move || {
            HistogramFamily::new_with_constructor(buckets)
        });
        HistogramVec { family, names }
    }

    /// Appends the families of this registry, in registration order, without the
    /// closing `# EOF` (a page may hold several registries; see [`end_page`]).
    pub fn render_into(&self, out: &mut String) {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = prometheus_client::encoding::text::encode_registry(out, &inner.registry) {
            tracing::warn!(error = %e, "metrics could not be rendered");
        }
    }

    /// This registry as a whole page.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render_into(&mut out);
        end_page(&mut out);
        out
    }
}

/// Ends a page made of one or more [`Registry::render_into`] (the `# EOF` line).
pub fn end_page(out: &mut String) {
    let _ = prometheus_client::encoding::text::encode_eof(out);
}

/// A family of counters. Clones share it.
#[derive(Clone)]
pub struct CounterVec {
    family: CounterFamily,
    names: Arc<[String]>,
}

/// One counter series, kept by callers that update it often.
#[derive(Clone)]
pub struct Counter(PcCounter);

impl CounterVec {
    /// Adds 1 to the series of `labels` (values in the order the family names them).
    pub fn inc(&self, labels: &[&str]) {
        self.family
            .get_or_create(&Labels::of(&self.names, labels))
            .inc();
    }

    pub fn add(&self, labels: &[&str], n: u64) {
        self.family
            .get_or_create(&Labels::of(&self.names, labels))
            .inc_by(n);
    }

    /// The series of `labels`, to keep.
    pub fn with(&self, labels: &[&str]) -> Counter {
        Counter(
            self.family
                .get_or_create_owned(&Labels::of(&self.names, labels)),
        )
    }

    pub fn get(&self, labels: &[&str]) -> u64 {
        self.family
            .get(&Labels::of(&self.names, labels))
            .map(|c| c.get())
            .unwrap_or(0)
    }

    /// Raises the series to `total` (a count kept elsewhere, copied at scrape time;
    /// never lowers it).
    pub fn set_total(&self, labels: &[&str], total: u64) {
        let c = self.family.get_or_create(&Labels::of(&self.names, labels));
        let now = c.get();
        if total > now {
            c.inc_by(total - now);
        }
    }
}

impl Counter {
    pub fn inc(&self) {
        self.0.inc();
    }
    pub fn add(&self, n: u64) {
        self.0.inc_by(n);
    }
    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A family of gauges. Clones share it.
#[derive(Clone)]
pub struct GaugeVec {
    family: GaugeFamily,
    names: Arc<[String]>,
}

/// One gauge series.
#[derive(Clone)]
pub struct Gauge(GaugeF64);

impl GaugeVec {
    pub fn set(&self, labels: &[&str], v: f64) {
        self.family
            .get_or_create(&Labels::of(&self.names, labels))
            .set(v);
    }

    pub fn add(&self, labels: &[&str], delta: f64) {
        self.family
            .get_or_create(&Labels::of(&self.names, labels))
            .inc_by(delta);
    }

    pub fn with(&self, labels: &[&str]) -> Gauge {
        Gauge(
            self.family
                .get_or_create_owned(&Labels::of(&self.names, labels)),
        )
    }

    pub fn get(&self, labels: &[&str]) -> f64 {
        self.family
            .get(&Labels::of(&self.names, labels))
            .map(|g| g.get())
            .unwrap_or(0.0)
    }
}

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }
    pub fn add(&self, delta: f64) {
        self.0.inc_by(delta);
    }
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A family of histograms. Clones share it.
#[derive(Clone)]
pub struct HistogramVec {
    family: HistogramFamily,
    names: Arc<[String]>,
}

/// One histogram series.
#[derive(Clone)]
pub struct Histogram(PcHistogram);

impl HistogramVec {
    pub fn observe(&self, labels: &[&str], v: f64) {
        self.family
            .get_or_create(&Labels::of(&self.names, labels))
            .observe(v);
    }

    pub fn observe_duration(&self, labels: &[&str], d: Duration) {
        self.observe(labels, d.as_secs_f64());
    }

    pub fn with(&self, labels: &[&str]) -> Histogram {
        Histogram(
            self.family
                .get_or_create_owned(&Labels::of(&self.names, labels)),
        )
    }
}

impl Histogram {
    pub fn observe(&self, v: f64) {
        self.0.observe(v);
    }
    pub fn observe_duration(&self, d: Duration) {
        self.0.observe(d.as_secs_f64());
    }
}

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

/// Parses and checks a text exposition (OpenMetrics text, or the Prometheus text
/// format 0.0.4 whose counter families carry the `_total`): comment and sample syntax,
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
                format!("{family}_created"),
            ]
            .contains(&name.to_string()),
            "counter" => {
                name == family
                    || name == format!("{family}_total")
                    || name == format!("{family}_created")
            }
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
    fn counters_gauges_and_histograms_render_in_the_openmetrics_text_format() {
        let r = Registry::new();
        let c = r.counter("t_requests_total", "Requests.", &["route", "status"]);
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
        for line in [
            "# HELP t_requests Requests.\n",
            "# TYPE t_requests counter\n",
            "t_requests_total{route=\"/a/{id}\",status=\"200\"} 2\n",
            "t_requests_total{route=\"/b\",status=\"404\"} 3\n",
            "# HELP t_depth Depth.\n",
            "# TYPE t_depth gauge\n",
            "t_depth 4.5\n",
            "# TYPE t_seconds histogram\n",
            "t_seconds_bucket{le=\"0.1\",route=\"/a\"} 1\n",
            "t_seconds_bucket{le=\"1.0\",route=\"/a\"} 2\n",
            "t_seconds_bucket{le=\"+Inf\",route=\"/a\"} 3\n",
            "t_seconds_sum{route=\"/a\"} 5.55\n",
            "t_seconds_count{route=\"/a\"} 3\n",
        ] {
            assert!(text.contains(line), "{line:?} missing in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
        let samples = parse_text(&text).unwrap();
        assert_eq!(samples.len(), 8, "{samples:?}");
        assert_eq!(c.get(&["/a/{id}", "200"]), 2);
    }

    #[test]
    fn label_values_are_escaped() {
        let r = Registry::new();
        let c = r.counter("t_total", "x", &["v"]);
        c.inc(&["a\"b\\c\nd"]);
        let text = r.render();
        assert!(
            text.contains("t_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"),
            "{text}"
        );
        assert_eq!(parse_text(&text).unwrap()[0].label("v"), Some("a\"b\\c\nd"));
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
        let other_labels = r.counter("t_total", "x", &["j"]);
        other_labels.add(&["1"], 40);
        let text = r.render();
        assert!(text.contains("t_total{k=\"1\"} 2\n"), "{text}");
        assert!(!text.contains(" 9"), "{text}");
        assert!(!text.contains(" 40"), "{text}");
        parse_text(&text).unwrap();
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
    fn a_total_kept_elsewhere_raises_the_counter_and_never_lowers_it() {
        let r = Registry::new();
        let c = r.counter("t_hits_total", "Hits.", &[]);
        c.set_total(&[], 5);
        c.set_total(&[], 3);
        assert_eq!(c.get(&[]), 5);
        c.set_total(&[], 12);
        assert!(r.render().contains("t_hits_total 12\n"));
    }

    #[test]
    fn a_page_of_two_registries_has_one_eof_at_its_end() {
        let (a, b) = (Registry::new(), Registry::new());
        a.gauge("t_a", "A.", &[]).set(&[], 1.0);
        b.gauge("t_b", "B.", &[]).set(&[], 2.0);
        let mut page = String::new();
        a.render_into(&mut page);
        b.render_into(&mut page);
        end_page(&mut page);
        assert_eq!(page.matches("# EOF").count(), 1);
        assert!(page.ends_with("# EOF\n"));
        assert_eq!(parse_text(&page).unwrap().len(), 2);
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
