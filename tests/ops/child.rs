//! The `platform` binary as a child process, as `make run` (or a container) runs it:
//! JSON logs on stderr collected line by line, stopped with SIGTERM. (Built from
//! crates/platform/src/main.rs as this package's `platform-under-test`; see
//! tests/Cargo.toml.)

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Log filter of the runs: the production default, with the platform's own crates
/// at debug (stricter than production for the secrecy check).
pub const LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn,lapin=warn,idp_runtime=debug,idp_identity=debug,idp_organization=debug,idp_invitation=debug,idp_authorization=debug,idp_gateway=debug,idp_bearer=debug,idp_bus=debug,idp_platform=debug,service=debug,gateway=debug";

pub struct Platform {
    child: Child,
    /// Every stderr line so far (shared with the reader thread).
    lines: Arc<Mutex<Vec<String>>>,
    /// The stdout lines (nothing is expected there; checked for secrets too).
    out_lines: Arc<Mutex<Vec<String>>>,
    pub gateway: String,
    pub dir: PathBuf,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

impl Platform {
    /// Starts the binary in `dir` (its data under `dir/data`) on free ports and
    /// waits until it says it is ready.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Platform {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform-under-test"));
        cmd.current_dir(dir)
            .env("PLATFORM__LISTEN", "127.0.0.1:0")
            .env("PLATFORM__IDENTITY_PORT", "0")
            .env("PLATFORM__ORGANIZATION_PORT", "0")
            .env("PLATFORM__INVITATION_PORT", "0")
            .env("PLATFORM__AUTHORIZATION_PORT", "0")
            .env("PLATFORM__TELEMETRY__FORMAT", "json")
            .env("RUST_LOG", LOG_FILTER)
            .env_remove("AMQP_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let lines = collect(child.stderr.take().unwrap());
        let out_lines = collect(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(90);
        let gateway = loop {
            let ready = lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains("platform ready"))
                .find_map(|l| serde_json::from_str::<Value>(l).ok());
            if let Some(r) = ready {
                break r["gateway"].as_str().unwrap().to_string();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the platform exited ({status}) before it was ready:\n{}",
                    lines.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the platform did not become ready:\n{}",
                lines.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Platform {
            child,
            lines,
            out_lines,
            gateway,
            dir: dir.to_path_buf(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line the process wrote so far (stderr, then stdout).
    pub fn log_lines(&self) -> Vec<String> {
        let mut all = self.lines.lock().unwrap().clone();
        all.extend(self.out_lines.lock().unwrap().iter().cloned());
        all
    }

    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit; kills it (and fails) after.
    pub fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(200));
                return (status, started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the platform did not exit within {limit:?} of SIGTERM:\n{}",
                    self.log_lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn credentials(&self) -> Value {
        serde_json::from_slice(
            &std::fs::read(self.dir.join("data/bootstrap-credentials.json")).unwrap(),
        )
        .unwrap()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client-credentials token (the answer's `access_token`).
pub async fn token(client: &reqwest::Client, url: &str, id: &str, secret: &str) -> String {
    let res = client
        .post(url)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// Sends and answers (status, JSON body or the text as a JSON string).
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `POST`s until it answers 201 or 200 (the receiving service may learn by event
/// what it needs, e.g. a new organization), for at most 15 s.
pub async fn create_eventually(
    client: &reqwest::Client,
    token: &str,
    url: &str,
    body: Value,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (st, v) = send(client.post(url).bearer_auth(token).json(&body)).await;
        if st == 201 || st == 200 {
            return v;
        }
        assert!(Instant::now() < deadline, "{url}: {st} {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new organization with `role` as its default role; answers its id.
pub async fn organization_with_default_role(
    client: &reqwest::Client,
    p: &Platform,
    token: &str,
    role: uuid::Uuid,
) -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (st, org) = send(
        client
            .post(p.url("/identity/v1/organizations"))
            .bearer_auth(token)
            .json(&json!({"name": "Ops", "label": format!("ops-{}", &tag[..10])})),
    )
    .await;
    assert_eq!(st, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_string();
    let (st, dr) = send(
        client
            .post(p.url("/identity/v1/default-roles"))
            .bearer_auth(token)
            .json(&json!({"organizationId": org_id, "roleType": "Standard", "roleId": role})),
    )
    .await;
    assert_eq!(st, 201, "{dr}");
    org_id
}

/// How many grants of `role` `identity` has (`GET /auth/v1/grants`).
pub async fn role_grants(
    client: &reqwest::Client,
    p: &Platform,
    token: &str,
    identity: &str,
    role: uuid::Uuid,
) -> usize {
    let (st, g) = send(
        client
            .get(p.url(&format!(
                "/auth/v1/grants?identityId={identity}&roleId={role}"
            )))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(st, 200, "{g}");
    g.as_array().map(Vec::len).unwrap_or(0)
}
