-- mphybrid.loopback: both ends of the wire in one process, for tests. A
-- client's navigate runs the shell's on_load at once, and each web-view src
-- the shell writes reaches the client as the page's hashchange would, all
-- on a fake clock. Handlers are tested as the page will call them:
--
--   local lb = require("mphybrid.loopback").new{ handlers = { add = add } }
--   local call = lb:call("add", { a = 1, b = 2 })
--   assert.are.equal(3, call.result)

local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local core = require "mphybrid.core"
local protocol = require "mphybrid.protocol"
local errors = require "mphybrid.errors"

local type = type
local pairs = pairs
local ipairs = ipairs
local error = error
local tostring = tostring
local setmetatable = setmetatable
local str_find = string.find
local decode_uri_component = core.decode_uri_component
local cmd_of = protocol.cmd_of
local fail = errors.fail
local to_text = errors.text

local _M = { _VERSION = core._VERSION }
local mt = { __index = _M }

_M.defaults = {
  src = "https://h5.example.com/app/index.html", -- the web-view's page
  clock = 1700000000000,                         -- the fake clock's start, ms
}

-- a copy of t with the fields of over on top
local function merged(t, over)
  local m = {}
  for k, v in pairs(t or {}) do m[k] = v end
  for k, v in pairs(over) do m[k] = v end
  return m
end


