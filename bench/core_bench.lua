-- mphybrid.core against what users write by hand, measured in the same run:
-- percent-coding in pure Lua with string.gsub, and lua-cjson for JSON.
--
--   LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/core_bench.lua
--   LUA_CPATH='build/jit/?.so;;' luajit bench/core_bench.lua
--
-- Every figure is CPU time per operation (os.clock), the best of a few
-- repeats, each repeat sized to take about 0.3 s. The ratio is peer time
-- divided by mphybrid time: above 1 means mphybrid is faster.

local core = require "mphybrid.core"
local cjson = require "cjson"

local clock, format, floor = os.clock, string.format, math.floor

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local payloads = dofile(here .. "/payloads.lua")

local TARGET_SECONDS = 0.3
local REPEATS = 3

------------------------------------------------------------------ the peers

local function lua_encode_uri_component(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c)
    return format("%%%02X", c:byte())
  end))
end

local function lua_decode_uri_component(s)
  return (s:gsub("%%(%x%x)", function(h)
    return string.char(tonumber(h, 16))
  end))
end

local function lua_decode_cmd(value)
  return cjson.decode(lua_decode_uri_component(value))
end

------------------------------------------------------------------ timing

local function run(f, x, n)
  local t0 = clock()
  for _ = 1, n do f(x) end
  return clock() - t0
end

-- Seconds per call of f(x).
local function measure(f, x)
  local n = 1
  local t = run(f, x, n)
  while t < 0.02 do
    n = n * 4
    t = run(f, x, n)
  end
  n = math.max(1, floor(n * TARGET_SECONDS / t))
  local best = math.huge
  for _ = 1, REPEATS do
    local per_call = run(f, x, n) / n
    if per_call < best then best = per_call end
  end
  return best
end

local function human(seconds)
  local ns = seconds * 1e9
  if ns < 1000 then return format("%8.1f ns", ns) end
  if ns < 1e6 then return format("%8.2f us", ns / 1e3) end
  return format("%8.2f ms", ns / 1e6)
end

------------------------------------------------------------------ checks

-- The peers and mphybrid must agree before their speed means anything.
local function check(name, ok)
  if not ok then error("benchmark inputs disagree: " .. name, 0) end
end

local function same_json(a, b)
  return core.encode_json(a) == core.encode_json(b)
end

------------------------------------------------------------------ main

local interpreter = jit and jit.version or _VERSION
print(format("mphybrid.core benchmarks on %s (lua-cjson %s)", interpreter, cjson._VERSION or "?"))
print(format("payload small: %d bytes; medium: %d bytes", #payloads.small, #payloads.medium))
check("medium payload is about 1.3 KB", #payloads.medium >= 1200 and #payloads.medium <= 1400)
print()

-- Targets from the project's requirements (medium payload; URI ones on Lua 5.4).
local targets = {
  encode_uri_component = 50, decode_uri_component = 50,
  decode_json = 1.5, encode_json = 1.0, decode_cmd = 10,
}

local function bench(payload, op, peer_name, ours, peer, x)
  local t_ours = measure(ours, x)
  local t_peer = measure(peer, x)
  local ratio = t_peer / t_ours
  local target = payload == "medium" and targets[op] or nil
  local verdict = ""
  if target then
    verdict = format("target >= %.1fx: %s", target, ratio >= target and "met" or "NOT met")
    if op:find("uri", 1, true) and interpreter ~= "Lua 5.4" then
      verdict = format("target >= %.1fx is for Lua 5.4", target)
    end
  end
  print(format("%-6s  %-21s %s   %-26s %s   %7.2fx   %s",
    payload, op, human(t_ours), peer_name, human(t_peer), ratio, verdict))
end

print(format("%-6s  %-21s %11s   %-26s %11s   %8s   %s",
  "data", "operation", "mphybrid", "peer", "peer", "ratio", ""))

for _, name in ipairs({ "small", "medium" }) do
  local text = payloads[name]
  local encoded = core.encode_uri_component(text)
  local tree = cjson.decode(text)

  check(name .. " encode", encoded == lua_encode_uri_component(text))
  check(name .. " decode", core.decode_uri_component(encoded) == lua_decode_uri_component(encoded))
  check(name .. " decode_json", same_json(core.decode_json(text), cjson.decode(text)))
  check(name .. " encode_json",
    same_json(core.decode_json(core.encode_json(tree)), core.decode_json(cjson.encode(tree))))
  check(name .. " decode_cmd", same_json(core.decode_cmd(encoded), lua_decode_cmd(encoded)))

  bench(name, "encode_uri_component", "gsub percent-encode",
    core.encode_uri_component, lua_encode_uri_component, text)
  bench(name, "decode_uri_component", "gsub percent-decode",
    core.decode_uri_component, lua_decode_uri_component, encoded)
  bench(name, "decode_json", "cjson.decode", core.decode_json, cjson.decode, text)
  bench(name, "encode_json", "cjson.encode", core.encode_json, cjson.encode, tree)
  bench(name, "decode_cmd", "gsub decode + cjson.decode", core.decode_cmd, lua_decode_cmd, encoded)
end

print()
print("ratio = peer time / mphybrid time (higher is better for mphybrid)")
