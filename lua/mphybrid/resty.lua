-- mphybrid.resty: the shell as an OpenResty gateway. The mini-program's
-- hybrid page forwards the command it received (and the web-view src it
-- holds) with wx.request; the gateway runs it through the shell and answers
-- with the new src. The HTTP contract, limits and an nginx.conf are in
-- docs/GATEWAY.md.
--
--   local gw = require("mphybrid.resty").new{ router = r }   -- once per worker
--   gw:serve()                                                -- content_by_lua*
-- luacheck: globals ngx

local core = require "mphybrid.core"
local shell = require "mphybrid.shell"
local protocol = require "mphybrid.protocol"
local errors = require "mphybrid.errors"
local limits = require "mphybrid.options"
local semaphore = require "ngx.semaphore"

local ngx = ngx
local type = type
local pcall = pcall
local rawget = rawget
local tostring = tostring
local tonumber = tonumber
local setmetatable = setmetatable
local getmetatable = getmetatable
local error = error
local str_byte = string.byte
local str_format = string.format

local array_mt = core.array_mt
local decode_json = core.decode_json
local encode_json = core.encode_json
local decode_query = core.decode_query
local new_error = errors.new
local from_value = errors.from_value
local text = errors.text
local count_replies = protocol.count_replies
local fail = errors.fail

local _M = { _VERSION = core._VERSION }
local mt = { __index = _M }

local give_up

_M.defaults = {
  max_body = 98304,        -- bytes of a POST body
  response_wait = 2000,    -- ms a version 2 answer waits for its handler
  handler_timeout = 30000, -- ms a handler may run before ETIMEOUT
}

-- session ids: 16 to 128 bytes of A-Z a-z 0-9 _ -
local SESSION_MIN, SESSION_MAX = 16, 128

-- the shell's own limits and its store's, passed through when given
local SHELL_LIMITS = { "max_cmd", "max_depth", "max_src", "max_hash" }
local STORE_LIMITS = { "max_outbox", "outbox_ttl", "max_store", "store_ttl", "max_sessions" }

-- opts[name] (or its default), checked as options.<kind> checks it
local function limit(opts, name, kind)
  return limits[kind]("resty.new", _M.defaults, opts, name)
end

local SESSION_BYTES = {}
for b = 0, 255 do
  local c = string.char(b)
  SESSION_BYTES[b] = c:match("^[A-Za-z0-9_-]$") ~= nil
end

