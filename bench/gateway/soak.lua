-- make soak-gateway: SOAK_SECONDS (default 60) of wrk against the gateway
-- (two workers) with a mix of valid, invalid and oversized commands
-- (wrk_soak.lua), then the verdict:
--   * no worker crashed: the workers are the ones that started, and the
--     error log has no "signal", "exited on", alert or Lua error line;
--   * every request answered: no socket error (connect, read, write,
--     timeout), no 5xx, every 200 a JSON answer with a src and every 4xx a
--     JSON error (the 413 and 414 nginx itself gives aside);
--   * worker memory flat: the workers' resident memory (from /proc) at the
--     start (after a warm-up) and at the end, with samples between: VmRSS,
--     and its parts RssAnon (the workers' own: Lua heaps, nginx pools) and
--     RssShmem (the lua_shared_dict zones, which grow as they fill up to
--     their size). The heaps grow to their working size first; flat when
--     the workers' own memory grows by at most 5% + 512 kB over the second
--     half of the run.
-- Exits non-zero when any of these fails.
--
--   LUA_PATH='spec/?.lua;bench/gateway/?.lua;;' luajit bench/gateway/soak.lua

local harness = require "harness"
local servers = harness.servers

local SECONDS = tonumber(os.getenv("SOAK_SECONDS")) or 60
local CONNECTIONS = tonumber(os.getenv("SOAK_CONNECTIONS")) or 32
local WARMUP = 5

local here = require("helpers.nginx").repo_root() .. "/bench/gateway"

local why = harness.missing({ "nginx", "wrk", "curl" })
if why then
  print("soak-gateway: skipped, " .. why)
  os.exit(0)
end
local nginx, err = harness.nginx("soak-gateway", 2)
if not nginx then
  print("soak-gateway: " .. err)
  os.exit(1)
end
local url = nginx:url("/mphybrid")

local function stop(code)
  nginx:stop()
  os.exit(code)
end

-- the workers' memory, summed: { rss =, anon =, shmem = } kB, and their pids
local function memory()
  local total, pids = { rss = 0, anon = 0, shmem = 0 }, nginx:workers()
  for _, pid in ipairs(pids) do
    local m = harness.memory_kb(pid) or {}
    for k in pairs(total) do
      total[k] = total[k] + (m[k] or 0)
    end
  end
  return total, pids
end

local function show(m)
  return string.format("%d kB (own %d, shared dicts %d)", m.rss, m.anon, m.shmem)
end

local function wrk_background(seconds, out)
  local f = io.open(out, "wb")
  if f then f:close() end
  return servers.spawn({ "wrk", "-t2", "-c" .. CONNECTIONS, "-d" .. seconds .. "s", "--timeout", "10s",
    "-s", here .. "/wrk_soak.lua", url }, out)
end

-- warm-up: every kind of request, so that code and caches are loaded
local warm = wrk_background(WARMUP, nginx.prefix .. "/warmup.out")
servers.wait(function() return not servers.alive(warm) end, WARMUP + 30)

local start_mem, start_pids = memory()
print(string.format("soak-gateway: %ds, wrk -t2 -c%d, %d workers, RSS at start %s",
  SECONDS, CONNECTIONS, #start_pids, show(start_mem)))

local out = nginx.prefix .. "/soak.out"
local wrk = wrk_background(SECONDS, out)
local samples = {}
local step = math.max(5, math.floor(SECONDS / 6))
while servers.alive(wrk) do
  servers.wait(function() return not servers.alive(wrk) end, step)
  samples[#samples + 1] = memory()
end
local end_mem, end_pids = memory()

local text = harness.read(out) or ""
local r = harness.parse_wrk(text)
local counts = {}
for k, v in text:gmatch("(%w+)=(%d+)") do
  counts[k] = tonumber(v)
end

local failures = {}
local function check(ok, what)
  if not ok then failures[#failures + 1] = what end
end

check(r.requests ~= nil, "wrk gave no figures:\n" .. text)
check(table.concat(start_pids, " ") == table.concat(end_pids, " "),
  "the workers changed (" .. table.concat(start_pids, " ") .. " -> " .. table.concat(end_pids, " ") .. ")")
for _, line in ipairs(harness.log_problems(nginx:error_log())) do
  check(false, "error log: " .. line)
end
check(r.socket_errors == 0, string.format("socket errors: connect %d, read %d, write %d, timeout %d",
  r.errors.connect, r.errors.read, r.errors.write, r.errors.timeout))
check((counts["5xx"] or 0) == 0, (counts["5xx"] or 0) .. " answers 5xx")
check((counts["2xx"] or 0) > 0 and (counts["4xx"] or 0) > 0, "the mix gave no 2xx or no 4xx answers")
check((counts.other or 0) == 0, (counts.other or 0) .. " answers neither 2xx, 4xx nor 5xx")
check((counts.badbody or 0) == 0, (counts.badbody or 0) .. " answers whose body is not the contract's JSON")
local mid_mem = samples[math.ceil(#samples / 2)] or start_mem
local flat = end_mem.anon <= mid_mem.anon * 1.05 + 512
check(flat, string.format("the workers' own memory grew from %d kB to %d kB over the second half",
  mid_mem.anon, end_mem.anon))

print(string.format("requests: %d in %ds (%.0f/s): 2xx %d, 4xx %d, 5xx %d, other %d, bad bodies %d; "
  .. "socket errors %d; wrk non-2xx/3xx %d",
  r.requests or 0, SECONDS, r.rps or 0, counts["2xx"] or 0, counts["4xx"] or 0, counts["5xx"] or 0,
  counts.other or 0, counts.badbody or 0, r.socket_errors, r.non2xx))
local shown = {}
for i, m in ipairs(samples) do shown[i] = m.rss .. "/" .. m.anon end
print(string.format("worker RSS: start %s, end %s; own memory %+.1f%% in all, %+.1f%% over the second half: %s",
  show(start_mem), show(end_mem), (end_mem.anon - start_mem.anon) * 100 / start_mem.anon,
  (end_mem.anon - mid_mem.anon) * 100 / mid_mem.anon, flat and "flat" or "NOT flat"))
print("samples (RSS/own kB): " .. table.concat(shown, " "))
print(string.format("workers: %s at start, %s at end", table.concat(start_pids, " "), table.concat(end_pids, " ")))
if #failures > 0 then
  for _, f in ipairs(failures) do print("FAIL " .. f) end
  stop(1)
end
print("soak-gateway: ok")
stop(0)
