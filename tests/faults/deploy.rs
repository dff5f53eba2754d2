//! The deployment mode: every service and the gateway as its own process (the
//! `*-service` and `gateway` binaries), configured only through environment
//! variables and a gateway route file, on PostgreSQL and RabbitMQ, as Kubernetes
//! runs them. A test can stop, kill and restart any of them.
//!
//! The binaries are taken from the directory of this test's executable's parent
//! (`target/<profile>/`), where `cargo test --workspace --all-targets` builds them;
//! when one is missing they are built with `cargo build --bins`.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use idp_model::identity::BootstrapCredentials;

use crate::support::{tag, Api, EventPlumbing};

/// The parts, in the order they start: each service's events are kept for the
/// consumers that start after it (the topology every service declares).
pub const PARTS: [&str; 5] = [
    "organization",
    "identity",
    "invitation",
    "authorization",
    "gateway",
];

fn binary_name(part: &str) -> String {
    if part == "gateway" {
        "gateway".to_string()
    } else {
        format!("{part}-service")
    }
}

fn env_prefix(part: &str) -> String {
    part.to_ascii_uppercase()
}

/// `target/<profile>/`: the test executable lives in its `deps/`.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap()
}

static BUILD: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// The path of each binary, building them when one is missing.
fn binaries() -> HashMap<&'static str, PathBuf> {
    let dir = bin_dir();
    let paths: HashMap<&'static str, PathBuf> = PARTS
        .iter()
        .map(|p| (*p, dir.join(binary_name(p))))
        .collect();
    let mut built = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !*built && paths.values().any(|p| !p.exists()) {
        let target_dir = dir.parent().unwrap();
        let release = dir.file_name().is_some_and(|n| n == "release");
        eprintln!(
            "deployment-mode binaries missing in {}; running cargo build --bins",
            dir.display()
        );
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--bins", "--workspace", "--target-dir"])
            .arg(target_dir);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().unwrap();
        assert!(status.success(), "cargo build --bins failed: {status}");
    }
    *built = true;
    for (part, p) in &paths {
        assert!(
            p.exists(),
            "the {part} binary {} does not exist; build it with `cargo build --bins`",
            p.display()
        );
    }
    paths
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running deployment.
pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub ports: HashMap<&'static str, u16>,
    pub api: Api,
    pub events: EventPlumbing,
    /// The database URL of each service.
    pub databases: HashMap<&'static str, String>,
    amqp_url: String,
    binaries: HashMap<&'static str, PathBuf>,
    children: HashMap<&'static str, Child>,
    /// Extra environment per part, kept across restarts.
    extra: HashMap<&'static str, Vec<(String, String)>>,
}

pub struct Options {
    /// The URL the processes use for RabbitMQ (e.g. through the fault proxy).
    pub amqp_url: String,
    /// The broker itself (for the test's own checks and cleanup).
    pub broker_url: String,
    /// Extra environment per part.
    pub extra: Vec<(&'static str, String, String)>,
}

impl Deployment {
    /// Starts every part in [`PARTS`] order, each once the previous one is
    /// healthy, and waits until the bootstrap super-admin holds its grant.
    pub async fn start(options: Options) -> Deployment {
        let binaries = binaries();
        let dir = tempfile::tempdir().unwrap();
        let t = tag();
        let exchange = format!("idp.test.{t}");
        let mut databases = HashMap::new();
        for part in &PARTS[..4] {
            let db = idp_runtime::testing::TestDatabase::postgres()
                .await
                .expect("PostgreSQL (checked before)");
            databases.insert(*part, db.settings.url.expose().clone());
        }
        let ports: HashMap<&'static str, u16> = PARTS.iter().map(|p| (*p, free_port())).collect();
        let mut extra: HashMap<&'static str, Vec<(String, String)>> = HashMap::new();
        for (part, k, v) in options.extra {
            extra.entry(part).or_default().push((k, v));
        }
        let gateway = format!("http://127.0.0.1:{}", ports["gateway"]);
        let mut d = Deployment {
            api: Api::new(
                gateway,
                BootstrapCredentials {
                    client_id: String::new(),
                    password: String::new(),
                    authentication_url: String::new(),
                },
            ),
            events: EventPlumbing {
                amqp_url: options.broker_url,
                exchange,
                databases: PARTS[..4].iter().map(|p| databases[p].clone()).collect(),
            },
            databases,
            dir,
            ports,
            amqp_url: options.amqp_url,
            binaries,
            children: HashMap::new(),
            extra,
        };
        d.write_gateway_config();
        for part in PARTS {
            d.start_part(part).await;
        }
        let creds_file = d.dir.path().join("data/bootstrap-credentials.json");
        let creds: BootstrapCredentials =
            serde_json::from_slice(&std::fs::read(creds_file).unwrap()).unwrap();
        let base = d.api.base.clone();
        d.api = Api::new(base, creds);
        d.api.wait_for_super_admin().await;
        d
    }

    pub fn service_url(&self, part: &str, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.ports[part], path)
    }

    fn write_gateway_config(&self) {
        let mut toml = String::new();
        for r in idp_gateway::settings::default_routes() {
            let upstream = match self.ports.get(r.name.as_str()) {
                Some(port) if r.name != "gateway" => format!("http://127.0.0.1:{port}"),
                _ => r.upstream.clone(),
            };
            toml.push_str(&format!(
                "[[routes]]\nprefix = {:?}\nupstream = {:?}\nname = {:?}\n",
                r.prefix, upstream, r.name
            ));
            if let Some(rw) = &r.rewrite {
                toml.push_str(&format!("rewrite = {rw:?}\n"));
            }
        }
        std::fs::write(self.dir.path().join("gateway.toml"), toml).unwrap();
    }

