-- The worker side of make bench-nginx: one row of the table measured
-- inside an nginx worker, against the peers a gateway would use there
-- (cjson, ngx.escape_uri, ngx.unescape_uri).
--
--   location = /bench { content_by_lua_block { require("bench.in_nginx").serve() } }
--   GET /bench?op=decode_json&payload=small[&quick=1][&jv=1]
-- answers the row (bench/report.lua) as JSON, or with jv=1 what LuaJIT
-- compiled of each side (bench/jv.lua): { ours = { lines }, peer = { lines } };
-- either with worker = the pid of the worker that measured it.
-- A failure (unknown op, results that differ) is a 500 with its message.

-- luacheck: globals ngx
local core = require "mphybrid.core"
local cjson = require "cjson"
local ops = require "bench.ops"
local suite = require "bench.suite"
local measure = require "bench.measure"

local ngx = ngx

local _M = {}

local function find(name)
  local list = ops.primitives({
    escape_name = "ngx.escape_uri", escape = ngx.escape_uri,
    unescape_name = "ngx.unescape_uri", unescape = ngx.unescape_uri,
  })
  for _, op in ipairs(list) do
    if op.name == name then return op end
  end
  error("no operation " .. tostring(name), 0)
end

local function names()
  local n = {}
  for prefix, lib in pairs({ core = core, cjson = cjson }) do
    for k, v in pairs(lib) do
      if type(v) == "function" then n[v] = prefix .. "." .. k end
    end
  end
  n[ngx.escape_uri], n[ngx.unescape_uri] = "ngx.escape_uri", "ngx.unescape_uri"
  return n
end

local function answer(args)
  local op = find(args.op)
  local settings = measure.settings(args.quick == "1")
  if args.jv ~= "1" then
    local row = suite.row(op, args.payload, "nginx", settings)
    row.worker = ngx.worker.pid()
    return row
  end
  if args.quick ~= "1" then
    settings = { runs = 3, seconds = 0.05 }
  end
  local jv = require "bench.jv"
  local t = suite.traces(op, args.payload, settings, names())
  return { ours = jv.lines(t.ours), peer = jv.lines(t.peer), worker = ngx.worker.pid() }
end

function _M.serve()
  local ok, result = pcall(answer, ngx.req.get_uri_args())
  if not ok then
    ngx.status = 500
    ngx.print(tostring(result))
    return
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.print(cjson.encode(result))
end

return _M
