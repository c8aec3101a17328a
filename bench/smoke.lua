-- make bench-smoke: every benchmark program run quickly (BENCH_QUICK=1),
-- so that they cannot rot: each must exit 0 and print every row it owes,
-- with its verdict. Never a word on a figure.
--
--   luajit bench/smoke.lua MAKE LUA...      (LUA: 5.4, jit, 5.1)

local ops = require "bench.ops"
local suite = require "bench.suite"
local targets = require "bench.targets"

local make = arg[1]
local luas = { select(2, ... ) }
local RUNTIME = { ["5.1"] = "Lua 5.1", ["5.4"] = "Lua 5.4", jit = "LuaJIT" }

local problems = {}
local function problem(text)
  problems[#problems + 1] = text
end

-- a make target's output, and whether it exited 0
local function run(target, vars)
  local p = io.popen(make .. " -s " .. target .. " BENCH_QUICK=1 " .. (vars or "") .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.*)rc=(%d+)%s*$")
  if rc ~= "0" then
    problem("make " .. target .. " exited " .. tostring(rc) .. ":\n" .. out)
  end
  return body or out
end

local function escaped(s)
  return (s:gsub("%p", "%%%0"))
end

-- a table row: runtime, operation, payload, two ratios, the verdict its
-- target calls for
local function expect_row(out, target, runtime, op, payload)
  local want = targets.of(op, payload, runtime)
  for line in out:gmatch("[^\n]+") do
    if line:find("^" .. escaped(runtime) .. "%s+" .. op .. "%s+" .. payload .. "%s")
        and line:find("[%d.]+x/[%d.]+x") then
      local verdict_ok = want and (line:find(" met", 1, true) or line:find(" NOT met", 1, true))
        or not want and line:find("(no target)", 1, true)
      if not verdict_ok then
        problem(("make %s: row %s %s %s without its verdict: %s"):format(target, runtime, op, payload, line))
      end
      return
    end
  end
  problem(("make %s: no row for %s %s %s"):format(target, runtime, op, payload))
end

-- the trace summary of both sides of a row, `times` times (luajit, nginx)
local function expect_traces(out, op, payload, times)
  for _, side in ipairs({ "mphybrid", "peer" }) do
    local n = 0
    for _ in out:gmatch("\n" .. op .. "%s+" .. payload .. "%s+" .. side .. "%s+%d+ traces?") do
      n = n + 1
    end
    if n ~= times then
      problem(("make bench-jv: %d trace summaries of %s %s %s, not %d"):format(n, op, payload, side, times))
    end
  end
end

local with_round_trip = { "round_trip" }
for i, name in ipairs(ops.NAMES) do
  with_round_trip[i + 1] = name
end

local out = run("bench", "BENCH_LUAS='" .. table.concat(luas, " ") .. "'")
for _, lua in ipairs(luas) do
  for _, op in ipairs(with_round_trip) do
    for _, payload in ipairs(suite.PAYLOADS) do
      expect_row(out, "bench", RUNTIME[lua], op, payload)
    end
  end
end

out = run("bench-nginx")
for _, op in ipairs(ops.NAMES) do
  for _, payload in ipairs(suite.PAYLOADS) do
    expect_row(out, "bench-nginx", "nginx", op, payload)
  end
end

out = "\n" .. run("bench-jv")
for _, op in ipairs(with_round_trip) do
  for _, payload in ipairs(suite.PAYLOADS) do
    -- the round trip is not measured inside nginx
    expect_traces(out, op, payload, op == "round_trip" and 1 or 2)
  end
end

if #problems > 0 then
  io.stderr:write("bench-smoke: " .. table.concat(problems, "\n") .. "\n")
  os.exit(1)
end
print(("bench-smoke: make bench (%s), bench-nginx and bench-jv ran and printed every row"):format(
  table.concat(luas, ", ")))