-- a wire message: kept in lb.wire, handed to opts.trace
local function record(self, kind, text)
  local wire, trace = self.wire, self.trace
  if wire then
    wire[#wire + 1] = kind .. " " .. text
  end
  if trace then
    trace(kind, text)
  end
end

-- The navigate function of a page (a client): it records the URL, runs the
-- shell's onLoad, and hands each src the shell writes to that page, as its
-- hashchange would (unless lb.hashchange is false).
local function navigator(self, page)
  local function done(err, src)
    if err then
      return
    end
    record(self, "src", src)
    if self.hashchange then
      page.client:receive(src)
    end
  end
  return function(url)
    local sent = self.sent
    if sent then
      sent[#sent + 1] = url
    end
    record(self, "navigate", url)
    local cmd = cmd_of(url)
    if self.decoded then
      cmd = decode_uri_component(cmd) or cmd
    end
    self.shell:on_load({ cmd = cmd }, done)
  end
end

-- a client whose navigate goes to lb's shell, with opts on top of lb's
local function new_page(self, opts)
  local page = {}
  page.client = client.new(merged(self.client_opts, merged(opts, {
    navigate = navigator(self, page),
  })))
  return page.client
end

--- loopback.new(opts) -> lb
-- opts.handlers (a table as router:load takes it, or its path) or
-- opts.router; the others are optional: protocol (the client's, 1 or 2),
-- src, clock (ms), hashchange (false: a src reaches the page only at
-- lb:see()), decoded (onLoad hands the cmd already percent-decoded, as some
-- devices do), wire (false: neither lb.wire nor lb.sent is kept),
-- trace(kind, text) (called with each wire message as it passes), log
-- (default: kept in lb.logs), and shell / client: more options for
-- shell.new / client.new.
-- lb.router, lb.shell and lb.client are the three pieces; lb.clock the
-- fake time in ms; lb.sent the navigate URLs; lb.wire every message
-- ("navigate <url>", "src <src>", "hashchange <src>").
function _M.new(opts)
  if type(opts) ~= "table" then
    error("loopback.new: opts must be a table", 2)
  end
  if (opts.router == nil) == (opts.handlers == nil) then
    error("loopback.new: give one of opts.router and opts.handlers", 2)
  end
  for _, name in ipairs({ "trace", "log" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error("loopback.new: opts." .. name .. " must be a function", 2)
    end
  end
  for _, name in ipairs({ "shell", "client" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "table" then
      error("loopback.new: opts." .. name .. " must be a table", 2)
    end
  end
  if opts.clock ~= nil and (type(opts.clock) ~= "number" or opts.clock ~= opts.clock) then
    error("loopback.new: opts.clock must be a number of ms", 2)
  end
  local self = setmetatable({
    clock = opts.clock or _M.defaults.clock,
    sent = opts.wire ~= false and {} or nil,
    logs = {},
    wire = opts.wire ~= false and {} or nil,
    hashchange = opts.hashchange ~= false,
    trace = opts.trace,
    held = {},
  }, mt)
  local function now() return self.clock end
  local log = opts.log or function(level, msg)
    local logs = self.logs
    logs[#logs + 1] = level .. ": " .. msg
  end
  local r = opts.router
  if r == nil then
    r = router.new({ log = log })
    local ok, err = r:load(opts.handlers)
    if not ok then
      error("loopback.new: " .. tostring(err), 2)
    end
  end
  self.router = r
  self.shell = shell.new(merged(opts.shell, {
    router = r, src = opts.src or _M.defaults.src, now = now, log = log,
  }))
  self.decoded = opts.decoded
  self.client_opts = merged(opts.client, { now = now, log = log, protocol = opts.protocol })
  self.client = new_page(self)
  return self
end

--- lb:call(api, params [, opts]) -> call | nil, err, code
-- Calls api as the page does. call.id is the request id, call.calls how
-- many times the callback has run, call.err and call.result what it got:
-- set at once for a synchronous handler, when the reply comes for an
-- asynchronous one. When the command cannot be sent, what c:call returns.
function _M.call(self, api, params, opts)
  local call = { calls = 0 }
  local id, err, code = self.client:call(api, params, function(e, result)
    call.calls = call.calls + 1
    call.err, call.result = e, result
  end, opts)
  if id == nil then
    return nil, err, code
  end
  call.id = id
  return call
end

--- lb:see() -> delivered, route: the page's hashchange for the current
-- src (with hashchange = false, the only way a src reaches the page)
function _M.see(self)
  local src = self.shell:get_src()
  record(self, "hashchange", src)
  return self.client:receive(src)
end

--- lb:advance(ms) -> expired | nil, err, "EARG": moves the clock on and
-- fails the calls whose deadline has passed (ETIMEOUT); returns how many
function _M.advance(self, ms)
  if type(ms) ~= "number" or ms ~= ms then
    return fail("EARG", "advance: ms must be a number")
  end
  -- the clock moves on, never back, and can move again after
  if not (ms >= 0 and ms < math.huge) then
    return fail("EARG", "advance: ms must be finite and 0 or more")
  end
  self.clock = self.clock + ms
  return self.client:expire()
end

--- lb:defer(api [, opts]) -> lb: registers an asynchronous handler for api
-- that answers only when the test says so, with lb:answer. opts are
-- router:register's (params, before, after).
function _M.defer(self, api, opts)
  local held = self.held
  self.router:register(api, function(_, ctx, reply)
    held[ctx.req] = reply
  end, merged(opts, { async = true }))
  return self
end

--- lb:answer(call_or_id, result [, err]) -> true | nil, err, "ENOCALL"
-- The deferred handler of that call replies: reply(result, err). The new
-- src reaches the page (unless hashchange is false).
function _M.answer(self, call, result, err)
  local id = type(call) == "table" and rawget(call, "id") or call
  local reply = id ~= nil and self.held[id] or nil
  if reply == nil then
    return fail("ENOCALL", "no deferred call with request id " .. to_text(id))
  end
  self.held[id] = nil
  reply(result, err)
  return true
end

--- lb:page([opts]) -> client: another page on the same mini-program (the
-- page re-created, or a second web-view), opts on top of lb's client
-- options; the srcs the shell writes for its calls reach it
function _M.page(self, opts)
  return new_page(self, opts)
end

--- lb:reload(n) -> what on_load returns | nil, err, "ENOCALL": the page
-- re-created sends the nth command it sent again (the shell answers it
-- from its store, or runs it)
function _M.reload(self, n)
  local url = self.sent and n ~= nil and self.sent[n]
  if not url then
    return fail("ENOCALL", "no command number " .. to_text(n) .. " was sent")
  end
  return self.shell:on_load({ cmd = cmd_of(url) })
end

--- lb:logged(text) -> whether a log line holds text (plain, not a pattern)
function _M.logged(self, text)
  for _, line in pairs(self.logs) do
    if str_find(line, text, 1, true) then
      return true
    end
  end
  return false
end

return _M
