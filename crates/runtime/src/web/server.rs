//! The actix-web server of a service: the service's routes plus what every service
//! has — `/healthz`, `/readyz`, `/metrics`, the body limit, 404/405/413 problem
//! fallbacks, and per request the request id, its span, the access log and the
//! request metrics — served until the project's [`Shutdown`] fires, then drained
//! with actix-web's own graceful stop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::middleware::{from_fn, Next};
use actix_web::web::{self, Data, PayloadConfig, ServiceConfig};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer};
use idp_bearer::Verifier;
use idp_model::problem::PROBLEM_CONTENT_TYPE;
use idp_model::Problem;
use tokio::net::TcpListener;
use tracing::Span;
use tracing_actix_web::{RootSpanBuilder, TracingLogger};

use super::answer::problem_response;
use crate::metrics::{MetricsSources, ServiceMetrics, UNMATCHED};
use crate::request_id::{access_log, request_id_of, InFlight, RequestContext, RequestId, HEADER};
use crate::server::ReadinessCheck;
use crate::Shutdown;

/// How a service registers its routes (and its app data).
pub type Configure = Arc<dyn Fn(&mut ServiceConfig) + Send + Sync>;

/// Everything an actix-web worker needs to build the service's app; cheap to clone
/// (every worker thread builds its own app from it).
#[derive(Clone)]
pub struct WebApp {
    configure: Configure,
    checks: Arc<Vec<ReadinessCheck>>,
    metrics: Arc<ServiceMetrics>,
    sources: MetricsSources,
    verifier: Option<Verifier>,
    max_body_bytes: usize,
}

/// What the common routes read.
struct Common {
    checks: Arc<Vec<ReadinessCheck>>,
    metrics: Arc<ServiceMetrics>,
    sources: MetricsSources,
}

impl WebApp {
    /// The service's routes with the common ones, fresh metrics and no verifier
    /// (the service frame adds them: `Foundation::into_app`).
    pub fn new(
        configure: impl Fn(&mut ServiceConfig) + Send + Sync + 'static,
        checks: Vec<ReadinessCheck>,
        max_body_bytes: usize,
    ) -> WebApp {
        WebApp {
            configure: Arc::new(configure),
            checks: Arc::new(checks),
            metrics: ServiceMetrics::new(),
            sources: MetricsSources::default(),
            verifier: None,
            max_body_bytes,
        }
    }

    /// `/metrics` shows `metrics`, refreshed from `sources` at scrape time.
    pub fn observed(mut self, metrics: Arc<ServiceMetrics>, sources: MetricsSources) -> WebApp {
        self.metrics = metrics;
        self.sources = sources;
        self
    }

    /// The token verifier the [`Caller`](crate::auth::Caller) extractor uses.
    pub fn verifier(mut self, verifier: Verifier) -> WebApp {
        self.verifier = Some(verifier);
        self
    }

    /// The app (one per worker).
    pub fn app(
        &self,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        let configure = self.configure.clone();
        let mut app = App::new()
            .app_data(PayloadConfig::new(self.max_body_bytes))
            .app_data(Data::from(self.metrics.clone()))
            .app_data(Data::new(Common {
                checks: self.checks.clone(),
                metrics: self.metrics.clone(),
                sources: self.sources.clone(),
            }));
        if let Some(v) = &self.verifier {
            app = app.app_data(v.clone());
        }
        app.configure(move |cfg| configure(cfg))
            .service(web::resource("/healthz").get(healthz))
            .service(web::resource("/readyz").get(readyz))
            .service(web::resource("/metrics").get(metrics_page))
            .default_service(web::to(not_found))
            // The last `wrap` runs first: the span, then the metrics, then the
            // fallbacks, then HEAD routed as GET.
            .wrap(from_fn(head_as_get))
            .wrap(from_fn(problem_fallbacks))
            .wrap(from_fn(observe))
            .wrap(TracingLogger::<RequestSpan>::new())
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(common: Data<Common>) -> HttpResponse {
    match crate::server::readiness(&common.checks).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(failures) => problem_response(&Problem::service_unavailable(failures)),
    }
}

async fn metrics_page(common: Data<Common>) -> HttpResponse {
    let text = common.metrics.render(&common.sources).await;
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, idp_common::metrics::CONTENT_TYPE))
        .body(text)
}

/// HEAD is GET without the body (RFC 9110, 9.3.2): it is routed as GET, and
/// actix-web's HTTP/1 encoder, which saw the request's own method, sends the
/// answer's head only (with the length the GET's body has). The span, the access
/// log and the metrics still say HEAD.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

async fn not_found() -> HttpResponse {
    problem_response(&Problem::not_found("no such resource"))
}