-- (a byte loop, not a pattern: LuaJIT compiles it into the request's trace)
local function valid_session(id)
  local n = #id
  if n < SESSION_MIN or n > SESSION_MAX then
    return false
  end
  for i = 1, n do
    if not SESSION_BYTES[str_byte(id, i)] then
      return false
    end
  end
  return true
end
_M.valid_session = valid_session

---------------------------------------------------------------- the router
-- The shell dispatches through this: it refuses what the allowlist and
-- authorize refuse, runs the handler in a light thread (so that it may
-- yield and be waited for with a deadline), and writes each reply once.

local function refuse(view, write, err)
  view.outcome = err.code
  return write(err)
end

-- the body of a handler's light thread: whatever raises there still
-- answers the command
local function run_dispatch(router, cmd, ctx, reply_once)
  local ok, err = pcall(router.dispatch, router, cmd, ctx, reply_once)
  if not ok then
    router.log("error", "dispatch of request " .. tostring(ctx.req) .. " raised: " .. text(err))
    reply_once(new_error("ECRASH", "the command raised an error"))
  end
end

-- the router's done for a command: { gw, view, write } called as
-- reply_once(e, result) (a table with __call, not a closure per command:
-- LuaJIT compiles it). It writes the reply, the first time only, and wakes
-- the request waiting for it.
local reply_once_mt = {
  __call = function(reply_once, e, result)
    local view = reply_once.view
    if view.replied then
      reply_once.gw.log("warn", "reply to " .. tostring(view.outcome_req) .. " after its deadline ignored")
      return
    end
    view.replied = true
    if view.outcome == nil then
      view.outcome = e and e.code or "ok"
    end
    -- the write may yield (a store on cosockets): the command is done,
    -- for the request that waits for it, only once its src is written
    local ok, err = pcall(reply_once.write, e, result)
    if not ok then
      reply_once.gw.log("error", "writing the reply to " .. tostring(view.outcome_req) .. " raised: "
        .. text(err))
    end
    view.done = true
    local waiter = view.waiter
    if waiter then
      waiter:post(1)
    end
  end,
}

local function gate_dispatch(self, cmd, ctx, write)
  local gw = self.gw
  local view = ctx.shell
  local api = cmd.api
  view.outcome_req, view.outcome_api, view.version = ctx.req, api, ctx.version
  if gw.allow and (type(api) ~= "string" or not gw.allow[api]) then
    -- an api left out is answered as one that does not exist
    return refuse(view, write, new_error("ENOAPI", "unknown api: " .. tostring(api)))
  end
  if gw.authorize then
    local actx = {
      session = view.session, req = ctx.req, api = api, version = ctx.version,
      params = cmd.params, cmd = cmd,
    }
    local ok, res, err = pcall(gw.authorize, actx)
    if not ok then
      gw.log("error", "authorize raised (request " .. tostring(ctx.req) .. "): " .. text(res))
      return refuse(view, write, new_error("ECRASH", "authorize raised an error"))
    end
    if not res then
      return refuse(view, write, from_value(err, "EDENIED", "not authorized"))
    end
  end
  local reply_once = setmetatable({ gw = gw, view = view, write = write }, reply_once_mt)
  view.reply_once = reply_once
  if gw.direct[api] then
    -- never yields: no light thread, no deadline
    return self.router:dispatch(cmd, ctx, reply_once)
  end
  view.thread = ngx.thread.spawn(run_dispatch, self.router, cmd, ctx, reply_once)
end

-------------------------------------------------------------- the store
-- every method of the gateway's store, counted when it fails

local function counted(st, metrics)
  if not metrics then
    return st
  end
  local function wrap(name)
    local f = st[name]
    return function(_, ...)
      local a, b, c = f(st, ...)
      if a == nil then
        metrics:store_error()
      end
      return a, b, c
    end
  end
  return {
    claim = wrap("claim"), settle = wrap("settle"), session = wrap("session"),
    stats = function(_, id) return st:stats(id) end,
  }
end

--- resty.new(opts) -> gateway
-- opts.router (required): a mphybrid.router with the handlers.
-- opts.store: a store (docs/GATEWAY.md); default mphybrid.store.shdict on
--   the zones "mphybrid" and "mphybrid_claims".
-- opts.apis: array of the api names served (default: all the router has).
-- opts.direct: array of api names whose handlers never yield: they run in
--   the request itself, without a light thread (faster), and so without
--   response_wait or handler_timeout.
-- opts.authorize(ctx) -> true | nil, err: ctx = { session, req, api,
--   version, params, cmd }; runs in the request (ngx.var, ngx.req work).
-- opts.metrics: lua_shared_dict for counters (default "mphybrid_metrics"
--   when declared; false for none).
-- opts.replay_scope: "session" (default: a stored reply is replayed only
--   to the session that sent the command) or "global" (by request id
--   alone: a re-created web-view page, with a new session, gets it too).
-- opts.env: handed to every handler as ctx.env.
-- opts.log(level, message): default ngx.log.
-- Limits: max_body, response_wait, handler_timeout (resty.defaults), the
-- shell's (max_cmd, max_depth, max_src, max_hash) and, for the default
-- store, the store's (max_outbox, outbox_ttl, store_ttl, ...).
function _M.new(opts)
  if type(opts) ~= "table" then
    error("resty.new: opts must be a table", 2)
  end
  local router = limits.router("resty.new", opts.router)
  if opts.authorize ~= nil and type(opts.authorize) ~= "function" then
    error("resty.new: opts.authorize must be a function", 2)
  end
  local allow
  if opts.apis ~= nil then
    if type(opts.apis) ~= "table" then
      error("resty.new: opts.apis must be an array of api names", 2)
    end
    allow = {}
    for i = 1, #opts.apis do
      local api = opts.apis[i]
      if type(api) ~= "string" then
        error("resty.new: opts.apis must be an array of api names", 2)
      end
      allow[api] = true
    end
  end
  local direct = {}
  if opts.direct ~= nil then
    if type(opts.direct) ~= "table" then
      error("resty.new: opts.direct must be an array of api names", 2)
    end
    for i = 1, #opts.direct do
      direct[opts.direct[i]] = true
    end
  end
  local self = {
    router = router,
    allow = allow,
    direct = direct,
    authorize = opts.authorize,
    log = errors.logger("resty.new", opts.log, router.log),
    max_body = limit(opts, "max_body", "size"),
    response_wait = limit(opts, "response_wait", "number"),
    handler_timeout = limit(opts, "handler_timeout", "number"),
  }
  if self.response_wait > self.handler_timeout then
    error("resty.new: response_wait must not be over handler_timeout", 2)
  end

  local metrics_name = opts.metrics
  if metrics_name == nil then
    metrics_name = "mphybrid_metrics"
    if not (ngx.shared and ngx.shared[metrics_name]) then
      metrics_name = false
    end
  end
  if metrics_name then
    local ok, m = pcall(require("mphybrid.resty.metrics").new, metrics_name)
    if not ok then
      error("resty.new: opts.metrics: " .. text(m), 2)
    end
    self.counters = m
  end

  local st = opts.store
  if st == nil then
    local sopts = { claim_ttl = self.handler_timeout + 5000 }
    for i = 1, #STORE_LIMITS do
      sopts[STORE_LIMITS[i]] = opts[STORE_LIMITS[i]]
    end
    st = require("mphybrid.store.shdict").new(sopts)
  end
  local sopts = {
    router = setmetatable({ gw = self, router = router, log = self.log }, { __index = {
      dispatch = gate_dispatch } }),
    src = "about:blank",
    store = counted(st, self.counters),
    log = self.log,
    env = opts.env,
    replay_scope = opts.replay_scope or "session",
  }
  for i = 1, #SHELL_LIMITS do
    sopts[SHELL_LIMITS[i]] = opts[SHELL_LIMITS[i]]
  end
  self.shell = shell.new(sopts)
  -- a body is one object of strings: nothing nested in it (EBODY)
  self.body_opts = { max_size = self.max_body, max_depth = 1 }
  return setmetatable(self, mt)
end

---------------------------------------------------------------- HTTP

-- (no Cache-Control: the answer has no validator or lifetime a cache could
-- use; each header set costs about a microsecond)
local function send(status, body)
  if status ~= 200 then
    ngx.status = status
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.print(body)
end

local function set_vars(req, session, api, outcome, ms)
  local var = ngx.var
  var.mphybrid_req = req
  var.mphybrid_session = session
  var.mphybrid_api = api
  var.mphybrid_outcome = outcome
  var.mphybrid_ms = ms
end

-- the nginx variables of the log line, when the location declares them
local function log_vars(self, req, session, api, outcome, seconds)
  if self.log_vars ~= false then
    if not pcall(set_vars, req or "-", session or "-", api or "-", outcome,
      str_format("%.0f", seconds * 1000)) then
      self.log_vars = false -- not declared in this location: docs/GATEWAY.md
    end
  end
end

local function elapsed()
  ngx.update_time()
  return ngx.now() - ngx.req.start_time()
end

-- a transport fault: 4xx {"error":{"code":..., "message":...}}; returns
-- nil, "CODE: message", code
local function refuse_request(self, status, code, message)
  send(status, encode_json({ error = { code = code, message = message } }))
  if self.counters then
    self.counters:transport(code)
  end
  log_vars(self, nil, nil, nil, code, elapsed())
  return fail(code, message)
end

-- the three fields, from a POST body or a GET query; or a refusal
local function read_fields(self)
  local method = ngx.req.get_method()
  local fields
  if method == "POST" then
    local length = tonumber(ngx.var.http_content_length)
    if length and length > self.max_body then
      return nil, 413, "ETOOLARGE", "body of " .. length .. " bytes over the limit of "
        .. self.max_body .. " bytes"
    end
    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if body == nil then
      if ngx.req.get_body_file() then
        return nil, 413, "ETOOLARGE", "body over the limit of " .. self.max_body .. " bytes"
      end
      return nil, 400, "EBODY", "the body is empty: a JSON object {cmd, src, session} is expected"
    end
    if #body > self.max_body then
      return nil, 413, "ETOOLARGE", "body of " .. #body .. " bytes over the limit of "
        .. self.max_body .. " bytes"
    end
    local err, code
    fields, err, code = decode_json(body, self.body_opts)
    if code == "EDEPTH" then
      return nil, 400, "EBODY", "the body must be a JSON object with nothing nested in it {cmd, src, session}"
    elseif fields == nil then
      return nil, 400, "EBODY", "the body is not JSON (" .. tostring(err) .. ")"
    end
    if type(fields) ~= "table" or getmetatable(fields) == array_mt then
      return nil, 400, "EBODY", "the body must be a JSON object {cmd, src, session}"
    end
  elseif method == "GET" then
    local args = ngx.var.args or ""
    if #args > self.max_body then
      return nil, 413, "ETOOLARGE", "query over the limit of " .. self.max_body .. " bytes"
    end
    local err
    fields, err = decode_query(args)
    if fields == nil then
      return nil, 400, "EQUERY", "the query cannot be read (" .. tostring(err) .. ")"
    end
  else
    ngx.header["Allow"] = "GET, POST"
    return nil, 405, "EMETHOD", "method " .. method .. " not allowed: use POST or GET"
  end
  local cmd, src, session = rawget(fields, "cmd"), rawget(fields, "src"), rawget(fields, "session")
  if type(cmd) ~= "string" then
    return nil, 400, "EFIELD", "cmd must be a string"
  end
  if type(src) ~= "string" then
    -- (what else the shell takes as a src, s:for_session says)
    return nil, 400, "EFIELD", "src must be a string"
  end
  if type(session) ~= "string" then
    return nil, 400, "EFIELD", "session must be a string"
  end
  if not valid_session(session) then
    return nil, 400, "ESESSION", "session must be " .. SESSION_MIN .. " to " .. SESSION_MAX
      .. " bytes of A-Z a-z 0-9 _ -"
  end
  return cmd, src, session
end

local function observe(self, view, src)
  local outcome = view.outcome or "ok"
  local api = view.outcome_api
  local label = (type(api) == "string" and self.router:has(api)) and api or "other"
  local seconds = elapsed()
  local m = self.counters
  if m then
    m:command(label, outcome, seconds)
    if view.version == 2 and src and outcome ~= "deferred" then
      m:outbox(count_replies(src))
    end
  end
  log_vars(self, view.outcome_req, view.session, label, outcome, seconds)
end

local function answer(src, back)
  send(200, '{"src":' .. (encode_json(src) or '""') .. ',"back":' .. (back and "true" or "false") .. "}")
end

-- the answer of a command whose handler has not finished: wait for it, up
-- to response_wait (version 2) or handler_timeout (version 1: the
-- published page has no way to take a later reply)
local function wait(self, view, src)
  if view.done then
    -- finished, but its src could not be written
    return view.src, true
  end
  local sema = semaphore.new()
  view.waiter = sema
  if view.version == 2 then
    if sema:wait(self.response_wait / 1000) then
      return view.src, true
    end
    -- answered now without its reply; the reply goes to the outbox. The
    -- request stays open until the handler ends: the client must not
    -- send its next request on this connection
    view.outcome = "deferred"
    view.deferred = true
    ngx.header["Connection"] = "close"
    return src, true
  end
  if not sema:wait(self.handler_timeout / 1000) then
    give_up(self, view)
  end
  return view.src, true
end

-- the answer of a batch (mphybrid.batch) whose entries have not all
-- replied: wait for the last, up to response_wait; then answer with the
-- replies written so far, the others going to the outbox
local function wait_batch(self, view, src)
  local sema = semaphore.new()
  view.waiter = sema
  if sema:wait(self.response_wait / 1000) then
    return view.answered, true
  end
  view.outcome = "deferred"
  view.deferred = true
  return view.batch.src or src, true
end

-- the entries of a batch still running past handler_timeout
local function give_up_batch(self, view)
  local views = view.batch.views
  for i = 1, #views do
    local v = views[i]
    if not v.done and v.thread then
      give_up(self, v)
    end
  end
end

-- the handler ran over handler_timeout: its command is answered ETIMEOUT
-- and its light thread ends
give_up = function(self, view)
  view.outcome = "ETIMEOUT"
  view.reply_once(new_error("ETIMEOUT", "the handler ran over the limit of "
    .. self.handler_timeout .. " ms"))
  ngx.thread.kill(view.thread)
end

--- gw:serve() -> nothing | nil, err, code: answers the request
-- (content_by_lua*). Nothing a client sends makes it raise; a request
-- refused before the shell (a transport fault) returns its failure.
function _M.serve(self)
  local cmd, src, session, message = read_fields(self)
  if cmd == nil then
    return refuse_request(self, src, session, message)
  end
  local view, why = self.shell:for_session(session, src)
  if view == nil then
    -- a src the shell refuses: blank, or over max_src
    local _, what = errors.parse(why)
    return refuse_request(self, 400, "EFIELD", what)
  end
  local out, back = view:on_load({ cmd = cmd }, function(_, written)
    -- a batch is answered once all its entries have replied (each
    -- entry, on a view of its own, wakes its own waiter)
    if rawget(view, "batch") then
      view.answered = written or view.src
      local waiter = view.waiter
      if waiter then
        waiter:post(1)
      end
    end
  end)
  if out == false then
    if rawget(view, "batch") then
      out, back = wait_batch(self, view, src)
    else
      out, back = wait(self, view, src)
    end
  end
  if out == nil then
    -- (back: the failure on_load returned)
    self.log("error", "no src could be written (session " .. session .. "): " .. tostring(back))
    out, back = src, true
  end
  answer(out, back)
  observe(self, view, out)
  if view.deferred then
    -- the handler goes on after the answer; the request ends with it
    ngx.eof()
    if not view.waiter:wait((self.handler_timeout - self.response_wait) / 1000) then
      if rawget(view, "batch") then
        give_up_batch(self, view)
      else
        give_up(self, view)
      end
    end
  end
end

--- gw:metrics() -> nothing | nil, err, "ENOMETRICS": answers the request
-- with the metrics (content_by_lua*)
function _M.metrics(self)
  local m = self.counters
  if not m then
    return refuse_request(self, 404, "ENOMETRICS", "no lua_shared_dict for metrics is declared")
  end
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  ngx.print(m:render())
end

return _M
