-- mphybrid.store.redis: the shell's state in Redis, shared by every worker
-- of every node that uses the same server and key prefix. Runs inside
-- nginx (lua-resty-redis on cosockets, Debian's lua-nginx-redis), in the
-- phases where cosockets work (content, access, rewrite, timers).
-- The interface is in docs/GATEWAY.md ("The store interface"); this
-- store's keys, atomicity and failures in its section "The Redis store".
--
-- Keys, under opts.prefix (default "mphybrid:"):
--   c:<req>      the claim, then the settled reply: "R<token>\n<session>\n<api>"
--                while it runs (SET NX PX: the atomic claim), "D<api>\n<value>"
--                once settled, kept store_ttl ms
--   w:<req>      the sessions that asked for req while it ran (a set)
--   replies      settled request ids by time (a sorted set), at most max_store
--   running      claimed request ids by the time their claim lapses
--   s:<session>  the session: its outbox and hash as JSON, kept session_ttl ms
--                after its last change
-- Each method is one atomic step: the claim and the settle are Lua scripts
-- run by Redis; a session changes under WATCH/MULTI/EXEC (the outbox rule
-- is mphybrid.store's, applied here) and is retried when another node
-- changed it meanwhile.
-- Every failure of the connection or of Redis is nil, "ESTORE: ...",
-- "ESTORE"; a call never waits longer than its timeouts.

local base = require "mphybrid.store"
local core = require "mphybrid.core"
local limits = require "mphybrid.options"

local ngx = ngx -- luacheck: ignore 113
local type = type
local error = error
local tostring = tostring
local tonumber = tonumber
local setmetatable = setmetatable
local str_byte = string.byte
local str_sub = string.sub
local str_find = string.find
local str_format = string.format
local str_match = string.match
local str_gsub = string.gsub
local math_floor = math.floor

local encode_json = core.encode_json
local decode_json = core.decode_json
local new_req_id = core.new_req_id
local change_outbox = base.change_outbox
local fail = base.fail
local fail_with = require("mphybrid.errors").fail

local _M = { _VERSION = core._VERSION }
local mt = { __index = _M }

_M.defaults = {
  host = "127.0.0.1",
  port = 6379,
  db = 0,
  prefix = "mphybrid:",
  connect_timeout = 2000,    -- ms to connect
  read_timeout = 2000,       -- ms to send a command and read its reply
  keepalive_timeout = 60000, -- ms an idle pooled connection is kept
  pool_size = 32,            -- idle connections kept per worker
  session_ttl = 86400000,    -- ms a session is kept after its last change
  max_retries = 8,           -- session changes that lost a race to another node
}

----------------------------------------------------------------- scripts

-- KEYS: claim, waiting, running. ARGV: "R<now>\n<token>\n<session>\n<api>",
-- claim_ttl (0: until settled), store_ttl, session, now. Returns { 1 } when
-- claimed (also when this very claim was already made: a retry after a lost
-- reply), else { 0, value }. A value is read with the caller's clock: a
-- claim older than claim_ttl or a reply older than store_ttl is claimed
-- anew; the PX of each key only frees the memory of what is long gone.
local CLAIM = [[
local claim_ttl, store_ttl, now = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local function claim(how)
  if claim_ttl > 0 then
    redis.call("SET", KEYS[1], ARGV[1], how, "PX", claim_ttl)
    redis.call("ZADD", KEYS[3], now + claim_ttl, KEYS[1])
  else
    redis.call("SET", KEYS[1], ARGV[1], how)
    redis.call("ZADD", KEYS[3], "+inf", KEYS[1])
  end
  redis.call("DEL", KEYS[2])
  return { 1 }
end
local v = redis.call("GET", KEYS[1])
if v == false then
  return claim("NX")
end
if v == ARGV[1] then
  return { 1 }
end
local kind, at = string.match(v, "^([RD])(%d+)\n")
at = tonumber(at)
if kind == "R" then
  if claim_ttl > 0 and now - at > claim_ttl then
    return claim("XX")
  end
  local owner = string.match(v, "^R%d+\n[^\n]*\n([^\n]*)\n")
  if owner ~= ARGV[4] then
    redis.call("SADD", KEYS[2], ARGV[4])
  end
  return { 0, v }
end
if kind == "D" and now - at <= store_ttl then
  return { 0, v }
end
return claim("XX")
]]

-- KEYS: claim, waiting, running, replies. ARGV: "D<now>\n<api>\n<value>",
-- store_ttl, now, max_store. Returns the sessions that waited for the
-- reply. Forgets the oldest settled replies beyond max_store.
local SETTLE = [[
local ttl, now, max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call("SET", KEYS[1], ARGV[1], "PX", ttl)
redis.call("ZREM", KEYS[3], KEYS[1])
redis.call("ZADD", KEYS[4], now, KEYS[1])
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", now - ttl - 1)
local n = redis.call("ZCARD", KEYS[4])
if n > max then
  local old = redis.call("ZRANGE", KEYS[4], 0, n - max - 1)
  for i = 1, #old do
    local v = redis.call("GET", old[i])
    if v and string.sub(v, 1, 1) == "D" then
      redis.call("DEL", old[i])
    end
  end
  redis.call("ZREMRANGEBYRANK", KEYS[4], 0, n - max - 1)
end
redis.call("PEXPIRE", KEYS[4], ttl)
local waiting = redis.call("SMEMBERS", KEYS[2])
redis.call("DEL", KEYS[2])
return waiting
]]

-- KEYS: claim. ARGV: the claim's value. Gives up a claim this worker made
-- but may not have heard of (the connection failed after the script ran).
local RELEASE = [[
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
end
return 1
]]

-- KEYS: running, replies. ARGV: now. Returns { running, replies }.
local STATS = [[
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", tonumber(ARGV[1]))
return { redis.call("ZCARD", KEYS[1]), redis.call("ZCARD", KEYS[2]) }
]]

local function sha1_hex(s)
  return (ngx.sha1_bin(s):gsub(".", function(c)
    return str_format("%02x", str_byte(c))
  end))
end

local scripts = {
  claim = { text = CLAIM },
  settle = { text = SETTLE },
  stats = { text = STATS },
  release = { text = RELEASE },
}

-------------------------------------------------------------- options

local function text_option(opts, name, pattern, what)
  local v = opts[name]
  if v == nil then
    return _M.defaults[name]
  end
  if type(v) ~= "string" or not str_find(v, pattern) then
    error("redis.new: " .. name .. " must be " .. what, 3)
  end
  return v
end

-- the highest database number Redis takes (SELECT reads a C int)
local DB_MAX = 2147483647

--- redis.parse_url(url) -> { host =, port =, db =, password = } | nil, err, code
-- redis://[:password@]host[:port][/db]; the port defaults to 6379 and the
-- database to 0 (at most 2147483647). Fails with nil, err, "EARG".
function _M.parse_url(url)
  if type(url) ~= "string" then
    return fail_with("EARG", "a Redis URL must be a string")
  end
  -- what an error message shows of it: never its password (messages are logged)
  local shown = str_gsub(url, "^([^/]*//)[^@/]*@", "%1***@")
  local rest = str_match(url, "^redis://(.*)$")
  if not rest then
    return fail_with("EARG", "a Redis URL starts with redis://: " .. shown)
  end
  local password
  local at = str_find(rest, "@", 1, true)
  if at then
    password = str_match(str_sub(rest, 1, at - 1), "^:?(.*)$")
    rest = str_sub(rest, at + 1)
  end
  local host, port, db = str_match(rest, "^([%w%.%-]+):?(%d*)/?(%d*)$")
  if not host then
    host, port, db = str_match(rest, "^%[([%x:]+)%]:?(%d*)/?(%d*)$")
  end
  if not host then
    return fail_with("EARG", "not a Redis URL (redis://host:port/db): " .. shown)
  end
  port = port ~= "" and tonumber(port) or 6379
  db = db ~= "" and tonumber(db) or 0
  if port < 1 or port > 65535 then
    return fail_with("EARG", "a Redis port is 1 to 65535: " .. shown)
  end
  if db > DB_MAX then
    return fail_with("EARG", "a Redis database is 0 to " .. DB_MAX .. ": " .. shown)
  end
  return { host = host, port = port, db = db, password = password ~= "" and password or nil }
end

--- redis.new([opts]) -> store
-- opts.url ("redis://host:port/db") or opts.host, opts.port, opts.db,
-- opts.password; opts.prefix of every key; the timeouts and pool in
-- redis.defaults; the limits of mphybrid.store.defaults (max_sessions is
-- not used: sessions expire session_ttl ms after their last change).
function _M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("redis.new: opts must be a table", 2)
  end
  opts = opts or {}
  local d = _M.defaults
  local self = {
    limits = base.limits("redis.new", opts),
    host = d.host, port = d.port, db = d.db,
  }
  if opts.url ~= nil then
    local u, err = _M.parse_url(opts.url)
    if not u then
      error("redis.new: " .. err, 2)
    end
    self.host, self.port, self.db, self.password = u.host, u.port, u.db, u.password
  end
  if opts.host ~= nil then
    self.host = text_option(opts, "host", "^[^%s]+$", "a host name or address")
  end
  if opts.port ~= nil then
    self.port = limits.number("redis.new", d, opts, "port")
  end
  if opts.db ~= nil then
    self.db = limits.number("redis.new", d, opts, "db", 0)
  end
  if opts.password ~= nil then
    self.password = text_option(opts, "password", "^.+$", "a non-empty string")
  end
  self.prefix = text_option(opts, "prefix", "^[^%c]*$", "a string without control characters")
  for _, name in ipairs({ "connect_timeout", "read_timeout", "keepalive_timeout",
              "pool_size", "session_ttl", "max_retries" }) do
    self[name] = limits.number("redis.new", d, opts, name)
  end
  if self.port ~= math_floor(self.port) or self.port > 65535 then
    error("redis.new: port must be a whole number from 1 to 65535", 2)
  end
  if self.db ~= math_floor(self.db) or self.db > DB_MAX then
    error("redis.new: db must be a whole number from 0 to " .. DB_MAX, 2)
  end
  self.where = "redis " .. self.host .. ":" .. self.port .. "/" .. self.db
  -- one pool per server and database, so that SELECT is done once per connection
  self.pool = self.host .. ":" .. self.port .. ":" .. self.db
  self.k_replies = self.prefix .. "replies"
  self.k_running = self.prefix .. "running"
  self.token_pid = nil  -- the worker the claim tokens are made for
  self.orphans = {}     -- { key, value } of claims that may have been made
  self.unsettled = {}   -- { req, api, value, now } of settles that failed
  self.repair_timer = false  -- a timer to repair them is pending
  return setmetatable(self, mt)
end

----------------------------------------------------------- connections

local redis_client

local function failure(self, what, err)
  return fail(self.where .. ": " .. what .. ": " .. tostring(err))
end

-- a connection, from the pool or new, on the right database
local function connect(self)
  redis_client = redis_client or require("nginx.redis")
  local red, err = redis_client:new()
  if not red then
    return nil, err
  end
  red:set_timeout(self.connect_timeout)
  local ok
  ok, err = red:connect(self.host, self.port, { pool = self.pool })
  if not ok then
    return nil, "connect: " .. tostring(err)
  end
  red:set_timeout(self.read_timeout)
  if red:get_reused_times() == 0 then
    if self.password then
      ok, err = red:auth(self.password)
      if not ok then
        red:close()
        return nil, "auth: " .. tostring(err)
      end
    end
    if self.db ~= 0 then
      ok, err = red:select(self.db)
      if not ok then
        red:close()
        return nil, "select: " .. tostring(err)
      end
    end
  end
  return red
end

local function release(self, red)
  local ok = red:set_keepalive(self.keepalive_timeout, self.pool_size)
  if not ok then
    red:close()
  end
end

-- runs fn(self, red, ...) on a connection: -> its results | nil, "ESTORE: ..."
-- fn returns nil, err on a failure of the connection; a pooled connection
-- that turns out dead (Redis restarted) is replaced once, so service
-- resumes with the first command after Redis is back. Every fn is safe to
-- run twice.
local function with_redis(self, what, fn, ...)
  for attempt = 1, 2 do
    local red, err = connect(self)
    if not red then
      return failure(self, what, err)
    end
    local reused = red:get_reused_times() > 0
    local r1, r2 = fn(self, red, ...)
    if r1 ~= nil then
      release(self, red)
      return r1, r2
    end
    red:close()
    if not (reused and attempt == 1 and r2 ~= "timeout") then
      return failure(self, what, r2)
    end
  end
end

-- runs a script by its sha, loading it on NOSCRIPT (a restarted Redis)
local function run_script(red, name, nkeys, ...)
  local s = scripts[name]
  if not s.sha then
    s.sha = sha1_hex(s.text)
  end
  local res, err = red:evalsha(s.sha, nkeys, ...)
  if not res and err and str_find(err, "^NOSCRIPT") then
    res, err = red:eval(s.text, nkeys, ...)
  end
  if not res then
    return nil, err
  end
  return res
end

----------------------------------------------------------------- claims

local function claim_key(self, req)
  return self.prefix .. "c:" .. req
end

-- what a failed connection leaves to be done once Redis answers again, at
-- most MAX_REPAIRS of each kind (beyond that, a claim lapses at claim_ttl)
local MAX_REPAIRS = 64

local function do_settle(self, red, req, api, value, now)
  local lim = self.limits
  local res, err = run_script(red, "settle", 4, claim_key(self, req), self.prefix .. "w:" .. req,
    self.k_running, self.k_replies, "D" .. now .. "\n" .. api .. "\n" .. value,
    math_floor(lim.store_ttl), now, math_floor(lim.max_store))
  if not res then
    return nil, err
  end
  return res
end

-- gives up the claims this worker made on a connection that failed before
-- their answer came (deleting each only if it is still that claim), so that
-- no claim of a command that never ran is held until it lapses; and settles
-- the replies whose settle failed, so that a replay gets the reply instead
-- of running the command again once its claim lapses
local function repair(self, red)
  local orphans, unsettled = self.orphans, self.unsettled
  while orphans[1] do
    local o = orphans[#orphans]
    local ok, err = run_script(red, "release", 1, o[1], o[2])
    if not ok then
      return nil, err
    end
    orphans[#orphans] = nil
  end
  while unsettled[1] do
    local u = unsettled[#unsettled]
    local ok, err = do_settle(self, red, u[1], u[2], u[3], u[4])
    if not ok then
      return nil, err
    end
    unsettled[#unsettled] = nil
  end
  return true
end

-- a timer that repairs as soon as Redis answers again, without waiting for
-- this worker's next claim: tries every second, while anything is left
local function repair_later(premature, self)
  self.repair_timer = false
  if premature or with_redis(self, "repair", repair) or not (self.orphans[1] or self.unsettled[1]) then
    return
  end
  self.repair_timer = ngx.timer.at(1, repair_later, self) and true or false
end

-- keeps item in list for repair(), and makes sure a timer will do it
local function to_repair(self, list, item)
  if #list < MAX_REPAIRS then
    list[#list + 1] = item
  end
  if not self.repair_timer then
    self.repair_timer = ngx.timer.at(1, repair_later, self) and true or false
  end
end

local function do_claim(self, red, key, waiting, mine, claim_ttl, store_ttl, session, now)
  if self.orphans[1] or self.unsettled[1] then
    local ok, err = repair(self, red)
    if not ok then
      return nil, err
    end
  end
  local res, err = run_script(red, "claim", 3, key, waiting, self.k_running,
    mine, claim_ttl, store_ttl, session, now)
  if not res then
    return nil, err
  end
  if res[1] == 1 then
    return true, false
  end
  return false, res[2]
end

-- the entry of a claim key's value ("R<at>\n<token>\n<session>\n<api>"
-- or "D<at>\n<api>\n<value>"), or nil when it is neither
local function entry_of(v)
  if type(v) ~= "string" then
    return nil
  end
  local kind = str_byte(v, 1)
  if kind == 82 then -- "R": running
    local api = str_match(v, "^R%d+\n[^\n]*\n[^\n]*\n(.*)$")
    return api and { api = api, running = true }
  elseif kind == 68 then -- "D": settled
    local api, at = str_match(v, "^D%d+\n([^\n]*)\n()")
    if api then
      return { api = api, value = str_sub(v, at) }
    end
  end
  return nil
end

--- st:claim(req, api, session, now) -> true | false, entry | nil, err, "ESTORE"
function _M.claim(self, req, api, session, now)
  now = math_floor(now)
  session = session or ""
  if str_find(api, "\n", 1, true) or str_find(session, "\n", 1, true) then
    -- the values this store writes are lines: never the case from a shell
    return fail(self.where .. ": claim " .. req .. ": an api or session id with a line break")
  end
  local pid = ngx.worker.pid()
  if self.token_pid ~= pid then
    -- made in each worker (a store made before the fork is shared by
    -- all): its pid, and random characters for the other nodes
    self.token_pid, self.token_count = pid, 0
    self.token_head = pid .. "." .. new_req_id("") .. "."
  end
  self.token_count = self.token_count + 1
  local mine = "R" .. now .. "\n" .. self.token_head .. self.token_count .. "\n" .. session .. "\n" .. api
  local key = claim_key(self, req)
  local lim = self.limits
  local ok, v = with_redis(self, "claim " .. req, do_claim, key, self.prefix .. "w:" .. req, mine,
    math_floor(lim.claim_ttl or 0), math_floor(lim.store_ttl), session, now)
  if ok == nil then
    if not str_find(v, ": connect: ", 1, true) then
      -- the claim may have been made: give it up once Redis answers
      to_repair(self, self.orphans, { key, mine })
    end
    return nil, v, "ESTORE"
  end
  if ok then
    return true
  end
  local entry = entry_of(v)
  if not entry then
    return fail(self.where .. ": claim " .. req .. ": a value this store did not write")
  end
  return false, entry
end


--- st:settle(req, api, value, now) -> waiting | nil, err, "ESTORE"
function _M.settle(self, req, api, value, now)
  if str_find(api, "\n", 1, true) then
    return fail(self.where .. ": settle " .. req .. ": an api with a line break")
  end
  now = math_floor(now)
  local waiting, err = with_redis(self, "settle " .. req, do_settle, req, api, value, now)
  if not waiting then
    -- the command ran: its reply is kept once Redis answers
    to_repair(self, self.unsettled, { req, api, value, now })
    return nil, err, "ESTORE"
  end
  table.sort(waiting)
  return waiting
end

--------------------------------------------------------------- sessions

local function decode_session(text)
  if text == nil or text == ngx.null then
    return { outbox = {} }
  end
  local s = decode_json(text)
  if type(s) ~= "table" or type(s.outbox) ~= "table" then
    return nil
  end
  return s
end

-- one try: WATCH, read, change, then MULTI/SET/EXEC. Returns s, dropped;
-- false when another client changed the session meanwhile; nil, err.
local function try_session(self, red, key, now, change)
  red:init_pipeline(2)
  red:watch(key)
  red:get(key)
  local res, err = red:commit_pipeline()
  if not res then
    return nil, err
  end
  if type(res[1]) == "table" and res[1][1] == false then
    return nil, res[1][2]
  end
  local text = res[2]
  if type(text) == "table" then
    return nil, text[2]
  end
  local s = decode_session(text)
  if not s then
    red:unwatch()
    return nil, "session " .. key .. " holds a value this store did not write"
  end
  if change.hash ~= nil then
    s.hash = change.hash
  end
  local dropped = change_outbox(s.outbox, now, change, self.limits)
  local new_text = encode_json({ hash = s.hash, outbox = s.outbox })
  if new_text == text then
    red:unwatch()
    return s, dropped
  end
  red:init_pipeline(3)
  red:multi()
  red:set(key, new_text, "PX", math_floor(self.session_ttl))
  red:exec()
  res, err = red:commit_pipeline()
  if not res then
    return nil, err
  end
  local exec = res[3]
  if exec == ngx.null then
    return false
  end
  if type(exec) ~= "table" or (type(exec[1]) == "table" and exec[1][1] == false) then
    return nil, "MULTI/EXEC failed: " .. tostring(type(exec) == "table" and exec[2] or exec)
  end
  return s, dropped
end

local function do_session(self, red, key, now, change)
  for _ = 1, self.max_retries do
    local s, dropped = try_session(self, red, key, now, change)
    if s ~= false then
      return s, dropped
    end
  end
  -- lost every race: leave the connection clean and say so
  return nil, "session " .. key .. " changed by others " .. self.max_retries .. " times in a row"
end

--- st:session(id, now, change) -> { hash =, outbox = }, dropped | nil, err, "ESTORE"
function _M.session(self, id, now, change)
  local s, dropped = with_redis(self, "session " .. id, do_session,
    self.prefix .. "s:" .. id, math_floor(now), change)
  if not s then
    return nil, dropped, "ESTORE"
  end
  if s.outbox[1] ~= nil then
    -- arrays from JSON: make them plain arrays of { req, value, at }
    for i = 1, #s.outbox do
      local e = s.outbox[i]
      s.outbox[i] = { e[1], e[2], e[3] }
    end
  end
  return s, dropped
end

local function do_stats(self, red, key, now)
  red:init_pipeline(1)
  red:get(key)
  local res, err = red:commit_pipeline()
  if not res then
    return nil, err
  end
  local counts
  counts, err = run_script(red, "stats", 2, self.k_running, self.k_replies, now)
  if not counts then
    return nil, err
  end
  local s = type(res[1]) == "string" and decode_session(res[1])
  return { outbox = s and #s.outbox or 0, store = counts[2], running = counts[1] }
end

--- st:stats(id) -> { outbox =, store =, running = } | nil, err, "ESTORE"
function _M.stats(self, id)
  local r, err = with_redis(self, "stats", do_stats, self.prefix .. "s:" .. (id or ""),
    math_floor(ngx.now() * 1000))
  if not r then
    return nil, err, "ESTORE"
  end
  return r
end

return _M
