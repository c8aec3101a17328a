-- How long one call takes, ours against a peer's: CPU time (os.clock) per
-- call over several runs of each, the two sides taking turns so that the
-- machine's noise falls on both; the best and the median run of each side.
--
--   measure.settings(quick) -> { runs =, seconds = }
--   measure.compare(ours, peer, x, settings)
--     -> { ours = { best =, median = }, peer = { best =, median = } }
--        in seconds per call of ours(x) and of peer(x)
--   measure.one(f, x, settings) -> { best =, median = }: one side alone
--   measure.calibrated(f, x, settings) -> run, n: run(n) makes n calls of
--     f(x) and returns the seconds they took; n calls take about a run

local clock = os.clock
local floor = math.floor
local huge = math.huge
local sort = table.sort
local load_chunk = rawget(_G, "loadstring") or load

local _M = {}

-- quick: enough to see that a benchmark runs, never a figure to read
function _M.settings(quick)
  if quick then
    return { runs = 2, seconds = 0.002 }
  end
  return { runs = 7, seconds = 0.1 }
end

-- A fresh loop (its own bytecode) for every function measured: LuaJIT
-- blacklists a loop whose traces keep aborting, and one loop shared by
-- both sides would carry that from one to the other.
local RUNNER = [[
local f, x, clock = ...
return function(n)
  local t0 = clock()
  for _ = 1, n do f(x) end
  return clock() - t0
end
]]

local function runner(f, x)
  return assert(load_chunk(RUNNER, "=measure"))(f, x, clock)
end

-- how many calls make one run of about `seconds`
local function calibrate(run, seconds)
  local n, t = 1, run(1)
  while t < seconds / 8 and n < 2 ^ 30 do
    n = n * 4
    t = run(n)
  end
  return math.max(1, floor(n * seconds / math.max(t, 1e-9)))
end

local function stats(list)
  local best = huge
  for _, t in ipairs(list) do
    if t < best then best = t end
  end
  sort(list)
  local m = #list
  local median = m % 2 == 1 and list[(m + 1) / 2] or (list[m / 2] + list[m / 2 + 1]) / 2
  return { best = best, median = median }
end

function _M.compare(ours, peer, x, settings)
  local run_ours, run_peer = runner(ours, x), runner(peer, x)
  local n_ours = calibrate(run_ours, settings.seconds)
  local n_peer = calibrate(run_peer, settings.seconds)
  local t_ours, t_peer = {}, {}
  for i = 1, settings.runs do
    t_ours[i] = run_ours(n_ours) / n_ours
    t_peer[i] = run_peer(n_peer) / n_peer
  end
  return { ours = stats(t_ours), peer = stats(t_peer) }
end

function _M.calibrated(f, x, settings)
  local run = runner(f, x)
  return run, calibrate(run, settings.seconds)
end

function _M.one(f, x, settings)
  local run, n = _M.calibrated(f, x, settings)
  local t = {}
  for i = 1, settings.runs do
    t[i] = run(n) / n
  end
  return stats(t)
end

return _M
