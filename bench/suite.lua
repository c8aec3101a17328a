-- One operation of the benchmark table on one payload, wherever it runs
-- (a Lua process of make bench, an nginx worker of make bench-nginx).
--
--   suite.row(op, payload, runtime, settings) -> row (bench/report.lua)
--   suite.traces(op, payload, settings, names) -> { ours =, peer = }: what
--     LuaJIT compiled of each side, from its first call (bench/jv.lua)
-- Before anything is timed, our result and the peer's must be equal
-- (op.same): a benchmark never compares different work.

local measure = require "bench.measure"
local targets = require "bench.targets"
local payloads = require "bench.payloads"

local _M = {}

_M.PAYLOADS = { "small", "medium" }

local function prepared(op, payload)
  local text = payloads[payload]
  if not text then
    error("no payload " .. tostring(payload), 0)
  end
  local ours, peer, x = op.prepare(text)
  local a, b = ours(x), peer(x)
  if not op.same(a, b) then
    error(("%s on %s: mphybrid and its peer (%s) give different results"):format(op.name, payload, op.peer), 0)
  end
  return ours, peer, x
end

function _M.row(op, payload, runtime, settings)
  local ours, peer, x = prepared(op, payload)
  local t = measure.compare(ours, peer, x, settings)
  return {
    runtime = runtime, op = op.name, payload = payload, peer = op.peer,
    ours = t.ours, theirs = t.peer, target = targets.of(op.name, payload, runtime),
  }
end

function _M.traces(op, payload, settings, names)
  local jv = require "bench.jv"
  local ours, peer, x = prepared(op, payload)
  local t = {}
  for side, f in pairs({ ours = ours, peer = peer }) do
    t[side] = jv.collect(function()
      local run, n = measure.calibrated(f, x, settings)
      for _ = 1, settings.runs do run(n) end
    end, names)
  end
  return t
end

return _M
