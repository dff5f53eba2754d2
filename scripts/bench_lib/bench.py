#!/usr/bin/env python3
"""The benchmarks behind `make bench` (scripts/bench builds and installs the tools,
then runs this). Writes proto-docs/benchmarks/latest.json and latest.md.

Layout of the run: the load generator (wrk, and this orchestrator) on core 0, the
system under test and its peer on core 1 (`taskset`). Each measured side runs
RUNS times, alternating with its peer; the report gives medians.

Environment: BENCH_QUICK=1 (short durations, one run each), BENCH_WORK (work dir),
BENCH_BIN (directory of the release binaries), BENCH_ROOT (the repository),
BENCH_RESULTS (where latest.{md,json} go; default proto-docs/benchmarks).
"""

import base64
import json
import os
import platform as pyplatform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timezone
from http.client import HTTPConnection, HTTPException
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import events  # noqa: E402 (scripts/bench_lib/events.py: the B6 load and its figures)

ROOT = Path(os.environ.get("BENCH_ROOT", Path(__file__).resolve().parents[2]))
BIN = Path(os.environ.get("BENCH_BIN", Path.home() / ".cache/idp-target/release"))
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/idp-target"))
WORK = Path(os.environ.get("BENCH_WORK", TARGET_DIR / "bench-work/run"))
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "proto-docs/benchmarks"))
LUA = Path(__file__).resolve().parent / "wrk.lua"
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
# BENCH_ONLY=B6,B4: only the phases that measure these (for working on one figure).
ONLY = {x.strip().upper() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()}

LOAD_CPU = "0"
SUT_CPU = "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

if QUICK:
    RUNS, DUR, WARM, MAXDUR, STARTS = 1, 4, 2, 3, 1
else:
    RUNS, DUR, WARM, MAXDUR, STARTS = 3, 15, 5, 10, 3

B1_CONNS = 32  # same for the gateway and nginx
MAX_CONNS = 64  # B2 maximum throughput
TOKEN_CONNS = 16  # B3
PACE_MS = 10  # B2: mean pause per connection between requests

IDENTITY_PORT = 18081
GATEWAY_PORT = 18080
NGINX_PORT = 18090
PLATFORM_PORTS = dict(listen=18180, identity=18181, organization=18182, invitation=18183,
                      authorization=18184)
SELF_PATH = "/identity/v1/identities/self"
TOKEN_PATH = "/identity/v1/oauth/token"

STARTED = []  # every Proc this run started, for cleanup


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- processes


class Proc:
    """A child process in its own process group, pinned to a core, output to a log."""

    def __init__(self, name, argv, env=None, cpu=SUT_CPU, cwd=None):
        self.name = name
        self.log_path = WORK / f"{name}.log"
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.logf = open(self.log_path, "ab")
        self.t0 = time.monotonic()
        self.popen = subprocess.Popen(["taskset", "-c", cpu] + [str(a) for a in argv],
                                      env=full_env, stdout=self.logf, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True)
        self.pid = self.popen.pid  # taskset execs the program: same pid
        self.stopped = False
        STARTED.append(self)

    def alive(self):
        return self.popen.poll() is None

    def log_tail(self, n=30):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        if self.stopped:
            return
        self.stopped = True
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {timeout}s after SIGTERM; SIGKILL")
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(5)
        else:
            # the group may still hold children (nginx workers)
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.logf.close()


def cleanup():
    for p in reversed(STARTED):
        try:
            p.stop(timeout=5)
        except Exception as e:  # noqa: BLE001 - best effort
            log(f"cleanup of {p.name}: {e}")


def on_signal(signum, _frame):
    raise SystemExit(f"interrupted by signal {signum}")


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])  # fields 14 and 15 of proc(5)


def mem_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def core_busy_ticks():
    """Busy ticks per core from /proc/stat (everything but idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                out[m.group(1)] = sum(v[:8]) - v[3] - v[4]
    return out


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]


# ---------------------------------------------------------------- HTTP


def raw_status(port, path, timeout=0.5):
    """Status code of GET http://127.0.0.1:port/path, or None if no answer."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data and len(data) < 256:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_healthy(proc, port, path="/healthz", timeout=60.0, interval=0.005):
    """Poll until GET path answers 200; returns seconds since the process started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if raw_status(port, path) == 200:
            return time.monotonic() - proc.t0
        if not proc.alive():
            raise BenchError(f"{proc.name} exited with {proc.popen.returncode} before "
                             f"{path} on port {port} answered 200; its log "
                             f"({proc.log_path}):\n{proc.log_tail()}")
        time.sleep(interval)
    raise BenchError(f"{proc.name}: GET 127.0.0.1:{port}{path} did not answer 200 within "
                     f"{timeout:.0f}s; its log ({proc.log_path}):\n{proc.log_tail()}")


def http(method, url, headers=None, body=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def basic_of(creds):
    return base64.b64encode(f"{creds['clientId']}:{creds['password']}".encode()).decode()


def get_token(port, creds):
    status, body = http("POST", f"http://127.0.0.1:{port}{TOKEN_PATH}",
                        {"Authorization": "Basic " + basic_of(creds),
                         "Content-Type": "application/x-www-form-urlencoded"},
                        b"grant_type=client_credentials")
    if status != 200:
        raise BenchError(f"token request on port {port} answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def expect_status(url, token, want):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = http("GET", url, headers)
    if status != want:
        raise BenchError(f"GET {url} answered {status} (expected {want}): {body[:300]!r}")


def read_json_file(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(Path(path).read_text())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise BenchError(f"{path} not written (or not JSON) within {timeout:.0f}s")
            time.sleep(0.05)


# ---------------------------------------------------------------- load tools


def wrk(url, conns, duration, token=None, basic=None, delay_ms=0, count=False, body=None):
    env = dict(os.environ)
    env.update(BENCH_TOKEN=token or "", BENCH_BASIC=basic or "", BENCH_BODY=body or "",
               BENCH_DELAY_MS=str(delay_ms), BENCH_COUNT_STATUS="1" if count else "0")
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{duration}s",
            "--timeout", "5s", "--latency", "-s", str(LUA), url]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"^BENCHJSON (.*)$", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise BenchError(f"wrk failed (exit {r.returncode}): {' '.join(argv)}\n"
                         f"{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    res = json.loads(m.group(1))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["socket_errors"] = (res["err_connect"] + res["err_read"] + res["err_write"]
                            + res["err_timeout"])
    return res


def wrk_cpu(url, conns, duration, pids, token=None, **kw):
    """One wrk run; CPU ticks of each pid in `pids` (name -> pid) over the run."""
    before = {k: cpu_ticks(p) for k, p in pids.items()}
    cores0 = core_busy_ticks()
    t0 = time.monotonic()
    res = wrk(url, conns, duration, token=token, **kw)
    wall = time.monotonic() - t0
    cores1 = core_busy_ticks()
    after = {k: cpu_ticks(p) for k, p in pids.items()}
    res["cpu_us"] = {k: (after[k] - before[k]) * 1e6 / CLK_TCK for k in pids}
    res["core_busy_pct"] = {c: 100.0 * (cores1[c] - cores0[c]) / CLK_TCK / wall
                            for c in cores1 if c in cores0}
    return res


def check_clean(res, what, allow_status=False):
    if res["requests"] == 0:
        raise BenchError(f"{what}: wrk completed no request")
    if not allow_status and res["err_status"]:
        raise BenchError(f"{what}: {res['err_status']} of {res['requests']} answers were "
                         "not 2xx/3xx")
    if res["socket_errors"] > res["requests"] * 0.001:
        raise BenchError(f"{what}: {res['socket_errors']} socket errors "
                         f"for {res['requests']} requests")


def openssl_sign_per_s(seconds):
    argv = ["taskset", "-c", SUT_CPU, "openssl", "speed", "-seconds", str(seconds), "-mr",
            "rsa2048"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 4 + 120)
    m = re.search(r"^\+F2:\d+:2048:([\d.]+):([\d.]+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise BenchError(f"openssl speed failed (exit {r.returncode}):\n{r.stdout[-1500:]}\n"
                         f"{r.stderr[-1500:]}")
    return float(m.group(1))


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- config files


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def toml_dump(d):
    """Enough TOML for the gateway's file: scalars, tables, arrays of tables."""
    lines, tables, arrays = [], [], []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            lines.append(f"{k} = {toml_value(v)}")
    for k, v in tables:
        lines += ["", f"[{k}]"] + [f"{kk} = {toml_value(vv)}" for kk, vv in v.items()]
    for k, items in arrays:
        for it in items:
            lines += ["", f"[[{k}]]"] + [f"{kk} = {toml_value(vv)}" for kk, vv in it.items()]
    return "\n".join(lines) + "\n"


