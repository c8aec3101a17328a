-- mphybrid.shell: the mini-program side. It holds the web-view src, runs
-- each command that reaches the hybrid page's onLoad through a router, and
-- answers by writing a new fragment into the src. Protocol: docs/PROTOCOL.md.

local core = require "mphybrid.core"
local limits = require "mphybrid.options"
local read_clock = limits.read_clock
local errors = require "mphybrid.errors"
local stores = require "mphybrid.store"
local memory_store = require "mphybrid.store.memory"
local batch = require "mphybrid.batch"
local protocol = require "mphybrid.protocol"

local type = type
local pairs = pairs
local tostring = tostring
local tonumber = tonumber
local pcall = pcall
local setmetatable = setmetatable
local error = error
local math_floor = math.floor
local str_byte = string.byte
local str_sub = string.sub

local decode_cmd = core.decode_cmd
local encode_reply = core.encode_reply
local encode_uri_component = core.encode_uri_component
local new_error = errors.new
local parse_error = errors.parse
local to_text = errors.text
local from_value = errors.from_value
local fail = errors.fail
local call = errors.call

local _M = { _VERSION = core._VERSION }
local mt = { __index = _M }

local reply_value = protocol.reply_value
local error_value = protocol.error_value
local reply_id = protocol.reply_id
-- a version 1 command without a usable req is answered under it
local DEFAULT_REQ = protocol.default_req
local MARK_PAIR = protocol.mark_pair

-- the shell's own limits; the limits of its default store (max_outbox,
-- outbox_ttl, max_store, store_ttl) are mphybrid.store.defaults
_M.defaults = {
  max_cmd = protocol.max_cmd,     -- bytes of the cmd option, as received
  max_depth = protocol.max_depth, -- nesting of the command's JSON
  max_src = 16384,       -- bytes of the web-view src written
  max_hash = protocol.max_hash,   -- bytes of the page's own fragment kept for it
  max_running = 256,     -- version 2 handlers running at once
}
for name, value in pairs(stores.defaults) do
  if _M.defaults[name] == nil then
    _M.defaults[name] = value
  end
end

-- the session of a shell made without opts.session
local DEFAULT_SESSION = "default"

-- nil, or the code and why of a src the shell cannot write into: EARG for
-- no string; ESIZE for one over max_src; EURL for a blank one, what the
-- core's encode_reply refuses (nothing left once trimmed as JavaScript
-- trims: core.trim, which copies, only for a src that does not start with a
-- visible ASCII character)
local function bad_src(src, max_src)
  if type(src) ~= "string" then
    return "EARG", "must be a string, got " .. type(src)
  end
  if #src > max_src then
    return "ESIZE", "of " .. #src .. " bytes is over max_src (" .. max_src .. " bytes)"
  end
  local b = str_byte(src, 1)
  if not (b and b > 32 and b < 127) and core.trim(src) == "" then
    return "EURL", src == "" and "must not be empty" or "must not be blank"
  end
  return nil
end

-- opts[name] (or its default), checked as options.<kind> checks it
local function limit(opts, name, kind, min)
  return limits[kind]("shell.new", _M.defaults, opts, name, min)
end

