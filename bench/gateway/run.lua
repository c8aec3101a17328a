-- make bench-gateway: requests per second through one nginx worker pinned
-- to one core, wrk on another, for the same small command (about 100 bytes
-- encoded) answered by
--   (a) ok        a bare content_by_lua_block { ngx.say("ok") }
--   (b) builtin   the dispatch on OpenResty's built-ins, no state
--       core      the dispatch on mphybrid.core alone, no state
--       v1        gw:serve(), a version 1 command          target >= 1.1x (b)
--       v2        gw:serve(), version 2, lua_shared_dict   target >= 0.9x (b)
--       redis     gw:serve(), version 2, Redis store (when redis-server is
--                 installed; unpinned, for information)
-- Rows are measured in turns (BENCH_ROUNDS rounds of BENCH_SECONDS each) in
-- the same nginx; each figure is the median of its rounds and every ratio
-- is taken between figures of this run. Nothing here is a test: figures
-- are printed with "met" or "not met", never asserted.
--
--   LUA_PATH='spec/?.lua;bench/gateway/?.lua;;' luajit bench/gateway/run.lua

local harness = require "harness"

local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 3
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS")) or 3
local CONNECTIONS = tonumber(os.getenv("BENCH_CONNECTIONS")) or 16

local here = require("helpers.nginx").repo_root() .. "/bench/gateway"

local why = harness.missing({ "nginx", "wrk", "taskset", "curl" })
if why then
  print("bench-gateway: skipped, " .. why)
  os.exit(0)
end
if harness.cpus() < 2 then
  print("bench-gateway: skipped, it needs two cores (one for nginx, one for wrk)")
  os.exit(0)
end

local rows = {
  { name = "ok", label = "(a) ngx.say(\"ok\")", path = "/ok", mode = "v1" },
  { name = "builtin", label = "(b) built-ins dispatch", path = "/builtin", mode = "v1" },
  { name = "core", label = "mphybrid.core alone", path = "/core", mode = "v1" },
  { name = "v1", label = "gw:serve() version 1", path = "/mphybrid", mode = "v1", target = 1.1 },
  { name = "v2", label = "gw:serve() v2, shared dict", path = "/mphybrid", mode = "v2", target = 0.9 },
}

-- with redis-server there: version 2 on the Redis store, for information
local servers = harness.servers
local redis = servers.which("redis-server") and servers.redis(
  require("helpers.nginx").repo_root() .. "/build/bench-gateway-redis")
local main = "worker_cpu_affinity 01;"
if redis then
  rows[#rows + 1] = { name = "redis", label = "gw:serve() v2, Redis", path = "/mphybrid-redis", mode = "v2" }
  main = main .. "\nenv BENCH_REDIS=redis://127.0.0.1:" .. redis.port .. "/0;"
end

-- a sample request of each mode, made by the wrk script itself
local function sample(mode, path)
  local env = { BENCH_MODE = mode, BENCH_PATH = path }
  local sandbox = setmetatable({
    os = { getenv = function(k) return env[k] end },
    wrk = { format = function(_, p) return p end },
  }, { __index = _G })
  local path_ = here .. "/wrk_commands.lua"
  local chunk
  if setfenv then
    chunk = assert(loadfile(path_))
    setfenv(chunk, sandbox)
  else
    chunk = assert(load(harness.read(path_), "=wrk_commands.lua", "t", sandbox))
  end
  chunk()
  return sandbox.request()
end

-- one worker, on cpu 0
local nginx, err = harness.nginx("bench-gateway", 1, main)
if not nginx then
  print("bench-gateway: " .. err)
  if redis then servers.stop(redis.pid) end
  os.exit(1)
end
local failed = false

local function finish(code)
  nginx:stop()
  if redis then servers.stop(redis.pid) end
  os.exit(code)
end

-- every row must answer its command before it is timed
for _, row in ipairs(rows) do
  local status, body = nginx:request("GET", sample(row.mode, row.path))
  body = body or ""
  local good = status == 200 and (row.name == "ok" and body == "ok\n"
    or body:find('"src":', 1, true) ~= nil and body:find("index%.html#[^\"]*H5Req_") ~= nil)
  if not good then
    print(string.format("bench-gateway: %s answers %d %s", row.path, status, body))
    failed = true
  end
end
if failed then
  print("error log: " .. nginx.prefix .. "/logs/error.log")
  finish(1)
end

local cmd = sample("v1", "/ok"):match("cmd=([^&]*)")
print(string.format("bench-gateway: 1 nginx worker on cpu 0, wrk -t1 -c%d on cpu 1, "
  .. "%d rounds of %ds per row", CONNECTIONS, ROUNDS, SECONDS))
local options_cmd = cmd:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
print(string.format("command: %d bytes as options.cmd (%d in the query)", #options_cmd, #cmd))

local figures = {}
for round = 1, ROUNDS do
  for _, row in ipairs(rows) do
    local r, werr = harness.wrk({
      url = nginx:url(row.path), seconds = SECONDS, connections = CONNECTIONS, cpu = 1,
      script = here .. "/wrk_commands.lua",
      env = { BENCH_MODE = row.mode, BENCH_PATH = row.path },
    })
    if not r then
      print("bench-gateway: " .. werr)
      finish(1)
    end
    if r.non2xx > 0 or r.socket_errors > 0 then
      print(string.format("bench-gateway: %s round %d: %d non-2xx answers, %d socket errors",
        row.name, round, r.non2xx, r.socket_errors))
      failed = true
    end
    figures[row.name] = figures[row.name] or {}
    table.insert(figures[row.name], r.rps)
  end
end

local function median(t)
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local rps = {}
for _, row in ipairs(rows) do
  rps[row.name] = median(figures[row.name])
end

print(string.format("%-28s %12s %8s %8s  %s", "", "requests/s", "/ (a)", "/ (b)", "target"))
for _, row in ipairs(rows) do
  local vs_b = rps[row.name] / rps.builtin
  local verdict = ""
  if row.target then
    verdict = string.format(">= %.2fx (b): %s", row.target, vs_b >= row.target and "met" or "not met")
  end
  print(string.format("%-28s %12.0f %7.2fx %7.2fx  %s", row.label, rps[row.name],
    rps[row.name] / rps.ok, vs_b, verdict))
end

local problems = harness.log_problems(nginx:error_log())
for _, line in ipairs(problems) do
  print("error log: " .. line)
end
finish((failed or #problems > 0) and 1 or 0)