def gateway_config():
    """The repository's gateway.toml (every key, defaults), pointed at the bench ports:
    identity routes only, access log off, token-endpoint rate limit off."""
    base = tomllib.loads((ROOT / "gateway/gateway.toml").read_text())
    base["listen"] = f"127.0.0.1:{GATEWAY_PORT}"
    base["access_log"] = False
    base["token_rate_per_sec"] = 0
    if "telemetry" in base:
        base["telemetry"]["level"] = "warn"
    v = base.setdefault("verifier", {})
    v["issuer"] = f"http://127.0.0.1:{GATEWAY_PORT}/identity/v1"
    v["audiences"] = ["platform"]
    v["jwks_url"] = f"http://127.0.0.1:{IDENTITY_PORT}/identity/v1/.well-known/jwks.json"
    routes = []
    for r in base.get("routes", []):
        if r.get("name") == "identity" or r.get("upstream", "").endswith(":8081"):
            r = dict(r)
            r["upstream"] = f"http://127.0.0.1:{IDENTITY_PORT}"
            routes.append(r)
    if not routes:
        raise BenchError("gateway/gateway.toml has no identity route to copy")
    base["routes"] = routes
    path = WORK / "gateway.toml"
    path.write_text(toml_dump(base))
    return path


def nginx_config():
    d = WORK / "nginx"
    for sub in ("logs", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    conf = d / "nginx.conf"
    conf.write_text(f"""# written by scripts/bench: the B1 peer
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    upstream identity {{
        server 127.0.0.1:{IDENTITY_PORT};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{NGINX_PORT};
        location /identity/ {{
            proxy_pass http://identity;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
""")
    return d, conf


# ---------------------------------------------------------------- benchmarks


def rows_skeleton():
    def row(id_, figure, unit, peer, target):
        return dict(id=id_, figure=figure, value=None, unit=unit, peer=peer, peerValue=None,
                    ratio=None, target=target, met=None, note="", how="")
    return {
        "B1": row("B1", "gateway CPU per proxied GET /identity/v1/identities/self, valid token",
                  "µs/request", "nginx (Debian) proxying the same call, no auth", "ratio ≤ 1.5"),
        "B2": row("B2", "gateway added p99 latency at half of its max throughput", "ms",
                  "direct call to the identity service", "≤ 1 ms"),
        "B3": row("B3", "client-credentials tokens/s on one core (RS256)", "tokens/s",
                  "openssl speed rsa2048 sign/s (one core)", "≥ 80% of the limit, ≥ 500/s"),
        "B4": row("B4", "warm authorization decision CPU in-process, 100,000 grants",
                  "µs/decision", "cedar-policy (same question, same data, in process)",
                  "≥ 10× cheaper"),
        "B5": row("B5", "checks/s through the gateway on one core (value); p99 at 2,000 "
                  "checks/s", "checks/s", None, "p99 ≤ 2 ms at 2,000/s"),
        "B6": row("B6", "identity created → default-role grant visible, p99 at 200 creates/s "
                  "(PostgreSQL + RabbitMQ, services as processes)", "ms", None,
                  "p99 ≤ 100 ms at 200/s"),
        "B7": row("B7", "RSS of the embedded platform: idle (value) and after the B1–B5 load",
                  "MiB", None, "≤ 60 MiB idle, ≤ 200 MiB loaded"),
        "B8": row("B8", "cold start of `platform` to healthy (gateway /healthz 200), warm build, "
                  "existing data dir (value) and first start", "ms", None, "≤ 1 s"),
    }


def start_identity():
    d = WORK / "identity"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    env = {
        "IDENTITY__HTTP__LISTEN": f"127.0.0.1:{IDENTITY_PORT}",
        "DATABASE_URL": f"sqlite://{d}/identity.db",
        "IDENTITY__TOKEN__KEY_FILE": f"{d}/key.pem",
        "IDENTITY__SECRETS__PEPPER_FILE": f"{d}/pepper.key",
        "IDENTITY__BOOTSTRAP__CREDENTIALS_FILE": f"{d}/creds.json",
        "IDENTITY__TOKEN__PUBLIC_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
        "IDENTITY__TELEMETRY__LEVEL": "warn",
    }
    p = Proc("identity-service", [BIN / "identity-service"], env, cwd=d)
    wait_healthy(p, IDENTITY_PORT, timeout=90)
    creds = read_json_file(d / "creds.json")
    return p, creds


def bench_proxy(rows, raw):
    """B1 and B2: identity service + gateway + nginx, all on the SUT core."""
    log("B1/B2: starting identity-service, gateway and nginx on core " + SUT_CPU)
    ident, creds = start_identity()
    token = get_token(IDENTITY_PORT, creds)
    expect_status(f"http://127.0.0.1:{IDENTITY_PORT}{SELF_PATH}", token, 200)

    gw = Proc("gateway", [BIN / "gateway"], {"GATEWAY_CONFIG": str(gateway_config())})
    wait_healthy(gw, GATEWAY_PORT, timeout=30)
    expect_status(f"http://127.0.0.1:{GATEWAY_PORT}{SELF_PATH}", token, 200)
    expect_status(f"http://127.0.0.1:{GATEWAY_PORT}{SELF_PATH}", None, 401)

    nd, conf = nginx_config()
    ng = Proc("nginx", ["nginx", "-p", f"{nd}/", "-e", f"{nd}/logs/error.log", "-c", conf])
    deadline = time.monotonic() + 20
    workers = []
    while time.monotonic() < deadline:
        workers = children_of(ng.pid)
        if workers and raw_status(NGINX_PORT, "/") is not None:
            break
        if not ng.alive():
            raise BenchError(f"nginx exited: {ng.log_tail()}\n"
                             f"{(nd / 'logs/error.log').read_text(errors='replace')[-1500:]}")
        time.sleep(0.05)
    if len(workers) != 1:
        raise BenchError(f"expected one nginx worker, found {workers}")
    worker = workers[0]
    expect_status(f"http://127.0.0.1:{NGINX_PORT}{SELF_PATH}", token, 200)

    gw_url = f"http://127.0.0.1:{GATEWAY_PORT}{SELF_PATH}"
    ng_url = f"http://127.0.0.1:{NGINX_PORT}{SELF_PATH}"
    direct_url = f"http://127.0.0.1:{IDENTITY_PORT}{SELF_PATH}"

    # ---- B1
    try:
        log(f"B1: warm-up {WARM}s each")
        wrk(gw_url, B1_CONNS, WARM, token=token)
        wrk(ng_url, B1_CONNS, WARM, token=token)
        gw_runs, ng_runs = [], []
        for i in range(RUNS):
            r = wrk_cpu(gw_url, B1_CONNS, DUR, {"gateway": gw.pid, "identity": ident.pid},
                        token=token)
            check_clean(r, "B1 gateway")
            r["cpu_per_req_us"] = r["cpu_us"]["gateway"] / r["requests"]
            gw_runs.append(r)
            log(f"B1 run {i + 1}/{RUNS} gateway: {r['cpu_per_req_us']:.1f} µs/req, "
                f"{r['rps']:.0f} req/s")
            r = wrk_cpu(ng_url, B1_CONNS, DUR, {"nginx_worker": worker, "identity": ident.pid},
                        token=token)
            check_clean(r, "B1 nginx")
            r["cpu_per_req_us"] = r["cpu_us"]["nginx_worker"] / r["requests"]
            ng_runs.append(r)
            log(f"B1 run {i + 1}/{RUNS} nginx:   {r['cpu_per_req_us']:.1f} µs/req, "
                f"{r['rps']:.0f} req/s")
        raw["B1"] = {"gateway": gw_runs, "nginx": ng_runs}
        row = rows["B1"]
        row["value"] = round(med([r["cpu_per_req_us"] for r in gw_runs]), 2)
        row["peerValue"] = round(med([r["cpu_per_req_us"] for r in ng_runs]), 2)
        row["ratio"] = round(row["value"] / row["peerValue"], 3)
        row["met"] = row["ratio"] <= 1.5
        row["runs"] = [round(r["cpu_per_req_us"], 2) for r in gw_runs]
        row["peerRuns"] = [round(r["cpu_per_req_us"], 2) for r in ng_runs]
        row["extra"] = {
            "gatewayReqPerS": round(med([r["rps"] for r in gw_runs])),
            "nginxReqPerS": round(med([r["rps"] for r in ng_runs])),
            "identityCpuPerReqUsBehindGateway": round(
                med([r["cpu_us"]["identity"] / r["requests"] for r in gw_runs]), 2),
            "identityCpuPerReqUsBehindNginx": round(
                med([r["cpu_us"]["identity"] / r["requests"] for r in ng_runs]), 2),
        }
        row["how"] = (f"wrk -t1 -c{B1_CONNS} -d{DUR}s on core {LOAD_CPU}; gateway (or the nginx "
                      f"worker) and identity-service on core {SUT_CPU}; access logs off on both; "
                      "CPU = utime+stime from /proc/<pid>/stat of the gateway process (nginx: "
                      "its single worker) over the run ÷ requests completed per wrk; "
                      f"{RUNS} runs alternating, medians; ratio = gateway ÷ nginx")
    except BenchError as e:
        rows["B1"]["note"] = f"failed: {e}"
        log(f"B1 failed: {e}")

    # ---- B2
    try:
        log("B2: maximum throughput through the gateway (and direct)")
        max_gw, max_direct = [], []
        for i in range(RUNS):
            r = wrk(gw_url, MAX_CONNS, MAXDUR, token=token)
            check_clean(r, "B2 max gateway")
            max_gw.append(r)
            r = wrk(direct_url, MAX_CONNS, MAXDUR, token=token)
            check_clean(r, "B2 max direct")
            max_direct.append(r)
        gw_max = med([r["rps"] for r in max_gw])
        half = gw_max / 2
        # Each connection pauses a random 0..2*PACE_MS ms (mean PACE_MS) before each
        # request: conns = rate * (PACE_MS + service time) / 1000.
        service_ms = med([r["lat_mean_us"] for r in max_direct]) / 1000 / MAX_CONNS
        conns = max(1, round(half * (PACE_MS + max(service_ms, 0.2)) / 1000))
        log(f"B2: gateway max {gw_max:.0f} req/s; pacing {conns} connections at a mean "
            f"{PACE_MS} ms pause → about {half:.0f} req/s")
        gw_runs, direct_runs = [], []
        for i in range(RUNS):
            r = wrk(gw_url, conns, DUR, token=token, delay_ms=PACE_MS)
            check_clean(r, "B2 paced gateway")
            gw_runs.append(r)
            r = wrk(direct_url, conns, DUR, token=token, delay_ms=PACE_MS)
            check_clean(r, "B2 paced direct")
            direct_runs.append(r)
            log(f"B2 run {i + 1}/{RUNS}: p99 gateway {gw_runs[-1]['p99_us'] / 1000:.3f} ms at "
                f"{gw_runs[-1]['rps']:.0f} req/s, direct {r['p99_us'] / 1000:.3f} ms at "
                f"{r['rps']:.0f} req/s")
        raw["B2"] = {"max_gateway": max_gw, "max_direct": max_direct, "paced_gateway": gw_runs,
                     "paced_direct": direct_runs, "conns": conns, "pace_ms": PACE_MS}
        gw_p99 = med([r["p99_us"] for r in gw_runs]) / 1000
        d_p99 = med([r["p99_us"] for r in direct_runs]) / 1000
        row = rows["B2"]
        row["value"] = round(gw_p99 - d_p99, 3)
        row["peerValue"] = round(d_p99, 3)
        row["ratio"] = round(gw_p99 / d_p99, 3) if d_p99 > 0 else None
        row["met"] = row["value"] <= 1.0
        row["runs"] = [round(r["p99_us"] / 1000, 3) for r in gw_runs]
        row["peerRuns"] = [round(r["p99_us"] / 1000, 3) for r in direct_runs]
        row["extra"] = {
            "gatewayP99Ms": round(gw_p99, 3),
            "gatewayP50Ms": round(med([r["p50_us"] for r in gw_runs]) / 1000, 3),
            "directP50Ms": round(med([r["p50_us"] for r in direct_runs]) / 1000, 3),
            "gatewayMaxReqPerS": round(gw_max),
            "directMaxReqPerS": round(med([r["rps"] for r in max_direct])),
            "targetReqPerS": round(half),
            "gatewayAchievedReqPerS": round(med([r["rps"] for r in gw_runs])),
            "directAchievedReqPerS": round(med([r["rps"] for r in direct_runs])),
            "connections": conns,
        }
        row["how"] = (f"max = wrk -t1 -c{MAX_CONNS} -d{MAXDUR}s through the gateway (median of "
                      f"{RUNS}); then gateway and direct each at about half that rate: "
                      f"wrk -t1 -c{conns} with a Lua delay() of random 0..{2 * PACE_MS} ms per "
                      "connection before each request (paced closed loop; wrk has no fixed-rate "
                      "mode and Debian has no wrk2), latency = send to answer, no "
                      f"coordinated-omission correction; {RUNS} runs alternating, median p99; "
                      "value = gateway p99 − direct p99; ratio = gateway p99 ÷ direct p99")
    except BenchError as e:
        rows["B2"]["note"] = f"failed: {e}"
        log(f"B2 failed: {e}")

    for p in (ng, gw, ident):
        p.stop()


def platform_env(data_dir):
    return {
        "PLATFORM__DATA_DIR": str(data_dir),
        "PLATFORM__LISTEN": f"127.0.0.1:{PLATFORM_PORTS['listen']}",
        "PLATFORM__IDENTITY_PORT": str(PLATFORM_PORTS["identity"]),
        "PLATFORM__ORGANIZATION_PORT": str(PLATFORM_PORTS["organization"]),
        "PLATFORM__INVITATION_PORT": str(PLATFORM_PORTS["invitation"]),
        "PLATFORM__AUTHORIZATION_PORT": str(PLATFORM_PORTS["authorization"]),
        "PLATFORM__TELEMETRY__LEVEL": "warn",
    }


def start_platform(data_dir, name):
    p = Proc(name, [BIN / "platform"], platform_env(data_dir), cwd=WORK)
    secs = wait_healthy(p, PLATFORM_PORTS["listen"], timeout=60, interval=0.002)
    return p, secs


def bench_platform(rows, raw):
    """B8 (cold starts), B7 (RSS idle and under load), B3 (tokens/s)."""
    base = WORK / "platform"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)

    # ---- B8
    log(f"B8: {STARTS} first start(s) on an empty data dir, then {STARTS} second start(s)")
    first = []
    for i in range(STARTS):
        d = base / f"data-{i}"
        d.mkdir()
        p, secs = start_platform(d, f"platform-first-{i}")
        first.append(secs * 1000)
        read_json_file(d / "bootstrap-credentials.json")
        p.stop()
        log(f"B8 first start {i + 1}/{STARTS}: {secs * 1000:.0f} ms")
    data = base / "data-0"
    second = []
    plat = None
    for i in range(STARTS):
        plat, secs = start_platform(data, f"platform-{i}")
        second.append(secs * 1000)
        log(f"B8 second start {i + 1}/{STARTS}: {secs * 1000:.0f} ms")
        if i < STARTS - 1:
            plat.stop()
    raw["B8"] = {"first_ms": first, "second_ms": second}
    row = rows["B8"]
    row["value"] = round(med(second), 1)
    row["extra"] = {"firstStartMs": round(med(first), 1)}
    row["runs"] = [round(x, 1) for x in second]
    row["extra"]["firstStartRuns"] = [round(x, 1) for x in first]
    row["met"] = med(second) <= 1000 and med(first) <= 1000
    row["how"] = (f"platform pinned to core {SUT_CPU}; time from spawning the process to the "
                  "first 200 of GET /healthz on the gateway, polled every 2 ms; second start = "
                  "existing data dir (value); first start = empty data dir (key generation, "
                  f"migrations, bootstrap); median of {STARTS} each")

    # ---- B7 idle
    time.sleep(3)
    idle = mem_kib(plat.pid)
    log(f"B7: idle RSS {idle['VmRSS'] / 1024:.1f} MiB")

    creds = read_json_file(data / "bootstrap-credentials.json")
    ident_port = PLATFORM_PORTS["identity"]
    token_url = f"http://127.0.0.1:{ident_port}{TOKEN_PATH}"
    token = get_token(ident_port, creds)
    basic = basic_of(creds)

    # ---- B3
    try:
        log(f"B3: warm-up {WARM}s")
        r = wrk(token_url, TOKEN_CONNS, WARM, basic=basic, count=True)
        if r["ok"] == 0:
            raise BenchError(f"the token endpoint answered no 200 during warm-up: {r}")
        tok_runs, ssl_runs = [], []
        for i in range(RUNS):
            r = wrk_cpu(token_url, TOKEN_CONNS, DUR, {"platform": plat.pid}, basic=basic,
                        count=True)
            check_clean(r, "B3 tokens", allow_status=True)
            r["tokens_per_s"] = r["ok"] / (r["duration_us"] / 1e6)
            r["cpu_per_token_us"] = r["cpu_us"]["platform"] / max(r["ok"], 1)
            tok_runs.append(r)
            s = openssl_sign_per_s(DUR)
            ssl_runs.append(s)
            log(f"B3 run {i + 1}/{RUNS}: {r['tokens_per_s']:.0f} tokens/s ({r['other']} non-200), "
                f"openssl {s:.0f} sign/s")
        raw["B3"] = {"tokens": tok_runs, "openssl_sign_per_s": ssl_runs}
        row = rows["B3"]
        row["value"] = round(med([r["tokens_per_s"] for r in tok_runs]), 1)
        row["peerValue"] = round(med(ssl_runs), 1)
        row["ratio"] = round(row["value"] / row["peerValue"], 3)
        row["met"] = row["ratio"] >= 0.8 and row["value"] >= 500
        row["runs"] = [round(r["tokens_per_s"], 1) for r in tok_runs]
        row["peerRuns"] = [round(s, 1) for s in ssl_runs]
        row["extra"] = {
            "platformCpuPerTokenUs": round(med([r["cpu_per_token_us"] for r in tok_runs]), 1),
            "non200": sum(r["other"] for r in tok_runs),
            "p99Ms": round(med([r["p99_us"] for r in tok_runs]) / 1000, 3),
        }
        row["how"] = (f"embedded platform pinned to core {SUT_CPU}; wrk -t1 -c{TOKEN_CONNS} "
                      f"-d{DUR}s on core {LOAD_CPU} POSTing grant_type=client_credentials with "
                      "HTTP Basic straight to the identity port; only 200 answers counted "
                      f"(wrk response()); peer = taskset -c {SUT_CPU} openssl speed -seconds "
                      f"{DUR} rsa2048 sign/s; {RUNS} runs alternating, medians")
        if row["extra"]["non200"]:
            row["note"] = f"{row['extra']['non200']} non-200 answers (not counted)"
    except BenchError as e:
        rows["B3"]["note"] = f"failed: {e}"
        log(f"B3 failed: {e}")

    # ---- B5: checks through the platform's gateway (before B7 loaded: after B1-B5)
    try:
        bench_checks(rows, raw, plat, token)
    except BenchError as e:
        rows["B5"]["note"] = f"failed: {e}"
        log(f"B5 failed: {e}")

    # ---- B7 loaded: the B1/B2 load through the platform's gateway, then read RSS
    try:
        gw_url = f"http://127.0.0.1:{PLATFORM_PORTS['listen']}{SELF_PATH}"
        expect_status(gw_url, token, 200)
        log(f"B7: {DUR}s of B1 load and {DUR}s of B2 max load through the platform's gateway")
        wrk(gw_url, B1_CONNS, DUR, token=token)
        wrk(gw_url, MAX_CONNS, DUR, token=token)
        loaded = mem_kib(plat.pid)
        raw["B7"] = {"idle_kib": idle, "loaded_kib": loaded}
        row = rows["B7"]
        idle_mib = idle["VmRSS"] / 1024
        loaded_mib = loaded["VmRSS"] / 1024
        peak_mib = loaded["VmHWM"] / 1024
        row["value"] = round(idle_mib, 1)
        row["extra"] = {"loadedRssMiB": round(loaded_mib, 1), "peakRssMiB": round(peak_mib, 1)}
        row["met"] = idle_mib <= 60 and max(loaded_mib, peak_mib) <= 200
        row["how"] = ("VmRSS of the platform process from /proc/<pid>/status: idle = 3 s after "
                      "its (second) start was healthy; loaded = after the B3 token and B5 check "
                      "loads plus "
                      f"{DUR}s of wrk -c{B1_CONNS} and {DUR}s of wrk -c{MAX_CONNS} GET "
                      "/identities/self through its gateway; peak = VmHWM. Loaded target "
                      "checked against the larger of loaded and peak")
    except BenchError as e:
        rows["B7"]["note"] = f"failed: {e}"
        log(f"B7 failed: {e}")
    plat.stop()



