-- make bench: the benchmark table on the Lua that runs this file, each
-- operation and payload in a fresh process of it (a blacklisted trace or a
-- grown heap of one cannot skew the next). Run from the top of the checkout:
--
--   LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/bench.lua            the table
--   LUA_CPATH='build/jit/?.so;;' luajit bench/bench.lua --jv       LuaJIT's traces
--   lua5.4 bench/bench.lua --op decode_json medium [--jv]          one row
--
-- BENCH_QUICK=1: a few calls per run, to see that everything runs (the
-- figures mean nothing). bench/report.lua says how to read the table.

local cjson = require "cjson"
local codecs = require "bench.codecs"
local ops = require "bench.ops"
local suite = require "bench.suite"
local report = require "bench.report"
local measure = require "bench.measure"

local format = string.format

local runtime = rawget(_G, "jit") and "LuaJIT" or _VERSION
local quick = os.getenv("BENCH_QUICK") == "1"
local settings = measure.settings(quick)

local LIST = ops.primitives({
  escape_name = "gsub_encode", escape = codecs.encode_uri_component,
  unescape_name = "gsub_decode", unescape = codecs.decode_uri_component,
})
LIST[#LIST + 1] = require "bench.round_trip"

local function one(name, payload, jv)
  local op = ops.find(LIST, name)
  if not jv then
    print(report.row(suite.row(op, payload, runtime, settings)))
    return
  end
  local lines = require("bench.jv").lines
  local t = suite.traces(op, payload, settings, ops.c_names())
  print(report.traces(op.name, payload, { ours = lines(t.ours), peer = lines(t.peer) }))
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function ok_status(a, _, c)
  if type(a) == "number" then return a == 0 end
  return a == true and (c == nil or c == 0)
end

-- every operation, each in a fresh process of this Lua
local function all(jv)
  if jv and runtime ~= "LuaJIT" then
    error("bench.lua --jv: traces are LuaJIT's; run it with luajit", 0)
  end
  local interp = arg[-1]
  print(report.title(jv, format("%s (lua-cjson %s)", jit and jit.version or _VERSION, cjson._VERSION or "?"),
    settings, quick, "process"))
  print(report.header(jv))
  local failed = {}
  for _, op in ipairs(LIST) do
    for _, payload in ipairs(suite.PAYLOADS) do
      io.stdout:flush()
      local cmd = quote(interp) .. " " .. quote(arg[0]) .. " --op " .. op.name .. " " .. payload
        .. (jv and " --jv" or "")
      if not ok_status(os.execute(cmd)) then
        failed[#failed + 1] = op.name .. " " .. payload
      end
    end
  end
  if not jv then
    print(report.LEGEND)
    print("gsub_encode, gsub_decode: percent-coding in pure Lua (bench/codecs.lua); round_trip: bench/round_trip.lua")
  end
  if #failed > 0 then
    io.stderr:write("bench.lua: failed: " .. table.concat(failed, ", ") .. "\n")
    os.exit(1)
  end
end

local argv = { ... }
local jv = false
local name, payload
local i = 1
while argv[i] do
  if argv[i] == "--jv" then
    jv = true
  elseif argv[i] == "--op" and argv[i + 1] and argv[i + 2] then
    name, payload = argv[i + 1], argv[i + 2]
    i = i + 2
  else
    error("usage: bench.lua [--op NAME small|medium] [--jv]", 0)
  end
  i = i + 1
end
if jv and not quick then
  -- long enough for every loop to get hot, no more: nothing is timed
  settings = { runs = 3, seconds = 0.05 }
end
if name then one(name, payload, jv) else all(jv) end
