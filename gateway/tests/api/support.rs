//! Test fixtures: a backend that counts and echoes, serving a JWKS too; a gateway
//! in front of it; token minting.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use idp_common::shutdown::Shutdown;
use idp_gateway::{PublicRoute, Route, Settings, VerifierSettings};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
}

impl Backend {
    pub async fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (c, n) = (count.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                n.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve_connection(stream, c.clone()));
            }
        });
        Backend {
            addr,
            count,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// A request as the backend saw it: the request line's method and target, the
/// headers (names lower-cased, values as sent) and the body's length.
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body_len: usize,
}

/// HTTP/1.1 on plain sockets (kept alive, `Content-Length` or chunked bodies),
/// so that the backend answers exactly the headers it is told to, hop-by-hop
/// ones included.
async fn serve_connection(mut s: TcpStream, count: Arc<AtomicUsize>) {
    let mut conn = Conn {
        buf: Vec::new(),
        s: &mut s,
    };
    while let Some(seen) = conn.read_request().await {
        let close = seen
            .headers
            .iter()
            .any(|(k, v)| k == "connection" && v.to_ascii_lowercase().contains("close"));
        let answer = respond(seen, &count).await;
        if conn.s.write_all(&answer).await.is_err() || close {
            return;
        }
    }
}

struct Conn<'a> {
    buf: Vec<u8>,
    s: &'a mut TcpStream,
}

impl Conn<'_> {
    /// More bytes into `buf`; `None` at the end of the stream.
    async fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 8192];
        let n = self.s.read(&mut chunk).await.ok()?;
        (n > 0).then(|| self.buf.extend_from_slice(&chunk[..n]))
    }

    /// Takes the next line (without its CRLF).
    async fn line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).to_string();
                self.buf.drain(..i + 2);
                return Some(line);
            }
            self.fill().await?;
        }
    }

    /// Takes `n` bytes.
    async fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Some(self.buf.drain(..n).collect())
    }

    async fn read_request(&mut self) -> Option<Seen> {
        let request_line = self.line().await?;
        let mut parts = request_line.split(' ');
        let method = parts.next()?.to_string();
        let target = parts.next()?.to_string();
        let mut headers = Vec::new();
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':')?;
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let mut body_len = 0;
        if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            loop {
                let size = self.line().await?;
                let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.line().await?.is_empty() {}
                    break;
                }
                body_len += self.take(size).await?.len();
                self.take(2).await?;
            }
        } else if let Some(n) = header("content-length") {
            body_len = self.take(n.parse().ok()?).await?.len();
        }
        Some(Seen {
            method,
            target,
            headers,
            body_len,
        })
    }
}

async fn respond(seen: Seen, count: &AtomicUsize) -> Vec<u8> {
    let ok = |extra: &str, body: String| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let path = seen.target.split('?').next().unwrap_or("").to_string();
    if path == "/jwks.json" {
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "a", "use": "sig", "alg": "RS256", "n": N_A.trim(), "e": "AQAB"}]});
        return ok("", jwks.to_string());
    }
    if path == "/healthz" {
        return ok("", "{}".to_string());
    }
    count.fetch_add(1, Ordering::SeqCst);
    if path.starts_with("/slow") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut headers = serde_json::Map::new();
    for (k, v) in &seen.headers {
        headers.insert(k.clone(), json!(v));
    }
    let echo = json!({
        "method": seen.method,
        "uri": seen.target,
        "headers": headers,
        "bodyLen": seen.body_len,
    });
    ok(
        "content-type: application/json\r\nconnection: x-backend-hop\r\nx-backend-hop: secret\r\nkeep-alive: timeout=5\r\n",
        echo.to_string(),
    )
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