# ---------------------------------------------------------------- B4, B5, B6

B5_RATE = 2000  # checks/s of the paced run
READ_ONLY_ROLE = "00000000-0000-4000-8000-0000000a0003"  # Organization Read Only
DECISION_BIN = "authz-decision-bench"


class Conn:
    """A kept-alive HTTP/1.1 connection (latency without a TCP connect each time)."""

    def __init__(self, port, token=None, timeout=10):
        self.port, self.token, self.timeout = port, token, timeout
        self._mk = lambda: HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.c = self._mk()

    def call(self, method, path, body=None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
            except (OSError, HTTPException) as e:  # a closed keep-alive: once more
                self.c.close()
                self.c = self._mk()
                if attempt:
                    raise BenchError(f"{method} {path} on port {self.port}: {e}")
        raise BenchError("unreachable")

    def expect(self, method, path, want, body=None):
        st, v = self.call(method, path, body)
        if st != want:
            raise BenchError(f"{method} {path} answered {st} (expected {want}): {str(v)[:300]}")
        return v

    def close(self):
        self.c.close()


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def shown_path(p):
    """A path for the report: relative to the repository or to the cargo target dir."""
    if p.is_relative_to(ROOT):
        return str(p.relative_to(ROOT))
    if p.is_relative_to(TARGET_DIR):
        return f"$CARGO_TARGET_DIR/{p.relative_to(TARGET_DIR)}"
    return str(p)


def bench_decision(rows, raw):
    """B4: the decision cache beside cedar-policy, in process (scripts/authz-decision-bench)."""
    exe = BIN / DECISION_BIN
    row = rows["B4"]
    if not exe.is_file():
        raise BenchError(f"{exe} missing (scripts/bench builds scripts/authz-decision-bench)")
    questions = 20_000 if QUICK else 300_000
    sample = 5 if QUICK else 50
    log(f"B4: {exe.name} --runs {RUNS} --questions {questions} on core {SUT_CPU}")
    argv = ["taskset", "-c", SUT_CPU, str(exe), "--runs", str(RUNS), "--questions",
            str(questions), "--whole-set-sample", str(sample)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise BenchError(f"{exe.name} failed (exit {r.returncode}): {r.stderr[-1500:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    raw["B4"] = res
    ours, cedar = res["oursNsPerCheck"] / 1000, res["cedarNsPerCheck"] / 1000
    row["value"] = round(ours, 3)
    row["peerValue"] = round(cedar, 3)
    row["ratio"] = round(cedar / ours, 1)
    row["met"] = row["ratio"] >= 10
    row["runs"] = [round(x / 1000, 3) for x in res["oursRuns"]]
    row["peerRuns"] = [round(x / 1000, 3) for x in res["cedarRuns"]]
    row["extra"] = {
        "cedarWholeSetUsPerCheck": round(res["cedarWholeSetNsPerCheck"] / 1000, 1),
        "cedarWholeSetSample": res["cedarWholeSetSample"],
        "questions": res["questions"],
        "allowedFraction": round(res["allowedFraction"], 3),
        "effectivePermissions": res["effectivePermissions"],
        "coldLoadUsPerIdentity": round(res["oursColdLoadNsPerIdentity"] / 1000, 1),
    }
    row["how"] = (
        f"scripts/authz-decision-bench (release, pinned to core {SUT_CPU}): 10,000 identities in 100 "
        "organizations, 1,000 roles (one with every action, the others 3-20 of the 53 catalog "
        "actions), 100,000 grants (70% roles, 30% single actions; 55% organization-wide, 40% "
        "narrowed to a path of 1-2 ids, 5% in another organization, 1% platform-wide); "
        f"{res['questions']} questions (half from what the identity holds, half random), every "
        "answer of both sides compared (a difference fails the run). Ours: "
        "Decider::cached(identity) + Snapshot::allows over snapshots loaded beforehand. "
        "Cedar: one template per role `permit(principal == ?principal, action in [its actions], "
        "resource in ?resource)` and one per single action, each grant a link with the identity "
        "and its scope (Platform, Org, or path Node, entities Node → Node → Org → Platform); "
        "Authorizer::is_authorized with Request::new per check, given the asking identity's "
        "linked policies only (its slice, about 10; the whole 100,000-policy set on a sample is "
        "in the details). CPU = CLOCK_THREAD_CPUTIME_ID around each loop ÷ questions; "
        f"{RUNS} runs alternating, medians; ratio = cedar ÷ ours")


def bench_checks(rows, raw, plat, token):
    """B5: POST /auth/v1/checks through the embedded platform's gateway."""
    row = rows["B5"]
    gw = PLATFORM_PORTS["listen"]
    claims = jwt_claims(token)
    admin, org = claims["sub"], claims["organizationId"]
    url = f"http://127.0.0.1:{gw}/auth/v1/checks"
    body = json.dumps({"identityId": admin, "action": "read", "resourceType": "user-identity",
                       "organizationId": org, "resourceId": "bench"})
    c = Conn(gw, token)
    v = c.expect("POST", "/auth/v1/checks", 200, json.loads(body))
    if v.get("allowed") is not True:
        raise BenchError(f"the super admin's check was not allowed: {v}")
    log(f"B5: warm-up {WARM}s")
    wrk(url, MAX_CONNS, WARM, token=token, body=body, count=True)
    max_runs = []
    for i in range(RUNS):
        r = wrk_cpu(url, MAX_CONNS, MAXDUR, {"platform": plat.pid}, token=token, body=body,
                    count=True)
        check_clean(r, "B5 max")
        if r["other"]:
            raise BenchError(f"B5 max: {r['other']} answers were not 200")
        r["cpu_per_check_us"] = r["cpu_us"]["platform"] / max(r["requests"], 1)
        max_runs.append(r)
        log(f"B5 max run {i + 1}/{RUNS}: {r['rps']:.0f} checks/s, "
            f"{r['cpu_per_check_us']:.1f} µs platform CPU per check")
    top = med([r["rps"] for r in max_runs])
    service_ms = med([r["lat_mean_us"] for r in max_runs]) / 1000 / MAX_CONNS
    conns = max(1, round(B5_RATE * (PACE_MS + max(service_ms, 0.2)) / 1000))
    log(f"B5: pacing {conns} connections at a mean {PACE_MS} ms pause → about {B5_RATE} checks/s")
    paced = []
    for i in range(RUNS):
        r = wrk(url, conns, DUR, token=token, body=body, delay_ms=PACE_MS, count=True)
        check_clean(r, "B5 paced")
        paced.append(r)
        log(f"B5 paced run {i + 1}/{RUNS}: {r['rps']:.0f} checks/s, p50 "
            f"{r['p50_us'] / 1000:.3f} ms, p99 {r['p99_us'] / 1000:.3f} ms")

    # Cold check and revocation → first refused check, through the gateway.
    n = 5 if QUICK else 20
    _, types_ = c.call("GET", "/auth/v1/resource-types?code=user-identity")
    tid = types_[0]["id"]
    _, acts = c.call("GET", f"/auth/v1/resource-actions?resourceTypeId={tid}&code=read")
    read = acts[0]["id"]
    cold, warm, revoked, attempts = [], [], [], []
    for _ in range(n):
        who = str(__import__("uuid").uuid4())
        g = c.expect("POST", "/auth/v1/identity-resource-actions", 201,
                     {"identityId": who, "resourceActionId": read, "organizationId": org,
                      "path": []})
        q = {"identityId": who, "action": "read", "resourceType": "user-identity",
             "organizationId": org, "resourceId": "r"}
        t = time.perf_counter()
        v = c.expect("POST", "/auth/v1/checks", 200, q)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        v2 = c.expect("POST", "/auth/v1/checks", 200, q)
        warm.append((time.perf_counter() - t) * 1000)
        if v["allowed"] is not True or v2["allowed"] is not True:
            raise BenchError(f"a granted check was refused: {v} {v2}")
        c.expect("DELETE", f"/auth/v1/identity-resource-actions/{g['id']}", 204)
        t0 = time.perf_counter()
        k = 0
        while True:
            k += 1
            v = c.expect("POST", "/auth/v1/checks", 200, q)
            if v["allowed"] is False:
                break
            if time.perf_counter() - t0 > 10:
                raise BenchError("a revoked grant still allowed checks after 10 s")
        revoked.append((time.perf_counter() - t0) * 1000)
        attempts.append(k)
    c.close()
    raw["B5"] = {"max": max_runs, "paced": paced, "conns": conns, "cold_ms": cold,
                 "warm_ms": warm, "revoked_ms": revoked, "attempts": attempts}
    p99 = med([r["p99_us"] for r in paced]) / 1000
    row["value"] = round(top)
    row["met"] = p99 <= 2.0
    row["runs"] = [round(r["rps"]) for r in max_runs]
    row["extra"] = {
        "p99MsAt2000": round(p99, 3),
        "p50MsAt2000": round(med([r["p50_us"] for r in paced]) / 1000, 3),
        "achievedChecksPerS": round(med([r["rps"] for r in paced])),
        "connections": conns,
        "platformCpuPerCheckUs": round(med([r["cpu_per_check_us"] for r in max_runs]), 1),
        "coldCheckMs": round(med(cold), 3),
        "warmCheckMs": round(med(warm), 3),
        "revocationToRefusedMs": round(med(revoked), 3),
        "revocationToRefusedMaxMs": round(max(revoked), 3),
        "checksUntilRefusedMax": max(attempts),
    }
    row["how"] = (
        f"embedded platform (SQLite, in-process bus) pinned to core {SUT_CPU}; wrk -t1 on core "
        f"{LOAD_CPU} POSTing one check {{identityId, action, resourceType, organizationId, "
        "resourceId}} of the super admin with its bearer token to the gateway's "
        f"/auth/v1/checks; value = max throughput (wrk -c{MAX_CONNS} -d{MAXDUR}s, median of "
        f"{RUNS}); p50/p99 at {B5_RATE}/s PACED as B2 (closed loop, {conns} connections, each "
        f"pausing a random 0..{2 * PACE_MS} ms, no coordinated-omission correction), median of "
        f"{RUNS}. Cold check = the first check of a new identity right after its grant "
        "(nothing cached), from one kept-alive Python client through the gateway; revocation → "
        "refused = from the DELETE's 204 to the first check answering allowed=false, checking "
        f"back to back; {n} identities, medians")
    if row["extra"]["achievedChecksPerS"] < 0.9 * B5_RATE:
        row["note"] = (f"the paced run reached {row['extra']['achievedChecksPerS']} checks/s, "
                       f"not {B5_RATE}")


# ---- B6: services as separate processes, PostgreSQL and RabbitMQ

B6_PORTS = dict(gateway=18280, identity=18281, organization=18282, invitation=18283,
                authorization=18284)
B6_PARTS = ("organization", "identity", "invitation", "authorization")
B6_RATES = (50, 200)
# After B6_RATES: one run at each of these until p99 exceeds B6_LIMIT_MS (issue 8's
# "throughput at which p99 exceeds 1 s").
B6_STEPS = (300, 400, 600, 800, 1200, 1600)
B6_LIMIT_MS = 1000


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pg(*argv):
    r = subprocess.run(list(argv) + ["-h", "127.0.0.1", "-U", "postgres"], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed: {r.stderr.strip()[:300]}")


def b6_gateway_config(d, exchange):
    base = tomllib.loads((ROOT / "gateway/gateway.toml").read_text())
    base["listen"] = f"127.0.0.1:{B6_PORTS['gateway']}"
    base["access_log"] = False
    base["token_rate_per_sec"] = 0
    base["exchange"] = exchange
    if "telemetry" in base:
        base["telemetry"]["level"] = "warn"
    v = base.setdefault("verifier", {})
    v["issuer"] = f"http://127.0.0.1:{B6_PORTS['gateway']}/identity/v1"
    v["jwks_url"] = (f"http://127.0.0.1:{B6_PORTS['identity']}/identity/v1/.well-known/"
                     "jwks.json")
    for r in base.get("routes", []):
        name = r.get("name")
        if name in B6_PORTS and name != "gateway":
            r["upstream"] = f"http://127.0.0.1:{B6_PORTS[name]}"
    path = d / "gateway.toml"
    path.write_text(toml_dump(base))
    return path


def b6_env(part, d, dbs, exchange):
    p = part.upper()
    gw = f"http://127.0.0.1:{B6_PORTS['gateway']}"
    env = {
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2f",
        "DATABASE_URL": dbs[part],
        f"{p}__HTTP__LISTEN": f"127.0.0.1:{B6_PORTS[part]}",
        f"{p}__BUS__EXCHANGE": exchange,
        f"{p}__VERIFIER__ISSUER": f"{gw}/identity/v1",
        f"{p}__VERIFIER__JWKS_URL": (f"http://127.0.0.1:{B6_PORTS['identity']}/identity/v1/"
                                     ".well-known/jwks.json"),
        f"{p}__AUTHZ__URL": f"http://127.0.0.1:{B6_PORTS['authorization']}",
        f"{p}__TELEMETRY__LEVEL": "warn",
    }
    if part != "authorization":
        env[f"{p}__FLOW_TOKENS__SECRET"] = "bench-flow-token-secret-0123456789abcdef"
    if part == "identity":
        env["IDENTITY__TOKEN__PUBLIC_URL"] = gw
    return env


def servers_cpu_ticks():
    """utime+stime of the machine's PostgreSQL and RabbitMQ processes (every process
    whose command is postgres, or the Erlang VM), summed per server."""
    out = {"postgres": 0, "rabbitmq": 0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            if comm == "postgres":
                out["postgres"] += cpu_ticks(int(entry))
            elif comm.startswith("beam"):
                out["rabbitmq"] += cpu_ticks(int(entry))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return out


def b6_cpu_ticks(procs):
    """CPU ticks so far of each B6 process, and of PostgreSQL and RabbitMQ."""
    out = {name: cpu_ticks(p.pid) for name, p in procs.items()}
    out.update(servers_cpu_ticks())
    return out


def bench_events(rows, raw):
    """B6: identity created → default-role grant visible, services as processes."""
    row = rows["B6"]
    if not (port_open("127.0.0.1", 5432) and port_open("127.0.0.1", 5672)):
        raise BenchError("needs PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672")
    for b in (*[f"{p}-service" for p in B6_PARTS], "gateway"):
        if not (BIN / b).is_file():
            raise BenchError(f"{BIN / b} missing")
    for port in B6_PORTS.values():
        if port_open("127.0.0.1", port):
            raise BenchError(f"port {port} is in use on 127.0.0.1")
    tag = f"{int(time.time())}_{os.getpid()}"
    exchange = f"idp.bench.{tag}"
    d = WORK / "b6"
    (d / "data").mkdir(parents=True, exist_ok=True)
    dbs, made = {}, []
    try:
        for part in B6_PARTS:
            name = f"idp_bench_{tag}_{part}"
            pg("createdb", name)
            made.append(name)
            dbs[part] = f"postgres://postgres@127.0.0.1:5432/{name}"
        log(f"B6: databases idp_bench_{tag}_*, exchange {exchange}; starting the services "
            f"and the gateway on core {SUT_CPU}")
        procs = {}
        for part in B6_PARTS:
            procs[part] = Proc(f"b6-{part}", [BIN / f"{part}-service"],
                               b6_env(part, d, dbs, exchange), cwd=d)
            wait_healthy(procs[part], B6_PORTS[part], timeout=90)
        gw = Proc("b6-gateway", [BIN / "gateway"],
                  {"GATEWAY_CONFIG": str(b6_gateway_config(d, exchange)),
                   "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/%2f"})
        wait_healthy(gw, B6_PORTS["gateway"], timeout=30)
        creds = read_json_file(d / "data/bootstrap-credentials.json")
        token = get_token(B6_PORTS["identity"], creds)
        admin = jwt_claims(token)["sub"]
        c = Conn(B6_PORTS["gateway"], token)
        deadline = time.monotonic() + 60
        while True:
            st, perms = c.call("GET", f"/auth/v1/identities/{admin}/permissions")
            if st == 200 and perms:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"the bootstrap super admin got no grant: {st} {perms}")
            time.sleep(0.1)
        org = c.expect("POST", "/identity/v1/organizations", 201,
                       {"name": f"Bench {tag}", "label": f"bench-{tag}".replace("_", "-")})["id"]
        c.expect("POST", "/identity/v1/default-roles", 201,
                 {"organizationId": org, "roleType": "Standard", "roleId": READ_ONLY_ROLE})
        # The authorization service knows the default role once a probe user gets it.
        deadline = time.monotonic() + 60
        while True:
            st, v = c.call("POST", "/identity/v1/user-identities",
                           {"organizationId": org, "firstName": "Probe", "lastName": tag,
                            "email": f"probe-{tag}-{time.time_ns()}@example.com"})
            if st == 201:
                probe = events.run_rate(lambda: Conn(B6_PORTS["gateway"], token), org, 5, 0.2,
                                        5, give_up_s=5)
                if probe["lat"] and not probe["fails"]:
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"the default role never reached new users ({st} {v})")
            time.sleep(0.2)
        c.close()
        poll_ms = 5
        results = {}
        seconds = 3 if QUICK else 10
        factory = lambda: Conn(B6_PORTS["gateway"], token)  # noqa: E731
        procs["gateway"] = gw
        cpu_runs = []  # at 200/s: CPU µs per created user of each process
        for rate in B6_RATES:
            runs = []
            for i in range(RUNS):
                before = b6_cpu_ticks(procs)
                run = events.run_rate(factory, org, rate, seconds, poll_ms)
                after = b6_cpu_ticks(procs)
                lat, cm, fails = run["lat"], run["create_ms"], run["fails"]
                if rate == 200 and lat:
                    cpu_runs.append({k: (after[k] - before[k]) * 1e6 / CLK_TCK / len(lat)
                                     for k in after})
                if fails:
                    raise BenchError(f"B6 at {rate}/s: {len(fails)} failures, e.g. {fails[0]}")
                runs.append({"p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat),
                             "n": len(lat), "achieved": run["achieved"],
                             "polls_per_user": run["polls"] / max(len(lat), 1),
                             "create_p50": pct(cm, 50), "create_p99": pct(cm, 99)})
                log(f"B6 {rate}/s run {i + 1}/{RUNS}: {len(lat)} users, p50 "
                    f"{runs[-1]['p50']:.1f} ms, p99 {runs[-1]['p99']:.1f} ms "
                    f"(created at {run['achieved']:.0f}/s; create p50 "
                    f"{runs[-1]['create_p50']:.1f} ms)")
            results[rate] = runs
        # The rate at which p99 passes 1 s: the measured rates (medians) first, then
        # one run per step until one is over.
        known = {}
        for rate, runs in results.items():
            known[rate] = {"rate": rate, "users": runs[0]["n"],
                           "p50Ms": round(med([x["p50"] for x in runs]), 1),
                           "p99Ms": round(med([x["p99"] for x in runs]), 1),
                           "achievedPerS": round(med([x["achieved"] for x in runs]), 1),
                           "failures": 0}
        steps = () if QUICK else B6_STEPS
        limit_runs, over, within = events.find_limit(
            factory, org, [*B6_RATES, *steps], seconds, poll_ms, B6_LIMIT_MS, known=known,
            say=lambda m: log(f"B6 step {m}"))
        raw["B6"] = results
        m = {r: {k: med([x[k] for x in results[r]]) for k in results[r][0]} for r in results}
        row["value"] = round(m[200]["p99"], 1)
        row["met"] = m[200]["p99"] <= 100
        row["runs"] = [round(x["p99"], 1) for x in results[200]]
        row["extra"] = {
            "p50MsAt50": round(m[50]["p50"], 1), "p99MsAt50": round(m[50]["p99"], 1),
            "p50MsAt200": round(m[200]["p50"], 1), "p99MsAt200": round(m[200]["p99"], 1),
            "achievedPerSAt50": round(m[50]["achieved"], 1),
            "achievedPerSAt200": round(m[200]["achieved"], 1),
            "createP50MsAt200": round(m[200]["create_p50"], 1),
            "createP99MsAt200": round(m[200]["create_p99"], 1),
            "pollsPerUserAt200": round(m[200]["polls_per_user"], 1),
            "usersPerRun": {r: results[r][0]["n"] for r in results},
            "cpuUsPerUserAt200": {k: round(med([c[k] for c in cpu_runs])) for k in cpu_runs[0]}
            if cpu_runs else None,
            "p99Over1sAtPerS": over,
            "lastRateP99Within1sPerS": within,
            "steps": [{k: x.get(k) for k in ("rate", "p50Ms", "p99Ms", "achievedPerS",
                                             "createP99Ms", "pollsPerUser")}
                      for x in limit_runs],
        }
        row["how"] = (
            f"organization-, identity-, invitation-, authorization-service and gateway as five "
            f"release processes pinned to core {SUT_CPU} on fresh PostgreSQL databases "
            f"(idp_bench_*) and RabbitMQ (fresh exchange); Python clients on core {LOAD_CPU} "
            "create users (POST /identity/v1/user-identities through the gateway) in an "
            "organization with the default role Organization Read Only, scheduled at a fixed "
            f"rate ({', '.join(map(str, B6_RATES))}/s for {seconds}s each); latency = from the "
            "create's 201 to the first GET /auth/v1/grants?identityId=… listing the grant "
            "(scripts/bench_lib/events.py: 4 poller threads, each asking about its oldest "
            f"pending user first {poll_ms} ms after the create, then again after a fifth of the "
            "user's age, 5-10 ms, and at once about its next user once seen, since events apply "
            "in order; a figure is late by at most a fifth of itself or 10 ms plus the polls of "
            "earlier users already visible, about 1 ms each; about 1-2 polls per user, which "
            "are load on the services too); "
            f"creates are open loop (not held back by pending users); {RUNS} run(s) per "
            "rate, medians of each run's p50/p99; value = p99 at 200/s. Then one run at each of "
            f"{', '.join(map(str, steps)) or '(none in quick mode)'}/s until one is over: p99 above "
            f"{B6_LIMIT_MS} ms, a failure, or creates below 90% of the rate (p99Over1sAtPerS = "
            "that rate, lastRateP99Within1sPerS = the one before). PostgreSQL and RabbitMQ "
            "are the machine's own servers (not pinned). cpuUsPerUserAt200 = each process's "
            "utime+stime over a 200/s run ÷ users created (median of the runs; postgres and "
            "rabbitmq = all their processes, which also serve other clients of the machine, "
            "if any); it includes the polls")
    finally:
        for p in list(STARTED):
            if p.name.startswith("b6-"):
                p.stop()
        for name in made:
            try:
                pg("dropdb", "--if-exists", name)
            except BenchError as e:
                log(f"B6 cleanup: {e}")
        b6_drop_queues(exchange)


def b6_drop_queues(exchange):
    """Best effort: the durable consumer queues of the run's exchange."""
    if not shutil.which("rabbitmqctl"):
        return
    try:
        r = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True,
                           text=True, timeout=30)
        for q in r.stdout.split():
            if q.startswith(exchange + "."):
                subprocess.run(["rabbitmqctl", "-q", "delete_queue", q], capture_output=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        log(f"B6 cleanup of RabbitMQ queues: {e}")


# ---------------------------------------------------------------- report


def git_commit():
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "--no-optional-locks", "status",
                                "--porcelain"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (subprocess.CalledProcessError, OSError):
        return "unknown"


def tool_versions():
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "kernel": pyplatform.release(),
        "wrk": first_line(["wrk", "--version"]).split(" [")[0],
        "nginx": first_line(["nginx", "-v"]),
        "openssl": first_line(["openssl", "version"]),
    }


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        s = f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:,.1f}"
    else:
        s = str(v)
    return f"{s} {unit}".strip()


def miss_text(row):
    """How far a missed target is from being met."""
    i, v, r, e = row["id"], row["value"], row["ratio"], row.get("extra", {})
    if i == "B1":
        return f"ratio {r:.2f} vs ≤ 1.5: over by {r - 1.5:.2f} ({(r / 1.5 - 1) * 100:.0f}% over)"
    if i == "B2":
        return f"added p99 {v:.3f} ms vs ≤ 1 ms: over by {v - 1:.3f} ms"
    if i == "B3":
        parts = []
        if r < 0.8:
            parts.append(f"{r * 100:.0f}% of the signing limit vs ≥ 80%: short by "
                         f"{(0.8 - r) * 100:.0f} points ({0.8 * row['peerValue'] - v:.0f} tokens/s)")
        if v < 500:
            parts.append(f"{v:.0f} tokens/s vs ≥ 500/s: short by {500 - v:.0f}/s")
        return "; ".join(parts)
    if i == "B4":
        return (f"cedar ÷ ours = {r:.1f}× vs ≥ 10×: short by {10 - r:.1f}× "
                f"(ours {v:.3f} µs, cedar {row['peerValue']:.3f} µs)")
    if i == "B5":
        p99 = e.get("p99MsAt2000")
        return f"p99 at 2,000/s {p99:.3f} ms vs ≤ 2 ms: over by {p99 - 2:.3f} ms"
    if i == "B6":
        return f"p99 at 200/s {v:.1f} ms vs ≤ 100 ms: over by {v - 100:.1f} ms"
    if i == "B7":
        parts = []
        if v > 60:
            parts.append(f"idle {v:.1f} MiB vs ≤ 60 MiB: over by {v - 60:.1f} MiB")
        loaded = max(e.get("loadedRssMiB", 0), e.get("peakRssMiB", 0))
        if loaded > 200:
            parts.append(f"loaded {loaded:.1f} MiB vs ≤ 200 MiB: over by {loaded - 200:.1f} MiB")
        return "; ".join(parts)
    if i == "B8":
        parts = []
        if v > 1000:
            parts.append(f"second start {v:.0f} ms vs ≤ 1000 ms: over by {v - 1000:.0f} ms")
        f = e.get("firstStartMs")
        if f is not None and f > 1000:
            parts.append(f"first start {f:.0f} ms vs ≤ 1000 ms: over by {f - 1000:.0f} ms")
        return "; ".join(parts)
    return "missed"


def value_cell(row):
    e = row.get("extra", {})
    v = fmt(row["value"], row["unit"])
    if row["id"] == "B7" and row["value"] is not None:
        return (f"idle {v}; loaded {fmt(e.get('loadedRssMiB'), 'MiB')} "
                f"(peak {fmt(e.get('peakRssMiB'), 'MiB')})")
    if row["id"] == "B8" and row["value"] is not None:
        return f"second start {v}; first start {fmt(e.get('firstStartMs'), 'ms')}"
    if row["id"] == "B5" and row["value"] is not None:
        return (f"{v} max; at 2,000/s (paced): p50 {fmt(e.get('p50MsAt2000'), 'ms')}, p99 "
                f"{fmt(e.get('p99MsAt2000'), 'ms')}; cold check {fmt(e.get('coldCheckMs'), 'ms')}; "
                f"revocation → refused {fmt(e.get('revocationToRefusedMs'), 'ms')}")
    if row["id"] == "B6" and row["value"] is not None:
        over = e.get("p99Over1sAtPerS")
        limit = (f"p99 over 1 s from {over} creates/s (within at {e.get('lastRateP99Within1sPerS')}/s)"
                 if over else "p99 within 1 s at every rate stepped"
                 if e.get("steps") and len(e["steps"]) > len(B6_RATES) else "limit not stepped")
        return (f"p99 {v} at 200/s (p50 {fmt(e.get('p50MsAt200'), 'ms')}); at 50/s: p50 "
                f"{fmt(e.get('p50MsAt50'), 'ms')}, p99 {fmt(e.get('p99MsAt50'), 'ms')}; {limit}")
    if row["id"] == "B2" and row["value"] is not None:
        return f"{v} (gateway p99 {fmt(e.get('gatewayP99Ms'), 'ms')})"
    return v


def peer_cell(row):
    if row["peerValue"] is None:
        return row["peer"] or "—"
    unit = {"B1": "µs/request", "B2": "ms p99", "B3": "sign/s", "B4": "µs/decision"}.get(
        row["id"], "")
    return f"{row['peer']}: {fmt(row['peerValue'], unit)}"


def write_report(rows, raw, meta):
    RESULTS.mkdir(parents=True, exist_ok=True)
    ordered = [rows[k] for k in sorted(rows)]
    (RESULTS / "latest.json").write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")
    L = []
    L.append("# Benchmark results")
    L.append("")
    L.append(f"- commit: `{meta['commit']}`")
    L.append(f"- date: {meta['date']}")
    L.append(f"- mode: {'QUICK (BENCH_QUICK=1: short runs, 1 run each — indicative only)' if QUICK else 'full'}; "
             f"{RUNS} run(s) per side alternating with the peer, medians; run {DUR}s, "
             f"warm-up {WARM}s")
    L.append(f"- machine: {meta['tools']['cpu']}, Linux {meta['tools']['kernel']}; load "
             f"generator (wrk, one thread) pinned to core {LOAD_CPU}, system under test and "
             f"peer pinned to core {SUT_CPU}")
    L.append(f"- tools: {meta['tools']['wrk']}; {meta['tools']['nginx']}; "
             f"{meta['tools']['openssl']}")
    L.append(f"- other processes on the machine during the run: {meta['others_pct']:.0f}% of "
             f"its CPU (load average at start {meta['loadavg']})"
             + ("  **— the machine was busy: figures are noisy**"
                if meta["others_pct"] > 10 else ""))
    L.append("- access logs: off on both the gateway (`access_log = false`) and nginx "
             "(`access_log off`) for B1/B2")
    L.append("")
    L.append("| # | figure | value | peer (same run) | ratio | target | met |")
    L.append("|---|---|---|---|---|---|---|")
    for r in ordered:
        met = {True: "yes", False: "**NO**", None: "—"}[r["met"]]
        note = f" ({r['note']})" if r["note"] and r["value"] is None else ""
        L.append(f"| {r['id']} | {r['figure']} | {value_cell(r)}{note} | {peer_cell(r)} | "
                 f"{fmt(r['ratio'])} | {r['target']} | {met} |")
    L.append("")
    misses = [r for r in ordered if r["met"] is False]
    L.append("## Targets missed")
    L.append("")
    if misses:
        for r in misses:
            L.append(f"- {r['id']}: {miss_text(r)}")
    else:
        L.append("- none of the measured ones")
    failed = [r for r in ordered if r["value"] is None]
    for r in failed:
        L.append(f"- {r['id']}: not measured — {r['note'].splitlines()[0]}")
    L.append("")
    L.append("## How each figure is measured")
    L.append("")
    L.append(f"CPU time = utime+stime from `/proc/<pid>/stat` (all threads), before and after "
             f"the run, in clock ticks (`getconf CLK_TCK` = {CLK_TCK}) converted to µs, divided "
             "by the requests wrk reports as completed.")
    L.append("")
    for r in ordered:
        L.append(f"- **{r['id']}** — {r['how']}")
        extra = r.get("extra")
        if extra:
            L.append(f"  - details: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
        if r.get("runs"):
            L.append(f"  - runs: {r['runs']}" + (f"; peer runs: {r['peerRuns']}"
                                                  if r.get("peerRuns") else ""))
        if r["note"] and r["value"] is not None:
            L.append(f"  - note: {r['note']}")
    L.append("")
    L.append("## Published figures — NOT measured here")
    L.append("")
    L.append("Vendor or community figures from other hardware and setups, for orientation "
             "only; nothing below was run on this machine.")
    L.append("")
    L.append("| system | published figure |")
    L.append("|---|---|")
    L.append("| Keycloak | about 120 client-credentials grants/s per vCPU; baseline about "
             "1.25 GB memory per pod |")
    L.append("| Ory Hydra | 513 client-credentials grants/s on 2 CPUs |")
    b3, b7 = rows["B3"]["value"], rows["B7"]["value"]
    if b3 is not None or b7 is not None:
        L.append("")
        L.append("For comparison with the rows above (measured here): "
                 + "; ".join(x for x in [
                     f"B3 {b3:.0f} tokens/s on one core" if b3 is not None else "",
                     f"B7 {b7:.0f} MiB idle RSS for the whole platform" if b7 is not None else ""]
                     if x) + ".")
    L.append("")
    L.append(f"Raw per-run wrk figures: `{meta['raw_path']}` (not committed).")
    (RESULTS / "latest.md").write_text("\n".join(L) + "\n")


def system_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def own_cpu_s():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("bench: needs at least 2 cores (load on core 0, system under test on 1)")
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    for b in ("platform", "gateway", "identity-service"):
        if not (BIN / b).is_file():
            raise SystemExit(f"bench: {BIN / b} missing; build it with "
                             "cargo build --release --workspace --bin platform --bin gateway "
                             "--bin identity-service")
    WORK.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    meta = {"commit": commit, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "tools": tool_versions(), "loadavg": open("/proc/loadavg").read().split()[0],
            "raw_path": shown_path(WORK / "raw.json")}
    log(f"commit {commit}; {'QUICK' if QUICK else 'full'} mode; work dir {WORK}")
    rows, raw, errors = rows_skeleton(), {}, []
    busy0, own0, t0 = system_busy_s(), own_cpu_s(), time.monotonic()
    try:
        for phase, ids in ((bench_proxy, ("B1", "B2")),
                           (bench_platform, ("B8", "B7", "B3", "B5")),
                           (bench_decision, ("B4",)), (bench_events, ("B6",))):
            if ONLY and not ONLY.intersection(ids):
                for i in ids:
                    rows[i]["note"] = "not run (BENCH_ONLY)"
                continue
            try:
                phase(rows, raw)
            except BenchError as e:
                errors.append(str(e))
                log(f"{phase.__name__} failed: {e}")
                for i in ids:
                    if rows[i]["value"] is None and not rows[i]["note"]:
                        rows[i]["note"] = f"failed: {e}"
            finally:
                cleanup()
                STARTED.clear()
    finally:
        cleanup()
    wall = time.monotonic() - t0
    others = max(0.0, (system_busy_s() - busy0) - (own_cpu_s() - own0))
    meta["others_pct"] = 100.0 * others / (wall * (os.cpu_count() or 1))
    (WORK / "raw.json").write_text(json.dumps({"meta": meta, "raw": raw}, indent=1) + "\n")
    write_report(rows, raw, meta)
    log(f"wrote {RESULTS / 'latest.md'} and {RESULTS / 'latest.json'} in {wall:.0f}s")
    print((RESULTS / "latest.md").read_text())
    if errors:
        log("some benchmarks FAILED:\n" + "\n".join(f"- {e.splitlines()[0]}" for e in errors))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        cleanup()
        raise
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        cleanup()
        sys.exit(1)
