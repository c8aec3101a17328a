-- mphybrid.router: the handler table of the shell (the mini-program side).
--
-- A handler answers one api. Synchronous handlers return a result, or
-- nil and an error, or raise; asynchronous handlers call reply(result) or
-- reply(nil, err) once. Every outcome becomes exactly one answer with a
-- stable error code: see docs/PROTOCOL.md.

local errors = require "mphybrid.errors"
local protocol = require "mphybrid.protocol"

local type = type
local pairs = pairs
local pcall = pcall
local rawget = rawget
local getmetatable = getmetatable
local setmetatable = setmetatable
local loadfile = loadfile
local error = error
local str_format = string.format
local str_sub = string.sub
local math_floor = math.floor

local new_error = errors.new
local text = errors.text
local from_value = errors.from_value
local call = errors.call
local valid_id = protocol.valid_id
local max_id = protocol.max_id
local fail = errors.fail

local _M = { _VERSION = require("mphybrid.core")._VERSION }
local mt = { __index = _M }

local array_mt -- core.array_mt, looked up once the core is loaded
local null

local function core_marks()
  if array_mt == nil then
    local core = require "mphybrid.core"
    array_mt, null = core.array_mt, core.null
  end
end

-- the JSON type of a decoded value, as the params checks name it
local function json_type(v)
  local t = type(v)
  if t == "table" then
    if getmetatable(v) == array_mt then
      return "array"
    end
    return "object"
  end
  if t == "userdata" and v == null then
    return "null"
  end
  return t
end

local function type_matches(want, v)
  if want == "any" then
    return v ~= nil
  end
  local got = json_type(v)
  if want == got then
    return true
  end
  if want == "table" then
    return got == "object" or got == "array"
  end
  if want == "integer" then
    return got == "number" and v == math_floor(v) and v > -2^53 and v < 2^53
  end
  return false
end

local TYPES = {
  any = true, string = true, number = true, integer = true, boolean = true,
  table = true, object = true, array = true, null = true,
}

