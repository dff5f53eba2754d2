//! Test fixtures: a backend that counts and echoes, serving a JWKS too; a gateway
//! in front of it; token minting.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use idp_common::shutdown::Shutdown;
use idp_gateway::{PublicRoute, Route, Settings, VerifierSettings};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use tokio::net::TcpListener;

pub const KEY_A: &str = include_str!("keys/a.pem");
pub const KEY_B: &str = include_str!("keys/b.pem");
pub const PUB_A: &str = include_str!("keys/a.pub.pem");
const N_A: &str = include_str!("keys/a.n");
pub const ISS: &str = "http://gateway.test/identity/v1";

/// A backend that serves `/jwks.json` and `/healthz`, sleeps on `/slow...`, and
/// answers everything else with the request it saw as JSON, counting those.
pub struct Backend {
    pub addr: SocketAddr,
    pub count: Arc<AtomicUsize>,
}

impl Backend {
    pub async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let c = c.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| backend(req, c.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Backend { addr, count }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

async fn backend(
    req: Request<Incoming>,
    count: Arc<AtomicUsize>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if path == "/jwks.json" {
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "a", "use": "sig", "alg": "RS256", "n": N_A.trim(), "e": "AQAB"}]});
        return Ok(Response::new(Full::new(Bytes::from(jwks.to_string()))));
    }
    if path == "/healthz" {
        return Ok(Response::new(Full::new(Bytes::from_static(b"{}"))));
    }
    count.fetch_add(1, Ordering::SeqCst);
    if path.starts_with("/slow") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut headers = serde_json::Map::new();
    for (k, v) in req.headers() {
        headers.insert(
            k.as_str().to_string(),
            json!(String::from_utf8_lossy(v.as_bytes())),
        );
    }
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().len())
        .unwrap_or(0);
    let echo = json!({"method": method, "uri": uri, "headers": headers, "bodyLen": body});
    let mut resp = Response::new(Full::new(Bytes::from(echo.to_string())));
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp.headers_mut()
        .insert("connection", "x-backend-hop".parse().unwrap());
    resp.headers_mut()
        .insert("x-backend-hop", "secret".parse().unwrap());
    resp.headers_mut()
        .insert("keep-alive", "timeout=5".parse().unwrap());
    Ok(resp)
}

/// A free port with nothing listening on it.
pub fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

pub fn settings(backend: &Backend) -> Settings {
    let up = backend.url();
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        verifier: VerifierSettings {
            issuer: ISS.into(),
            audiences: vec!["platform".into()],
            jwks_url: format!("{up}/jwks.json"),
            ..VerifierSettings::default()
        },
        routes: vec![
            Route::new("/api", &up, "api"),
            Route::new("/public", &up, "api"),
            Route::new("/slow", &up, "api"),
            Route::new("/identity/v1/oauth", &up, "identity"),
            Route::new("/.well-known/", &up, "identity").rewritten("/identity/v1/.well-known/"),
        ],
        public: vec![
            PublicRoute::new(None, "/public"),
            PublicRoute::new(Some("POST"), "/identity/v1/oauth/token"),
            PublicRoute::new(Some("GET"), "/.well-known/"),
        ],
        request_timeout_ms: 300,
        max_body_bytes: 1024,
        token_rate_per_sec: 1,
        token_burst: 3,
        ..Settings::default()
    }
}

pub struct TestGateway {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub verifier: idp_bearer::Verifier,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestGateway {
    pub async fn start(settings: Settings) -> TestGateway {
        idp_common::telemetry::init_for_tests();
        let gw = idp_gateway::build(settings).await.unwrap();
        let addr = gw.local_addr();
        let verifier = gw.verifier();
        let shutdown = Shutdown::new();
        let task = tokio::spawn(gw.run(shutdown.clone()));
        TestGateway {
            addr,
            shutdown,
            verifier,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn claims() -> serde_json::Value {
    let now = now();
    json!({
        "iss": ISS,
        "sub": uuid::Uuid::new_v4(),
        "aud": "platform",
        "iat": now,
        "exp": now + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
        "organizationId": uuid::Uuid::new_v4(),
        "identityType": "UserIdentity",
    })
}

pub fn sign_with(pem: &str, kid: &str, claims: &serde_json::Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.to_string());
    encode(
        &h,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn token() -> String {
    sign_with(KEY_A, "a", &claims())
}

pub fn b64(v: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}
