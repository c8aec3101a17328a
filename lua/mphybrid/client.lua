-- mphybrid.client: the H5 side. It sends each command by navigating the
-- mini-program to the hybrid page, and delivers the replies it finds in the
-- web-view's fragment, each call's callback exactly once. Protocol:
-- docs/PROTOCOL.md.

local core = require "mphybrid.core"
local options = require "mphybrid.options"
local read_clock = options.read_clock
local errors = require "mphybrid.errors"
local protocol = require "mphybrid.protocol"

local type = type
local pairs = pairs
local pcall = pcall
local setmetatable = setmetatable
local error = error
local str_find = string.find
local str_sub = string.sub
local str_byte = string.byte
local str_match = string.match
local tbl_sort = table.sort
local tbl_concat = table.concat
local tbl_remove = table.remove
local tbl_insert = table.insert

local encode_json = core.encode_json
local encode_uri_component = core.encode_uri_component
local decode_uri_component = core.decode_uri_component
local decode_fragment = core.decode_fragment
local new_req_id = core.new_req_id
local valid_id = protocol.valid_id
local command_json = protocol.command_json
local new_error = errors.new
local parse_error = errors.parse
local text = errors.text
local fail = errors.fail

local _M = { _VERSION = core._VERSION }
local mt = { __index = _M }

_M.defaults = {
  page = protocol.page, -- the hybrid page, as published
  timeout = 30000,    -- ms before a call fails with ETIMEOUT
  max_url = 1000,     -- bytes of the whole navigate URL
  max_acks = 16,      -- acknowledgements carried by one command
  max_done = 256,     -- finished request ids remembered (at least) to acknowledge
  prefix = protocol.prefix, -- request id prefix, as published
  protocol = 2,
  max_batch = 16,     -- commands one batch carries (c:batch)
}

local function default_log(level, msg)
  io.stderr:write("mphybrid ", level, ": ", msg, "\n")
end

-- opts[name] (or its default), checked as options.<kind> checks it
local function limit(opts, name, kind, min)
  return options[kind]("client.new", _M.defaults, opts, name, min)
end

