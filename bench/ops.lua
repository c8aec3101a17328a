-- The operations measured, each against its peer: the primitives of
-- mphybrid.core, whose peers are built from a percent codec (pure Lua
-- outside nginx, ngx.escape_uri/ngx.unescape_uri inside) and lua-cjson.
--
--   ops.NAMES: the primitives, in the order of the table
--   ops.primitives(codec) -> { op, ... } in that order
--   ops.find(list, name) -> the op of that name (an error if none)
--   ops.c_names() -> { [function] = "core.decode_json", ... }: the
--     functions of mphybrid.core and cjson by name, for bench/jv.lua
--   codec = { escape_name =, escape = function(s),
--             unescape_name =, unescape = function(s) }
--   op = { name =, peer =, prepare = function(text) -> ours, peer, x,
--          same = function(a, b) -> true | false }
-- ours(x) and peer(x) do the same work on the payload text; same() says
-- whether their results are equal (checked once before timing).

local core = require "mphybrid.core"
local cjson = require "cjson"

local type, pairs, format = type, pairs, string.format
local str_find, str_sub = string.find, string.sub

local _M = {}

_M.NAMES = {
  "decode_json", "encode_json", "decode_cmd", "encode_reply",
  "encode_uri_component", "decode_uri_component",
}

-- the web-view src a reply is written to, and the stamp it carries
_M.SRC = "https://h5.example.com/app/index.html#H5Req_0000000000=1&v=1699999999999"
_M.STAMP = 1700000000000

--- ops.equal(a, b) -> whether two Lua values are equal, tables deeply
local function equal(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
_M.equal = equal

local function same_bytes(a, b)
  return type(a) == "string" and a == b
end

-- JSON texts are equal as values: cjson writes "/" as "\/" and keys in
-- its own order
local function same_json(a, b)
  return type(a) == "string" and type(b) == "string" and equal(cjson.decode(a), cjson.decode(b))
end

function _M.find(list, name)
  for _, op in ipairs(list) do
    if op.name == name then return op end
  end
  error("no operation " .. tostring(name), 0)
end

function _M.c_names()
  local names = {}
  for prefix, lib in pairs({ core = core, cjson = cjson }) do
    for k, v in pairs(lib) do
      if type(v) == "function" then names[v] = prefix .. "." .. k end
    end
  end
  return names
end

function _M.primitives(codec)
  local escape, unescape = codec.escape, codec.unescape
  local encode_json, decode_json = core.encode_json, core.decode_json
  local decode_cmd, encode_reply = core.decode_cmd, core.encode_reply
  local src, stamp = _M.SRC, _M.STAMP

  -- the src without its fragment, then #req=value&v=stamp
  local function peer_reply(req, value)
    local hash = str_find(src, "#", 1, true)
    local base = hash and str_sub(src, 1, hash - 1) or src
    return base .. "#" .. escape(req) .. "=" .. escape(cjson.encode(value)) .. "&v=" .. format("%d", stamp)
  end

  -- equal srcs: the same bytes around the value, the same JSON value
  local function same_reply(a, b)
    if type(a) ~= "string" or type(b) ~= "string" then return false end
    local a_head, a_value, a_tail = a:match("^(.-=)([^&]*)(&v=%d+)$")
    local b_head, b_value, b_tail = b:match("^(.-=)([^&]*)(&v=%d+)$")
    return a_head ~= nil and a_head == b_head and a_tail == b_tail
      and same_json(unescape(a_value), unescape(b_value))
  end

  local list = {
    {
      name = "decode_json", peer = "cjson.decode", same = equal,
      prepare = function(text) return decode_json, cjson.decode, text end,
    },
    {
      name = "encode_json", peer = "cjson.encode", same = same_json,
      prepare = function(text) return encode_json, cjson.encode, cjson.decode(text) end,
    },
    {
      name = "decode_cmd", peer = "cjson.decode(" .. codec.unescape_name .. "(x))", same = equal,
      prepare = function(text)
        return decode_cmd, function(x) return cjson.decode(unescape(x)) end, core.encode_uri_component(text)
      end,
    },
    {
      name = "encode_reply", peer = "cjson.encode + " .. codec.escape_name, same = same_reply,
      prepare = function(text)
        local value = cjson.decode(text)
        local req = value.req
        return function(v) return encode_reply(src, { { req, v } }, stamp) end,
          function(v) return peer_reply(req, v) end, value
      end,
    },
    {
      name = "encode_uri_component", peer = codec.escape_name, same = same_bytes,
      prepare = function(text) return core.encode_uri_component, escape, text end,
    },
    {
      name = "decode_uri_component", peer = codec.unescape_name, same = same_bytes,
      prepare = function(text)
        return core.decode_uri_component, unescape, core.encode_uri_component(text)
      end,
    },
  }
  local by_name = {}
  for _, op in ipairs(list) do
    by_name[op.name] = op
  end
  local ordered = {}
  for i, name in ipairs(_M.NAMES) do
    ordered[i] = assert(by_name[name], name)
  end
  return ordered
end

return _M
