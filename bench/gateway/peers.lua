-- The dispatch the gateway bench compares against, as content handlers for
-- one nginx: the same echo command answered with the web-view src as JSON.
--
--   builtin: written with OpenResty's built-ins (ngx.unescape_uri,
--            cjson.decode, cjson.encode, ngx.escape_uri), no state, no checks
--   core:    written on mphybrid.core alone (decode_cmd, encode_reply,
--            encode_json), no state
--
-- Both read GET ?cmd=<options.cmd as the page received it>&src=<web-view
-- src>, run the api's handler (echo: its params) and answer
-- {"src": "<src>#<req>=<encoded result>&v=<ms>", "back": true}.

-- luacheck: globals ngx
local cjson = require "cjson"
local core = require "mphybrid.core"

local ngx = ngx
local type = type
local tostring = tostring
local str_find = string.find
local str_sub = string.sub
local floor = math.floor

local _M = {}

local handlers = {
  echo = function(params)
    return params
  end,
}

local function base_of(src)
  local hash = str_find(src, "#", 1, true)
  return hash and str_sub(src, 1, hash - 1) or src
end

local function answer(body)
  ngx.header["Content-Type"] = "application/json"
  ngx.print(body)
end

function _M.builtin()
  local args = ngx.req.get_uri_args()
  local cmd = cjson.decode(ngx.unescape_uri(args.cmd))
  local req = cmd.req or "miniProgramResult"
  local result = handlers[cmd.api](cmd.params or {})
  local value = type(result) == "table" and cjson.encode(result) or tostring(result)
  local src = base_of(args.src) .. "#" .. ngx.escape_uri(req) .. "="
    .. ngx.escape_uri(value) .. "&v=" .. floor(ngx.now() * 1000)
  answer(cjson.encode({ src = src, back = true }))
end

local decode_cmd, encode_reply, encode_json = core.decode_cmd, core.encode_reply, core.encode_json

function _M.core()
  local args = ngx.req.get_uri_args()
  local cmd = decode_cmd(args.cmd)
  local req = cmd.req or "miniProgramResult"
  local result = handlers[cmd.api](cmd.params or {})
  local src = encode_reply(args.src, { { req, result } }, floor(ngx.now() * 1000))
  answer(encode_json({ src = src, back = true }))
end

return _M