/// The request's span (`request_id`, `method`, `route`, `path`, and the caller's
/// `identity_id` and `organization_id` once its token is verified) and, when the
/// response is ready, its access-log line. The request id is the caller's
/// `X-Request-Id` when sane (the gateway's), else a new one.
pub struct RequestSpan;

/// When the request arrived (for the access log's duration).
#[derive(Clone, Copy)]
struct Arrived(Instant);

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(req: &ServiceRequest) -> Span {
        let id = request_id_of(
            req.headers()
                .get(HEADER)
                .and_then(|v: &HeaderValue| v.to_str().ok()),
        );
        let route = req.match_pattern();
        let route = route.as_deref().unwrap_or(UNMATCHED);
        let path = idp_common::redact::path(req.path());
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            route = %route,
            path = %path,
            identity_id = tracing::field::Empty,
            organization_id = tracing::field::Empty,
        );
        let mut ext = req.extensions_mut();
        ext.insert(RequestId(id));
        ext.insert(Arrived(Instant::now()));
        span
    }

    fn on_request_end<B: MessageBody>(
        _span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        // `observe` turns errors into responses: the outcome is a response.
        let Ok(res) = outcome else { return };
        let req = res.request();
        let ext = req.extensions();
        let id = ext.get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("");
        let elapsed = ext
            .get::<Arrived>()
            .map(|a| a.0.elapsed())
            .unwrap_or_default();
        let caller = ext.get::<RequestContext>().and_then(RequestContext::caller);
        let route = req.match_pattern();
        access_log(
            id,
            req.method().as_str(),
            route.as_deref().unwrap_or(UNMATCHED),
            &idp_common::redact::path(req.path()),
            res.status().as_u16(),
            elapsed,
            caller,
        );
    }
}

/// Request metrics (by method, route template and status; in flight), the request
/// context the bearer extractor reports to, and the request id on the response.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(metrics) = req
        .app_data::<Data<ServiceMetrics>>()
        .map(|d| d.clone().into_inner())
    else {
        return next.call(req).await;
    };
    req.extensions_mut()
        .insert(RequestContext::new(metrics.clone()));
    let method = req.method().clone();
    let started = Instant::now();
    let in_flight = InFlight::start(&metrics);
    // (Holding a clone of the request here would stop the router, which needs it
    // unshared.) Handlers' and extractors' errors are responses by now; an error
    // here comes from a middleware and is answered by actix-web itself.
    let mut res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            drop(in_flight);
            let status = e.as_response_error().status_code().as_u16();
            metrics.record_request(method.as_str(), UNMATCHED, status, started.elapsed());
            return Err(e);
        }
    };
    drop(in_flight);
    let route = res.request().match_pattern();
    metrics.record_request(
        method.as_str(),
        route.as_deref().unwrap_or(UNMATCHED),
        res.status().as_u16(),
        started.elapsed(),
    );
    let id = res.request().extensions().get::<RequestId>().cloned();
    if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id.0).ok()) {
        res.headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

/// 404, 405 and 413 answers that are not problems yet (actix-web's own: a route
/// without the method, a raw body over the limit) become problem bodies; their
/// headers (`Allow`) stay.
async fn problem_fallbacks(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let problem = match res.status().as_u16() {
        404 => Problem::not_found("no such resource"),
        405 => crate::server::method_not_allowed(),
        413 => Problem::payload_too_large("the request body is larger than allowed"),
        _ => return Ok(res.map_into_left_body()),
    };
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_CONTENT_TYPE.as_bytes()));
    if is_problem {
        return Ok(res.map_into_left_body());
    }
    let (req, old) = res.into_parts();
    let mut new = problem_response(&problem);
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new).map_into_right_body())
}

