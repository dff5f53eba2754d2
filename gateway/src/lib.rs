//! The platform's gateway: validates bearer tokens and routes by path prefix to the
//! services, on actix-web (its app, on actix-http's server) with awc forwarding
//! (no database).
//!
//! Per request: a request id (taken from `X-Request-Id` when sane, else a UUID v4)
//! echoed on every answer; ambiguous paths (dot-segments, `//`, encoded
//! separators) refused with 400 before anything else; the gateway's own
//! `/healthz`, `/readyz`, `/metrics`; the longest matching route prefix; per-IP
//! rate limits (the token endpoint, `rate_limits`); a token check unless the
//! route is public (401 problem with `WWW-Authenticate`, the upstream never
//! contacted); header hygiene (hop-by-hop headers and client-sent forwarding,
//! internal and identity headers stripped, `X-Forwarded-*` set, `Authorization`
//! forwarded untouched); a bounded body (a broken one is 400); `Connection: close`
//! on an answer given before the body was read; 502/503/504 problems when an
//! upstream is down, unreachable or slow; an access log line and Prometheus metrics.
//!
//! A request that says `Expect: 100-continue` is decided (path, route, limits,
//! token, `Content-Length`) before `100 Continue` is sent: a refused client never
//! sends its body, and gets the refusal as its first answer.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let gw = idp_gateway::build(idp_gateway::Settings::default()).await?;
//! let shutdown = idp_common::shutdown::Shutdown::new();
//! println!("listening on {}", gw.local_addr());
//! gw.run(shutdown).await
//! # }
//! ```

mod body;
mod metrics;
mod ratelimit;
pub mod settings;

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_http::body::{BodyStream, BoxBody, SizedStream};
use actix_http::{ConnectionType, HttpService, Request};
use actix_service::{
    fn_service, map_config, IntoServiceFactory as _, ServiceExt as _, ServiceFactoryExt as _,
};
use actix_web::dev::{AppConfig, Payload};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::uri::{Authority, PathAndQuery, Scheme};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpMessage as _, HttpRequest, HttpResponse};
use anyhow::Context as _;
use awc::error::{ConnectError, SendRequestError};
use idp_bearer::{bearer_token, TokenError, Verifier};
use idp_common::shutdown::Shutdown;
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use tokio::net::TcpListener;

pub use idp_bearer::VerifierSettings;
pub use settings::{PublicRoute, RateLimit, Route, Settings};

use body::BodyFault;
use metrics::Metrics;
use ratelimit::RateLimiter;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// How long the answer of `/readyz` is reused.
const READY_CACHE: Duration = Duration::from_secs(1);
/// How long an upstream's `/healthz` may take.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Slow-loris protection: the request head must arrive within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle kept-alive connections to an upstream are closed after this time.
const UPSTREAM_IDLE: Duration = Duration::from_secs(60);

/// A bound, not yet serving gateway.
pub struct Gateway {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

/// Validates the settings, binds the listener (port 0 allowed) and returns.
pub async fn build(settings: Settings) -> anyhow::Result<Gateway> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding the gateway to {}", settings.listen))?;
    build_on(settings, listener)
}

/// Like [`build`] on a listener bound already (its address wins over
/// `settings.listen`): a caller that must know the address before the gateway is
/// built keeps the port instead of binding it twice.
pub fn build_on(settings: Settings, listener: TcpListener) -> anyhow::Result<Gateway> {
    let shared = Arc::new(Shared::new(settings)?);
    let local_addr = listener.local_addr()?;
    Ok(Gateway {
        listener,
        local_addr,
        shared,
    })
}

impl Gateway {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The token verifier, e.g. to feed it revocations from events.
    pub fn verifier(&self) -> Verifier {
        self.shared.verifier.clone()
    }

    /// Applies revocation events from `bus` to this gateway's verifier: a
    /// deactivated identity's tokens are refused from the next request on. The
    /// events come from the bus's revocation log, replayed first: a gateway that
    /// (re)starts learns the revocations of the last day (longer than any token
    /// lives), including those made while it was down. From then on `/readyz`
    /// also reports the bus: a gateway that cannot hear revocations is not ready.
    pub async fn listen_for_revocations(
        &self,
        bus: std::sync::Arc<dyn idp_bus::EventBus>,
    ) -> anyhow::Result<()> {
        idp_bearer::revocation::listen(bus.clone(), self.verifier()).await?;
        let _ = self.shared.bus.set(bus);
        Ok(())
    }

