-- The benchmark table, printed the same way by make bench and make
-- bench-nginx: one row per operation, payload and runtime.
--
--   ours, peer   time per call, best / median of the runs
--   ratio        peer time / our time, from the best runs and from the
--                medians: above 1 means mphybrid is faster
--   target       the ratio issue 10 asks for (bench/targets.lua)
--   verdict      "met" or "NOT met", judged on the ratio of the best runs
--                (noise only ever adds time); "(median: ...)" follows
--                when the medians say otherwise

local payloads = require "bench.payloads"

local format = string.format

local _M = {}

local function human(seconds)
  local ns = seconds * 1e9
  if ns < 1e4 then return format("%6.0f ns", ns) end
  if ns < 1e7 then return format("%6.1f us", ns / 1e3) end
  return format("%6.1f ms", ns / 1e6)
end

local COLUMNS = "%-8s %-21s %-6s %19s %19s %15s %7s  %-22s %s"

local TRACE_COLUMNS = "%-21s %-6s %-8s %s"

--- report.title(jv, where, settings, quick, fresh) -> the first line
function _M.title(jv, where, settings, quick, fresh)
  return format("%s on %s; payload small %d bytes, medium %d bytes; %s, each row in a fresh %s%s",
    jv and "LuaJIT traces" or "mphybrid benchmarks", where, #payloads.small, #payloads.medium,
    jv and "nothing timed" or format("%d runs of %.3f s a side", settings.runs, settings.seconds),
    fresh, quick and " (BENCH_QUICK: figures mean nothing)" or "")
end

--- report.header([jv]) -> the line above the rows
function _M.header(jv)
  if jv then
    return format(TRACE_COLUMNS, "operation", "data", "side", "what the compiler did")
  end
  return format(COLUMNS, "runtime", "operation", "data", "mphybrid best/med", "peer best/med",
    "ratio best/med", "target", "verdict", "peer")
end

--- report.verdict(ratio_best, ratio_median, target) -> text
function _M.verdict(best, median, target)
  if not target then
    return "(no target)"
  end
  local v = best >= target and "met" or "NOT met"
  if (median >= target) ~= (best >= target) then
    v = v .. (median >= target and " (median: met)" or " (median: not)")
  end
  return v
end

--- report.row(r) -> text; r = { runtime =, op =, payload =, peer =,
-- ours = { best =, median = }, theirs = { best =, median = }, target = }
function _M.row(r)
  local best = r.theirs.best / r.ours.best
  local median = r.theirs.median / r.ours.median
  return format(COLUMNS, r.runtime, r.op, r.payload,
    human(r.ours.best) .. "/" .. human(r.ours.median):gsub("^%s+", ""),
    human(r.theirs.best) .. "/" .. human(r.theirs.median):gsub("^%s+", ""),
    format("%6.2fx/%.2fx", best, median),
    r.target and format("%.1fx", r.target) or "-",
    _M.verdict(best, median, r.target), r.peer)
end

--- report.traces(op, payload, t) -> the lines of a row of make bench-jv;
-- t = { ours = jv lines, peer = jv lines } (bench/jv.lua)
function _M.traces(op, payload, t)
  local out = {}
  for _, side in ipairs({ "ours", "peer" }) do
    local lines = t[side]
    out[#out + 1] = format(TRACE_COLUMNS, op, payload, side == "ours" and "mphybrid" or "peer", lines[1])
    for i = 2, #lines do
      out[#out + 1] = format("%37s%s", "", lines[i])
    end
  end
  return table.concat(out, "\n")
end

_M.LEGEND = "ratio = peer time / mphybrid time (above 1: mphybrid faster); verdict on the best runs"

return _M
