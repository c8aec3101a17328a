-- Whole round trips per second, in process: client call -> navigate ->
-- shell on_load -> handler -> new web-view src -> client receive -> callback.
--
-- mphybrid (client, shell and router on mphybrid.core) against the same
-- loop written naively in pure Lua with lua-cjson: gsub percent coding,
-- cjson for JSON, no checks, no acknowledgements, no replay store.
--
--   lua5.4 bench/roundtrip_bench.lua [seconds per measurement, default 1]

package.path = "bench/?.lua;" .. package.path

local cjson = require "cjson"
local loopback = require "mphybrid.loopback"
local core = require "mphybrid.core"
local payloads = require "payloads"

local SECONDS = tonumber(arg and arg[1]) or 1
local SRC = "https://h5.example.com/app/index.html"
local PAGE = "/pages/hybrid-page/hybrid"
local handlers = dofile("examples/handlers.lua")

local function handler_of(name)
  local h = handlers[name]
  return type(h) == "table" and h.handler or h
end

-------------------------------------------------------------- mphybrid

local function ours(api, params)
  local c = loopback.new({ handlers = handlers, src = SRC, wire = false,
                           client = { max_url = 8192 } }).client
  local last
  local function callback(err, result)
    last = result
    if err then error(tostring(err)) end
  end
  return function()
    c:call(api, params, callback)
    return last
  end
end

-------------------------------------------------------------- naive

local function naive(api, params)
  local str_format, str_byte, str_char = string.format, string.byte, string.char
  local function encode(s)
    return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(ch) return str_format("%%%02X", str_byte(ch)) end))
  end
  local function decode(s)
    return (s:gsub("%%(%x%x)", function(h) return str_char(tonumber(h, 16)) end))
  end

  local src = SRC
  local pending, n = {}, 0
  local function receive(new_src)
    local frag = new_src:match("#(.*)$")
    for k, v in frag:gmatch("([^&=]+)=([^&]*)") do
      k = decode(k)
      local cb = pending[k]
      if cb then
        pending[k] = nil
        local reply = cjson.decode(decode(v))
        cb(reply.error, reply.result)
      end
    end
  end
  local function on_load(query)
    local cmd = cjson.decode(decode(query:match("^cmd=(.*)$")))
    local h = handler_of(cmd.api)
    local reply
    if not h then
      reply = { error = { code = "ENOAPI", message = "unknown api" } }
    else
      local result, err = h(cmd.params or {}, { req = cmd.req, api = cmd.api })
      reply = err and { error = { code = "EHANDLER", message = tostring(err) } } or { result = result }
    end
    src = src:gsub("#.*$", "") .. "#" .. encode(cmd.req) .. "=" .. encode(cjson.encode(reply))
      .. "&v=" .. str_format("%d", os.time() * 1000)
    receive(src)
  end
  local function call(a, p, cb)
    n = n + 1
    local id = "H5Req_" .. str_format("%010d", n)
    pending[id] = cb
    local url = PAGE .. "?cmd=" .. encode(cjson.encode({ req = id, api = a, params = p }))
    on_load(url:match("%?(.*)$"))
  end

  local last
  local function callback(err, result)
    last = result
    if err then error(err.message) end
  end
  return function()
    call(api, params, callback)
    return last
  end
end

-------------------------------------------------------------- measure

local clock = os.clock

local function rate(step)
  -- calibrate, then measure for SECONDS of processor time
  local n = 1
  while true do
    local t0 = clock()
    for _ = 1, n do step() end
    local dt = clock() - t0
    if dt > 0.1 then
      break
    end
    n = n * 2
  end
  local total, count = 0, 0
  while total < SECONDS do
    local t0 = clock()
    for _ = 1, n do step() end
    total = total + (clock() - t0)
    count = count + n
  end
  return count / total
end

local function same(a, b)
  return core.encode_json(a) == core.encode_json(b)
end

local interpreter = (jit and jit.version) or _VERSION
print(("round trips per second in process, %s (%.1f s of processor time per figure)"):format(interpreter, SECONDS))
print(("%-8s %8s %14s %14s %7s"):format("payload", "bytes", "mphybrid", "naive Lua", "ratio"))
for _, name in ipairs({ "small", "medium" }) do
  local text = payloads[name]
  local cmd = assert(core.decode_json(text))
  local a, b = ours(cmd.api, cmd.params), naive(cmd.api, cjson.decode(text).params)
  assert(same(a(), b()), "the two loops disagree on " .. name)
  local ra, rb = rate(a), rate(b)
  print(("%-8s %8d %14.0f %14.0f %6.1fx"):format(name, #text, ra, rb, ra / rb))
end
