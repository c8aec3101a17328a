-- mphybrid.protocol: the one place in Lua for what both ends of the wire
-- share. The client (H5 page), the shell (hybrid page), its batches and the
-- gateway read these and repeat none of them:
--   - the names: the hybrid page's path, the request-id prefix, the request
--     id of version 1 answers to a command without one (miniProgramResult);
--   - the request-id rule (the core's: core.valid_id) and the keys a
--     fragment keeps for itself (mph, hash, v);
--   - the limits both ends keep (those the core enforces are read from
--     core.limits);
--   - the command's JSON text, alone and in a batch, and a batch read back
--     into its commands;
--   - the reply values of both versions: the version 2 envelope
--     ({"result":...} / {"error":{...}}) written and read, the version 1
--     value, and the acknowledgements.
-- The wire format itself is docs/PROTOCOL.md: a new field of the wire is a
-- change to this file and to that one.

local core = require "mphybrid.core"
local errors = require "mphybrid.errors"

local type = type
local pairs = pairs
local getmetatable = getmetatable
local str_find = string.find
local str_sub = string.sub
local tbl_concat = table.concat

local encode_json = core.encode_json
local decode_json = core.decode_json
local valid_id = core.valid_id
local array_mt = core.array_mt
local null = core.null
local limits = core.limits
local new_error = errors.new
local parse_error = errors.parse
local to_text = errors.text
local is_code = errors.is_code
local fail = errors.fail

local _M = { _VERSION = core._VERSION }

------------------------------------------------------------------ names

-- the hybrid page the client navigates to, as published
_M.page = "/pages/hybrid-page/hybrid"
-- the prefix of the request ids the clients make, as published ("H5Req_")
_M.prefix = core.req_id_prefix
-- version 1: a command without a usable req (and any command that cannot
-- be read) is answered under this request id, as published
_M.default_req = "miniProgramResult"
-- the version a version 2 command asks for, and a version 2 fragment marks
_M.version = 2

----------------------------------------------------------------- limits

-- bytes of a request id or an api name (the core's rule)
_M.max_id = limits.max_id
-- bytes of the cmd option a shell reads, and the nesting of its JSON (the
-- core's defaults, a shell's max_cmd and max_depth)
_M.max_cmd = limits.max_cmd
_M.max_depth = limits.max_cmd_depth
-- the nesting of params a client sends, so that a shell with the default
-- max_depth reads them: the command object is one level; in a batch, the
-- batch object, its array and the entry are three
_M.max_params_depth = _M.max_depth - 1
_M.max_batch_params_depth = _M.max_depth - 3
-- bytes of the page's own fragment a command carries (a shell's max_hash;
-- the client leaves a longer one out)
_M.max_hash = 512
-- commands one batch may carry: a command URL within a client's max_url
-- holds far fewer; a gateway's POST body could hold more than an outbox keeps
_M.max_batch = 32

----------------------------------------------------------- request ids

--- protocol.valid_id(v) -> true | nil, "ECMD: ...", "ECMD": whether v is a
-- request id (or an api name): 1 to max_id bytes of UTF-8, no control
-- character, no space at either end. The rule is the core's
-- (core.valid_id), the one decode_cmd and encode_reply keep.
_M.valid_id = valid_id

-- keys a fragment keeps for itself, in version 2: mph (what marks it), hash
-- (the page's own fragment) and v (the stamp); never request ids
local RESERVED = { mph = true, hash = true, v = true }
_M.reserved = RESERVED
-- in version 1 only the stamp: the published listener would hand its
-- caller the stamp (docs/PROTOCOL.md, deliberate differences)
local RESERVED_V1 = { v = true }

--- protocol.reply_id(req, version) -> req, or nil when a reply in that
-- version cannot go under it (a key the fragment keeps for itself). req is
-- what core.decode_cmd read: a usable request id or nil.
function _M.reply_id(req, version)
  if req ~= nil and (version == 2 and RESERVED or RESERVED_V1)[req] then
    return nil
  end
  return req
end

-- a request id as a JSON string: an id has no control character, so only
-- '"' and '\' need escaping (the clients' own ids have neither; two plain
-- searches cost less than one pattern)
local function id_json(id)
  if str_find(id, '"', 1, true) or str_find(id, "\\", 1, true) then
    return encode_json(id)
  end
  return '"' .. id .. '"'
end

------------------------------------------------------------- commands

--- protocol.url_head(page) -> the command URL up to its cmd value
function _M.url_head(page)
  return page .. "?cmd="
end

--- protocol.cmd_of(url) -> the cmd value of a command URL (as onLoad gets
-- it, still percent-encoded), or nil (found, not matched: a long URL costs
-- one copy)
function _M.cmd_of(url)
  local at = str_find(url, "?cmd=", 1, true)
  return at and str_sub(url, at + 5)
end

-- the version 2 fields ack and hash, each left out when nil: "" for
-- neither
local function v2_fields(acks, hash_json)
  local ack = ""
  if acks then
    local n = #acks
    if n == 1 then
      ack = ',"ack":[' .. id_json(acks[1]) .. "]"
    else
      local ids = {}
      for i = 1, n do
        ids[i] = id_json(acks[i])
      end
      ack = ',"ack":[' .. tbl_concat(ids, ",") .. "]"
    end
  end
  if hash_json then
    return ack .. ',"hash":' .. hash_json
  end
  return ack
end

-- req, api and params in the published order, then rest and "}": one
-- concatenation, no table
local function object_json(id, api_json, params_json, rest)
  if params_json then
    return '{"req":' .. id_json(id) .. ',"api":' .. api_json .. ',"params":' .. params_json .. rest .. "}"
  end
  return '{"req":' .. id_json(id) .. ',"api":' .. api_json .. rest .. "}"
end

--- protocol.command_json(version, id, api_json, params_json [, acks [,
-- hash_json]]) -> the JSON text of a command: req, api, params (left out
-- when nil) in the published order; in version 2 then mph, ack (an array
-- of request ids, left out when nil) and hash (JSON text, left out when
-- nil). api_json and params_json are JSON texts already.
function _M.command_json(version, id, api_json, params_json, acks, hash_json)
  if version ~= 2 then
    return object_json(id, api_json, params_json, "")
  end
  if acks == nil and hash_json == nil then
    return object_json(id, api_json, params_json, ',"mph":2')
  end
  return object_json(id, api_json, params_json, ',"mph":2' .. v2_fields(acks, hash_json))
end

--- protocol.entry_json(id, api_json, params_json) -> the JSON text of one
-- command of a batch: req, api, params
function _M.entry_json(id, api_json, params_json)
  return object_json(id, api_json, params_json, "")
end

-- A batch's JSON text is batch_open, its entries joined by batch_sep, and
-- batch_close(acks, hash_json): {"mph":2,"batch":[<entry>,...],"ack":[...],"hash":...}
_M.batch_open = '{"mph":2,"batch":['
_M.batch_sep = ","

--- protocol.batch_close(acks, hash_json) -> the end of a batch's JSON text
function _M.batch_close(acks, hash_json)
  return "]" .. v2_fields(acks, hash_json) .. "}"
end

-- fields of a batch itself, never copied from an entry
local BATCH_FIELDS = { mph = true, ack = true, hash = true, batch = true }

--- protocol.decode_batch(cmd) -> entries | nil | nil, err, "ECMD"
-- cmd: the command as far as core.decode_cmd read it, when it refused it as
-- ECMD (a batch has no api of its own). entries: the JSON text of each entry
-- as a command of its own (the batch's mph in each, its ack and hash in the
-- first). nil alone: not a batch (the refusal stands); nil, err, "ECMD": a
-- batch of the wrong shape.
function _M.decode_batch(cmd)
  if type(cmd) ~= "table" or getmetatable(cmd) == array_mt or cmd.batch == nil
    or cmd.req ~= nil or cmd.api ~= nil then
    return nil
  end
  local list, mph = cmd.batch, cmd.mph
  if type(mph) ~= "number" or mph < 2 then
    return fail("ECMD", "a batch needs mph 2")
  end
  if getmetatable(list) ~= array_mt or #list == 0 or #list > _M.max_batch then
    return fail("ECMD", "batch must be an array of 1 to " .. _M.max_batch .. " commands")
  end
  local entries = {}
  for i = 1, #list do
    local e = list[i]
    local one = e
    if type(e) == "table" and getmetatable(e) ~= array_mt then
      one = {}
      for k, v in pairs(e) do
        if not BATCH_FIELDS[k] then
          one[k] = v
        end
      end
      one.mph = mph
      if i == 1 then
        one.ack, one.hash = cmd.ack, cmd.hash
      end
    end
    -- an entry that is not an object is answered as such a command would be
    entries[i] = encode_json(one) or "null"
  end
  return entries
end

--- protocol.valid_acks(ack) -> whether a command's ack is absent or a JSON
-- array of request ids
function _M.valid_acks(ack)
  if ack == nil then
    return true
  end
  if getmetatable(ack) ~= array_mt then
    return false
  end
  for i = 1, #ack do
    if not valid_id(ack[i]) then
      return false
    end
  end
  return true
end

--------------------------------------------------------------- replies

-- the pair that marks a version 2 fragment (written first)
_M.mark_pair = { "mph", "2" }
local MARK = "#mph=2&"

--- protocol.hash_pair(hash) -> the pair that carries the page's own
-- fragment back to it, or nil for none
function _M.hash_pair(hash)
  return hash ~= nil and { "hash", hash } or nil
end

--- protocol.fragment_version(map) -> 2 when a decoded fragment
-- (core.decode_fragment) is a version 2 one, else 1
function _M.fragment_version(map)
  return map.mph == "2" and 2 or 1
end

--- protocol.src_version(src) -> 2 when src's fragment is a version 2 one
-- (it starts with the mark pair), else 1
function _M.src_version(src)
  return str_find(src, MARK, 1, true) and 2 or 1
end

--- protocol.error_value(err, opts) -> the version 2 value of an error:
-- {"error":{code, message, data}}, held to opts.max_size as results are:
-- without data when data cannot be encoded within it, and as an EREPLY that
-- says why when the error itself cannot be (a message that is not UTF-8,
-- or over the size): the client always gets a well-formed version 2 reply.
-- err: { code =, message = [, data =] }.
function _M.error_value(err, opts)
  local s, e = encode_json({ error = { code = err.code, message = err.message, data = err.data } }, opts)
  if not s and err.data ~= nil then
    s, e = encode_json({ error = { code = err.code, message = err.message } }, opts)
  end
  if not s then
    s = encode_json({ error = { code = "EREPLY", message = "the error of code " .. err.code
      .. " cannot be sent (" .. to_text(e) .. ")" } })
  end
  return s
end

--- protocol.reply_value(version, err, result, opts) -> value [, err]
-- The value a reply carries under its request id. Version 2:
-- {"result":...} (nil is null) or {"error":{...}}, within opts.max_size;
-- a result that cannot be written becomes the error EREPLY, returned as
-- the second value with err's own. Version 1: "0" for no result, the
-- string itself, a number or boolean as is (encode_reply writes
-- String(value), NaN and Infinity too), JSON text for a table (EREPLY when
-- it has none within opts.max_size), the error code for an error.
function _M.reply_value(version, err, result, opts)
  if version ~= 2 then
    if err then
      return err.code, err
    end
    local t = type(result)
    if result == nil or result == null then
      return "0"
    elseif t == "string" or t == "number" or t == "boolean" then
      return result
    end
    return encode_json(result, opts) or "EREPLY"
  end
  if err then
    return _M.error_value(err, opts), err
  end
  if result == nil then
    result = null
  end
  local s, e = encode_json({ result = result }, opts)
  if not s then
    local code, msg = parse_error(e, "EVALUE")
    local rerr = new_error("EREPLY", "result cannot be sent (" .. code .. ": " .. msg .. ")")
    return _M.error_value(rerr, opts), rerr
  end
  return s
end

--- protocol.read_reply(value) -> err, result: a version 2 reply value read
-- back: the error (an mphybrid.errors error), or nil and the result; EREPLY
-- for a value that is neither {result} nor {error} with a valid code
function _M.read_reply(value)
  local t = decode_json(value)
  if type(t) == "table" then
    local e = t.error
    if e ~= nil then
      if type(e) == "table" and is_code(e.code) then
        local msg = e.message
        if type(msg) ~= "string" then
          msg = ""
        end
        return new_error(e.code, msg, e.data)
      end
    elseif t.result ~= nil then
      return nil, t.result
    end
  end
  return new_error("EREPLY", "reply is not a version 2 reply")
end

--- protocol.count_replies(src) -> the number of replies in a version 2
-- src's fragment (its pairs but mph, hash and v)
function _M.count_replies(src)
  local hash_at = str_find(src, "#", 1, true)
  if not hash_at then
    return 0
  end
  local n, pos = 0, hash_at
  while true do
    pos = str_find(src, "&", pos + 1, true)
    if not pos then
      break
    end
    n = n + 1
    if str_sub(src, pos + 1, pos + 5) == "hash=" then
      n = n - 1
    end
  end
  return n > 0 and n - 1 or 0 -- the last pair is v=
end

return _M
