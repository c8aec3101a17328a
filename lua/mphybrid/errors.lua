-- mphybrid.errors: the error objects and stable codes of the Lua layer,
-- and the one rule of what a code is (errors.is_code). Every code is
-- listed, with its meaning, in docs/PROTOCOL.md; the rule every public
-- function follows when it fails is README.md's "Errors".

local type = type
local pairs = pairs
local error = error
local tostring = tostring
local pcall = pcall
local rawget = rawget
local setmetatable = setmetatable
local str_match = string.match
local str_find = string.find
local str_sub = string.sub

local _M = { _VERSION = require("mphybrid.core")._VERSION }

-- code -> what it means: the codes of mphybrid.core, as the core lists
-- them (core.codes), and those of the Lua layer
_M.codes = {
  ENOAPI = "no handler is registered for the api",
  EPARAMS = "the params failed the api's check",
  EHANDLER = "the handler returned an error",
  ECRASH = "the handler (or a hook) raised an error",
  EDENIED = "a before hook refused the command",
  EREPLY = "the reply could not be encoded or is over the size limit",
  EBUSY = "too many version 2 handlers are running at once",
  ETOOLONG = "the command URL is over the client's length limit",
  ETIMEOUT = "no reply before the call's deadline",
  ECANCELED = "the call was canceled",
  ENAVIGATE = "navigate failed: the command was not sent",
  ESTORE = "the shell's store failed: the command did not run",
  EARG = "an argument of the wrong type or out of its range, given to a call made while running",
  ENOCALL = "no call with that request id is in flight (or deferred, or was sent)",
  ELOAD = "a table or file of handlers could not be loaded: nothing was registered",
  -- the gateway's transport faults (HTTP answers, never replies)
  EMETHOD = "an HTTP method other than GET and POST",
  ETOOLARGE = "a request body or query over max_body",
  EBODY = "a POST body that is empty, not JSON, not an object, or nested",
  EQUERY = "a GET query that cannot be read",
  EFIELD = "cmd, src or session missing or of the wrong type or size",
  ESESSION = "a session id of the wrong length or characters",
  ENOMETRICS = "no lua_shared_dict for metrics is declared",
}
for code, meaning in pairs(require("mphybrid.core").codes) do
  _M.codes[code] = meaning
end

local error_mt = {
  __tostring = function(e)
    return e.code .. ": " .. e.message
  end,
}
_M.mt = error_mt

-- the longest code, in bytes
local MAX_CODE = 64
_M.max_code = MAX_CODE

--- errors.is_code(v) -> whether v is an error code: a string of
-- [A-Z][A-Z0-9_]*, at most 64 bytes. The one rule: every code the layer
-- makes, checks or reads in "CODE: message" text is held to it (the
-- core's codes too: spec/error_rule_spec.lua).
local function is_code(v)
  return type(v) == "string" and #v <= MAX_CODE and str_match(v, "^[A-Z][A-Z0-9_]*$") ~= nil
end
_M.is_code = is_code

--- errors.new(code, message [, data]) -> { code =, message =, data = }
-- tostring(err) gives "CODE: message". Raises unless code is a code
-- (errors.is_code) and message a string.
local function new(code, message, data)
  if not is_code(code) or type(message) ~= "string" then
    error("errors.new: code must be a code (errors.is_code), message a string", 2)
  end
  return setmetatable({ code = code, message = message, data = data }, error_mt)
end
_M.new = new

--- errors.fail(code, message) -> nil, "CODE: message", code: what every
-- public function of the Lua layer returns when it fails (README.md,
-- "Errors"), as the core does.
function _M.fail(code, message)
  return nil, code .. ": " .. message, code
end

-- "CODE: message" -> code, message; nil when s does not start with a code
-- (what is_code says) and ": "
local function split(s)
  local colon = str_find(s, ": ", 1, true)
  if colon then
    local code = str_sub(s, 1, colon - 1)
    if is_code(code) then
      return code, str_sub(s, colon + 2)
    end
  end
  return nil
end

--- errors.text(v [, default]) -> tostring(v), or default when that raises or
-- gives no string: a value from a faulty handler must not stop a reply.
-- Every user value the Lua layer turns into text goes through here.
local function text(v, default)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then
    return s
  end
  if default == nil then
    return "(a value that cannot be shown)"
  end
  return default
end
_M.text = text

--- errors.logger(who, log, default) -> a function(level, message) that
-- calls log (or default, when log is nil) and never raises: a faulty log must
-- not stop a reply, nor leave a command unanswered. Raises (at the caller of
-- `who`) when log is neither nil nor a function.
function _M.logger(who, log, default)
  if log == nil then
    log = default
  elseif type(log) ~= "function" then
    error(who .. ": opts.log must be a function", 3)
  end
  return function(level, message)
    pcall(log, level, message)
  end
end

--- errors.call(log, what, req, f, err, result) -> calls f(err, result);
-- when it raises, logs ("error", "<what> (request <req>) raised: <error>",
-- without the request when req is nil) instead. How the layer calls a
-- program's callback (on_load's and dispatch's done): one that raises must
-- not stop the layer, nor leave its state half changed, nor be called again
-- (the client defers and logs its callbacks the same way). The message is
-- made only when f raises.
function _M.call(log, what, req, f, err, result)
  local ok, e = pcall(f, err, result)
  if not ok then
    local about = req == nil and "" or " (request " .. text(req) .. ")"
    log("error", what .. about .. " raised: " .. text(e))
  end
end

--- errors.from_value(v, default_code, default_message) -> error object
-- What a handler hands back as its error: a table { code =, message =,
-- data = }, a string "ECODE: message", any other string (a message), or
-- anything else (ignored in favour of the defaults). Fields are read raw
-- and turned into text under pcall, so no metamethod of a faulty value
-- can raise here.
function _M.from_value(v, default_code, default_message)
  local tv = type(v)
  if tv == "table" then
    local code = rawget(v, "code")
    code = is_code(code) and code or default_code
    local msg = rawget(v, "message")
    if msg == nil then
      msg = default_message
    elseif type(msg) ~= "string" then
      msg = text(msg, default_message)
    end
    return new(code, msg, rawget(v, "data"))
  end
  if tv == "string" then
    local code, msg = split(v)
    if code then
      return new(code, msg)
    end
    return new(default_code, v)
  end
  if tv == "number" or tv == "boolean" then
    return new(default_code, tostring(v))
  end
  return new(default_code, default_message)
end

--- errors.parse(s, default_code) -> code, message: splits an error
-- "CODE: message" (the core's, a store's); default_code and s (as text)
-- when s does not start with a code
function _M.parse(s, default_code)
  if type(s) ~= "string" then
    return default_code, text(s)
  end
  local code, msg = split(s)
  if code then
    return code, msg
  end
  return default_code, s
end

return _M
