-- wrk script shared by every benchmark of scripts/bench. Configured by environment:
--   BENCH_TOKEN         send "Authorization: Bearer <token>"
--   BENCH_BASIC         client-credentials grant: POST, form body
--                       grant_type=client_credentials, "Authorization: Basic <value>"
--   BENCH_BODY          POST this JSON body (Content-Type: application/json), e.g. a
--                       check for POST /auth/v1/checks (with BENCH_TOKEN)
--   BENCH_DELAY_MS      pace each connection: before each request wait a random
--                       0..2*N ms (mean N), so arrivals are spread, not in lockstep
--   BENCH_COUNT_STATUS  "1": count 200 answers and the others exactly (response())
-- done() prints one line "BENCHJSON {...}" that scripts/bench_lib/bench.py parses.

local token = os.getenv("BENCH_TOKEN") or ""
local basic = os.getenv("BENCH_BASIC") or ""
local body = os.getenv("BENCH_BODY") or ""
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local count = os.getenv("BENCH_COUNT_STATUS") == "1"

if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if basic ~= "" then
  wrk.method = "POST"
  wrk.body = "grant_type=client_credentials"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. basic
end

if body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

-- wrk only calls delay()/response() when they exist, so define them only if asked.
if delay_ms > 0 then
  math.randomseed(os.time())
  function delay()
    return math.random(0, 2 * delay_ms)
  end
end

if count then
  ok = 0
  other = 0
  function response(status, headers, body)
    if status == 200 then
      ok = ok + 1
    else
      other = other + 1
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local ok_total, other_total = -1, -1
  if count then
    ok_total, other_total = 0, 0
    for _, t in ipairs(threads) do
      ok_total = ok_total + (t:get("ok") or 0)
      other_total = other_total + (t:get("other") or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"err_connect":%.0f,"err_read":%.0f,"err_write":%.0f,"err_status":%.0f,"err_timeout":%.0f,' ..
    '"ok":%.0f,"other":%.0f,"lat_mean_us":%.1f,"lat_max_us":%.0f,' ..
    '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    ok_total, other_total, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
