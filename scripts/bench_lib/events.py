#!/usr/bin/env python3
"""Event latency of the platform: identity created -> default-role grant visible.

Against a running platform (any mode; deployment mode with PostgreSQL and RabbitMQ
is what the figure is about), with the super-admin's credentials:

  1. makes an organization with the default role Organization Read Only and waits
     until a probe user gets it (the authorization service knows the role);
  2. for each rate (creates per second, scheduled at fixed times, open loop):
     creates users through the gateway for `--seconds`, and for each one measures
     the time from the create's 201 to the first `GET /auth/v1/grants?identityId=`
     that lists the grant (first polled `--poll-ms` after the create, then at
     intervals growing by 25% up to 50 ms);
  3. stops after the first rate over the limit: p99 above `--limit-ms` (default
     1000), a failure, or creates that could not keep to 90% of the rate.

scripts/bench_lib/bench.py (B6) uses the same functions (`run_rate`, `summary`,
`find_limit`) on services it starts as separate processes.

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
Standard library only. By hand, against a platform already running:

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


def run_rate(conn_factory, org, rate, seconds, poll_ms=5, give_up_s=30):
    """Creates users at `rate`/s for `seconds` on a fixed schedule (open loop: a
    create does not wait for earlier users' grants). Four pollers share the users
    (by id); each asks `GET /auth/v1/grants?identityId=` about its oldest pending
    user, first `poll_ms` after the create's 201 and then again after a fifth of
    the user's age (at least `poll_ms`, at most 10 ms) until it lists the default
    role, then at once about its next user. A figure is thus late by at most a
    fifth of itself or 10 ms, plus the polls of earlier users that were already
    visible (about a millisecond each); the services see about one poll per user
    in steady state instead of one per pending user per interval.

    `conn_factory()` gives a new client with `.call(method, path, body) -> (status,
    json)` and `.close()`. Returns a dict: `lat` (ms from the create's 201 to the
    grant seen), `create_ms`, `achieved` (creates/s), `fails`, `polls`."""
    total = max(1, int(rate * seconds))
    creators = min(64, max(4, rate // 5))
    pollers = 4
    lock = threading.Lock()
    state = {"next": 0, "creators_left": creators, "polls": 0}
    pending = [dict() for _ in range(pollers)]  # per poller: id -> [t0, next poll, interval]
    lat, create_ms, fails, created_at = [], [], [], []
    t_start = time.monotonic() + 0.2
    tag0 = f"{time.time_ns() % 10**12}"

    def creator():
        c = conn_factory()
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
                tag = f"{tag0}-{rate}-{i}"
                t = time.monotonic()
                try:
                    st, v = c.call("POST", "/identity/v1/user-identities",
                                   {"organizationId": org, "firstName": "Events", "lastName": tag,
                                    "email": f"ev-{tag}@example.com"})
                except Exception as e:  # noqa: BLE001 (counted as a failure)
                    with lock:
                        fails.append(f"create: {e}")
                    continue
                t0 = time.monotonic()
                with lock:
                    if st != 201:
                        fails.append(f"create {st}: {str(v)[:200]}")
                        continue
                    create_ms.append((t0 - t) * 1000)
                    created_at.append(t0)
                    pending[hash(v["id"]) % pollers][v["id"]] = [t0, t0 + poll_ms / 1000,
                                                                 poll_ms / 1000]
        finally:
            c.close()
            with lock:
                state["creators_left"] -= 1

    def poller(k):
        # The pipeline applies events in order, so each poller asks about its oldest
        # pending user only (again and again until it is seen), then at once about
        # the next: about one poll per user instead of one per user per interval,
        # which would load the services measured with the measuring itself.
        c = conn_factory()
        mine = pending[k]
        try:
            while True:
                with lock:
                    head = next(iter(mine.items()), None)
                    finished = state["creators_left"] == 0 and not mine
                if finished:
                    return
                if head is None:
                    time.sleep(0.001)
                    continue
                who, e = head
                now = time.monotonic()
                if now < e[1]:
                    time.sleep(min(e[1] - now, 0.002))
                    continue
                try:
                    st, g = c.call("GET", f"/auth/v1/grants?identityId={who}")
                except Exception:  # noqa: BLE001 (polled again)
                    st, g = None, None
                now = time.monotonic()
                with lock:
                    state["polls"] += 1
                    if st == 200 and any(x.get("roleId") == READ_ONLY_ROLE for x in g or []):
                        lat.append((now - e[0]) * 1000)
                        del mine[who]
                    elif now - e[0] > give_up_s:
                        fails.append(f"{who}: no default-role grant after {give_up_s} s")
                        del mine[who]
                    else:
                        # Not yet: again after a fifth of its age, between poll_ms and
                        # 10 ms (so a figure is late by at most that).
                        e[1] = now + min(max(poll_ms / 1000, (now - e[0]) / 5), 0.01)
        finally:
            c.close()

    threads = [threading.Thread(target=creator, daemon=True) for _ in range(creators)]
    threads += [threading.Thread(target=poller, args=(k,), daemon=True) for k in range(pollers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + give_up_s + 60)
    span = (max(created_at) - min(created_at)) if len(created_at) > 1 else 0
    achieved = (len(created_at) - 1) / span if span > 0 else 0
    return {"lat": lat, "create_ms": create_ms, "achieved": achieved, "fails": fails,
            "polls": state["polls"]}


def summary(rate, run):
    """The figures of one run of `run_rate`."""
    lat, cm = run["lat"], run["create_ms"]
    r1 = lambda x: None if x is None else round(x, 1)  # noqa: E731
    return {
        "rate": rate, "users": len(lat), "p50Ms": r1(pct(lat, 50)), "p99Ms": r1(pct(lat, 99)),
        "maxMs": r1(max(lat) if lat else None), "achievedPerS": round(run["achieved"], 1),
        "createP50Ms": r1(pct(cm, 50)), "createP99Ms": r1(pct(cm, 99)),
        "pollsPerUser": round(run["polls"] / max(len(lat), 1), 1),
        "failures": len(run["fails"]), "failureSample": run["fails"][:3],
    }


def over_limit(s, limit_ms):
    """Whether a rate's summary is past the limit: p99 over it, failures, or creates
    that could not keep the schedule (under 90% of the rate asked)."""
    return (s["failures"] > 0 or s["p99Ms"] is None or s["p99Ms"] > limit_ms
            or s["achievedPerS"] < 0.9 * s["rate"])


def find_limit(conn_factory, org, rates, seconds, poll_ms, limit_ms, known=None, say=log):
    """Steps through `rates` (increasing) until one is over `limit_ms` (see
    `over_limit`); `known` maps rates already measured to their summary (not run
    again). Returns (summaries in order, first rate over the limit or None, last rate
    within it or None)."""
    known = known or {}
    out, within = [], None
    for rate in rates:
        s = known.get(rate)
        if s is None:
            s = summary(rate, run_rate(conn_factory, org, rate, seconds, poll_ms))
            say(f"{rate}/s: {s['users']} users, p50 {s['p50Ms']} ms, p99 {s['p99Ms']} ms, "
                f"created at {s['achievedPerS']}/s, {s['failures']} failures")
        out.append(s)
        if over_limit(s, limit_ms):
            return out, rate, within
        within = rate
    return out, None, within


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
        r = summary(5, run_rate(lambda: Conn(gateway, token), org["id"], 5, 0.2, 5, 10))
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
    ap.add_argument("--poll-ms", type=float, default=5)
    ap.add_argument("--limit-ms", type=float, default=1000)
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
    factory = lambda: Conn(a.gateway, token)  # noqa: E731
    summaries, over, within = find_limit(factory, org, rates, a.seconds, a.poll_ms, a.limit_ms)
    at50 = next((x for x in summaries if x["rate"] == 50), None)
    out = {"rates": summaries, "limitMs": a.limit_ms, "p99ExceedsLimitAt": over,
           "lastRateWithinLimit": within,
           "p50MsAt50": at50 and at50["p50Ms"], "p99MsAt50": at50 and at50["p99Ms"]}
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