--- shell.new(opts) -> shell; raises on an option it cannot use
-- opts.router (required), opts.src (required: the web-view src),
-- opts.now() -> ms, opts.log(level, message), opts.env (handed to every
-- handler as ctx.env: timers, services), opts.store (where the outbox, the
-- page's hash and the replay store are kept: see docs/GATEWAY.md; default a
-- mphybrid.store.memory of this shell's own, made with the store limits of
-- opts), opts.session (the web-view session this shell answers for, the
-- key of its outbox and hash in the store; default "default"),
-- opts.replay_scope ("global": a replayed command is known by its request id
-- alone, the default; "session": by its session and request id, so that a
-- reply is only ever replayed to the session that asked), and the limits in
-- shell.defaults.
function _M.new(opts)
  if type(opts) ~= "table" then
    error("shell.new: opts must be a table", 2)
  end
  local router = limits.router("shell.new", opts.router)
  if type(opts.src) ~= "string" or opts.src == "" then
    error("shell.new: opts.src must be a non-empty string (the web-view src)", 2)
  end
  local max_src = limit(opts, "max_src", "size")
  local _, why = bad_src(opts.src, max_src)
  if why then
    error("shell.new: opts.src (the web-view src) " .. why, 2)
  end
  if opts.now ~= nil and type(opts.now) ~= "function" then
    error("shell.new: opts.now must be a function", 2)
  end
  local store = opts.store
  if store == nil then
    store = memory_store.new({
      max_outbox = opts.max_outbox, outbox_ttl = opts.outbox_ttl,
      max_store = opts.max_store, store_ttl = opts.store_ttl,
    })
  elseif type(store) ~= "table" or type(store.claim) ~= "function"
    or type(store.settle) ~= "function" or type(store.session) ~= "function" then
    error("shell.new: opts.store must be a store (claim, settle, session)", 2)
  end
  local scope = opts.replay_scope
  if scope ~= nil and scope ~= "global" and scope ~= "session" then
    error('shell.new: opts.replay_scope must be "global" or "session"', 2)
  end
  local session = opts.session
  if session == nil then
    session = DEFAULT_SESSION
  elseif type(session) ~= "string" or session == "" then
    error("shell.new: opts.session must be a non-empty string", 2)
  end
  local self = {
    router = router,
    src = opts.src,
    now = opts.now or limits.clock(),
    log = errors.logger("shell.new", opts.log, router.log),
    env = opts.env,
    max_cmd = limit(opts, "max_cmd", "size"),
    max_depth = limit(opts, "max_depth", "depth"),
    max_src = max_src,
    max_hash = limit(opts, "max_hash", "size"),
    max_running = limit(opts, "max_running", "count"),
    store = store,
    session = session,
    replay_by_session = scope == "session",
    -- shared with every shell of for_session: the version 2 handlers
    -- this shell runs now, at most max_running
    running = { count = 0 },
    last_stamp = 0,
  }
  self.decode_opts = { max_size = self.max_cmd, max_depth = self.max_depth }
  self.encode_opts = { max_size = self.max_src }
  return setmetatable(self, mt)
end

--- s:get_src() -> the web-view src as last written
function _M.get_src(self)
  return self.src
end

--- s:set_src(url) -> true | nil, err, code (EARG, EURL for a blank url,
-- ESIZE for one over max_src): the web-view now shows another url
function _M.set_src(self, url)
  local code, why = bad_src(url, self.max_src)
  if code then
    return fail(code, "set_src: the web-view src " .. why)
  end
  self.src = url
  return true
end

--- s:stats() -> { outbox =, store =, running = }: what the store reports
-- for this shell's session (a store may leave out what it cannot count)
function _M.stats(self)
  return self.store:stats(self.session)
end

-- the stamp v=<ms> that ends the fragment of src, or 0 (a byte loop, not
-- a pattern: LuaJIT compiles it)
local function stamp_of(src)
  local i = #src
  while i > 0 do
    local b = str_byte(src, i)
    if b < 48 or b > 57 then
      break
    end
    i = i - 1
  end
  if i == #src or i < 3 or str_byte(src, i) ~= 61 or str_byte(src, i - 1) ~= 118 then -- "v="
    return 0
  end
  local sep = str_byte(src, i - 2)
  if sep ~= 35 and sep ~= 38 then -- "#" or "&"
    return 0
  end
  return tonumber(str_sub(src, i + 1)) or 0
end

