#!/usr/bin/env python3
"""Event latency of the platform: identity created -> default-role grant visible.

Against a running platform (any mode; deployment mode with PostgreSQL and RabbitMQ
is what the figure is about), with the super-admin's credentials:

  1. makes an organization with the default role Organization Read Only and waits
     until a probe user gets it (the authorization service knows the role);
  2. for each rate (creates per second, scheduled at fixed times, open loop):
     creates users through the gateway for `--seconds`, and for each one measures
     the time from the create's 201 to the first `GET /auth/v1/grants?identityId=`
     that lists the grant (polled every `--poll-ms`, so up to that much late);
  3. stops after the first rate whose p99 exceeds `--limit-ms` (default 1000).

Prints one JSON document on stdout:

  {"rates": [{"rate": 50, "users": 500, "p50Ms": .., "p99Ms": .., "maxMs": ..,
              "achievedPerS": .., "createP50Ms": .., "createP99Ms": .., "failures": 0},
             ...],
   "p50MsAt50": .., "p99MsAt50": ..,          (null when 50 was not among the rates)
   "p99ExceedsLimitAt": 800 | null,           (first rate over the limit; null: none)
   "lastRateWithinLimit": 400 | null,
   "limitMs": 1000}

Progress goes to stderr. Exit status 0 when measured (whatever the figures), 2 on
a setup failure (platform unreachable, no token, default role never arrives).
Standard library only; meant to be called by scripts/bench (which starts the
platform and pins processes) or by hand:

  python3 scripts/bench_lib/events.py --gateway http://127.0.0.1:8080 \\
      --credentials data/bootstrap-credentials.json --rates 50,100,200,400,800
"""

import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse

READ_ONLY_ROLE = "00000000-0000-4000-8000-0000000a0003"


class SetupError(Exception):
    pass


def log(msg):
    print(f"events: {msg}", file=sys.stderr, flush=True)


