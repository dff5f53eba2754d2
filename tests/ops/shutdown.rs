//! SIGTERM under load: the `platform` binary stops accepting, finishes every
//! request it accepted with its normal answer, exits 0 within its grace period,
//! and loses no event: after a restart on the same data directory every identity
//! whose creation answered 201 has its organization's default role.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use idp_model::authorization::standard_roles as sr;
use serde_json::json;

use crate::child::{create_eventually, role_grants, token, Platform};

const GRACE_SECS: u64 = 20;
const WORKERS: usize = 32;

#[derive(Debug)]
enum Outcome {
    /// The expected status.
    Ok,
    /// Another status: the server answered, but not normally.
    Unexpected(u16, String),
    /// No connection (the listener is closed).
    Refused,
    /// Connected, then no answer at all: the request id tells whether the
    /// platform ever saw the request (judged after the run, from its logs).
    NoAnswer(String, String),
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    refused: AtomicUsize,
    failures: Mutex<Vec<String>>,
    no_answer: Mutex<Vec<(String, String)>>,
    created: Mutex<Vec<String>>,
}

impl Tally {
    fn record(&self, what: &str, o: Outcome) {
        match o {
            Outcome::Ok => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Refused => {
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Unexpected(st, body) => self
                .failures
                .lock()
                .unwrap()
                .push(format!("{what}: {st} {body}")),
            Outcome::NoAnswer(rid, err) => self
                .no_answer
                .lock()
                .unwrap()
                .push((rid, format!("{what}: {err}"))),
        }
    }
}

async fn request(
    req: reqwest::RequestBuilder,
    expected: u16,
) -> (Outcome, Option<serde_json::Value>) {
    let rid = uuid::Uuid::new_v4().to_string();
    match req.header("x-request-id", &rid).send().await {
        Err(e) if e.is_connect() => (Outcome::Refused, None),
        Err(e) => (Outcome::NoAnswer(rid, format!("{e:?}")), None),
        Ok(res) => {
            let st = res.status().as_u16();
            match res.text().await {
                Err(e) => (Outcome::NoAnswer(rid, format!("body: {e:?}")), None),
                Ok(text) if st == expected => (Outcome::Ok, serde_json::from_str(&text).ok()),
                Ok(text) => (Outcome::Unexpected(st, text), None),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_fails_no_accepted_request_and_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let grace = GRACE_SECS.to_string();
    let env = [("PLATFORM__SHUTDOWN_GRACE_SECS", grace.as_str())];
    let mut p = Platform::start(dir.path(), &env);
    // One connection per request: a request refused after the listener closed is
    // a connect error, never confused with one on a kept-alive connection.
    let c = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let creds = p.credentials();
    let admin = token(
        &c,
        &p.url("/identity/v1/oauth/token"),
        creds["clientId"].as_str().unwrap(),
        creds["password"].as_str().unwrap(),
    )
    .await;
    let role = sr::ORGANIZATION_READ_ONLY.0;
    let org = crate::child::organization_with_default_role(&c, &p, &admin, role).await;
    // The identity service knows the organization (by event) before the load.
    let first = create_eventually(
        &c,
        &admin,
        &p.url("/identity/v1/user-identities"),
        json!({"organizationId": org, "firstName": "Load", "lastName": "First", "email": format!("first-{}@example.com", uuid::Uuid::new_v4().simple())}),
    )
    .await;
    let first_id = first["id"].as_str().unwrap().to_string();

    let tally = Arc::new(Tally::default());
    tally.created.lock().unwrap().push(first_id);
    let stop = Arc::new(AtomicBool::new(false));
    let base = p.url("");
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (c, tally, stop, admin, org, base) = (
            c.clone(),
            tally.clone(),
            stop.clone(),
            admin.clone(),
            org.clone(),
            base.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let email = format!("load-{w}-{n}-{}@example.com", uuid::Uuid::new_v4().simple());
                let (o, body) = request(
                    c.post(format!("{base}/identity/v1/user-identities"))
                        .bearer_auth(&admin)
                        .json(&json!({"organizationId": org, "firstName": "Load", "lastName": format!("W{w}"), "email": email})),
                    201,
                )
                .await;
                if let Some(id) = body.as_ref().and_then(|b| b["id"].as_str()) {
                    tally.created.lock().unwrap().push(id.to_string());
                }
                tally.record("POST /user-identities", o);
                let (o, _) = request(
                    c.get(format!("{base}/identity/v1/identities/self"))
                        .bearer_auth(&admin),
                    200,
                )
                .await;
                tally.record("GET /identities/self", o);
            }
        }));
    }

    // Load until a good number of requests went through, then SIGTERM mid-load.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.ok.load(Ordering::Relaxed) < 200 {
        assert!(Instant::now() < deadline, "the load does not get through");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ok_before = tally.ok.load(Ordering::Relaxed);
    p.sigterm();
    let exit = tokio::task::spawn_blocking(move || {
        let r = p.wait_exit(Duration::from_secs(GRACE_SECS + 30));
        (p, r)
    });
    let (mut p, (status, took)) = exit.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let lines = p.log_lines();
    assert!(
        status.success(),
        "exit status {status:?} after {took:?}:\n{}",
        lines.join("\n")
    );
    assert!(
        took < Duration::from_secs(GRACE_SECS),
        "took {took:?}, longer than the grace period"
    );

    // Requests that got no answer: fine only if the platform never saw them
    // (closed in the accept queue when the listener closed); a request id the
    // logs know is an accepted request that failed.
    let seen: HashSet<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v["request_id"]
                .as_str()
                .or_else(|| v["span"]["request_id"].as_str())
                .map(str::to_string)
        })
        .collect();
    let mut failures = tally.failures.lock().unwrap().clone();
    let mut unseen = 0;
    for (rid, what) in tally.no_answer.lock().unwrap().iter() {
        if seen.contains(rid) {
            failures.push(format!(
                "accepted, then no answer: {what} (request id {rid})"
            ));
        } else {
            unseen += 1;
        }
    }
    let ok = tally.ok.load(Ordering::Relaxed);
    let refused = tally.refused.load(Ordering::Relaxed);
    println!(
        "ok {ok} (before SIGTERM {ok_before}), refused at connect {refused}, closed unread {unseen}, failed {}",
        failures.len()
    );
    assert!(failures.is_empty(), "failed requests: {failures:#?}");

    // Restart on the same data: every created identity gets its default role
    // (events still in an outbox go out now).
    let restarted = Platform::start(&p.dir.clone(), &env);
    drop(std::mem::replace(&mut p, restarted));
    let admin = token(
        &c,
        &p.url("/identity/v1/oauth/token"),
        creds["clientId"].as_str().unwrap(),
        creds["password"].as_str().unwrap(),
    )
    .await;
    let created = tally.created.lock().unwrap().clone();
    assert!(
        created.len() > 10,
        "too few identities created: {}",
        created.len()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &created {
        loop {
            let n = role_grants(&c, &p, &admin, id, role).await;
            if n == 1 {
                break;
            }
            assert!(n == 0, "{id} has the default role {n} times");
            assert!(
                Instant::now() < deadline,
                "identity {id} (created with 201) never got its default role"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    p.sigterm();
    let (status, _) = p.wait_exit(Duration::from_secs(GRACE_SECS + 30));
    assert!(status.success());
}