--- s:for_session(session, src) -> shell | nil, err, code (EARG; EURL, ESIZE
-- for a src s:set_src refuses)
-- A shell for another web-view session that shares this one's router,
-- store, clock, limits and env: what a gateway makes for each request,
-- with the session id and the web-view src the mini-program page sent.
-- Its stamps stay above the one that ends src. Cheap: one table.
function _M.for_session(self, session, src)
  if type(session) ~= "string" or session == "" then
    return fail("EARG", "for_session: session must be a non-empty string")
  end
  local code, why = bad_src(src, self.max_src)
  if code then
    return fail(code, "for_session: the web-view src " .. why)
  end
  local view_mt = self.view_mt
  if view_mt == nil then
    view_mt = { __index = self }
    self.view_mt = view_mt
  end
  return setmetatable({ session = session, src = src, last_stamp = stamp_of(src) }, view_mt)
end

-- the page's clock in ms; a broken clock (options.read_clock) reads as the
-- last stamp written
local function clock(self)
  return read_clock(self.now, self.last_stamp)
end

-- the fragment stamp: the clock in ms (now, when the caller has just read
-- it), strictly increasing, so that every fragment written differs from the
-- last one and fires hashchange
local function next_stamp(self, now)
  local t = math_floor(now or clock(self))
  if t <= self.last_stamp then
    t = self.last_stamp + 1
  end
  self.last_stamp = t
  return t
end

---------------------------------------------------------------- replies

local function ereply(msg)
  return new_error("EREPLY", msg)
end

-- req is a usable request id (decode_cmd and the reserved names checked
-- it), so what the fragment cannot carry is the value: not UTF-8, or over
-- max_src; it is answered EREPLY under its own req. No src over max_src is
-- written: when even EREPLY does not fit, the failure is EREPLY (as in
-- version 2)
local function write_v1(self, req, value)
  local stamp = next_stamp(self)
  -- max_src bounds the encoding itself, so a long result costs no more
  local src, err, code = encode_reply(self.src, { { req, value } }, stamp, self.encode_opts)
  if not src and code ~= "EURL" then
    src, err, code = encode_reply(self.src, { { req, "EREPLY" } }, stamp, self.encode_opts)
    if code == "ESIZE" then
      err = "EREPLY: web-view src over max_src even with the reply as EREPLY"
    end
  end
  if not src then
    return nil, err
  end
  self.src = src
  return src
end

-- one step on this shell's session in the store (see mphybrid.store):
-- returns the session's state, or a state of change alone when the store
-- fails (logged: the command is still answered)
local function session_step(self, now, change)
  local state, dropped = self.store:session(self.session, now, change)
  if state == nil then
    self.log("error", "store: session " .. self.session .. ": " .. to_text(dropped))
    return { hash = change.hash, outbox = change.req and { { change.req, change.value, now } } or {} }
  end
  if dropped then
    for i = 1, #dropped do
      local d = dropped[i]
      if d[2] == "full" then
        self.log("warn", "outbox full: reply to " .. d[1] .. " dropped unacknowledged")
      else
        self.log("warn", "outbox: reply to " .. d[1] .. " expired unacknowledged")
      end
    end
  end
  return state
end

-- the bytes "&<req>=<value>" an outbox entry { req, value, at } adds to a
-- fragment (the "&" and the pair), measured once per entry; false when a
-- fragment cannot carry the pair
local function pair_size(e)
  local size = e.size
  if size == nil then
    local k = encode_uri_component(e[1])
    local v = k and encode_uri_component(e[2])
    size = v and #k + #v + 2 or false
    e.size = size
  end
  return size
end

-- a reply the fragment cannot carry: drop it, say so where the published
-- client looks for a reply without an id
local function unwritable(self, now, req, err)
  session_step(self, now, { ack = { req } })
  self.log("error", "reply to " .. req .. " cannot be written: " .. to_text(err))
  return write_v1(self, DEFAULT_REQ, (parse_error(err, "EREPLY")))
end

