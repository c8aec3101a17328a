-- Processes the specs and the gateway benches start for themselves, above
-- all redis-server: a free port on 127.0.0.1, a process started in the
-- background whose pid we keep, a wait until it listens, and a stop by that
-- pid (never by name). nginx is started by helpers.nginx. Works on Lua 5.1,
-- 5.4 and LuaJIT, with nothing but the shell.

local servers = {}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
servers.quote = quote

-- what a sanitizer run preloads must not reach the programs started here
local CLEAN_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS "

--- servers.sh(cmd) -> stdout, ok: runs cmd under /bin/sh, without the
-- sanitizer preload of make test-asan; ok is true when it exited 0 (the
-- same on every Lua: the status is read from the output)
local function sh(cmd)
  local p = io.popen(CLEAN_ENV .. "sh -c " .. quote("( " .. cmd .. " ) 2>/dev/null; echo \"~rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)~rc=(%d+)%s*$")
  if not body then
    return out, false
  end
  return body, rc == "0"
end
servers.sh = sh

--- servers.sleep(seconds)
function servers.sleep(s)
  sh("sleep " .. string.format("%.3f", s))
end

--- servers.which(program) -> its path, or nil when it is not installed
function servers.which(program)
  local out, ok = sh("command -v " .. quote(program))
  if ok and out ~= "" then
    return (out:gsub("%s+$", ""))
  end
  -- daemons live in sbin, which a user's PATH may lack
  for _, dir in ipairs({ "/usr/sbin", "/sbin", "/usr/local/sbin" }) do
    local f = io.open(dir .. "/" .. program, "rb")
    if f then
      f:close()
      return dir .. "/" .. program
    end
  end
  return nil
end

local function random_u16()
  local f = io.open("/dev/urandom", "rb")
  local s = f and f:read(2) or ""
  if f then f:close() end
  if #s < 2 then
    return math.random(0, 65535)
  end
  return s:byte(1) * 256 + s:byte(2)
end

-- TCP ports in use now: all of them (flags "a") or those listened on ("l")
local function ports_in_use(flags)
  local out = sh("ss -Ht" .. flags .. "n")
  local used = {}
  for port in out:gmatch("[%d%.%*%]]:(%d+)%s") do
    used[tonumber(port)] = true
  end
  return used
end

--- servers.free_port() -> a TCP port nothing uses now, in 20000..59999
-- (a start that loses the race for it fails; callers retry with another)
function servers.free_port()
  local used = ports_in_use("a")
  for _ = 1, 100 do
    local port = 20000 + random_u16() % 40000
    if not used[port] then
      return port
    end
  end
  error("servers.free_port: no free port found")
end

--- servers.mkdir(path) -> the absolute path of path, made with its parents
function servers.mkdir(path)
  local out, ok = sh("mkdir -p " .. quote(path) .. " && cd " .. quote(path) .. " && pwd -P")
  assert(ok, "cannot make " .. path)
  return (out:gsub("%s+$", ""))
end

--- servers.spawn(argv, log) -> pid: starts argv (a list of words) in the
-- background, stdout and stderr to the file log
function servers.spawn(argv, log)
  local words = {}
  for i, a in ipairs(argv) do
    words[i] = quote(a)
  end
  local out = sh(table.concat(words, " ") .. " </dev/null >>" .. quote(log)
    .. " 2>&1 & echo $!")
  local pid = tonumber(out:match("(%d+)"))
  assert(pid, "cannot start " .. argv[1])
  return pid
end

--- servers.alive(pid) -> true while the process runs (and is no zombie)
function servers.alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "rb")
  if not f then
    return false
  end
  local stat = f:read("*a") or ""
  f:close()
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

--- servers.signal(pid, name): sends SIGname to pid
function servers.signal(pid, name)
  return select(2, sh("kill -" .. name .. " " .. tonumber(pid)))
end

--- servers.wait(pred, seconds) -> true once pred() is true, false when
-- seconds pass first
function servers.wait(pred, seconds)
  local deadline = os.time() + seconds
  local step = 0.02
  while true do
    if pred() then
      return true
    end
    if os.time() > deadline then
      return false
    end
    servers.sleep(step)
    if step < 0.2 then step = step * 2 end
  end
end

--- servers.stop(pid [, signal]): signal (TERM by default) to pid, then
-- KILL if it still runs 10 s later; returns once it has exited
function servers.stop(pid, signal)
  if not pid or not servers.alive(pid) then
    return
  end
  servers.signal(pid, signal or "TERM")
  if not servers.wait(function() return not servers.alive(pid) end, 10) then
    servers.signal(pid, "KILL")
    servers.wait(function() return not servers.alive(pid) end, 5)
  end
end

--- servers.listening(port) -> true when something listens on port
function servers.listening(port)
  return ports_in_use("l")[port] == true
end

-- starts argv (built by make_argv(port)) on a free port, until one start
-- wins the race for its port; a start that fails leaves its log in dir
local function start_on_port(name, make_argv, dir, port)
  local log = dir .. "/" .. name .. ".out"
  for _ = 1, port and 1 or 5 do
    local p = port or servers.free_port()
    local pid = servers.spawn(make_argv(p), log)
    local up = servers.wait(function()
      return not servers.alive(pid) or servers.listening(p)
    end, 15)
    if up and servers.alive(pid) then
      return { pid = pid, port = p, dir = dir, log = log }
    end
    servers.stop(pid)
  end
  return nil, name .. " did not start: see " .. log
end

--- servers.redis(dir [, port]) -> { pid =, port =, dir = } | nil, why
-- A redis-server on 127.0.0.1 (a free port unless given), no persistence,
-- its files in dir. Stop it with servers.stop(r.pid).
function servers.redis(dir, port)
  local bin = servers.which("redis-server")
  if not bin then
    return nil, "redis-server is not installed"
  end
  dir = servers.mkdir(dir)
  return start_on_port("redis", function(p)
    return { bin, "--port", tostring(p), "--bind", "127.0.0.1", "--dir", dir,
      "--save", "", "--appendonly", "no", "--daemonize", "no",
      "--logfile", dir .. "/redis.log" }
  end, dir, port)
end

--- servers.redis_cli(port, ...) -> the reply as text, ok
function servers.redis_cli(port, ...)
  local words = { "redis-cli", "-h", "127.0.0.1", "-p", tostring(port) }
  for _, a in ipairs({ ... }) do
    words[#words + 1] = quote(a)
  end
  local out, ok = sh(table.concat(words, " "))
  return (out:gsub("%s+$", "")), ok
end

return servers