--- client.new(opts) -> client
-- opts.navigate(url) sends a command (wx.miniProgram.navigateTo); it may
-- return false or nil, err when the command could not be sent.
-- opts.page, opts.timeout (ms, false for none), opts.max_url, opts.now() -> ms,
-- opts.protocol (2, or 1: version 1, the format of the published code), opts.prefix,
-- opts.hash() -> the page's own fragment to keep across replies,
-- opts.log(level, message), opts.max_acks, opts.max_done, opts.max_batch,
-- opts.new_req_id(prefix) -> a request id (default core.new_req_id).
function _M.new(opts)
  if type(opts) ~= "table" then
    error("client.new: opts must be a table", 2)
  end
  if type(opts.navigate) ~= "function" then
    error("client.new: opts.navigate must be a function", 2)
  end
  local page = opts.page or _M.defaults.page
  if type(page) ~= "string" or page == "" or str_find(page, "[?#]") then
    error("client.new: opts.page must be a page path without query or fragment", 2)
  end
  local timeout = opts.timeout
  if timeout == nil then
    timeout = _M.defaults.timeout
  elseif timeout == false or timeout == 0 then
    timeout = false
  elseif type(timeout) ~= "number" or timeout < 0 or timeout ~= timeout then
    error("client.new: opts.timeout must be a number of ms or false", 2)
  end
  local version = opts.protocol or _M.defaults.protocol
  if version ~= 1 and version ~= 2 then
    error("client.new: opts.protocol must be 1 or 2", 2)
  end
  for _, name in pairs({ "now", "hash", "log", "new_req_id" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error("client.new: opts." .. name .. " must be a function", 2)
    end
  end
  local prefix = opts.prefix or _M.defaults.prefix
  if opts.new_req_id == nil then
    -- raises now, on a bad prefix, rather than at the first call
    new_req_id(prefix)
  end

  local self = {
    navigate = opts.navigate,
    url_head = protocol.url_head(page),
    timeout = timeout,
    max_url = limit(opts, "max_url", "size", 16),
    max_acks = limit(opts, "max_acks", "count", 0),
    max_done = limit(opts, "max_done", "count"),
    max_batch = limit(opts, "max_batch", "count", 1),
    now = opts.now or options.clock(),
    last_now = 0,        -- the last time the clock gave
    hash = opts.hash,
    log = errors.logger("client.new", opts.log, default_log),
    version = version,
    prefix = prefix,
    new_req_id = opts.new_req_id or new_req_id,
    custom_ids = opts.new_req_id ~= nil,
    api_json = {},       -- api -> its JSON text
    api_count = 0,
    calls = {},          -- request id -> call in flight
    count = 0,           -- calls in flight
    seq = 0,             -- order of calls, for a stable delivery order
    next_deadline = nil, -- the earliest deadline of a call in flight
    -- request ids finished lately, acknowledged again on sight: two
    -- generations of max_done ids, the old one dropped whole
    done = {},
    done_old = {},
    done_count = 0,
    to_ack = {},         -- request ids received, to acknowledge
    to_ack_set = {},
    deferred = {},       -- callbacks waiting for the stack to unwind
    depth = 0,           -- callbacks running, nested in one another
  }
  -- api and params are encoded within max_url: the URL carries them, so
  -- a longer JSON text could never be sent, and costs no more to refuse;
  -- and within the nesting the shell reads (its max_depth, 100, counts
  -- the command object): deeper params would be answered where no call
  -- hears it
  self.encode_opts = { max_size = self.max_url, max_depth = protocol.max_params_depth }
  -- in a batch, params sit two levels deeper (the batch array, the entry)
  self.batch_encode_opts = { max_size = self.max_url, max_depth = protocol.max_batch_params_depth }
  return setmetatable(self, mt)
end

--- c:pending() -> the number of calls in flight
function _M.pending(self)
  return self.count
end

-- A callback runs as a job { callback =, err =, result =, call =,
-- started = false }. The job marks that it started, so that a callback that raised is told from
-- one that could not start (callbacks that re-enter the client nested past
-- MAX_NESTED, or the runtime's C stack full); such a job waits in
-- self.deferred, still counted as pending, and runs once the stack has
-- unwound: after the callback it is nested in, or at the next entry into
-- the client.
local function start(job)
  job.started = true
  return job.callback(job.err, job.result)
end

-- callbacks nested in one another's runs: past this many, a callback waits
-- for the stack to unwind (Lua 5.1 and 5.4 refuse C calls nested past 200,
-- LuaJIT overflows its Lua stack)
local MAX_NESTED = 16

-- true when the callback ran (raised or not), false when it could not start
local function run_job(self, job)
  local depth = self.depth
  if depth >= MAX_NESTED then
    return false
  end
  self.depth = depth + 1
  local ok, e = pcall(start, job)
  self.depth = depth
  if ok then
    return true
  end
  if job.started then
    local call = job.call
    local what = call and ("callback of " .. call.api .. " (" .. call.id .. ")") or "callback"
    self.log("error", what .. " raised: " .. text(e))
    return true
  end
  return false
end

-- runs the deferred jobs, oldest first; each leaves the queue before it
-- runs, so that a flush nested in one of them never runs it again
local function run_deferred(self)
  local q = self.deferred
  while q[1] ~= nil do
    local job = tbl_remove(q, 1)
    self.count = self.count - 1
    if not run_job(self, job) then
      -- still too deep: it waits for a shallower flush
      tbl_insert(q, 1, job)
      self.count = self.count + 1
      return
    end
  end
end

local function run_callback(self, job)
  if not run_job(self, job) then
    local q = self.deferred
    q[#q + 1] = job
    self.count = self.count + 1
    return
  end
  if self.deferred[1] ~= nil then
    run_deferred(self)
  end
end

local function safe_callback(self, call, err, result)
  run_callback(self, { callback = call.callback, err = err, result = result, call = call, started = false })
end

-- the acknowledgements waiting for a command: at most max_done, the
-- oldest given up first (the shell's outbox forgets its reply by its own
-- limits); none when no command carries them
local function queue_ack(self, id)
  if self.max_acks == 0 or self.to_ack_set[id] then
    return
  end
  local q, set = self.to_ack, self.to_ack_set
  if #q >= self.max_done then
    set[tbl_remove(q, 1)] = nil
  end
  set[id] = true
  q[#q + 1] = id
end

local function mark_done(self, id)
  local done = self.done
  if self.done_count >= self.max_done then
    self.done_old = done
    done = {}
    self.done = done
    self.done_count = 0
  end
  done[id] = true
  self.done_count = self.done_count + 1
end

-- removes a call from the flight table, its request id kept among those
-- to acknowledge again on sight; its callback is the caller's job
local function leave_flight(self, call)
  self.calls[call.id] = nil
  self.count = self.count - 1
  mark_done(self, call.id)
end

local function by_seq(a, b)
  return a.seq < b.seq
end

-- the page's clock in ms; a broken clock (options.read_clock) reads as the
-- last time it gave
local function clock(self)
  local t = read_clock(self.now, self.last_now)
  self.last_now = t
  return t
end

--- c:expire([now]) -> the number of calls that timed out | nil, err, "EARG"
-- Fails every call whose deadline is at or before now (default: opts.now())
-- with ETIMEOUT, oldest call first.
function _M.expire(self, now)
  if now ~= nil and (type(now) ~= "number" or now ~= now) then
    return fail("EARG", "expire: now must be a number of ms")
  end
  if self.deferred[1] ~= nil then
    run_deferred(self)
  end
  now = now or clock(self)
  local next_deadline = self.next_deadline
  if next_deadline == nil or now < next_deadline then
    return 0
  end
  local late, soonest = {}, nil
  for _, call in pairs(self.calls) do
    local d = call.deadline
    if d then
      if d <= now then
        late[#late + 1] = call
      elseif soonest == nil or d < soonest then
        soonest = d
      end
    end
  end
  self.next_deadline = soonest
  if #late > 1 then
    tbl_sort(late, by_seq)
  end
  local expired = 0
  for i = 1, #late do
    local call = late[i]
    -- a callback run before may have finished it (cancel, receive,
    -- expire): only a call still in flight fails, and leaves the
    -- flight table before its callback runs
    if self.calls[call.id] == call then
      leave_flight(self, call)
      expired = expired + 1
      safe_callback(self, call, new_error("ETIMEOUT",
        "no reply to " .. call.api .. " within " .. call.timeout .. " ms"))
    end
  end
  return expired
end

--- c:cancel(id) -> true | nil, err, "ENOCALL"
-- Fails the call with ECANCELED at once; a reply that comes later is ignored.
function _M.cancel(self, id)
  if self.deferred[1] ~= nil then
    run_deferred(self)
  end
  local call = id ~= nil and self.calls[id] or nil
  if call == nil then
    return fail("ENOCALL", "no call in flight with request id " .. text(id))
  end
  leave_flight(self, call)
  safe_callback(self, call, new_error("ECANCELED", "call to " .. call.api .. " canceled"))
  return true
end

-- api or params that encode_json refused: over max_url on its own (ESIZE),
-- the command URL would be too; any other reason fails the call as it is
local function encode_failure(self, what, err, code)
  local c, msg = parse_error(err, "EVALUE")
  code = code or c
  if code == "ESIZE" then
    return fail("ETOOLONG", what .. " of more than " .. self.max_url
      .. " bytes of JSON: the command URL would be over the limit of " .. self.max_url .. " bytes")
  end
  return fail(code, what .. ": " .. msg)
end

local function field(t, k)
  return t[k]
end

-- the timeout of a call: opts.timeout or the client's; nil, err, "EARG"
-- for arguments of the wrong type
local function check_call(self, who, api, callback, opts)
  if type(api) ~= "string" or api == "" then
    return fail("EARG", who .. ": api must be a non-empty string")
  end
  if type(callback) ~= "function" then
    return fail("EARG", who .. ": callback must be a function")
  end
  local timeout = self.timeout
  if opts ~= nil then
    if type(opts) ~= "table" then
      return fail("EARG", who .. ": opts must be a table")
    end
    local ok, t = pcall(field, opts, "timeout")
    if not ok then
      return fail("EARG", who .. ": opts cannot be read: " .. text(t))
    end
    if t ~= nil then
      if t == false or t == 0 then
        timeout = false
      elseif type(t) ~= "number" or t < 0 or t ~= t then
        return fail("EARG", who .. ": opts.timeout must be a number of ms or false")
      else
        timeout = t
      end
    end
  end
  return timeout
end

-- the JSON text of the page's own fragment, to carry (opts.hash)
local function hash_json_of(self)
  if self.version == 2 and self.hash then
    local ok, h = pcall(self.hash)
    if not ok then
      self.log("warn", "hash raised: " .. text(h))
      h = nil
    end
    if h ~= nil then
      h = text(h, false)
      -- a longer one would be refused by the shell (its max_hash)
      if h and #h <= protocol.max_hash then
        return encode_json(h)
      end
    end
  end
  return nil
end

-- A call ready to be written: its api and params as JSON; or nil, err, code
-- (its callback is not called).
local function prepare(self, api, params, callback, timeout, encode_opts)
  local api_json = self.api_json[api]
  local err, code
  if api_json == nil then
    api_json, err, code = encode_json(api, self.encode_opts)
    if not api_json then
      return encode_failure(self, "api", err, code)
    end
    if self.api_count >= 256 then
      self.api_json, self.api_count = {}, 0
    end
    self.api_json[api] = api_json
    self.api_count = self.api_count + 1
  end
  local params_json
  if params ~= nil then
    params_json, err, code = encode_json(params, encode_opts)
    if not params_json then
      return encode_failure(self, "params", err, code)
    end
  end
  return { api = api, callback = callback, timeout = timeout, api_json = api_json, params_json = params_json }
end

-- a request id for call (prepared), checked when the page makes its own:
-- nil, err, "ECMD" for one the shell could not answer under
local function new_id(self, who, taken)
  if not self.custom_ids then
    return self.new_req_id(self.prefix)
  end
  local ok, id = pcall(self.new_req_id, self.prefix)
  if not ok then
    return fail("ECMD", who .. ": new_req_id raised: " .. text(id))
  end
  if not valid_id(id) then
    if type(id) == "string" and #id <= protocol.max_id and not encode_json(id) then
      -- a command's JSON text holds the id: one that is not UTF-8 has none
      return fail("EUTF8", who .. ": new_req_id returned a request id that is not UTF-8")
    end
    -- the shell trims a request id, as the published driver does:
    -- one with spaces around it would be answered under another
    return fail("ECMD", who .. ": new_req_id returned an unusable request id")
  end
  if protocol.reserved[id] then
    return fail("ECMD", who .. ": new_req_id returned a name that fragments reserve: " .. id)
  end
  if self.calls[id] or (taken and taken[id]) then
    return fail("ECMD", who .. ": new_req_id returned the id of a call in flight: " .. id)
  end
  return id
end

-- the acknowledgements one command may carry, or nil
local function take_acks(self)
  local n_acks = #self.to_ack
  if self.version == 2 and n_acks > 0 and self.max_acks > 0 then
    local q = self.to_ack
    local take = n_acks < self.max_acks and n_acks or self.max_acks
    if take == 1 then
      -- the common case: the reply received since the last command
      return { q[1] }
    end
    local acks = {}
    for i = 1, take do
      acks[i] = q[i]
    end
    return acks
  end
  return nil
end

local function too_long(self, bytes)
  return fail("ETOOLONG", "command URL of " .. bytes .. " bytes is over the limit of "
    .. self.max_url .. " bytes")
end

-- Puts the calls in flight and navigates to url. When navigate fails,
-- every call still in flight leaves it, call.failed set to the error
-- (ENAVIGATE; its callback is not called), and the acknowledgements go
-- back to the queue. Returns true, or nil, err, code when a call failed
-- (one answered within navigate keeps its answer).
local function send(self, calls, url, acks, now)
  for i = 1, #calls do
    local call = calls[i]
    self.seq = self.seq + 1
    call.seq = self.seq
    local deadline = call.timeout and now + call.timeout or nil
    call.deadline = deadline
    self.calls[call.id] = call
    self.count = self.count + 1
    if deadline and (self.next_deadline == nil or deadline < self.next_deadline) then
      self.next_deadline = deadline
    end
  end

  -- the acknowledgements are taken off the queue before navigating: the
  -- shell may answer (and the page receive) within navigate
  if acks then
    local q, set = self.to_ack, self.to_ack_set
    local k = #acks
    local m = #q
    for i = 1, k do
      set[q[i]] = nil
    end
    for i = 1, m do
      q[i] = q[i + k]
    end
  end

  local ok, r1, r2 = pcall(self.navigate, url)
  if not ok or r1 == false or (r1 == nil and r2 ~= nil) then
    local why = not ok and r1 or r2
    if acks then
      for i = 1, #acks do
        queue_ack(self, acks[i])
      end
    end
    -- every call leaves the flight table before any callback runs;
    -- one answered already (within navigate) keeps its reply
    local failing = {}
    for i = 1, #calls do
      local call = calls[i]
      if self.calls[call.id] == call then
        self.calls[call.id] = nil
        self.count = self.count - 1
        failing[#failing + 1] = call
      end
    end
    if #failing == 0 then
      return true
    end
    local err = new_error("ENAVIGATE", "navigate failed: " .. text(why))
    for i = 1, #failing do
      failing[i].failed = err
    end
    return fail(err.code, err.message)
  end
  return true
end

--- c:call(api, params, callback [, opts]) -> request id | nil, err, code
-- Sends the command; callback(err, result) is then called exactly once:
-- with the result, with the error the shell answered, or with ETIMEOUT,
-- ECANCELED. When the command cannot be sent (EARG, EVALUE, EUTF8, EDEPTH,
-- ETOOLONG, ECMD, ENAVIGATE), call returns nil, err, code and the callback
-- is never called: a failure is returned or heard, not both.
-- opts.timeout: ms for this call (false for none).
function _M.call(self, api, params, callback, opts)
  local timeout, aerr, acode = check_call(self, "call", api, callback, opts)
  if aerr then
    return nil, aerr, acode
  end
  local now = clock(self)
  self:expire(now)

  local call, err, code = prepare(self, api, params, callback, timeout, self.encode_opts)
  if not call then
    return nil, err, code
  end
  local hash_json = hash_json_of(self)
  local id, ierr, icode = new_id(self, "call")
  if not id then
    return nil, ierr, icode
  end
  call.id = id
  local acks = take_acks(self)
  local api_json, params_json = call.api_json, call.params_json

  local json = command_json(self.version, id, api_json, params_json, acks, hash_json)
  local enc, eerr, ecode = encode_uri_component(json)
  if not enc then
    local c, msg = parse_error(eerr, "EUTF8")
    return fail(ecode or c, msg)
  end
  local url = self.url_head .. enc
  if #url > self.max_url and acks then
    -- acknowledgements wait for a shorter command
    acks = nil
    url = self.url_head .. encode_uri_component(command_json(self.version, id, api_json, params_json, nil, hash_json))
  end
  if #url > self.max_url then
    return too_long(self, #url)
  end
  local sent, nerr, ncode = send(self, { call }, url, acks, now)
  if not sent then
    return nil, nerr, ncode
  end
  return id
end

local BATCH_HEAD = encode_uri_component(protocol.batch_open)
local COMMA = encode_uri_component(protocol.batch_sep)

-- the error object of a failure nil, err, code
local function failure_object(_, err, code)
  local c, msg = parse_error(err, code)
  return new_error(c, msg)
end

-- a batch's list read once: its length and its entries, each entry that is
-- a table copied as { api, params, callback, opts }
local function read_list(list)
  local n, entries = #list, {}
  for i = 1, n do
    local e = list[i]
    if type(e) == "table" then
      e = { e[1], e[2], e[3], e[4] }
    end
    entries[i] = e
  end
  return n, entries
end

--- c:batch(list) -> ids, failures | nil, err, "EARG"
-- Sends several version 2 commands in as few navigations as max_url and
-- max_batch allow (a batch that would not fit is split), for a shell that
-- reads batches (ours: docs/PROTOCOL.md, "Batches"). list: an array of
-- { api, params, callback [, opts] }, each as c:call takes them. The
-- acknowledgements and the page's hash go with the first batch. ids[i]:
-- the request id of list[i], its callback then called exactly once; or
-- false when it could not be sent, failures[i] then its error object (as
-- c:call would return it; its callback is never called). A list, or an
-- entry, of the wrong type fails the whole batch with EARG: nothing sent.
function _M.batch(self, list)
  if self.version ~= 2 then
    return fail("EARG", "batch: a batch is version 2: this client speaks version 1")
  end
  if type(list) ~= "table" then
    return fail("EARG", "batch: list must be an array of { api, params, callback [, opts] }")
  end
  -- read once, under pcall: what is checked is what is sent, whatever
  -- metamethods the list and its entries have
  local ok, n, read = pcall(read_list, list)
  if not ok then
    return fail("EARG", "batch: list cannot be read: " .. text(n))
  end
  list = read
  local timeouts = {}
  for i = 1, n do
    local e = list[i]
    if type(e) ~= "table" then
      return fail("EARG", "batch: list[" .. i .. "] must be { api, params, callback [, opts] }")
    end
    local timeout, aerr, acode = check_call(self, "batch: list[" .. i .. "]", e[1], e[3], e[4])
    if aerr then
      return nil, aerr, acode
    end
    timeouts[i] = timeout
  end
  local now = clock(self)
  self:expire(now)
  local hash_json = hash_json_of(self)

  -- each call prepared, with its entry percent-encoded
  local ids, failures, ready, taken = {}, {}, {}, {}
  for i = 1, n do
    local e = list[i]
    ids[i] = false
    local call, err, code = prepare(self, e[1], e[2], e[3], timeouts[i], self.batch_encode_opts)
    if call then
      call.id, err, code = new_id(self, "batch", taken)
    end
    if call and call.id then
      local enc, eerr, ecode = encode_uri_component(protocol.entry_json(call.id, call.api_json,
        call.params_json))
      if enc then
        taken[call.id] = true
        call.entry, call.index = enc, i
        ready[#ready + 1] = call
      else
        err, code = eerr, ecode or "EUTF8"
      end
    end
    if err then
      failures[i] = failure_object(nil, err, code)
    end
  end

  -- greedy groups in order: each as many entries as fit
  local head = #self.url_head + #BATCH_HEAD
  local k = 1
  -- the acknowledgements go with the first batch; they are taken where
  -- no callback runs before the send (one that re-enters the client may
  -- send some of them itself)
  local with_acks = true
  while k <= #ready do
    local acks = with_acks and take_acks(self) or nil
    local tail = encode_uri_component(protocol.batch_close(acks, hash_json))
    local group, bytes = {}, head + #tail
    while k <= #ready and #group < self.max_batch do
      local add = #ready[k].entry + (#group > 0 and #COMMA or 0)
      if bytes + add > self.max_url then
        break
      end
      group[#group + 1] = ready[k]
      bytes = bytes + add
      k = k + 1
    end
    if #group == 0 then
      if acks then
        -- acknowledgements wait for a shorter command
        with_acks = false
      else
        local call = ready[k]
        failures[call.index] = failure_object(too_long(self, head + #tail + #call.entry))
        k = k + 1
      end
    else
      local entries = {}
      for i = 1, #group do
        entries[i] = group[i].entry
      end
      local url = self.url_head .. BATCH_HEAD .. tbl_concat(entries, COMMA) .. tail
      with_acks = false
      send(self, group, url, acks, now)
      for i = 1, #group do
        local call = group[i]
        if call.failed then
          failures[call.index] = call.failed
        else
          ids[call.index] = call.id
        end
      end
    end
  end
  return ids, failures
end

-- whether frag has a pair "<key>=..." (rather than a bare "<key>")
local function has_pair(frag, key)
  local enc = encode_uri_component(key)
  if not enc then
    return false
  end
  enc = enc .. "="
  local init = 1
  while true do
    local pos = str_find(frag, enc, init, true)
    if pos == nil then
      return false
    end
    if pos == 1 or str_byte(frag, pos - 1) == 38 then -- "&"
      return true
    end
    init = pos + 1
  end
end

local function looks_like_url(s)
  return str_match(s, "^%a[%w+.-]*:") ~= nil or str_sub(s, 1, 1) == "/"
end

-- the calls a fragment answers, as the n-th, each with its answer (the
-- reply's value, or { bad = err } for a malformed pair) under found[call]:
-- no table until there is one. The answers live here, not on the calls, so
-- that a receive run from a callback never sees those of another.
local function add_found(found, n, call, answer)
  if found == nil then
    -- made whole: the first call is the common case, and the only one
    return { call, [call] = answer }
  end
  found[n] = call
  found[call] = answer
  return found
end

--- c:receive(src_or_fragment) -> delivered, hash | nil, err, "EARG"
-- Takes the new web-view src (or its fragment, with or without "#"), and
-- delivers every reply in it to a call in flight, oldest call first.
-- Replies already delivered, and fragments that are not ours, are ignored.
-- hash is the page's own fragment, when the shell kept it (opts.hash).
function _M.receive(self, s)
  if type(s) ~= "string" then
    return fail("EARG", "receive: expected the web-view src or its fragment, got " .. type(s))
  end
  if self.deferred[1] ~= nil then
    run_deferred(self)
  end
  local frag
  local p = str_find(s, "#", 1, true)
  if p then
    frag = str_sub(s, p + 1)
  elseif looks_like_url(s) then
    return 0
  else
    frag = s
  end
  if frag == "" then
    return 0
  end
  self:expire()

  local map, bad = decode_fragment(frag)
  local v2 = protocol.fragment_version(map) == 2
  local calls = self.calls
  local found, n = nil, 0
  for key, value in pairs(map) do
    local call = calls[key]
    if call and value == "" and not has_pair(frag, key) then
      -- "#<id>" without "=" is no reply (the published listener
      -- looks for "#<id>=")
      call = nil
    end
    if call then
      n = n + 1
      found = add_found(found, n, call, value)
    elseif v2 and self.version == 2 and (self.done[key] or self.done_old[key]) then
      -- a reply delivered (or given up) before, written again because
      -- the acknowledgement has not reached the shell yet
      queue_ack(self, key)
    end
  end
  if bad then
    for i = 1, #bad do
      local raw = bad[i].pair
      local key = decode_uri_component(str_match(raw, "^[^=]*"))
      local call = key and calls[key]
      -- once per call, even when the fragment repeats its key
      if call and (found == nil or found[call] == nil) then
        n = n + 1
        found = add_found(found, n, call, { bad = bad[i].err })
      end
    end
  end
  if n == 0 then
    return 0, v2 and map.hash or nil
  end
  if n > 1 then
    tbl_sort(found, by_seq)
  end
  local delivered = 0
  for i = 1, n do
    local call = found[i]
    if v2 and self.version == 2 then
      queue_ack(self, call.id)
    end
    -- a callback run before may have finished it (cancel, expire, a
    -- receive of its own): only a call still in flight takes its reply,
    -- and leaves the flight table before its callback runs
    if calls[call.id] == call then
      leave_flight(self, call)
      delivered = delivered + 1
      local answer = found[call]
      if type(answer) == "table" then
        local code, msg = parse_error(answer.bad, "EESCAPE")
        safe_callback(self, call, new_error(code, "reply to " .. call.id .. ": " .. msg))
      elseif v2 then
        safe_callback(self, call, protocol.read_reply(answer))
      else
        safe_callback(self, call, nil, answer)
      end
    end
  end
  return delivered, v2 and map.hash or nil
end

return _M
