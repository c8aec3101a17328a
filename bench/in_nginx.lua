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
local cjson = require "cjson"
local ops = require "bench.ops"
local suite = require "bench.suite"
local measure = require "bench.measure"

local ngx = ngx

local _M = {}

local function names()
  local n = ops.c_names()
  n[ngx.escape_uri], n[ngx.unescape_uri] = "ngx.escape_uri", "ngx.unescape_uri"
  return n
end

local function answer(args)
  local op = ops.find(ops.primitives({
    escape_name = "ngx.escape_uri", escape = ngx.escape_uri,
    unescape_name = "ngx.unescape_uri", unescape = ngx.unescape_uri,
  }), args.op)
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
