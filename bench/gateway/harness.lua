-- What the gateway bench and soak share: the nginx they start (by
-- spec/helpers/nginx.lua) with the locations of conf.lua, wrk runs and
-- their figures, the workers' memory, and the error log's verdict.

local servers = require "helpers.servers"
local nginx = require "helpers.nginx"

local _M = {}

_M.servers = servers

--- harness.nginx(name, workers, main) -> server | nil, why: nginx with the
-- locations of conf.lua, under build/nginx-spec/<name>-1
function _M.nginx(name, workers, main)
  local root = nginx.repo_root()
  local conf = dofile(root .. "/bench/gateway/conf.lua")
  return nginx.start({
    name = name,
    workers = workers,
    main = main,
    http = "init_by_lua_block { package.path = '" .. root .. "/bench/gateway/?.lua;' .. package.path }\n"
      .. conf.http,
    server = conf.server,
  })
end

local read = require("helpers.paths").read_file
_M.read = read

--- harness.missing(programs) -> a sentence naming what is not installed,
-- or nil when all of them are
function _M.missing(programs)
  local absent = {}
  for _, p in ipairs(programs) do
    if not servers.which(p) then
      absent[#absent + 1] = p
    end
  end
  if #absent > 0 then
    return "not installed: " .. table.concat(absent, ", ")
  end
end

--- harness.parse_wrk(text) -> { rps =, requests =, non2xx =, socket_errors =,
-- errors = { connect =, read =, write =, timeout = }, text = }
function _M.parse_wrk(text)
  local r = { text = text, non2xx = 0, socket_errors = 0,
    errors = { connect = 0, read = 0, write = 0, timeout = 0 } }
  r.rps = tonumber(text:match("Requests/sec:%s*([%d%.]+)"))
  r.requests = tonumber(text:match("(%d+) requests in"))
  r.non2xx = tonumber(text:match("Non%-2xx or 3xx responses:%s*(%d+)")) or 0
  local c, rd, w, t = text:match("Socket errors: connect (%d+), read (%d+), write (%d+), timeout (%d+)")
  if c then
    r.errors = { connect = tonumber(c), read = tonumber(rd), write = tonumber(w), timeout = tonumber(t) }
    r.socket_errors = r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout
  end
  return r
end

--- harness.wrk(opts) -> parsed figures (see parse_wrk) | nil, why
-- opts.url, opts.seconds, opts.connections, opts.threads (1), opts.script,
-- opts.env (table of variables for the script), opts.cpu (taskset core)
function _M.wrk(opts)
  local words = {}
  for k, v in pairs(opts.env or {}) do
    words[#words + 1] = k .. "=" .. servers.quote(v)
  end
  if opts.cpu then
    words[#words + 1] = "taskset -c " .. tonumber(opts.cpu)
  end
  words[#words + 1] = string.format("wrk -t%d -c%d -d%ds --timeout 10s",
    opts.threads or 1, opts.connections or 16, opts.seconds or 3)
  if opts.script then
    words[#words + 1] = "-s " .. servers.quote(opts.script)
  end
  words[#words + 1] = servers.quote(opts.url)
  local out = servers.sh(table.concat(words, " ") .. " 2>&1")
  local r = _M.parse_wrk(out)
  if not r.rps or not r.requests then
    return nil, "wrk gave no figures: " .. out
  end
  return r
end

--- harness.memory_kb(pid) -> { rss =, anon =, shmem = } in kB from
-- /proc/<pid>/status: all resident memory (VmRSS), the process's own
-- (RssAnon: Lua heaps, nginx pools) and the shared memory it has touched
-- (RssShmem: lua_shared_dict zones, which grow as they fill); nil when the
-- process is gone
function _M.memory_kb(pid)
  local status = read("/proc/" .. pid .. "/status")
  if not status then
    return nil
  end
  local function field(name)
    return tonumber(status:match(name .. ":%s*(%d+)")) or 0
  end
  return { rss = field("VmRSS"), anon = field("RssAnon"), shmem = field("RssShmem") }
end

--- harness.log_problems(text) -> the lines of an nginx error log that tell
-- of a worker that crashed or a Lua error
function _M.log_problems(text)
  text = text or ""
  local bad = {}
  for line in text:gmatch("[^\n]+") do
    if line:find("signal", 1, true) and not line:find("signal process started", 1, true)
        or line:find("exited on", 1, true)
        or line:find("[alert]", 1, true) or line:find("[emerg]", 1, true)
        or line:find("[crit]", 1, true)
        or line:find("lua entry thread aborted", 1, true)
        or line:find("runtime error", 1, true) then
      bad[#bad + 1] = line
    end
  end
  return bad
end

--- harness.cpus() -> the number of online cores
function _M.cpus()
  local out = servers.sh("nproc")
  return tonumber(out:match("%d+")) or 1
end

return _M