class Conn:
    """One keep-alive HTTP/1.1 connection with a bearer token."""

    def __init__(self, base, token=None, timeout=30):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.token, self.timeout = token, timeout
        self.c = None

    def call(self, method, path, body=None, headers=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if headers:
            h.update(headers)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                raw = r.read()
                try:
                    v = json.loads(raw) if raw else None
                except ValueError:
                    v = raw.decode(errors="replace")
                return r.status, v
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise SetupError("unreachable")

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


def pct(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def get_token(gateway, creds):
    basic = base64.b64encode(f"{creds['clientId']}:{creds['password']}".encode()).decode()
    c = Conn(gateway)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                st, v = c.call("POST", "/identity/v1/oauth/token", "grant_type=client_credentials",
                               {"Authorization": f"Basic {basic}",
                                "Content-Type": "application/x-www-form-urlencoded"})
                if st == 200:
                    return v["access_token"]
            except OSError as e:
                st, v = None, str(e)
            if time.monotonic() > deadline:
                raise SetupError(f"no token from {gateway}: {st} {v}")
            time.sleep(0.2)
    finally:
        c.close()


def run_rate(gateway, token, org, rate, seconds, poll_ms, give_up_s):
    """Creates users at `rate`/s for `seconds`; returns the measurements."""
    total = max(1, int(rate * seconds))
    workers = min(256, max(8, rate // 2))
    lock = threading.Lock()
    state = {"next": 0}
    lat, create_ms, done_at, fails = [], [], [], []
    t_start = time.monotonic() + 0.2

    def worker():
        c = Conn(gateway, token)
        try:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= total:
                    return
                at = t_start + i / rate
                now = time.monotonic()
                if at > now:
                    time.sleep(at - now)
                tag = f"{rate}-{i}-{time.time_ns()}"
                t = time.monotonic()
                try:
                    st, v = c.call("POST", "/identity/v1/user-identities",
                                   {"organizationId": org, "firstName": "Events", "lastName": tag,
                                    "email": f"ev-{tag}@example.com"})
                except OSError as e:
                    with lock:
                        fails.append(f"create: {e}")
                    continue
                t0 = time.monotonic()
                if st != 201:
                    with lock:
                        fails.append(f"create {st}: {str(v)[:200]}")
                    continue
                who = v["id"]
                while True:
                    st, g = c.call("GET", f"/auth/v1/grants?identityId={who}")
                    if st == 200 and any(x.get("roleId") == READ_ONLY_ROLE for x in g or []):
                        t1 = time.monotonic()
                        with lock:
                            lat.append((t1 - t0) * 1000)
                            create_ms.append((t0 - t) * 1000)
                            done_at.append(t0)
                        break
                    if time.monotonic() - t0 > give_up_s:
                        with lock:
                            fails.append(f"{who}: no default-role grant after {give_up_s} s")
                        break
                    time.sleep(poll_ms / 1000)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + give_up_s + 60)
    span = (max(done_at) - min(done_at)) if len(done_at) > 1 else 0
    achieved = (len(done_at) - 1) / span if span > 0 else 0
    r2 = lambda x: None if x is None else round(x, 1)  # noqa: E731
    return {
        "rate": rate, "users": len(lat), "p50Ms": r2(pct(lat, 50)), "p99Ms": r2(pct(lat, 99)),
        "maxMs": r2(max(lat) if lat else None), "achievedPerS": round(achieved, 1),
        "createP50Ms": r2(pct(create_ms, 50)), "createP99Ms": r2(pct(create_ms, 99)),
        "failures": len(fails), "failureSample": fails[:3],
    }


def setup(gateway, token):
    c = Conn(gateway, token)
    try:
        tag = f"{int(time.time())}-{time.time_ns() % 100000}"
        st, org = c.call("POST", "/identity/v1/organizations",
                         {"name": f"Events {tag}", "label": f"events-{tag}"})
        if st != 201:
            raise SetupError(f"creating the organization: {st} {org}")
        st, v = c.call("POST", "/identity/v1/default-roles",
                       {"organizationId": org["id"], "roleType": "Standard",
                        "roleId": READ_ONLY_ROLE})
        if st != 201:
            raise SetupError(f"creating the default role: {st} {v}")
    finally:
        c.close()
    # The identity service learns the organization and the authorization service the
    # default role by event: wait until a probe user gets the role.
    deadline = time.monotonic() + 60
    while True:
        r = run_rate(gateway, token, org["id"], 5, 0.2, 5, 10)
        if r["users"] and not r["failures"]:
            return org["id"]
        if time.monotonic() > deadline:
            raise SetupError(f"the default role never reached new users: {r['failureSample']}")
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gateway", default="http://127.0.0.1:8080")
    ap.add_argument("--credentials", default="data/bootstrap-credentials.json")
    ap.add_argument("--rates", default="50,100,200,400,800,1600",
                    help="creates per second, in increasing order")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--poll-ms", type=float, default=2)
    ap.add_argument("--limit-ms", type=float, default=1000)
    ap.add_argument("--give-up-s", type=float, default=30)
    a = ap.parse_args()
    rates = [int(x) for x in a.rates.split(",") if x.strip()]
    try:
        with open(a.credentials) as f:
            creds = json.load(f)
        token = get_token(a.gateway, creds)
        org = setup(a.gateway, token)
    except (OSError, ValueError, KeyError, SetupError) as e:
        log(f"setup failed: {e}")
        return 2
    out = {"rates": [], "limitMs": a.limit_ms, "p99ExceedsLimitAt": None,
           "lastRateWithinLimit": None, "p50MsAt50": None, "p99MsAt50": None}
    for rate in rates:
        r = run_rate(a.gateway, token, org, rate, a.seconds, a.poll_ms, a.give_up_s)
        out["rates"].append(r)
        log(f"{rate}/s: {r['users']} users, p50 {r['p50Ms']} ms, p99 {r['p99Ms']} ms, "
            f"created at {r['achievedPerS']}/s, {r['failures']} failures")
        if rate == 50:
            out["p50MsAt50"], out["p99MsAt50"] = r["p50Ms"], r["p99Ms"]
        over = r["failures"] > 0 or r["p99Ms"] is None or r["p99Ms"] > a.limit_ms
        if over:
            out["p99ExceedsLimitAt"] = rate
            break
        out["lastRateWithinLimit"] = rate
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