-- turns a params schema { field = "string", other = "number?" } into a
-- check function; raises on a schema that names an unknown type
local function compile_schema(api, schema)
  local fields = {}
  for name, spec in pairs(schema) do
    if type(name) ~= "string" or type(spec) ~= "string" then
      error(str_format("params schema of api %q: field names and types must be strings", api), 3)
    end
    local optional = str_sub(spec, -1) == "?"
    local want = optional and str_sub(spec, 1, -2) or spec
    if not TYPES[want] then
      error(str_format("params schema of api %q: unknown type %q for field %q", api, spec, name), 3)
    end
    fields[#fields + 1] = { name = name, want = want, optional = optional }
  end
  table.sort(fields, function(a, b) return a.name < b.name end)

  return function(params)
    if type(params) ~= "table" or getmetatable(params) == array_mt then
      return nil, "params: expected object, got " .. json_type(params)
    end
    for i = 1, #fields do
      local f = fields[i]
      local v = rawget(params, f.name)
      if v == nil then
        if not f.optional then
          return nil, str_format("params.%s: missing, expected %s", f.name, f.want)
        end
      -- Lua's type name is the wanted one: a string, number, boolean or
      -- table matches at once (no JSON type is named as another Lua type)
      elseif type(v) ~= f.want and not type_matches(f.want, v) then
        return nil, str_format("params.%s: expected %s, got %s", f.name, f.want, json_type(v))
      end
    end
    return true
  end
end

local function default_log(level, msg)
  local ngx = rawget(_G, "ngx")
  if ngx and ngx.log then
    ngx.log(level == "error" and ngx.ERR or ngx.WARN, msg)
    return
  end
  io.stderr:write("mphybrid ", level, ": ", msg, "\n")
end

--- router.new([opts]) -> router
-- opts.log(level, message): where warnings go (default: stderr, or ngx.log)
-- opts.debug: send the message of a raised error to the client (default false)
function _M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    error("router.new: opts must be a table", 2)
  end
  core_marks()
  local self = {
    handlers = {},       -- api -> entry, own keys only, no metatable
    before_hooks = {},
    after_hooks = {},
    log = errors.logger("router.new", opts.log, default_log),
    debug = opts.debug and true or false,
  }
  return setmetatable(self, mt)
end

local function check_api_name(api, fname)
  if not valid_id(api) then
    -- the rule of request ids: decode_cmd reads no other api
    error(fname .. ": api must be a non-empty string of at most " .. max_id
      .. " bytes of UTF-8, without control characters or spaces around it", 3)
  end
end

local function check_hook(h, what, api)
  if h ~= nil and type(h) ~= "function" then
    error(str_format("register(%q): %s must be a function", api, what), 3)
  end
end

--- r:register(api, handler [, opts]) -> r
-- opts.async: handler(params, ctx, reply) answers through reply
-- opts.params: a check function(params, ctx) -> true | nil, message,
--              or a schema { field = "type" | "type?" }
-- opts.before(params, ctx) -> nil, err to refuse the command
-- opts.after(ctx, err, result) observes every outcome
-- Raises when api is taken, or handler is not a function.
function _M.register(self, api, handler, opts)
  check_api_name(api, "register")
  if type(handler) ~= "function" then
    error(str_format("register(%q): handler must be a function, got %s", api, type(handler)), 2)
  end
  if rawget(self.handlers, api) ~= nil then
    error(str_format("register(%q): api already registered", api), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    error(str_format("register(%q): opts must be a table", api), 2)
  end
  local check = opts.params
  if type(check) == "table" then
    check = compile_schema(api, check)
  elseif check ~= nil and type(check) ~= "function" then
    error(str_format("register(%q): params must be a function or a schema table", api), 2)
  end
  check_hook(opts.before, "before", api)
  check_hook(opts.after, "after", api)
  self.handlers[api] = {
    handler = handler,
    async = opts.async and true or false,
    check = check,
    before = opts.before,
    after = opts.after,
  }
  return self
end

--- r:unregister(api) -> true | nil, err, code (EARG, ENOAPI)
function _M.unregister(self, api)
  if type(api) ~= "string" then
    return fail("EARG", "unregister: api must be a string, got " .. type(api))
  end
  if rawget(self.handlers, api) == nil then
    return fail("ENOAPI", "api not registered: " .. api)
  end
  self.handlers[api] = nil
  return true
end

--- r:has(api) -> boolean
function _M.has(self, api)
  return type(api) == "string" and rawget(self.handlers, api) ~= nil
end

--- r:apis() -> sorted array of registered api names
function _M.apis(self)
  local list = {}
  for api in pairs(self.handlers) do
    list[#list + 1] = api
  end
  table.sort(list)
  return list
end

--- r:before(hook) -> r; hook(params, ctx) runs before every handler
function _M.before(self, hook)
  if type(hook) ~= "function" then
    error("before: hook must be a function", 2)
  end
  self.before_hooks[#self.before_hooks + 1] = hook
  return self
end

--- r:after(hook) -> r; hook(ctx, err, result) sees every outcome
function _M.after(self, hook)
  if type(hook) ~= "function" then
    error("after: hook must be a function", 2)
  end
  self.after_hooks[#self.after_hooks + 1] = hook
  return self
end

local function register_entry(self, name, entry)
  return self:register(name, entry.handler, entry)
end

local function cannot_load(why)
  return fail("ELOAD", "cannot load handlers: " .. why)
end

-- the names of a table of handlers, sorted, and its entries by name; or
-- nil, why
local function entries_of(self, t)
  local names, values = {}, {}
  for name, v in pairs(t) do
    if type(name) ~= "string" then
      return nil, "key " .. text(name) .. " is not an api name"
    end
    if rawget(self.handlers, name) ~= nil then
      return nil, "api already registered: " .. name
    end
    names[#names + 1] = name
    values[name] = v
  end
  table.sort(names)
  return names, values
end

--- r:load(path_or_table) -> r | nil, err, code (EARG, ELOAD)
-- Registers every entry of a table of handlers: name = function (synchronous)
-- or name = { handler = function, async =, params =, before =, after = }.
-- A string is the path of a Lua file that returns such a table.
function _M.load(self, source)
  local t = source
  if type(source) == "string" then
    local chunk, err = loadfile(source)
    if not chunk then
      return cannot_load(text(err))
    end
    local ok, res = pcall(chunk)
    if not ok then
      return cannot_load(text(res))
    end
    t = res
    if type(t) ~= "table" then
      return cannot_load(source .. " returned " .. type(t) .. ", not a table")
    end
  elseif type(source) ~= "table" then
    return fail("EARG", "load: expected a file path or a table, got " .. type(source))
  end
  -- under pcall: the table's __pairs or __index may raise
  local read, names, values = pcall(entries_of, self, t)
  if not read then
    return cannot_load(text(names))
  elseif not names then
    return cannot_load(values)
  end
  for i = 1, #names do
    local name = names[i]
    local v = values[name]
    local ok, err
    if type(v) == "function" then
      ok, err = pcall(self.register, self, name, v)
    elseif type(v) == "table" then
      -- v.handler under pcall too: an entry's __index may raise
      ok, err = pcall(register_entry, self, name, v)
    else
      ok, err = false, "handler for " .. name .. " is a " .. type(v)
    end
    if not ok then
      -- all or nothing
      for j = 1, i - 1 do
        self.handlers[names[j]] = nil
      end
      return cannot_load(text(err))
    end
  end
  return self
end

local function run_after(self, entry, ctx, err, result)
  local hooks = self.after_hooks
  local api_after = entry and entry.after
  if api_after then
    local ok, e = pcall(api_after, ctx, err, result)
    if not ok then
      self.log("error", "after hook of api " .. ctx.api .. " raised: " .. text(e))
    end
  end
  for i = 1, #hooks do
    local ok, e = pcall(hooks[i], ctx, err, result)
    if not ok then
      self.log("error", "after hook raised: " .. text(e))
    end
  end
end

local function raised(self, ctx, what, e)
  self.log("error", str_format("%s of api %s raised (request %s): %s", what, text(ctx.api), text(ctx.req),
    text(e)))
  local msg = what .. " raised an error"
  if self.debug then
    msg = msg .. ": " .. text(e)
  end
  return new_error("ECRASH", msg)
end

-- runs a before hook; returns an error object to refuse, or nil to go on
local function run_before(self, hook, params, ctx, what)
  local ok, res, e = pcall(hook, params, ctx)
  if not ok then
    return raised(self, ctx, what, res)
  end
  if res == nil and e ~= nil or res == false then
    return from_value(e, "EDENIED", what .. " refused the command")
  end
  return nil
end

-- what JavaScript's `||` reads as false, among JSON values: the published
-- driver hands a handler `cmd.params || {}` (version 1 does the same)
local function js_falsy(v)
  return v == false or v == 0 or v == ""
end

-- every outcome of a command, once: the after hooks, then done. (Module
-- functions, not closures per command: LuaJIT compiles a synchronous
-- dispatch whole.)
local function complete(self, entry, ctx, done, err, result)
  run_after(self, entry, ctx, err, result)
  -- a done that raises is logged: the command is answered all the same
  call(self.log, "done", ctx.req, done, err, result)
  return true
end

-- an asynchronous handler answers through reply, once
local function dispatch_async(self, entry, params, ctx, done)
  local api = ctx.api
  local finished = false
  local replied = false
  local function reply(...)
    if replied then
      self.log("warn", str_format("api %s replied twice to request %s; second reply ignored",
        api, text(ctx.req)))
      return false
    end
    replied = true
    finished = true
    local result, err = ...
    if result == nil and err ~= nil then
      return complete(self, entry, ctx, done, from_value(err, "EHANDLER", "handler failed"))
    end
    return complete(self, entry, ctx, done, nil, result)
  end
  local ok, e = pcall(entry.handler, params, ctx, reply)
  if not ok then
    if replied then
      self.log("error", str_format("api %s raised after replying to request %s: %s",
        api, text(ctx.req), text(e)))
    else
      replied = true
      finished = true
      complete(self, entry, ctx, done, raised(self, ctx, "handler", e))
    end
  end
  return finished
end

-- what done may be: a function, or a table the shell calls (__call)
local function callable(f)
  if type(f) == "function" then
    return true
  end
  local m = getmetatable(f)
  return type(m) == "table" and rawget(m, "__call") ~= nil
end

-- what dispatch reads of cmd and ctx: the api and the params the handler
-- gets ({} for none; in version 1 for a falsy value too, as the published
-- driver hands cmd.params || {}); ctx gets api and cmd
local function read_command(cmd, ctx)
  local api = cmd.api
  ctx.api = api
  ctx.cmd = cmd
  local params = cmd.params
  if params == nil or params == null or (ctx.version == 1 and js_falsy(params)) then
    params = {}
  end
  return api, params
end

--- r:dispatch(cmd, ctx, done) -> finished | nil, err, "EARG"
-- Runs the handler for cmd.api. done(err, result) is called exactly once,
-- at once for a synchronous handler (logged, never raised, if it raises);
-- err is nil or { code =, message = }.
-- ctx is the table handed to hooks and handlers (req, api, cmd are set here).
-- Returns whether done has been called; nil, err, "EARG" (done never
-- called) when cmd or ctx is not a table or done cannot be called.
function _M.dispatch(self, cmd, ctx, done)
  if type(cmd) ~= "table" or type(ctx) ~= "table" or not callable(done) then
    return fail("EARG", "dispatch: cmd and ctx must be tables, done a function")
  end
  -- under pcall: cmd's or ctx's metamethods may raise
  local read, api, params = pcall(read_command, cmd, ctx)
  if not read then
    return fail("EARG", "dispatch: cmd or ctx cannot be read: " .. text(api))
  end
  local entry = type(api) == "string" and rawget(self.handlers, api) or nil

  if entry == nil then
    return complete(self, nil, ctx, done, new_error("ENOAPI", "unknown api: " .. text(api)))
  end

  local hooks = self.before_hooks
  for i = 1, #hooks do
    local err = run_before(self, hooks[i], params, ctx, "before hook")
    if err then
      return complete(self, entry, ctx, done, err)
    end
  end
  if entry.before then
    local err = run_before(self, entry.before, params, ctx, "before hook")
    if err then
      return complete(self, entry, ctx, done, err)
    end
  end

  if entry.check then
    local ok, res, msg = pcall(entry.check, params, ctx)
    if not ok then
      return complete(self, entry, ctx, done, raised(self, ctx, "params check", res))
    end
    if not res then
      return complete(self, entry, ctx, done,
        new_error("EPARAMS", text(msg or "invalid params", "invalid params")))
    end
  end

  if entry.async then
    return dispatch_async(self, entry, params, ctx, done)
  end

  local ok, result, err = pcall(entry.handler, params, ctx)
  if not ok then
    return complete(self, entry, ctx, done, raised(self, ctx, "handler", result))
  end
  if result == nil and err ~= nil then
    return complete(self, entry, ctx, done, from_value(err, "EHANDLER", "handler failed"))
  end
  return complete(self, entry, ctx, done, nil, result)
end

return _M
