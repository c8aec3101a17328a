-- A real nginx for specs: writes a conf under build/, starts nginx (the
-- Debian package with its lua module) on a free 127.0.0.1 port, talks HTTP
-- to it with curl, and stops it by the pid it started. The gateway inside
-- runs nginx's LuaJIT with the core built for it (build/jit).

local paths = require "helpers.paths"

local nginx = {}
nginx.read_file = paths.read_file

local NGINX = "/usr/sbin/nginx"
local MODULES = "/usr/lib/nginx/modules"
-- what a sanitizer run preloads must not reach nginx, curl or the tools
local CLEAN_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS "

local quote = paths.shell_quote
nginx.quote = quote

-- every command runs without the sanitizer preload (pgrep hangs under it)
local function sh(cmd)
  local ok, _, code = os.execute(CLEAN_ENV .. "sh -c " .. quote(cmd))
  return ok == true or ok == 0, code
end

local function capture(cmd)
  local p = io.popen(CLEAN_ENV .. "sh -c " .. quote(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

nginx.capture = capture

local write_file = paths.write_file

local function sleep(seconds)
  sh("sleep " .. seconds)
end
nginx.sleep = sleep

local root
local function repo_root()
  if not root then
    root = capture("cd " .. quote(paths.repo_root()) .. " && pwd"):gsub("%s+$", "")
  end
  return root
end
nginx.repo_root = repo_root

--- nginx.available() -> true | false, why not
function nginx.available()
  for _, f in ipairs({ NGINX, MODULES .. "/ngx_http_lua_module.so", MODULES .. "/ndk_http_module.so",
    "/usr/bin/curl", "/usr/share/lua/5.1/resty/core.lua" }) do
    if not paths.read_file(f) and not sh("test -e " .. quote(f)) then
      return false, f .. " is missing (make setup installs nginx, libnginx-mod-http-lua, lua-resty-core, curl)"
    end
  end
  if not sh("test -e " .. quote(repo_root() .. "/build/jit/mphybrid/core.so")) then
    return false, "build/jit/mphybrid/core.so is missing (make builds it)"
  end
  return true
end

local counter = 0

local function conf_text(o)
  local r = repo_root()
  return table.concat({
    "load_module " .. MODULES .. "/ndk_http_module.so;",
    "load_module " .. MODULES .. "/ngx_http_lua_module.so;",
    "worker_processes " .. (o.workers or 2) .. ";",
    "error_log logs/error.log " .. (o.log_level or "warn") .. ";",
    "pid logs/nginx.pid;",
    o.main or "",
    "events { worker_connections 1024; }",
    "http {",
    "  access_log logs/access.log;",
    "  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;",
    "  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;",
    "  client_max_body_size 1m; client_body_buffer_size 1m;",
    "  lua_package_path '" .. r .. "/lua/?.lua;" .. r .. "/lua/?/init.lua;" .. r .. "/spec/?.lua;" .. r
      .. "/examples/openresty/?.lua;;';",
    "  lua_package_cpath '" .. r .. "/build/jit/?.so;;';",
    o.http or "",
    "  server {",
    "    listen 127.0.0.1:" .. o.port .. " reuseport;",
    o.server or "",
    "  }",
    "}",
    "",
  }, "\n")
end

local Server = {}
Server.__index = Server

--- nginx.start(opts) -> server | nil, err
-- opts.main, opts.http, opts.server: conf text at each level (the server
-- block gets `listen 127.0.0.1:<port>`); opts.workers (default 2);
-- opts.name: the folder under build/nginx-spec/.
function nginx.start(opts)
  counter = counter + 1
  local prefix = repo_root() .. "/build/nginx-spec/" .. (opts.name or "gw") .. "-" .. counter
  sh("rm -rf " .. quote(prefix) .. " && mkdir -p " .. quote(prefix) .. "/conf " .. quote(prefix)
    .. "/logs " .. quote(prefix) .. "/tmp " .. quote(prefix) .. "/io")
  math.randomseed(os.time() + counter * 7919)
  local last
  for _ = 1, 20 do
    local port = math.random(20000, 60000)
    local o = setmetatable({ port = port }, { __index = opts })
    write_file(prefix .. "/conf/nginx.conf", conf_text(o))
    -- the error log speaks of this start only: an attempt on a port in use
    -- leaves its [emerg] lines there, about an nginx that never ran
    os.remove(prefix .. "/logs/error.log")
    local out = capture(CLEAN_ENV .. NGINX .. " -p " .. quote(prefix .. "/") .. " -c conf/nginx.conf 2>&1; echo \"rc=$?\"")
    if out:match("rc=0%s*$") then
      local srv = setmetatable({ prefix = prefix, port = port, n = 0 }, Server)
      for _ = 1, 100 do
        srv.pid = tonumber(paths.read_file(prefix .. "/logs/nginx.pid") or "")
        if srv.pid and srv:get("/__ping") then
          return srv
        end
        sleep(0.05)
      end
      srv:stop()
      return nil, "nginx started but does not answer: " .. (srv:error_log() or "")
    end
    last = out
    if not out:find("in use", 1, true) then
      break
    end
  end
  return nil, "nginx did not start: " .. tostring(last)
end

function Server:url(path)
  return "http://127.0.0.1:" .. self.port .. path
end

function Server:tmp(name)
  self.n = self.n + 1
  return self.prefix .. "/io/" .. self.n .. "-" .. name
end

--- srv:request(method, path [, body [, headers]]) -> status, body
-- headers: array of "Name: value"
function Server:request(method, path, body, headers)
  local out = self:tmp("out")
  local args = { CLEAN_ENV .. "curl -sS -o " .. quote(out) .. " -w '%{http_code}' -X " .. method }
  if body then
    local bf = self:tmp("body")
    write_file(bf, body)
    args[#args + 1] = "--data-binary @" .. quote(bf)
  end
  for _, h in ipairs(headers or {}) do
    args[#args + 1] = "-H " .. quote(h)
  end
  args[#args + 1] = quote(self:url(path))
  local status = tonumber(capture(table.concat(args, " ") .. " 2>/dev/null"))
  return status, paths.read_file(out)
end

function Server:get(path)
  local status, body = self:request("GET", path)
  return status ~= nil and status ~= 0 and status, body
end

-- the curl command that sends requests at once, and the files their
-- bodies go to
local function batch(self, requests, max)
  local cfg = {}
  local outs = {}
  for i, r in ipairs(requests) do
    local out = self:tmp("p" .. i)
    outs[i] = out
    cfg[#cfg + 1] = "url = \"" .. self:url(r.path) .. "\""
    cfg[#cfg + 1] = "request = \"" .. (r.method or "POST") .. "\""
    if r.body then
      local bf = self:tmp("pb" .. i)
      write_file(bf, r.body)
      cfg[#cfg + 1] = "data-binary = \"@" .. bf .. "\""
    end
    for _, h in ipairs(r.headers or {}) do
      cfg[#cfg + 1] = "header = \"" .. h .. "\""
    end
    cfg[#cfg + 1] = "output = \"" .. out .. "\""
    cfg[#cfg + 1] = "write-out = \"%{http_code} %{filename_effective}\\n\""
    if i < #requests then
      cfg[#cfg + 1] = "next"
    end
  end
  local cf = self:tmp("curl.cfg")
  write_file(cf, table.concat(cfg, "\n") .. "\n")
  return CLEAN_ENV .. "curl -sS --parallel --parallel-immediate --parallel-max " .. (max or 200)
    .. " -K " .. quote(cf) .. " 2>/dev/null", outs
end

local function results_of(text, outs)
  local status_of = {}
  for code, file in text:gmatch("(%d+) (%S+)\n") do
    status_of[file] = tonumber(code)
  end
  local results = {}
  for i, out in ipairs(outs) do
    results[i] = { status = status_of[out], body = paths.read_file(out) }
  end
  return results
end

--- srv:parallel(requests [, max]) -> { { status =, body = }, ... } in order
-- requests: array of { method =, path =, body =, headers = }; sent at once
-- over at most max (default 200) connections
function Server:parallel(requests, max)
  local cmd, outs = batch(self, requests, max)
  return results_of(capture(cmd), outs)
end

--- srv:background(requests [, max]) -> job; job.wait() returns what
-- parallel returns, once every request is answered
function Server:background(requests, max)
  local cmd, outs = batch(self, requests, max)
  local done, log = self:tmp("done"), self:tmp("log")
  sh("(" .. cmd .. " > " .. quote(log) .. "; touch " .. quote(done) .. ") &")
  return {
    wait = function()
      for _ = 1, 1200 do
        if paths.read_file(done) then
          break
        end
        sleep(0.05)
      end
      return results_of(paths.read_file(log) or "", outs)
    end,
  }
end

function Server:error_log()
  return paths.read_file(self.prefix .. "/logs/error.log")
end

function Server:access_log()
  return paths.read_file(self.prefix .. "/logs/access.log")
end

local function alive(pid)
  return sh("kill -0 " .. pid .. " 2>/dev/null")
end

--- srv:workers() -> the pids of the master's worker processes
function Server:workers()
  local list = {}
  for pid in capture("pgrep -P " .. self.pid):gmatch("%d+") do
    list[#list + 1] = tonumber(pid)
  end
  return list
end

--- srv:reload(): nginx -s reload (SIGHUP to the master)
function Server:reload()
  sh("kill -HUP " .. self.pid)
end

--- srv:stop(): graceful stop of the master it started, then waits for it
function Server:stop()
  if not self.pid then
    return
  end
  sh("kill -QUIT " .. self.pid .. " 2>/dev/null")
  for _ = 1, 200 do
    if not alive(self.pid) then
      self.pid = nil
      return
    end
    sleep(0.05)
  end
  sh("kill -KILL " .. self.pid .. " 2>/dev/null")
  self.pid = nil
end

return nginx
