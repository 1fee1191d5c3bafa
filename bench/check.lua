-- wrk script of the slime benchmark: checks every response body and writes a JSON summary.
-- Settings come from the environment (set by wrk() in bench/slimebench/load.py):
--   BENCH_EXPECT        exact body a good response must carry
--   BENCH_EXPECT_FILE   or: a file whose whole content is the expected body
--   BENCH_UPLOAD_BYTES  if set, each request is a POST with a body of this many bytes
--   BENCH_REQUIRE_AGENT "1": also count 200s that lack the Slime-Agent header
--   BENCH_OUT           where done() writes the JSON summary
-- A 200 whose body differs from the expected one counts as "bad", never as throughput.

local expect = os.getenv("BENCH_EXPECT") or ""
local expect_file = os.getenv("BENCH_EXPECT_FILE")
if expect_file and expect_file ~= "" then
  local f = assert(io.open(expect_file, "rb"))
  expect = f:read("*a")
  f:close()
end
local want_agent = os.getenv("BENCH_REQUIRE_AGENT") == "1"

local upload = tonumber(os.getenv("BENCH_UPLOAD_BYTES") or "")
if upload then
  wrk.method = "POST"
  wrk.body = string.rep("0123456789abcdef", math.floor(upload / 16))
  wrk.headers["Content-Type"] = "application/octet-stream"
end

-- per-thread counters (globals, read back in done() through thread:get)
ok, bad, s503, other, noagent = 0, 0, 0, 0, 0
badsample = ""

local function clip(s)
  s = s or ""
  if #s > 120 then s = s:sub(1, 120) .. "..." end
  return s
end

function response(status, headers, body)
  if status == 200 then
    if body == expect then
      ok = ok + 1
    else
      bad = bad + 1
      if badsample == "" then badsample = "200 len=" .. #(body or "") .. " " .. clip(body) end
    end
    if want_agent and not (headers["Slime-Agent"] or headers["slime-agent"]) then
      noagent = noagent + 1
    end
  elseif status == 503 then
    s503 = s503 + 1
  else
    other = other + 1
    if badsample == "" then badsample = tostring(status) .. " " .. clip(body) end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function jstr(s)
  s = tostring(s or "")
  s = s:gsub('[%c"\\\128-\255]', function(c) return string.format("\\u%04x", c:byte()) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local t = { ok = 0, bad = 0, s503 = 0, other = 0, noagent = 0 }
  local sample = ""
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
    local s = th:get("badsample")
    if sample == "" and s and s ~= "" then sample = s end
  end
  local e = summary.errors
  local parts = {
    '"duration_us":' .. summary.duration,
    '"requests":' .. summary.requests,
    '"bytes":' .. summary.bytes,
    '"ok":' .. t.ok, '"bad":' .. t.bad, '"s503":' .. t.s503, '"other":' .. t.other,
    '"noagent":' .. t.noagent,
    '"err_connect":' .. e.connect, '"err_read":' .. e.read, '"err_write":' .. e.write,
    '"err_status":' .. e.status, '"err_timeout":' .. e.timeout,
    '"lat_p50_us":' .. latency:percentile(50), '"lat_p90_us":' .. latency:percentile(90),
    '"lat_p99_us":' .. latency:percentile(99), '"lat_max_us":' .. latency.max,
    '"lat_mean_us":' .. latency.mean,
    '"badsample":' .. jstr(sample),
  }
  local out = os.getenv("BENCH_OUT")
  local line = "{" .. table.concat(parts, ",") .. "}\n"
  if out and out ~= "" then
    local f = assert(io.open(out, "w"))
    f:write(line)
    f:close()
  else
    io.write(line)
  end
end