    /// Serves until `shutdown` triggers, then stops accepting and lets in-flight
    /// requests finish (at most `request_timeout_ms` plus one second): actix's
    /// own graceful stop (`ServerHandle::stop(true)` within `shutdown_timeout`;
    /// its signal handling is off, the caller owns the signals).
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let Gateway {
            listener,
            local_addr,
            shared,
        } = self;
        tracing::info!(addr = %local_addr, routes = shared.routes.len(), "gateway listening");
        let listener = listener.into_std()?;
        let grace =
            Duration::from_millis(shared.settings.request_timeout_ms) + Duration::from_secs(1);
        // actix counts its drain in whole seconds.
        let grace_secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
        let builder = actix_server::Server::build()
            .disable_signals()
            .shutdown_timeout(grace_secs);
        // Kept-alive connections are told `Connection: close` once draining.
        let draining = builder.graceful_shutdown_signal();
        let server = builder
            .listen("idp-gateway", listener, move || {
                let draining = draining.clone();
                // One per worker thread: its awc client (and connection pool).
                let worker = Data::new(Worker::new(shared.clone()));
                let app = App::new()
                    .app_data(worker)
                    .service(web::resource("/healthz").to(healthz))
                    .service(web::resource("/readyz").to(readyz))
                    .service(web::resource("/metrics").to(metrics_page))
                    .default_service(web::to(proxy))
                    .into_factory()
                    .map_err(|e: actix_web::Error| e.error_response());
                let expect = {
                    let shared = shared.clone();
                    fn_service(move |req: Request| {
                        let shared = shared.clone();
                        async move { shared.expect(req).await }
                    })
                };
                HttpService::build()
                    .client_request_timeout(HEADER_READ_TIMEOUT)
                    // An idle kept-alive connection waits as long for its next head.
                    .keep_alive(HEADER_READ_TIMEOUT)
                    .tcp_nodelay(true)
                    .local_addr(local_addr)
                    .graceful_shutdown_signal(move || {
                        let draining = draining.clone();
                        async move { draining.notified().await }
                    })
                    .on_connect_ext(|io: &actix_rt::net::TcpStream, ext| {
                        ext.insert(Client::of(io.peer_addr().ok()));
                    })
                    .expect(expect)
                    .finish(map_config(app, |_| AppConfig::default()))
                    .tcp()
            })?
            .run();
        let handle = server.handle();
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => {
                r?;
                tracing::info!("gateway stopped");
                return Ok(());
            }
            _ = shutdown.wait() => {}
        }
        let stopping = Instant::now();
        // Stops accepting, closes idle connections, lets in-flight requests finish
        // within the shutdown timeout; `server` ends when every worker has.
        let (served, ()) = tokio::join!(server, handle.stop(true));
        served?;
        if stopping.elapsed() >= grace {
            tracing::warn!("gateway shutdown: connections still open after the grace period");
        }
        tracing::info!("gateway stopped");
        Ok(())
    }
}

/// What the gateway knows of a client connection (computed once per connection).
#[derive(Clone)]
struct Client {
    ip: IpAddr,
    /// Its `X-Forwarded-For` value, cloned (refcount) per request.
    xff: HeaderValue,
}

impl Client {
    fn of(peer: Option<SocketAddr>) -> Client {
        let ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let xff =
            HeaderValue::try_from(ip.to_string()).unwrap_or(HeaderValue::from_static("unknown"));
        Client { ip, xff }
    }
}

/// A request decided before `100 Continue` (in [`Shared::expect`]).
struct Admitted {
    route: usize,
    rid: HeaderValue,
    start: Instant,
}

/// A refusal answered instead of `100 Continue`.
struct Refusal(HttpResponse);

impl From<Refusal> for actix_http::Response<BoxBody> {
    fn from(r: Refusal) -> Self {
        r.0.into()
    }
}

/// One per worker thread.
struct Worker {
    shared: Arc<Shared>,
    client: awc::Client,
}

impl Worker {
    fn new(shared: Arc<Shared>) -> Worker {
        // TCP_NODELAY on upstream connections too: a request head and a small body
        // must not wait for the previous segment's ACK.
        let tcp = actix_tls::connect::Connector::new(actix_tls::connect::Resolver::default())
            .service()
            .map(
                |c: actix_tls::connect::Connection<Uri, actix_rt::net::TcpStream>| {
                    let _ = c.io_ref().set_nodelay(true);
                    c
                },
            );
        let connector = awc::Connector::new()
            .connector(tcp)
            .timeout(Duration::from_millis(
                shared.settings.connect_timeout_ms.max(1),
            ))
            .conn_keep_alive(UPSTREAM_IDLE)
            // As many connections to each upstream as requests in flight.
            .limit(0);
        let client = awc::Client::builder()
            .connector(connector)
            .no_default_headers()
            .disable_redirects()
            // The request timeout is ours (to the response head, not the body).
            .disable_timeout()
            .finish();
        Worker { shared, client }
    }
}

fn client_of(req: &HttpRequest) -> Client {
    req.conn_data::<Client>()
        .cloned()
        .unwrap_or_else(|| Client::of(req.peer_addr()))
}

