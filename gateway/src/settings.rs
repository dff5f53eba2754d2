//! The gateway's configuration: built-in defaults (the embedded platform's route
//! table), then `gateway.toml` (or the file named by `GATEWAY_CONFIG`), then
//! `GATEWAY__...` environment variables.

use std::net::SocketAddr;
use std::path::Path;

use idp_bearer::VerifierSettings;
use idp_common::settings::{Layers, SettingsError};
use idp_common::telemetry::TelemetrySettings;
use serde::{Deserialize, Serialize};

/// Everything the gateway needs. Every field has a default (see each field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on. Default: `127.0.0.1:8080` (port `0` picks a free port).
    pub listen: SocketAddr,
    /// Bearer-token verification (issuer, audiences, JWKS). Defaults: issuer
    /// `http://127.0.0.1:8080/identity/v1`, audiences `["platform"]`, jwks_url
    /// `http://127.0.0.1:8081/identity/v1/.well-known/jwks.json`, leeway_secs `5`,
    /// cache_capacity `100000`, jwks_min_refetch_secs `10`, jwks_timeout_ms `2000`.
    pub verifier: VerifierSettings,
    /// The route table; the longest matching prefix wins. Default: the platform's
    /// four services on 127.0.0.1:8081..8084 (see `gateway.toml`).
    pub routes: Vec<Route>,
    /// Requests matching one of these need no token. Default: the token endpoint,
    /// JWKS and discovery, authorize-initiate, invitation-by-key, support requests,
    /// the API documents (`/identity/v1/docs`, `/auth/v1/docs`).
    pub public: Vec<PublicRoute>,
    /// Timeout to open a connection to an upstream, in ms. Default: `1000`.
    pub connect_timeout_ms: u64,
    /// Timeout until an upstream's response headers arrive, in ms (then 504).
    /// Default: `30000`.
    pub request_timeout_ms: u64,
    /// Largest request body accepted, in bytes (then 413). Default: `1048576` (1 MiB).
    pub max_body_bytes: u64,
    /// Log one line per request (target `gateway::access`). Default: `true`.
    pub access_log: bool,
    /// Requests per second per client IP to the token endpoint; `0` disables the
    /// limit. Default: `50`.
    pub token_rate_per_sec: u32,
    /// Burst allowed per client IP on the token endpoint. Default: `100`.
    pub token_burst: u32,
    /// The path prefix the token-endpoint rate limit applies to.
    /// Default: `/identity/v1/oauth/token`.
    pub token_endpoint_prefix: String,
    /// Further per-client-IP limits, each its own token bucket. Default: `POST
    /// /identity/v1/organizations/authorize-initiate` (public, and it tells
    /// whether a label exists) at 5 per second, burst 20.
    pub rate_limits: Vec<RateLimit>,
    /// Log format and level. Default: `json`, `info,...`.
    pub telemetry: TelemetrySettings,
    /// RabbitMQ URL the gateway listens on for revocations (identity or
    /// organization deactivated or deleted); env `AMQP_URL` too. Default: empty
    /// (the standalone gateway then learns no revocations; the embedded platform
    /// hands it its in-process bus).
    pub amqp_url: idp_common::Secret<String>,
    /// The topic exchange. Default: `idp.events`.
    pub exchange: String,
}

/// One route: requests whose path starts with `prefix` (at a segment boundary, or
/// anywhere when the prefix ends with `/`) go to `upstream`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A path prefix such as `/identity/v1/organizations`.
    pub prefix: String,
    /// Base URL of the upstream, such as `http://127.0.0.1:8082` (plain http).
    pub upstream: String,
    /// If set, the matched prefix is replaced by this; otherwise the path is
    /// forwarded unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<String>,
    /// Name for metrics, logs and readiness (several routes may share one).
    pub name: String,
}

/// A per-client-IP token bucket on requests matching `method` (any if absent)
/// and a path prefix (matched as route prefixes are); 429 when it is empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub prefix: String,
    /// Requests per second (refill rate); `0` disables this limit.
    pub rate_per_sec: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

impl RateLimit {
    pub fn new(method: Option<&str>, prefix: &str, rate_per_sec: u32, burst: u32) -> RateLimit {
        RateLimit {
            method: method.map(str::to_string),
            prefix: prefix.to_string(),
            rate_per_sec,
            burst,
        }
    }
}

/// The embedded platform's further rate limits: authorize-initiate, public and
/// answering whether an organization label exists.
pub fn default_rate_limits() -> Vec<RateLimit> {
    vec![RateLimit::new(
        Some("POST"),
        "/identity/v1/organizations/authorize-initiate",
        5,
        20,
    )]
}

/// Requests that need no token: `method` (any if absent) and a path prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicRoute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub prefix: String,
}

impl Route {
    pub fn new(prefix: &str, upstream: &str, name: &str) -> Route {
        Route {
            prefix: prefix.to_string(),
            upstream: upstream.to_string(),
            rewrite: None,
            name: name.to_string(),
        }
    }

    pub fn rewritten(mut self, rewrite: &str) -> Route {
        self.rewrite = Some(rewrite.to_string());
        self
    }
}

