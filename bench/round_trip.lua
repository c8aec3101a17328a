-- The in-process round trip as an operation of the benchmark table: one
-- call of the page answered and delivered, client call -> navigate -> shell
-- onLoad -> handler -> new web-view src -> client hashchange -> callback.
--
-- mphybrid: mphybrid.loopback (client, shell and router on mphybrid.core,
-- with every check, acknowledgement and the replay store).
-- Peer: the same loop as a user would write it naively with lua-cjson and
-- gsub percent coding: no checks, no acknowledgements, no replay store.
-- Both run the handlers of examples/handlers.lua on the payload's params.

local cjson = require "cjson"
local loopback = require "mphybrid.loopback"
local core = require "mphybrid.core"
local codecs = require "bench.codecs"
local equal = require("bench.ops").equal

local SRC = "https://h5.example.com/app/index.html"
local PAGE = "/pages/hybrid-page/hybrid"

local root = debug.getinfo(1, "S").source:match("^@(.*)/bench/[^/]*$") or "."
local handlers = dofile(root .. "/examples/handlers.lua")

local function handler_of(name)
  local h = handlers[name]
  return type(h) == "table" and h.handler or h
end

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

local function naive(api, params)
  local str_format = string.format
  local encode, decode = codecs.encode_uri_component, codecs.decode_uri_component

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

return {
  name = "round_trip", peer = "naive loop: cjson + gsub", same = equal,
  -- one step() is one round trip; the argument is not used
  prepare = function(text)
    local cmd = assert(core.decode_json(text))
    return ours(cmd.api, cmd.params), naive(cmd.api, cjson.decode(text).params), nil
  end,
}