async fn healthz(req: HttpRequest, w: Data<Worker>) -> HttpResponse {
    let start = Instant::now();
    let rid = request_id(req.headers());
    let s = &w.shared;
    let r = json(StatusCode::OK, r#"{"status":"ok"}"#);
    s.finish(r, &req, client_of(&req).ip, &rid, s.slot_gateway, start)
}

async fn readyz(req: HttpRequest, w: Data<Worker>) -> HttpResponse {
    let start = Instant::now();
    let rid = request_id(req.headers());
    let s = &w.shared;
    let r = s.readyz(&w.client, &rid).await;
    s.finish(r, &req, client_of(&req).ip, &rid, s.slot_gateway, start)
}

async fn metrics_page(req: HttpRequest, w: Data<Worker>) -> HttpResponse {
    let start = Instant::now();
    let rid = request_id(req.headers());
    let s = &w.shared;
    let text = s.metrics.render(s.verifier.stats());
    let mut r = HttpResponse::with_body(StatusCode::OK, BoxBody::new(text));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    s.finish(r, &req, client_of(&req).ip, &rid, s.slot_gateway, start)
}

/// Everything else: decided, then forwarded.
async fn proxy(req: HttpRequest, body: web::Payload, w: Data<Worker>) -> HttpResponse {
    let s = &w.shared;
    let client = client_of(&req);
    let admitted = req.extensions_mut().remove::<Admitted>();
    let (route, rid, start) = match admitted {
        Some(a) => (a.route, a.rid, a.start),
        None => {
            let start = Instant::now();
            let rid = request_id(req.headers());
            match s
                .admit(req.method(), req.uri(), req.headers(), client.ip, &rid)
                .await
            {
                Ok(route) => (route, rid, start),
                Err((r, slot)) => return s.finish(r, &req, client.ip, &rid, slot, start),
            }
        }
    };
    let Some(compiled) = s.routes.get(route) else {
        let r = problem(Problem::internal(), &rid);
        return s.finish(r, &req, client.ip, &rid, s.slot_unmatched, start);
    };
    let r = s
        .forward(
            &w.client,
            compiled,
            &req,
            body.into_inner(),
            client.xff,
            &rid,
        )
        .await;
    s.finish(r, &req, client.ip, &rid, compiled.slot, start)
}

/// One compiled route.
struct CompiledRoute {
    prefix: String,
    rewrite: Option<String>,
    scheme: Scheme,
    authority: Authority,
    /// The upstream URL's own path, without a trailing `/` (usually empty).
    base_path: String,
    /// Slot in the metrics table (per distinct name).
    slot: usize,
}

struct CompiledPublic {
    method: Option<Method>,
    prefix: String,
}

struct Upstream {
    name: String,
    base: String,
}

struct CompiledLimit {
    method: Option<Method>,
    prefix: String,
    limiter: RateLimiter,
}

struct Shared {
    settings: Settings,
    verifier: Verifier,
    /// Sorted by prefix length, longest first.
    routes: Vec<CompiledRoute>,
    public: Vec<CompiledPublic>,
    upstreams: Vec<Upstream>,
    /// The token endpoint's limit.
    limiter: Option<RateLimiter>,
    /// The further limits (`rate_limits`), the disabled ones left out.
    limits: Vec<CompiledLimit>,
    metrics: Metrics,
    slot_gateway: usize,
    slot_unmatched: usize,
    request_timeout: Duration,
    ready: tokio::sync::Mutex<Option<(Instant, Vec<String>)>>,
    /// The event bus revocations come from, once listening (readiness checks it).
    bus: std::sync::OnceLock<Arc<dyn idp_bus::EventBus>>,
}

/// A prefix matches the path itself and anything below it; a prefix ending in `/`
/// matches anything that starts with it.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    path.starts_with(prefix)
        && (prefix.ends_with('/')
            || path.len() == prefix.len()
            || path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// The gateway's own paths (answered by it, never forwarded).
fn is_own(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

impl Shared {
    fn new(settings: Settings) -> anyhow::Result<Shared> {
        let mut names: Vec<String> = Vec::new();
        let mut routes = Vec::with_capacity(settings.routes.len());
        let mut upstreams: Vec<Upstream> = Vec::new();
        for r in &settings.routes {
            anyhow::ensure!(
                r.prefix.starts_with('/'),
                "route prefix {:?} must start with '/'",
                r.prefix
            );
            let uri: Uri = r.upstream.parse().with_context(|| {
                format!("route {}: bad upstream URL {:?}", r.prefix, r.upstream)
            })?;
            let scheme = uri.scheme().cloned().unwrap_or(Scheme::HTTP);
            anyhow::ensure!(
                scheme == Scheme::HTTP,
                "route {}: only http:// upstreams are supported ({})",
                r.prefix,
                r.upstream
            );
            let authority = uri.authority().cloned().with_context(|| {
                format!("route {}: upstream {:?} has no host", r.prefix, r.upstream)
            })?;
            let base_path = uri.path().trim_end_matches('/').to_string();
            let name = if r.name.is_empty() {
                authority.to_string()
            } else {
                r.name.clone()
            };
            let slot = match names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    names.push(name.clone());
                    names.len() - 1
                }
            };
            let base = format!("http://{authority}{base_path}");
            match upstreams.iter_mut().find(|u| u.base == base) {
                Some(u) => {
                    if !u.name.split(',').any(|n| n == name) {
                        u.name.push(',');
                        u.name.push_str(&name);
                    }
                }
                None => upstreams.push(Upstream { name, base }),
            }
            routes.push(CompiledRoute {
                prefix: r.prefix.clone(),
                rewrite: r.rewrite.clone(),
                scheme,
                authority,
                base_path,
                slot,
            });
        }
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let public = settings
            .public
            .iter()
            .map(|p| {
                let method = match &p.method {
                    Some(m) => Some(
                        Method::from_bytes(m.to_ascii_uppercase().as_bytes()).with_context(
                            || format!("public route {}: bad method {m:?}", p.prefix),
                        )?,
                    ),
                    None => None,
                };
                Ok(CompiledPublic {
                    method,
                    prefix: p.prefix.clone(),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut limits = Vec::with_capacity(settings.rate_limits.len());
        for l in &settings.rate_limits {
            anyhow::ensure!(
                l.prefix.starts_with('/'),
                "rate limit prefix {:?} must start with '/'",
                l.prefix
            );
            let method = l
                .method
                .as_ref()
                .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()))
                .transpose()
                .with_context(|| format!("rate limit {}: bad method", l.prefix))?;
            if let Some(limiter) = RateLimiter::new(l.rate_per_sec, l.burst) {
                limits.push(CompiledLimit {
                    method,
                    prefix: l.prefix.clone(),
                    limiter,
                });
            }
        }
        let slot_gateway = names.len();
        names.push("gateway".to_string());
        let slot_unmatched = names.len();
        names.push("unmatched".to_string());

        Ok(Shared {
            verifier: Verifier::new(settings.verifier.clone()),
            routes,
            public,
            upstreams,
            limiter: RateLimiter::new(settings.token_rate_per_sec, settings.token_burst),
            limits,
            metrics: Metrics::new(names),
            slot_gateway,
            slot_unmatched,
            request_timeout: Duration::from_millis(settings.request_timeout_ms.max(1)),
            ready: tokio::sync::Mutex::new(None),
            bus: std::sync::OnceLock::new(),
            settings,
        })
    }

    fn route(&self, path: &str) -> Option<usize> {
        self.routes
            .iter()
            .position(|r| prefix_matches(&r.prefix, path))
    }

    fn is_public(&self, method: &Method, path: &str) -> bool {
        self.public.iter().any(|p| {
            p.method.as_ref().is_none_or(|m| m == method) && prefix_matches(&p.prefix, path)
        })
    }

    /// The request id on the answer, its metrics and its access-log line.
    fn finish(
        &self,
        mut resp: HttpResponse,
        req: &HttpRequest,
        ip: IpAddr,
        rid: &HeaderValue,
        slot: usize,
        start: Instant,
    ) -> HttpResponse {
        self.finish_parts(&mut resp, req.method(), req.uri(), ip, rid, slot, start);
        resp
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_parts(
        &self,
        resp: &mut HttpResponse,
        method: &Method,
        uri: &Uri,
        ip: IpAddr,
        rid: &HeaderValue,
        slot: usize,
        start: Instant,
    ) {
        resp.headers_mut().insert(X_REQUEST_ID.clone(), rid.clone());
        let elapsed = start.elapsed();
        let status = resp.status().as_u16();
        self.metrics.record_request(slot, status, elapsed);
        if self.settings.access_log {
            tracing::info!(
                target: "gateway::access",
                method = %method,
                path = %idp_common::redact::path(uri.path()),
                status,
                duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                request_id = rid.to_str().unwrap_or(""),
                route = self.metrics.name(slot),
                client = %ip,
                "request"
            );
        }
    }

    /// A request with `Expect: 100-continue`: decided before `100 Continue` goes
    /// out; a refusal is the client's only answer (it never sends its body).
    async fn expect(&self, req: Request) -> Result<Request, Refusal> {
        if is_own(req.uri().path()) {
            return Ok(req);
        }
        let start = Instant::now();
        let rid = request_id(req.headers());
        let ip = Client::of(req.peer_addr()).ip;
        match self
            .admit(req.method(), req.uri(), req.headers(), ip, &rid)
            .await
        {
            Ok(route) => {
                req.extensions_mut().insert(Admitted { route, rid, start });
                Ok(req)
            }
            Err((mut r, slot)) => {
                self.finish_parts(&mut r, req.method(), req.uri(), ip, &rid, slot, start);
                Err(Refusal(r))
            }
        }
    }

    /// Everything decided before the upstream is contacted: the route (its index)
    /// or the refusal (with its metrics slot).
    async fn admit(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        ip: IpAddr,
        rid: &HeaderValue,
    ) -> Result<usize, (HttpResponse, usize)> {
        let path = uri.path();
        // Before any routing or public/protected decision: a path whose meaning
        // depends on who normalizes it is refused, never guessed at.
        if let Some(why) = ambiguous_path(path) {
            return Err((
                problem(Problem::bad_request(format!("the request path {why}")), rid),
                self.slot_unmatched,
            ));
        }
        let Some(index) = self.route(path) else {
            return Err((
                problem(Problem::not_found(format!("no route for {path}")), rid),
                self.slot_unmatched,
            ));
        };
        let slot = self
            .routes
            .get(index)
            .map_or(self.slot_unmatched, |r| r.slot);
        if let Some(what) = self.rate_limited(method, path, ip) {
            let mut r = problem(
                Problem::too_many_requests(format!("too many requests to {what}; retry later")),
                rid,
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Err((r, slot));
        }
        if !self.is_public(method, path) {
            if let Err(e) = self.authenticate(headers).await {
                return Err((unauthorized(e, rid), slot));
            }
        }
        if let Some(len) = content_length(headers) {
            if len > self.settings.max_body_bytes {
                return Err((self.too_large(rid), slot));
            }
        }
        Ok(index)
    }

    /// The name of the limit `ip` has exhausted for this request, if any.
    fn rate_limited(&self, method: &Method, path: &str, ip: IpAddr) -> Option<&'static str> {
        if let Some(limiter) = &self.limiter {
            if prefix_matches(&self.settings.token_endpoint_prefix, path) && !limiter.allow(ip) {
                return Some("the token endpoint");
            }
        }
        for l in &self.limits {
            if l.method.as_ref().is_none_or(|m| m == method)
                && prefix_matches(&l.prefix, path)
                && !l.limiter.allow(ip)
            {
                return Some("this endpoint");
            }
        }
        None
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), TokenError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        let outcome = match token {
            None => Err(TokenError::Missing),
            Some(t) => self.verifier.verify(t).await.map(|_| ()),
        };
        self.metrics.record_token(outcome);
        outcome
    }

    fn too_large(&self, rid: &HeaderValue) -> HttpResponse {
        problem(
            Problem::payload_too_large(format!(
                "the request body exceeds {} bytes",
                self.settings.max_body_bytes
            )),
            rid,
        )
    }

    async fn forward(
        &self,
        client: &awc::Client,
        route: &CompiledRoute,
        req: &HttpRequest,
        payload: Payload,
        xff: HeaderValue,
        rid: &HeaderValue,
    ) -> HttpResponse {
        let Some(uri) = upstream_uri(route, req.uri()) else {
            return problem(
                Problem::bad_request("the request path cannot be forwarded"),
                rid,
            );
        };
        let mut headers = req.headers().clone();
        let body_len = content_length(&headers);
        strip_hop_by_hop(&mut headers);
        strip_client_internal(&mut headers);
        // `Expect: 100-continue` was answered by this hop; the upstream gets the
        // body straight away.
        if headers.contains_key(header::EXPECT) {
            headers.remove(header::EXPECT);
        }
        if let Some(host) = headers.remove(header::HOST).next() {
            headers.insert(X_FORWARDED_HOST.clone(), host);
        } else if let Some(a) = req.uri().authority() {
            if let Ok(v) = HeaderValue::from_str(a.as_str()) {
                headers.insert(X_FORWARDED_HOST.clone(), v);
            }
        }
        headers.insert(X_FORWARDED_FOR.clone(), xff);
        headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
        headers.insert(X_REQUEST_ID.clone(), rid.clone());
        let mut upstream_req = client.request(req.method().clone(), uri);
        *upstream_req.headers_mut() = headers;

        // The client's body streams through as it arrives, with its own framing:
        // none, a length, or chunks; its watch notices when it fails.
        let (sent, watch) = match payload {
            // No body; a `Content-Length: 0` the client sent is kept.
            Payload::None if body_len == Some(0) => (upstream_req.send_body(()), None),
            Payload::None => (upstream_req.send_body(actix_http::body::None::new()), None),
            payload => {
                let (body, watch) = body::limited(payload, self.settings.max_body_bytes);
                let sent = match body_len {
                    Some(n) => upstream_req.send_body(SizedStream::new(n, body)),
                    None => upstream_req.send_body(BodyStream::new(body)),
                };
                (sent, Some(watch))
            }
        };
        let sent = tokio::time::timeout(self.request_timeout, sent);
        let (result, fault) = match watch {
            None => (sent.await, None),
            Some(watch) => tokio::select! {
                biased;
                f = watch => return self.body_fault(f, rid),
                r = sent => {
                    let fault = match &r {
                        Ok(Err(SendRequestError::Body(e))) => e.downcast_ref::<BodyFault>().copied(),
                        _ => None,
                    };
                    (r, fault)
                }
            },
        };
        match result {
            Ok(Ok(resp)) => {
                let status = resp.status();
                let mut headers = HeaderMap::new();
                let resp = resp.map_body(|head, payload| {
                    std::mem::swap(&mut headers, &mut head.headers);
                    payload
                });
                strip_hop_by_hop(&mut headers);
                let body = match content_length(&headers) {
                    Some(n) => BoxBody::new(SizedStream::new(n, resp)),
                    None => BoxBody::new(BodyStream::new(resp)),
                };
                let mut r = HttpResponse::with_body(status, body);
                *r.headers_mut() = headers;
                r
            }
            Ok(Err(_)) if fault.is_some() => match fault {
                Some(f) => self.body_fault(f, rid),
                None => problem(Problem::internal(), rid),
            },
            Ok(Err(e)) => self.upstream_error(route, &e, rid),
            Err(_) => problem(
                Problem::gateway_timeout(format!(
                    "the {} service did not answer within {} ms",
                    self.metrics.name(route.slot),
                    self.settings.request_timeout_ms
                )),
                rid,
            ),
        }
    }

    /// The client's body failed: its fault, not the upstream's; what is left of
    /// it is still on the connection, which cannot be reused.
    fn body_fault(&self, fault: BodyFault, rid: &HeaderValue) -> HttpResponse {
        let mut r = match fault {
            BodyFault::TooLarge => self.too_large(rid),
            BodyFault::Broken => {
                tracing::debug!(
                    request_id = rid.to_str().unwrap_or(""),
                    "reading the request body failed"
                );
                problem(
                    Problem::bad_request(
                        "the request body could not be read (malformed or incomplete)",
                    ),
                    rid,
                )
            }
        };
        r.head_mut().set_connection_type(ConnectionType::Close);
        r
    }

    fn upstream_error(
        &self,
        route: &CompiledRoute,
        e: &SendRequestError,
        rid: &HeaderValue,
    ) -> HttpResponse {
        let name = self.metrics.name(route.slot);
        tracing::warn!(upstream = name, error = %e, request_id = rid.to_str().unwrap_or(""), "upstream request failed");
        let p = match e {
            SendRequestError::Connect(ConnectError::Timeout) => {
                Problem::gateway_timeout(format!("connecting to the {name} service timed out"))
            }
            SendRequestError::Connect(ConnectError::Io(io))
                if io.kind() == std::io::ErrorKind::ConnectionRefused =>
            {
                Problem::bad_gateway(format!("the {name} service refused the connection"))
            }
            SendRequestError::Connect(ConnectError::Io(io))
                if io.kind() == std::io::ErrorKind::TimedOut =>
            {
                Problem::gateway_timeout(format!("connecting to the {name} service timed out"))
            }
            SendRequestError::Connect(_) => Problem::service_unavailable(format!(
                "no connection to the {name} service is possible"
            )),
            _ => Problem::bad_gateway(format!("the {name} service failed to answer")),
        };
        problem(p, rid)
    }

    async fn readyz(&self, client: &awc::Client, rid: &HeaderValue) -> HttpResponse {
        let failing = {
            let mut cached = self.ready.lock().await;
            match &*cached {
                Some((at, failing)) if at.elapsed() < READY_CACHE => failing.clone(),
                _ => {
                    let mut failing = self.probe_upstreams(client).await;
                    if let Some(bus) = self.bus.get() {
                        if let Err(reason) = bus.health().await {
                            failing.push(format!("event bus ({reason})"));
                        }
                    }
                    *cached = Some((Instant::now(), failing.clone()));
                    failing
                }
            }
        };
        if failing.is_empty() {
            json(StatusCode::OK, r#"{"status":"ready"}"#)
        } else {
            problem(
                Problem::service_unavailable(format!("not ready: {}", failing.join("; "))),
                rid,
            )
        }
    }

    /// `GET {upstream}/healthz` on every distinct upstream, concurrently; answers
    /// the failing ones.
    async fn probe_upstreams(&self, client: &awc::Client) -> Vec<String> {
        let probes = self.upstreams.iter().map(|u| async move {
            let ok = match format!("{}/healthz", u.base).parse::<Uri>() {
                Ok(uri) => matches!(
                    tokio::time::timeout(READY_PROBE_TIMEOUT, client.get(uri).send()).await,
                    Ok(Ok(r)) if r.status().is_success()
                ),
                Err(_) => false,
            };
            (!ok).then(|| format!("{} ({})", u.name, u.base))
        });
        let mut failing: Vec<String> = futures::future::join_all(probes)
            .await
            .into_iter()
            .flatten()
            .collect();
        failing.sort();
        failing
    }
}

/// The upstream URI: the route's authority, its base path, the path (its prefix
/// rewritten if configured) and the query.
fn upstream_uri(route: &CompiledRoute, original: &Uri) -> Option<Uri> {
    let pq = match (&route.rewrite, route.base_path.is_empty()) {
        (None, true) => original
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
        (rewrite, _) => {
            let path = original.path();
            let rest = path.get(route.prefix.len()..).unwrap_or("");
            let mut s = String::with_capacity(route.base_path.len() + path.len() + 32);
            s.push_str(&route.base_path);
            match rewrite {
                Some(rw) => {
                    s.push_str(rw);
                    s.push_str(rest);
                }
                None => s.push_str(path),
            }
            if let Some(q) = original.query() {
                s.push('?');
                s.push_str(q);
            }
            PathAndQuery::try_from(s).ok()?
        }
    };
    Uri::builder()
        .scheme(route.scheme.clone())
        .authority(route.authority.clone())
        .path_and_query(pq)
        .build()
        .ok()
}

/// Removes `Connection`, the headers it names, and the other hop-by-hop headers.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for n in named {
            headers.remove(n);
        }
        headers.remove(header::CONNECTION);
    }
    for h in [
        &KEEP_ALIVE,
        &PROXY_CONNECTION,
        &header::PROXY_AUTHENTICATE,
        &header::PROXY_AUTHORIZATION,
        &header::TE,
        &header::TRAILER,
        &header::TRANSFER_ENCODING,
        &header::UPGRADE,
    ] {
        if headers.contains_key(h) {
            headers.remove(h);
        }
    }
}

/// Names (lower case) of headers a client may not send: a service, a framework
/// or a proxy could take them for who the caller is, where it comes from, or
/// which path it asked for. The caller's identity reaches a service only in the
/// bearer token (`Authorization`, forwarded untouched); `X-Forwarded-*` are set
/// by the gateway itself.
const CLIENT_FORBIDDEN: &[&str] = &[
    "forwarded",
    "remote-user",
    "remote-addr",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
];

/// Prefixes (lower case) of header names a client may not send, for the same
/// reason: `x-` followed by a word about identity, tenancy, origin or routing.
/// A prefix also covers longer words (`x-user` covers `x-user-id` and
/// `x-username`, `x-org` covers `x-organization-id`).
const CLIENT_FORBIDDEN_PREFIXES: &[&str] = &[
    "x-forwarded",
    "x-internal",
    "x-identity",
    "x-user",
    "x-org",
    "x-tenant",
    "x-account",
    "x-api-account",
    "x-auth",
    "x-remote",
    "x-real",
    "x-client",
    "x-original",
    "x-rewrite",
    "x-principal",
    "x-subject",
    "x-role",
    "x-group",
    "x-permission",
    "x-scope",
    "x-email",
    "x-ssl",
    "x-jwt",
    "x-token",
    "x-impersonat",
    "x-on-behalf",
];

fn is_client_internal(name: &str) -> bool {
    // Fast path: most headers are not `x-*`.
    if name.starts_with("x-") {
        CLIENT_FORBIDDEN_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
            || CLIENT_FORBIDDEN.contains(&name)
    } else {
        CLIENT_FORBIDDEN.contains(&name)
    }
}

/// Why the path is refused, if it is: a dot-segment (`.` or `..`, also
/// percent-encoded as `%2e`), an empty segment (`//`; one trailing `/` is
/// allowed), or a separator inside a segment (`\`, `%2f`, `%5c`). Such a path
/// means different things to different normalizers, so a prefix that looks
/// public could reach a protected route; no route of the platform needs one.
fn ambiguous_path(path: &str) -> Option<&'static str> {
    let b = path.as_bytes();
    // Fast path: nothing that could form one of those.
    if !b.iter().any(|c| matches!(c, b'.' | b'%' | b'\\')) && !path.contains("//") {
        return None;
    }
    if b.contains(&b'\\') {
        return Some("contains a backslash");
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut segments = rest.split('/').peekable();
    while let Some(seg) = segments.next() {
        if seg.is_empty() && segments.peek().is_some() {
            return Some("contains an empty segment (//)");
        }
        let sb = seg.as_bytes();
        let (mut dots, mut other, mut i) = (0usize, false, 0usize);
        while let Some(&c) = sb.get(i) {
            match (c, sb.get(i + 1..i + 3)) {
                (b'.', _) => {
                    dots += 1;
                    i += 1;
                }
                (b'%', Some(hex)) => {
                    match hex.to_ascii_lowercase().as_slice() {
                        b"2e" => dots += 1,
                        b"2f" | b"5c" => return Some("contains an encoded separator (%2F or %5C)"),
                        _ => other = true,
                    }
                    i += 3;
                }
                _ => {
                    other = true;
                    i += 1;
                }
            }
        }
        if !other && (dots == 1 || dots == 2) {
            return Some("contains a dot-segment (. or ..)");
        }
    }
    None
}

/// Removes forwarding, internal and identity headers a client may have sent to
/// spoof them (see [`CLIENT_FORBIDDEN`] and [`CLIENT_FORBIDDEN_PREFIXES`]).
fn strip_client_internal(headers: &mut HeaderMap) {
    if !headers.keys().any(|k| is_client_internal(k.as_str())) {
        return;
    }
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|k| is_client_internal(k.as_str()))
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The client's `X-Request-Id` when it is sane (1..=128 chars of `[A-Za-z0-9._-]`),
/// else a fresh UUID v4.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    if let Some(v) = headers.get(&X_REQUEST_ID) {
        let b = v.as_bytes();
        if !b.is_empty()
            && b.len() <= 128
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        {
            return v.clone();
        }
    }
    new_request_id()
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let seed = uuid::Uuid::new_v4().as_u64_pair();
        (seed.0 ^ seed.1.rotate_left(17)) | 1
    });
}