/// Serves `app` on `listener` until `shutdown` fires; then actix-web's graceful
/// stop: the listener closes, idle connections close, in-flight requests finish
/// within `grace` (then they are dropped and this answers an error).
pub async fn serve(
    listener: TcpListener,
    app: WebApp,
    shutdown: Shutdown,
    grace: Duration,
) -> anyhow::Result<()> {
    let listener = listener.into_std()?;
    // actix-web counts its drain in whole seconds.
    let grace_secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    let server = HttpServer::new(move || app.app())
        .disable_signals()
        .shutdown_timeout(grace_secs)
        .listen(listener)?
        .run();
    let handle = server.handle();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => return Ok(r?),
        _ = shutdown.wait() => {}
    }
    let stopping = Instant::now();
    // Also sends the stop; `server` finishes when every worker has drained.
    let stopped = handle.stop(true);
    let (served, ()) = tokio::join!(server, stopped);
    served?;
    if stopping.elapsed() >= grace && !grace.is_zero() {
        anyhow::bail!(
            "requests still in flight {} ms after shutdown started; dropped",
            grace.as_millis()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Body, Json, PathId, Query};
    use actix_web::test;

    fn routes(cfg: &mut ServiceConfig) {
        // `web::resource`, not `cfg.route`: a path without the method is a 405.
        cfg.service(
            web::resource("/json").post(|Json(v): Json<serde_json::Value>| async move { Json(v) }),
        )
        .route(
            "/raw",
            web::post().to(|Body(b): Body| async move { b.len().to_string() }),
        )
        .route(
            "/bytes",
            web::post().to(|b: web::Bytes| async move { b.len().to_string() }),
        )
        .route(
            "/things/{id}",
            web::get().to(|PathId(id): PathId<uuid::Uuid>| async move { id.to_string() }),
        )
        .route(
            "/filter",
            web::get().to(
                |Query(q): Query<std::collections::BTreeMap<String, bool>>| async move { Json(q) },
            ),
        );
    }

    async fn body_of(res: ServiceResponse<impl MessageBody>) -> (u16, String, String) {
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = test::read_body(res).await;
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    #[actix_web::test]
    async fn head_answers_the_get_head_without_its_body() {
        let app = WebApp::new(
            |cfg: &mut ServiceConfig| {
                cfg.service(
                    web::resource("/thing")
                        .get(|| async { "the thing" })
                        .post(|| async { "posted" }),
                );
            },
            Vec::new(),
            1024,
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve(
            listener,
            app,
            shutdown.clone(),
            Duration::from_secs(1),
        ));
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/thing");
        let head = client.head(&url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], "9");
        assert_eq!(head.bytes().await.unwrap().len(), 0);
        // The connection stays usable: the next request on it gets its answer.
        let get = client.get(&url).send().await.unwrap();
        assert_eq!(get.text().await.unwrap(), "the thing");
        // Other methods keep their own routes and 405s; unknown paths their 404.
        assert_eq!(client.put(&url).send().await.unwrap().status(), 405);
        let missing = client
            .head(format!("http://{addr}/nothing"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        shutdown.trigger();
        server.await.unwrap().unwrap();
    }

    #[actix_web::test]
    async fn bodies_over_the_limit_are_413_problems() {
        let app = test::init_service(WebApp::new(routes, Vec::new(), 1024).app()).await;
        let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(2000)).into_bytes();
        for path in ["/json", "/raw", "/bytes"] {
            for chunked in [false, true] {
                let req = test::TestRequest::post()
                    .uri(path)
                    .insert_header((CONTENT_TYPE, "application/json"));
                let req = if chunked {
                    let chunks = futures::stream::iter(
                        big.chunks(100)
                            .map(|c| {
                                Ok::<_, actix_web::error::PayloadError>(
                                    web::Bytes::copy_from_slice(c),
                                )
                            })
                            .collect::<Vec<_>>(),
                    );
                    let stream: std::pin::Pin<
                        Box<
                            dyn futures::Stream<
                                Item = Result<web::Bytes, actix_web::error::PayloadError>,
                            >,
                        >,
                    > = Box::pin(chunks);
                    let (req, _) = req
                        .to_request()
                        .replace_payload(actix_web::dev::Payload::from(stream));
                    test::call_service(&app, req).await
                } else {
                    test::call_service(&app, req.set_payload(big.clone()).to_request()).await
                };
                let (status, ct, body) = body_of(req).await;
                assert_eq!(status, 413, "{path} chunked={chunked}: {body}");
                assert_eq!(ct, PROBLEM_CONTENT_TYPE, "{path} chunked={chunked}");
                assert!(body.contains("payload-too-large"), "{body}");
            }
            let req = test::TestRequest::post()
                .uri(path)
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(r#"{"name":"x"}"#)
                .to_request();
            let (status, _, _) = body_of(test::call_service(&app, req).await).await;
            assert_eq!(status, 200, "{path}");
        }
    }

    #[actix_web::test]
    async fn fallbacks_ids_and_queries_answer_problems() {
        let app = test::init_service(WebApp::new(routes, Vec::new(), 1024).app()).await;
        let call = |req: test::TestRequest| {
            let app = &app;
            async move { body_of(test::call_service(app, req.to_request()).await).await }
        };
        // No such route; a route without the method.
        let (status, ct, body) = call(test::TestRequest::get().uri("/no/such")).await;
        assert_eq!((status, ct.as_str()), (404, PROBLEM_CONTENT_TYPE), "{body}");
        let (status, ct, body) = call(test::TestRequest::get().uri("/json")).await;
        assert_eq!((status, ct.as_str()), (405, PROBLEM_CONTENT_TYPE), "{body}");
        assert!(body.contains("method-not-allowed"), "{body}");
        // A path id that does not parse: 404; one that does: the handler.
        let (status, ct, _) = call(test::TestRequest::get().uri("/things/nope")).await;
        assert_eq!((status, ct.as_str()), (404, PROBLEM_CONTENT_TYPE));
        let id = uuid::Uuid::new_v4();
        let (status, _, body) = call(test::TestRequest::get().uri(&format!("/things/{id}"))).await;
        assert_eq!((status, body), (200, id.to_string()));
        // A query value of the wrong type names the parameter, not the value.
        let (status, _, body) = call(test::TestRequest::get().uri("/filter?flag=sekrit")).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("\"field\":\"flag\""), "{body}");
        assert!(!body.contains("sekrit"), "{body}");
        // Not JSON: 415; malformed JSON: 400.
        let (status, _, _) = call(
            test::TestRequest::post()
                .uri("/json")
                .insert_header((CONTENT_TYPE, "text/plain"))
                .set_payload("{}"),
        )
        .await;
        assert_eq!(status, 415);
        let (status, ct, _) = call(
            test::TestRequest::post()
                .uri("/json")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload("{nope"),
        )
        .await;
        assert_eq!((status, ct.as_str()), (400, PROBLEM_CONTENT_TYPE));
    }

    #[actix_web::test]
    async fn requests_carry_an_id_and_are_counted_by_route_template() {
        let web_app = WebApp::new(routes, Vec::new(), 1024);
        let metrics = web_app.metrics.clone();
        let app = test::init_service(web_app.app()).await;
        let id = uuid::Uuid::new_v4();
        let req = test::TestRequest::get()
            .uri(&format!("/things/{id}"))
            .insert_header((HEADER, "client-id_1.2"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.headers().get(HEADER).unwrap(), "client-id_1.2");
        let req = test::TestRequest::get()
            .uri("/healthz")
            .insert_header((HEADER, "bad id with spaces"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status().as_u16(), 200);
        let generated = res.headers().get(HEADER).unwrap().to_str().unwrap();
        assert!(crate::request_id::is_sane(generated), "{generated}");
        let page = metrics.render(&MetricsSources::default()).await;
        let samples = idp_common::metrics::parse_text(&page).unwrap();
        assert!(
            samples.iter().any(|s| s.name == "idp_http_requests_total"
                && s.label("route") == Some("/things/{id}")
                && s.label("status") == Some("200")
                && s.value == 1.0),
            "{page}"
        );
        let req = test::TestRequest::get().uri("/metrics").to_request();
        let (status, ct, body) = body_of(test::call_service(&app, req).await).await;
        assert_eq!(status, 200);
        assert_eq!(ct, idp_common::metrics::CONTENT_TYPE);
        assert!(body.contains("idp_http_requests_in_flight"), "{body}");
    }

    #[actix_web::test]
    async fn readiness_names_the_failing_check() {
        let checks = vec![ReadinessCheck::new("thing", || async {
            Err("is down".to_string())
        })];
        let app = test::init_service(WebApp::new(routes, checks, 1024).app()).await;
        let req = test::TestRequest::get().uri("/readyz").to_request();
        let (status, ct, body) = body_of(test::call_service(&app, req).await).await;
        assert_eq!((status, ct.as_str()), (503, PROBLEM_CONTENT_TYPE));
        assert!(body.contains("thing: is down"), "{body}");
    }

    #[tokio::test]
    async fn serves_until_shutdown_then_drains_in_flight_requests() {
        let slow = |cfg: &mut ServiceConfig| {
            cfg.route(
                "/slow",
                web::get().to(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            );
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let served = tokio::spawn(serve(
            listener,
            WebApp::new(slow, Vec::new(), 1024),
            shutdown.clone(),
            Duration::from_secs(5),
        ));
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("http://{addr}/slow");
        let in_flight = tokio::spawn({
            let client = client.clone();
            let url = url.clone();
            async move { client.get(url).send().await?.text().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.trigger();
        assert_eq!(in_flight.await.unwrap().unwrap(), "done");
        served.await.unwrap().unwrap();
        assert!(client.get(&url).send().await.is_err(), "still accepting");
    }

    #[tokio::test]
    async fn a_request_still_running_after_the_grace_period_is_an_error() {
        let stuck = |cfg: &mut ServiceConfig| {
            cfg.route(
                "/stuck",
                web::get().to(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            );
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let served = tokio::spawn(serve(
            listener,
            WebApp::new(stuck, Vec::new(), 1024),
            shutdown.clone(),
            Duration::from_secs(1),
        ));
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let req =
            tokio::spawn(async move { client.get(format!("http://{addr}/stuck")).send().await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.trigger();
        let err = served.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("still in flight"), "{err}");
        assert!(req.await.unwrap().is_err());
    }
}
