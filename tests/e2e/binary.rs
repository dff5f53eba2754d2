//! The `platform` binary itself, as `make run` starts it: it becomes healthy, writes
//! the credentials file, prints its path and never the secret. (Built from
//! crates/platform/src/main.rs as this package's `platform-under-test`; see
//! tests/Cargo.toml.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_platform_binary_starts_prints_the_credentials_path_and_not_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_platform-under-test"))
        .current_dir(dir.path())
        .env("PLATFORM__LISTEN", "127.0.0.1:0")
        .env("PLATFORM__IDENTITY_PORT", "0")
        .env("PLATFORM__ORGANIZATION_PORT", "0")
        .env("PLATFORM__INVITATION_PORT", "0")
        .env("PLATFORM__AUTHORIZATION_PORT", "0")
        .env("PLATFORM__TELEMETRY__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    let mut ready: Option<serde_json::Value> = None;
    while Instant::now() < deadline && ready.is_none() {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if line.contains("platform ready") {
                ready = serde_json::from_str(&line).ok();
            }
            lines.push(line);
        }
    }
    let ready =
        ready.unwrap_or_else(|| panic!("the platform did not become ready:\n{}", lines.join("\n")));
    let gateway = ready["gateway"].as_str().unwrap().to_string();
    let creds_path = ready["credentials_file"].as_str().unwrap().to_string();
    assert!(
        creds_path.ends_with("data/bootstrap-credentials.json"),
        "{creds_path}"
    );
    let creds: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("data/bootstrap-credentials.json")).unwrap(),
    )
    .unwrap();
    let secret = creds["password"].as_str().unwrap();

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = client
        .get(format!("http://{gateway}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .get(format!("http://{gateway}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // SIGTERM stops it cleanly.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        lines.push(line);
    }
    assert!(status.success(), "exit status {status:?}");
    let all = lines.join("\n");
    assert!(!all.contains(secret), "the secret must never be printed");
}