-- applies change to the session (see mphybrid.store.change_outbox), then
-- writes its outbox into the src: the newest replies that fit in max_src
-- together (with the mph, hash and v pairs), the oldest waiting for a later
-- write. The common case first: when the old src and the replies, not yet
-- encoded, fit in max_src, one encode held to max_src writes them all if
-- they fit encoded. Otherwise each reply is measured once and the src
-- encoded once more. Either way a write costs time linear in the outbox.
-- Returns src, err, and the value that replaced change.value when that
-- reply alone was over max_src (it became EREPLY, in the outbox; the caller
-- stores it so).
local function write_v2(self, now, change)
  local state = session_step(self, now, change)
  local outbox = state.outbox
  local n = #outbox
  local stamp = next_stamp(self, now)
  local hash_pair = protocol.hash_pair(state.hash)
  local src
  -- (room for the common outbox, one reply, and the hash pair)
  local all, bytes = { MARK_PAIR, nil, nil }, #self.src
  for i = 1, n do
    local e = outbox[i]
    local v = e[2]
    if type(v) ~= "string" then
      bytes = nil
      break
    end
    bytes = bytes + #e[1] + #v + 2
    all[i + 1] = e
  end
  if bytes and bytes <= self.max_src then
    all[n + 2] = hash_pair
    src = encode_reply(self.src, all, stamp, self.encode_opts)
    if src then
      -- every reply fits: what the measuring below would write
      self.src = src
      return src
    end
  end
  local base, err = encode_reply(self.src, { MARK_PAIR, hash_pair }, stamp)
  if not base then
    return nil, err
  end
  local room = self.max_src - #base
  if room < 0 then
    return nil, "EREPLY: web-view src over max_src even without replies"
  end
  if n == 0 then
    self.src = base
    return base
  end
  local newest = outbox[n]
  local replaced
  if not pair_size(newest) then
    local _, e = encode_reply(self.src, { newest }, stamp)
    return unwritable(self, now, newest[1], e)
  end
  if pair_size(newest) > room then
    -- the newest reply does not fit in a fragment on its own: it
    -- becomes EREPLY
    local req = newest[1]
    local rerr = ereply("reply of " .. (#base + pair_size(newest)) .. " bytes over the limit of "
      .. self.max_src .. " bytes")
    local value = error_value(rerr, self.encode_opts)
    state = session_step(self, now, { req = req, value = value })
    outbox = state.outbox
    n = #outbox
    newest = outbox[n]
    if req == change.req then
      replaced = value
    end
    if pair_size(newest) > room then
      return nil, "EREPLY: web-view src over max_src even with the newest reply as EREPLY"
    end
  end
  local first, used = n, pair_size(newest)
  for i = n - 1, 1, -1 do
    local size = pair_size(outbox[i])
    if not size or used + size > room then
      break
    end
    used = used + size
    first = i
  end
  local list = { MARK_PAIR }
  for i = first, n do
    list[#list + 1] = outbox[i]
  end
  list[#list + 1] = hash_pair
  src, err = encode_reply(self.src, list, stamp)
  if not src then
    return unwritable(self, now, newest[1], err)
  end
  self.src = src
  return src, nil, replaced
end

-- done(err, src) of a reply written later (on_load returned false): err
-- nil and the new src, or the error object of a src that could not be
-- written. A done that raises is logged (errors.call).
local function report_later(self, req, done, src, err)
  if src then
    call(self.log, "on_load's done", req, done, nil, src)
  else
    call(self.log, "on_load's done", req, done, from_value(err, "EREPLY", "the reply could not be written"))
  end
end

-- what on_load returns for a reply written at once: the src as it stands
-- now and true (navigate back), done(nil, src) heard first (logged if it
-- raises); or, when no src could be written, the failure (done never
-- called: a failure is returned or heard, not both). A done (or handler)
-- that ran another command wrote a newer src: that one is returned, as
-- the web-view must show the shell's latest src (in version 2 it carries
-- every unacknowledged reply, this one too)
local function report_now(self, req, src, done, err)
  if not src then
    return fail(parse_error(err, "EREPLY"))
  end
  if done then
    call(self.log, "on_load's done", req, done, nil, src)
  end
  return self.src, true
end

-- what became of the last command, for a gateway's log and metrics: the
-- outcome (an error code, "replay" or "running"; a dispatched command's is
-- set by whoever watches the dispatch), its request id and api
local function note(self, outcome, req, api)
  self.outcome, self.outcome_req, self.outcome_api = outcome, req, api
end

-- answers a command that never reached a handler, under req in version 2
-- when it asked for it and has one, else in version 1 (under
-- miniProgramResult when it has none)
local function answer_error(self, req, version, code, msg, done)
  note(self, code, req)
  local now = clock(self)
  local src, err
  if version == 2 and req then
    src, err = write_v2(self, now, { req = req, value = error_value(new_error(code, msg), self.encode_opts) })
  else
    src, err = write_v1(self, req or DEFAULT_REQ, code)
  end
  return report_now(self, req, src, done, err)
end

-- Dispatches cmd; write(err, result) writes the reply into the src and
-- returns src, err. A synchronous handler's src is returned at once (with
-- true: navigate back); an asynchronous one's goes to done when it comes.
-- job: the command being answered, a table { shell, req, ... } that the
-- router calls as its done(e, result) (a table with __call, not a closure
-- per command: LuaJIT compiles a synchronous command whole); job.write(job,
-- e, result) writes the reply and returns src, err; job.done and
-- job.dispatching (true) are set where it is made, with its other fields.
local job_mt = {
  __call = function(job, e, result)
    local src, werr = job.write(job, e, result)
    if job.dispatching then
      -- answered within dispatch: run reports it
      job.written, job.written_err = src or false, werr
    elseif job.done then
      report_later(job.shell, job.req, job.done, src, werr)
    end
  end,
}

local function run(self, cmd, ctx, done, job)
  setmetatable(job, job_mt)
  self.router:dispatch(cmd, ctx, job)
  job.dispatching = false
  local written = job.written
  if written ~= nil then
    return report_now(self, job.req, written or nil, done, job.written_err)
  end
  return false
end

local function write_v1_reply(job, e, result)
  local self = job.shell
  return write_v1(self, job.req, (reply_value(1, e, result, self.encode_opts)))
end

local function write_v2_reply(job, e, result)
  local self, req, key, api = job.shell, job.req, job.key, job.api
  local store, running = self.store, self.running
  -- the router calls this once
  running.count = running.count - 1
  local t = clock(self)
  local value = reply_value(2, e, result, self.encode_opts)
  local waiting, serr = store:settle(key, api, value, t)
  if waiting == nil then
    self.log("error", "store: settle " .. key .. ": " .. to_text(serr))
    waiting = {}
  end
  for i = 1, #waiting do
    -- a session that replayed the command while it ran gets the reply too
    local ok, werr = store:session(waiting[i], t, { req = req, value = value })
    if ok == nil then
      self.log("error", "store: session " .. tostring(waiting[i]) .. ": " .. to_text(werr))
    end
  end
  local src, werr, replaced = write_v2(self, t, { req = req, value = value })
  if replaced then
    store:settle(key, api, replaced, t)
  end
  return src, werr
end

local function index_cmd(options)
  return options.cmd
end

-- options.cmd, or nil when options' metamethods raise (answered as no cmd)
local function read_cmd_option(options)
  local ok, raw = pcall(index_cmd, options)
  return ok and raw or nil
end

--- s:on_load(options [, done]) -> src, true | false | nil, err, code
-- What the hybrid page's onLoad does with its options: decode options.cmd,
-- run it, and write the reply into the web-view src. Returns the new src and
-- true (navigate back now) when the reply is ready at once; false while an
-- asynchronous handler runs. The src returned is the shell's as it stands
-- when on_load returns (s:get_src()): newer than done's when done ran
-- another command. done(err, src), when given, is called exactly
-- once, as soon as the reply is written (err nil) or could not be (src
-- nil), unless on_load returns a failure: nil, err, code when no src could
-- be written at once (or done is not a function: EARG). A done that raises
-- is logged (opts.log), never raised.
function _M.on_load(self, options, done)
  if done ~= nil and type(done) ~= "function" then
    return fail("EARG", "on_load: done must be a function")
  end
  local raw = type(options) == "table" and read_cmd_option(options) or nil
  if type(raw) ~= "string" then
    return answer_error(self, nil, 1, "ECMD", "the page options carry no cmd string", done)
  end
  -- refused, the command is answered under the req decode_cmd read of it,
  -- in the version it asked for (nothing read: under miniProgramResult)
  local cmd, err, code, read, req, version = decode_cmd(raw, self.decode_opts)
  if not cmd then
    if code == "ECMD" then
      -- a version 2 batch has no api of its own (mphybrid.batch)
      local entries, berr = protocol.decode_batch(read)
      if entries then
        return batch.run(self, entries, done)
      elseif berr then
        err = berr
      end
    end
    local c, msg = parse_error(err, code or "ECMD")
    return answer_error(self, reply_id(req, version), version, code or c, msg, done)
  end

  version = err
  req = cmd.req
  if version == 1 then
    -- version 1: the reply format of the published code
    if req ~= nil and not reply_id(req, 1) then
      return answer_error(self, nil, 1, "ECMD", "request id " .. req
        .. " is the fragment's own key", done)
    end
    req = req or DEFAULT_REQ
    local ctx = { req = req, version = 1, shell = self, env = self.env, api = cmd.api, cmd = cmd }
    return run(self, cmd, ctx, done, { shell = self, req = req, write = write_v1_reply, done = done,
      dispatching = true })
  end

  if not reply_id(req, 2) then
    return answer_error(self, nil, 1, "ECMD",
      "a version 2 command needs a req other than mph, hash and v", done)
  end
  local ack, hash = cmd.ack, cmd.hash
  if not protocol.valid_acks(ack) then
    return answer_error(self, req, 2, "ECMD", "ack must be an array of request ids", done)
  end
  if hash ~= nil and (type(hash) ~= "string" or #hash > self.max_hash) then
    return answer_error(self, req, 2, "ECMD",
      "hash must be a string of at most " .. self.max_hash .. " bytes", done)
  end

  local now = clock(self)
  local store, api = self.store, cmd.api
  if ack or hash ~= nil then
    -- acknowledged replies leave the outbox before the command runs
    session_step(self, now, { ack = ack, hash = hash })
  end
  local running = self.running
  local busy = running.count >= self.max_running
  if busy and store.release == nil then
    -- (a store without release: refused before the claim)
    return answer_error(self, req, 2, "EBUSY",
      "already " .. running.count .. " handlers running (max_running)", done)
  end

  -- the key of the command in the replay store
  local key = self.replay_by_session and self.session .. "\t" .. req or req
  local claimed, stored, scode = store:claim(key, api, self.session, now)
  if claimed == nil then
    local c, msg = parse_error(stored, scode or "ESTORE")
    return answer_error(self, req, 2, scode or c, msg, done)
  end
  if not claimed then
    if stored.api ~= api then
      return answer_error(self, req, 2, "ECMD",
        "request id " .. req .. " was already used for api " .. tostring(stored.api), done)
    end
    if stored.running then
      -- the first run will write the reply; nothing new to write now
      note(self, "running", req, api)
      return report_now(self, req, self.src, done)
    end
    note(self, "replay", req, api)
    local src, werr = write_v2(self, now, { req = req, value = stored.value })
    return report_now(self, req, src, done, werr)
  end
  if busy then
    -- a new command beyond max_running: not kept, so that the same
    -- command sent later runs
    local released, rerr = store:release(key)
    if released == nil then
      self.log("error", "store: release " .. key .. ": " .. to_text(rerr))
    end
    return answer_error(self, req, 2, "EBUSY",
      "already " .. running.count .. " handlers running (max_running)", done)
  end

  running.count = running.count + 1
  local ctx = { req = req, version = 2, shell = self, env = self.env, api = api, cmd = cmd }
  return run(self, cmd, ctx, done, { shell = self, req = req, key = key, api = api, write = write_v2_reply,
    done = done, dispatching = true })
end

return _M