impl PublicRoute {
    pub fn new(method: Option<&str>, prefix: &str) -> PublicRoute {
        PublicRoute {
            method: method.map(str::to_string),
            prefix: prefix.to_string(),
        }
    }
}

pub const IDENTITY: &str = "http://127.0.0.1:8081";
pub const ORGANIZATION: &str = "http://127.0.0.1:8082";
pub const INVITATION: &str = "http://127.0.0.1:8083";
pub const AUTHORIZATION: &str = "http://127.0.0.1:8084";

/// The embedded platform's route table.
pub fn default_routes() -> Vec<Route> {
    let mut r = Vec::new();
    for p in [
        "/identity/v1/identities",
        "/identity/v1/user-identities",
        "/identity/v1/api-account-identities",
        "/identity/v1/identity-preferences",
        "/identity/v1/oauth",
        "/identity/v1/.well-known",
        "/identity/v1/docs",
    ] {
        r.push(Route::new(p, IDENTITY, "identity"));
    }
    r.push(
        Route::new("/.well-known/jwks.json", IDENTITY, "identity")
            .rewritten("/identity/v1/.well-known/jwks.json"),
    );
    r.push(Route::new(
        "/.well-known/oauth-authorization-server/identity/v1",
        IDENTITY,
        "identity",
    ));
    for p in [
        "/identity/v1/organizations",
        "/identity/v1/identity-providers",
        "/identity/v1/default-roles",
        "/identity/v1/open-id-providers",
        "/identity/v1/organization-preferences",
    ] {
        r.push(Route::new(p, ORGANIZATION, "organization"));
    }
    for p in ["/identity/v1/invitations", "/identity/v1/nfconsole"] {
        r.push(Route::new(p, INVITATION, "invitation"));
    }
    r.push(Route::new("/auth/v1", AUTHORIZATION, "authorization"));
    r
}

/// The embedded platform's public (token-less) routes.
pub fn default_public() -> Vec<PublicRoute> {
    vec![
        PublicRoute::new(Some("POST"), "/identity/v1/oauth/token"),
        PublicRoute::new(Some("GET"), "/identity/v1/.well-known/"),
        PublicRoute::new(Some("GET"), "/.well-known/"),
        PublicRoute::new(
            Some("POST"),
            "/identity/v1/organizations/authorize-initiate",
        ),
        PublicRoute::new(None, "/identity/v1/invitations/key/"),
        PublicRoute::new(Some("POST"), "/identity/v1/nfconsole/support/requests"),
        PublicRoute::new(Some("GET"), "/identity/v1/docs"),
        PublicRoute::new(Some("GET"), "/auth/v1/docs"),
    ]
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            verifier: VerifierSettings::default(),
            routes: default_routes(),
            public: default_public(),
            connect_timeout_ms: 1000,
            request_timeout_ms: 30_000,
            max_body_bytes: 1024 * 1024,
            access_log: true,
            token_rate_per_sec: 50,
            token_burst: 100,
            token_endpoint_prefix: "/identity/v1/oauth/token".to_string(),
            rate_limits: default_rate_limits(),
            telemetry: TelemetrySettings::default(),
            amqp_url: idp_common::Secret::new(String::new()),
            exchange: "idp.events".to_string(),
        }
    }
}

impl Settings {
    /// Defaults, then the TOML file at `path` if it exists, then `GATEWAY__*` variables.
    pub fn load(path: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut layers = Layers::new("GATEWAY");
        if let Some(p) = path {
            layers = layers.file(p);
        }
        layers.load()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use config::{Config, File, FileFormat};

    const EXAMPLE: &str = include_str!("../gateway.toml");

    #[test]
    fn example_file_equals_the_defaults() {
        let parsed: Settings = Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(parsed, Settings::default());
        // Every key of the defaults is spelled out in the file (not merely defaulted).
        let file: serde_json::Value = Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(normalize(file), normalize(defaults));
    }

    /// Numbers as strings (config may read `listen` and numbers differently).
    fn normalize(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect())
            }
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(normalize).collect())
            }
            other => serde_json::Value::String(other.to_string().trim_matches('"').to_string()),
        }
    }

    #[test]
    fn a_file_replaces_the_route_table_and_keeps_other_defaults() {
        let dir = std::env::temp_dir().join(format!("gw-settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("gw.toml");
        std::fs::write(
            &p,
            r#"
listen = "127.0.0.1:0"
request_timeout_ms = 5
[verifier]
issuer = "http://x"
[[routes]]
prefix = "/a"
upstream = "http://127.0.0.1:1"
name = "a"
"#,
        )
        .unwrap();
        let s = Settings::load(Some(&p)).unwrap();
        assert_eq!(s.routes, vec![Route::new("/a", "http://127.0.0.1:1", "a")]);
        assert_eq!(s.request_timeout_ms, 5);
        assert_eq!(s.verifier.issuer, "http://x");
        assert_eq!(s.verifier.audiences, vec!["platform".to_string()]);
        assert_eq!(s.public, default_public());
        std::fs::write(&p, "unknown_key = 1\n").unwrap();
        assert!(Settings::load(Some(&p)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