/// splitmix64 on a per-thread state seeded from the OS: request ids need
/// uniqueness, not secrecy, and this avoids a syscall per request.
fn next_u64() -> u64 {
    RNG.with(|s| {
        let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn new_request_id() -> HeaderValue {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&next_u64().to_le_bytes());
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let s = uuid.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("unknown"))
}

fn json(status: StatusCode, body: &'static str) -> HttpResponse {
    let mut r = HttpResponse::with_body(status, BoxBody::new(Bytes::from_static(body.as_bytes())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn problem(p: Problem, rid: &HeaderValue) -> HttpResponse {
    let p = p.with_request_id(rid.to_str().unwrap_or(""));
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&p).unwrap_or_default();
    let mut r = HttpResponse::with_body(status, BoxBody::new(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    r
}

fn unauthorized(e: TokenError, rid: &HeaderValue) -> HttpResponse {
    if e.is_server_error() {
        let mut r = problem(
            Problem::service_unavailable(if e == TokenError::RevocationsUnavailable {
                "the gateway has not caught up with token revocations yet; retry later"
            } else {
                "the token signing keys are unavailable; retry later"
            }),
            rid,
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    let mut r = problem(Problem::unauthorized(e.to_string()), rid);
    if let Ok(v) = HeaderValue::try_from(e.www_authenticate()) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn shared(routes: Vec<Route>) -> Shared {
        Shared::new(Settings {
            routes,
            ..Settings::default()
        })
        .unwrap()
    }

    #[test]
    fn longest_prefix_wins_at_segment_boundaries() {
        let s = shared(vec![
            Route::new("/a", "http://127.0.0.1:1", "short"),
            Route::new("/a/b", "http://127.0.0.1:2", "long"),
            Route::new("/dir/", "http://127.0.0.1:3", "dir"),
        ]);
        let name = |p: &str| {
            s.route(p)
                .map(|i| s.metrics.name(s.routes[i].slot).to_string())
        };
        assert_eq!(name("/a").as_deref(), Some("short"));
        assert_eq!(name("/a/x").as_deref(), Some("short"));
        assert_eq!(name("/a/b").as_deref(), Some("long"));
        assert_eq!(name("/a/b/c").as_deref(), Some("long"));
        assert_eq!(name("/a/bc").as_deref(), Some("short"));
        assert_eq!(name("/ab"), None);
        assert_eq!(name("/dir/x").as_deref(), Some("dir"));
        assert_eq!(name("/dir"), None);
    }

    #[test]
    fn default_table_routes_the_platform() {
        let s = shared(settings::default_routes());
        let up = |p: &str| s.route(p).map(|i| s.routes[i].authority.to_string());
        assert_eq!(
            up("/identity/v1/organizations/x").as_deref(),
            Some("127.0.0.1:8082")
        );
        assert_eq!(
            up("/identity/v1/oauth/token").as_deref(),
            Some("127.0.0.1:8081")
        );
        assert_eq!(up("/auth/v1/grants").as_deref(), Some("127.0.0.1:8084"));
        assert_eq!(
            up("/identity/v1/invitations/key/abc").as_deref(),
            Some("127.0.0.1:8083")
        );
        assert_eq!(up("/nothing"), None);
        let r = &s.routes[s.route("/.well-known/jwks.json").unwrap()];
        let u = upstream_uri(r, &"/.well-known/jwks.json?x=1".parse().unwrap()).unwrap();
        assert_eq!(
            u.to_string(),
            "http://127.0.0.1:8081/identity/v1/.well-known/jwks.json?x=1"
        );
        let r = &s.routes[s.route("/identity/v1/identities").unwrap()];
        let u = upstream_uri(r, &"/identity/v1/identities?page=1".parse().unwrap()).unwrap();
        assert_eq!(
            u.to_string(),
            "http://127.0.0.1:8081/identity/v1/identities?page=1"
        );
        assert_eq!(s.upstreams.len(), 4);
    }

    #[test]
    fn default_public_routes() {
        let s = shared(settings::default_routes());
        assert!(s.is_public(&Method::POST, "/identity/v1/oauth/token"));
        assert!(!s.is_public(&Method::GET, "/identity/v1/oauth/token"));
        assert!(s.is_public(&Method::GET, "/.well-known/openid-configuration"));
        assert!(s.is_public(&Method::GET, "/identity/v1/.well-known/jwks.json"));
        assert!(s.is_public(
            &Method::POST,
            "/identity/v1/organizations/authorize-initiate"
        ));
        assert!(!s.is_public(&Method::POST, "/identity/v1/organizations"));
        assert!(s.is_public(&Method::PUT, "/identity/v1/invitations/key/k1/accept"));
        assert!(!s.is_public(&Method::GET, "/identity/v1/invitations"));
        assert!(s.is_public(&Method::POST, "/identity/v1/nfconsole/support/requests"));
    }

    #[test]
    fn base_path_of_an_upstream_is_prepended() {
        let s = shared(vec![
            Route::new("/svc", "http://127.0.0.1:9/base/", "svc").rewritten("/v2")
        ]);
        let r = &s.routes[s.route("/svc/x").unwrap()];
        let u = upstream_uri(r, &"/svc/x?q".parse().unwrap()).unwrap();
        assert_eq!(u.to_string(), "http://127.0.0.1:9/base/v2/x?q");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Shared::new(Settings {
            routes: vec![Route::new("/a", "https://x", "a")],
            ..Settings::default()
        })
        .is_err());
        assert!(Shared::new(Settings {
            routes: vec![Route::new("a", "http://x", "a")],
            ..Settings::default()
        })
        .is_err());
    }

    #[test]
    fn headers_are_cleaned() {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("connection"),
            "keep-alive, x-hop".parse().unwrap(),
        );
        h.insert(HeaderName::from_static("x-hop"), "1".parse().unwrap());
        h.insert(
            HeaderName::from_static("keep-alive"),
            "timeout=5".parse().unwrap(),
        );
        h.insert(HeaderName::from_static("te"), "trailers".parse().unwrap());
        h.insert(
            HeaderName::from_static("upgrade"),
            "websocket".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            "6.6.6.6".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("forwarded"),
            "for=6.6.6.6".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("x-internal-user"),
            "admin".parse().unwrap(),
        );
        h.insert(
            HeaderName::from_static("x-identity-id"),
            "x".parse().unwrap(),
        );
        for spoof in [
            "x-organization-id",
            "x-tenant-id",
            "x-user-id",
            "x-real-ip",
            "x-forwarded-user",
            "x-remote-user",
            "remote-user",
            "true-client-ip",
        ] {
            h.insert(HeaderName::from_static(spoof), "x".parse().unwrap());
        }
        h.insert(
            HeaderName::from_static("authorization"),
            "Bearer t".parse().unwrap(),
        );
        h.insert(HeaderName::from_static("accept"), "*/*".parse().unwrap());
        h.insert(
            HeaderName::from_static("x-request-id"),
            "r".parse().unwrap(),
        );
        h.insert(HeaderName::from_static("x-custom"), "c".parse().unwrap());
        strip_hop_by_hop(&mut h);
        strip_client_internal(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(
            left,
            vec!["accept", "authorization", "x-custom", "x-request-id"]
        );
    }

    #[test]
    fn ambiguous_paths_are_recognized() {
        for bad in [
            "/a/../b",
            "/a/./b",
            "/a/..",
            "/a/.",
            "/..",
            "/a/%2e%2e/b",
            "/a/%2E%2e/b",
            "/a/.%2e/b",
            "/a/%2e./b",
            "/a/%2e",
            "/a//b",
            "//a",
            "/a%2fb",
            "/a/%2F",
            "/a/%5cb",
            "/a\\b",
        ] {
            assert!(ambiguous_path(bad).is_some(), "{bad}");
        }
        for good in [
            "/",
            "/a/b",
            "/a/b/",
            "/a/b.json",
            "/.well-known/jwks.json",
            "/a/...",
            "/a/.x",
            "/a/x.",
            "/a/%20b",
            "/a/%2",
            "/a/%",
            "/a/%2e%2e%2e",
            "/a/%252e%252e",
        ] {
            assert_eq!(ambiguous_path(good), None, "{good}");
        }
    }

    #[test]
    fn default_rate_limits_cover_the_token_endpoint_and_authorize_initiate() {
        let s = shared(settings::default_routes());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let path = "/identity/v1/organizations/authorize-initiate";
        let burst = settings::default_rate_limits()[0].burst;
        assert!((0..burst).all(|_| s.rate_limited(&Method::POST, path, ip).is_none()));
        assert!(s.rate_limited(&Method::POST, path, ip).is_some());
        assert!(
            s.rate_limited(&Method::GET, path, ip).is_none(),
            "POST only"
        );
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(s.rate_limited(&Method::POST, path, other).is_none());
        assert!(s
            .rate_limited(&Method::POST, "/identity/v1/organizations", ip)
            .is_none());
        let token = "/identity/v1/oauth/token";
        let burst = Settings::default().token_burst;
        assert!((0..burst).all(|_| s.rate_limited(&Method::POST, token, ip).is_none()));
        assert!(s.rate_limited(&Method::POST, token, ip).is_some());
    }

    #[test]
    fn request_ids_are_taken_when_sane() {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-request-id"),
            "abc-123_x.y".parse().unwrap(),
        );
        assert_eq!(request_id(&h), "abc-123_x.y");
        h.insert(
            HeaderName::from_static("x-request-id"),
            "has space".parse().unwrap(),
        );
        let generated = request_id(&h);
        let u = uuid::Uuid::parse_str(generated.to_str().unwrap()).unwrap();
        assert_eq!(u.get_version_num(), 4);
        h.insert(
            HeaderName::from_static("x-request-id"),
            "a".repeat(129).parse().unwrap(),
        );
        assert_ne!(request_id(&h), "a".repeat(129).as_str());
        assert_ne!(new_request_id(), new_request_id());
    }
}