    fn env(&self, part: &str) -> Vec<(String, String)> {
        let p = env_prefix(part);
        let gateway = format!("http://127.0.0.1:{}", self.ports["gateway"]);
        let issuer = format!("{gateway}/identity/v1");
        let jwks = format!(
            "http://127.0.0.1:{}/identity/v1/.well-known/jwks.json",
            self.ports["identity"]
        );
        let mut env = vec![
            ("AMQP_URL".to_string(), self.amqp_url.clone()),
            (
                "RUST_LOG".to_string(),
                "info,sqlx=warn,sea_orm=warn,lapin=warn".to_string(),
            ),
        ];
        if part == "gateway" {
            env.extend([
                (
                    "GATEWAY_CONFIG".to_string(),
                    self.dir.path().join("gateway.toml").display().to_string(),
                ),
                (
                    "GATEWAY__LISTEN".to_string(),
                    format!("127.0.0.1:{}", self.ports["gateway"]),
                ),
                ("GATEWAY__VERIFIER__ISSUER".to_string(), issuer),
                ("GATEWAY__VERIFIER__JWKS_URL".to_string(), jwks),
                (
                    "GATEWAY__EXCHANGE".to_string(),
                    self.events.exchange.clone(),
                ),
                ("GATEWAY__TOKEN_RATE_PER_SEC".to_string(), "0".to_string()),
                ("GATEWAY__TELEMETRY__FORMAT".to_string(), "json".to_string()),
            ]);
        } else {
            env.extend([
                ("DATABASE_URL".to_string(), self.databases[part].clone()),
                (
                    format!("{p}__HTTP__LISTEN"),
                    format!("127.0.0.1:{}", self.ports[part]),
                ),
                (format!("{p}__BUS__EXCHANGE"), self.events.exchange.clone()),
                (format!("{p}__VERIFIER__ISSUER"), issuer),
                (
                    format!("{p}__AUTHZ__URL"),
                    format!("http://127.0.0.1:{}", self.ports["authorization"]),
                ),
                (
                    format!("{p}__ORGANIZATIONS__URL"),
                    format!("http://127.0.0.1:{}", self.ports["organization"]),
                ),
                (format!("{p}__TELEMETRY__FORMAT"), "json".to_string()),
            ]);
            if part != "identity" {
                env.push((format!("{p}__VERIFIER__JWKS_URL"), jwks));
            }
            if part != "authorization" {
                env.push((
                    format!("{p}__FLOW_TOKENS__SECRET"),
                    "faults-flow-token-secret-0123456789abcdef".to_string(),
                ));
            }
            if part == "identity" {
                env.push(("IDENTITY__TOKEN__PUBLIC_URL".to_string(), gateway));
            }
            if part == "authorization" {
                env.push((
                    "AUTHORIZATION__IDENTITY_URL".to_string(),
                    format!("http://127.0.0.1:{}", self.ports["identity"]),
                ));
            }
        }
        if let Some(extra) = self.extra.get(part) {
            env.extend(extra.iter().cloned());
        }
        env
    }

    fn log_path(&self, part: &str) -> PathBuf {
        self.dir.path().join(format!("{part}.log"))
    }

    /// Starts `part` (again) and waits until it answers `/healthz`.
    pub async fn start_part(&mut self, part: &'static str) {
        self.spawn_part(part, &[]);
        self.wait_healthy(part).await;
    }

    /// Starts `part` with `extra` environment for this run only, without waiting.
    pub fn spawn_part(&mut self, part: &'static str, extra: &[(&str, &str)]) {
        assert!(
            !self.children.contains_key(part),
            "{part} is already running"
        );
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(part))
            .unwrap();
        let mut env = self.env(part);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let child = Command::new(&self.binaries[part])
            .current_dir(self.dir.path())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.insert(part, child);
    }

    pub async fn wait_healthy(&mut self, part: &'static str) {
        let url = self.service_url(part, "/healthz");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(&url).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            if let Some(status) = self
                .children
                .get_mut(part)
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{part} exited with {status}:\n{}", self.log_tail(part, 40));
            }
            assert!(
                Instant::now() < deadline,
                "{part} never became healthy:\n{}",
                self.log_tail(part, 40)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops `part` as Kubernetes does (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop_part(&mut self, part: &'static str) -> ExitStatus {
        let Some(mut child) = self.children.remove(part) else {
            panic!("{part} is not running");
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        wait_exit(&mut child, Duration::from_secs(10)).await
    }

    /// Waits for `part` to exit by itself (e.g. an injected abort).
    pub async fn wait_exit(&mut self, part: &'static str, timeout: Duration) -> ExitStatus {
        let mut child = self.children.remove(part).unwrap();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{part} did not exit within {timeout:?}:\n{}",
                    self.log_tail(part, 40)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_tail(&self, part: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(part)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops every part, then removes the broker objects.
    pub async fn stop(mut self) {
        for part in PARTS.iter().rev() {
            if self.children.contains_key(part) {
                let status = self.stop_part(part).await;
                if !status.success() {
                    eprintln!("{part} stopped with {status}");
                }
            }
        }
        self.events.remove_broker_objects().await;
    }
}

async fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        let parts: Vec<&'static str> = self.children.keys().copied().collect();
        for part in parts {
            if let Some(mut child) = self.children.remove(part) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if failing {
            for part in PARTS {
                eprintln!("----- {part} (last lines of its log) -----");
                eprintln!("{}", self.log_tail(part, 30));
            }
        }
    }
}
