-- The targets of issue 10, in one place: the ratio (peer time / mphybrid
-- time) each operation must reach, by payload and runtime. The benchmarks
-- print them as met or not met; no test asserts on them.
--
--   targets.of(op, payload, runtime) -> ratio, or nil when none is set
--   runtime: "Lua 5.4", "LuaJIT", "nginx" (LuaJIT inside a worker) or
--   "Lua 5.1" (measured for information: no target)

local PRIMITIVES = {
  decode_json = true, encode_json = true, decode_cmd = true, encode_reply = true,
  encode_uri_component = true, decode_uri_component = true,
}

-- medium payload: above the 1.0x every primitive must reach
local MEDIUM = {
  ["Lua 5.4"] = { decode_json = 1.5, decode_uri_component = 50 },
  LuaJIT = { decode_json = 1.5, decode_uri_component = 50 },
  nginx = { decode_cmd = 1.3 },
}

local ROUND_TRIP = 5 -- on both payloads, on Lua 5.4 and LuaJIT

local _M = {}

function _M.of(op, payload, runtime)
  if runtime ~= "Lua 5.4" and runtime ~= "LuaJIT" and runtime ~= "nginx" then
    return nil
  end
  if op == "round_trip" then
    return runtime ~= "nginx" and ROUND_TRIP or nil
  end
  if not PRIMITIVES[op] then
    return nil
  end
  return payload == "medium" and MEDIUM[runtime][op] or 1.0
end

return _M
