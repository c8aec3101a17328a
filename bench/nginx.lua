-- make bench-nginx: the benchmark table inside an nginx worker, on the
-- nginx of make serve (Debian's, with its lua module; spec/helpers/nginx.lua
-- starts it on a free 127.0.0.1 port and stops it by its pid). One worker;
-- every row in a fresh one (nginx -s reload, then the worker's pid must be
-- one that measured nothing yet), so that a trace blacklisted by one row
-- cannot skew the next. The worker measures (bench/in_nginx.lua), this
-- program prints. Run from the top of the checkout with spec/ on the path:
--
--   LUA_PATH='spec/?.lua;;' luajit bench/nginx.lua [--jv]
--
-- --jv: what LuaJIT compiled of each side instead of the times.
-- BENCH_QUICK=1: a few calls per run (the figures mean nothing).
-- Exits non-zero when a row fails or nginx logs an error.

package.path = "bench/gateway/?.lua;" .. package.path

local nginx = require "helpers.nginx"
local log_problems = require("harness").log_problems
local cjson = require "cjson"
local ops = require "bench.ops"
local suite = require "bench.suite"
local report = require "bench.report"
local measure = require "bench.measure"

local format = string.format

local jv = arg[1] == "--jv"
local quick = os.getenv("BENCH_QUICK") == "1"

local ok, why = nginx.available()
if not ok then
  io.stderr:write("make bench-nginx: " .. why .. "\n")
  os.exit(1)
end

local root = nginx.repo_root()
local HTTP = "init_by_lua_block { package.path = '" .. root .. "/?.lua;' .. package.path }"
local SERVER = [[
    access_log off;
    location = /__ping { return 200 "pong"; }
    location = /bench { content_by_lua_block { require("bench.in_nginx").serve() } }
]]

local srv, start_err = nginx.start({ name = "bench-nginx", workers = 1, http = HTTP, server = SERVER })
if not srv then
  io.stderr:write("make bench-nginx: " .. start_err .. "\n")
  os.exit(1)
end

-- a fresh worker: nginx -s reload (HUP) until the one worker is a new one
local served_by = {}
local function fresh_worker()
  local old = {}
  for _, pid in ipairs(srv:workers()) do old[pid] = true end
  srv:reload()
  for _ = 1, 200 do
    local now = srv:workers()
    if #now == 1 and not old[now[1]] then
      return true
    end
    nginx.sleep(0.05)
  end
  return false
end

-- one row, measured by a worker that has measured nothing else
local function measure_row(op, payload)
  if next(served_by) and not fresh_worker() then
    return nil, "no fresh worker after nginx -s reload"
  end
  local status, body = srv:request("GET", format("/bench?op=%s&payload=%s&quick=%s&jv=%s",
    op, payload, quick and "1" or "0", jv and "1" or "0"))
  if status ~= 200 then
    return nil, format("HTTP %s: %s", tostring(status), tostring(body))
  end
  local r = cjson.decode(body)
  if served_by[r.worker] then
    return nil, format("worker %d already measured %s", r.worker, served_by[r.worker])
  end
  served_by[r.worker] = op .. " " .. payload
  return r
end

local settings = measure.settings(quick)
local version = nginx.capture("/usr/sbin/nginx -v 2>&1"):gsub("%s+$", ""):gsub("^nginx version: ", "")
print(report.title(jv, version .. ", one worker (its LuaJIT)", settings, quick, "worker"))
print(report.header(jv))

local failed = {}
for _, name in ipairs(ops.NAMES) do
  for _, payload in ipairs(suite.PAYLOADS) do
    io.stdout:flush()
    local r, err = measure_row(name, payload)
    if not r then
      failed[#failed + 1] = name .. " " .. payload
      print(format("%-8s %-21s %-6s FAILED: %s", "nginx", name, payload, err))
    elseif jv then
      print(report.traces(name, payload, r))
    else
      print(report.row(r))
    end
  end
end
if not jv then
  print(report.LEGEND)
end
local problems = log_problems(srv:error_log())
srv:stop()
if #problems > 0 then
  failed[#failed + 1] = "nginx error log: " .. table.concat(problems, "\n")
end
if #failed > 0 then
  io.stderr:write("bench-nginx: failed: " .. table.concat(failed, ", ") .. "\n")
  os.exit(1)
end
