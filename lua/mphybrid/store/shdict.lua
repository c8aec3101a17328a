-- mphybrid.store.shdict: the shell's state in lua_shared_dict zones, shared
-- by every worker of one nginx (the default of mphybrid.resty). The
-- interface is in docs/GATEWAY.md ("The store interface").
--
-- Two zones:
--   dict   (default "mphybrid"): settled replies "r:<req>" and sessions
--          "s:<id>"; full, it drops the least recently used (set), so its
--          size bounds the replies and sessions kept;
--   claims (default "mphybrid_claims"): claims "c:<req>" and session locks
--          "l:<id>", written with safe_add only: nothing in it is ever
--          dropped for room, so a running command is never claimed twice.
--          Full, a new claim fails with ESTORE.
-- A claim is safe_add, atomic across workers. A session step takes the
-- session's lock (safe_add, waiting 1 ms at a time while another worker
-- holds it; the holder never yields), reads, changes and writes the
-- session, and lets the lock go.

local base = require "mphybrid.store"

local type = type
local tonumber = tonumber
local setmetatable = setmetatable
local error = error
local str_find = string.find
local str_sub = string.sub
local str_format = string.format
local math_floor = math.floor
local concat = table.concat

local change_outbox = base.change_outbox
local fail = base.fail

local _M = { _VERSION = require("mphybrid.core")._VERSION }
local mt = { __index = _M }

local LOCK_TTL = 1          -- s a session lock is held at most (a worker that died)
local LOCK_WAIT = 1000      -- tries, 1 ms apart, before a session step fails

--- shdict.new([opts]) -> store
-- opts.dict, opts.claims: names of lua_shared_dict zones (defaults
-- "mphybrid", "mphybrid_claims"); the limits of mphybrid.store.defaults
-- (max_store and max_sessions are not used: the zone's size bounds them).
-- Raises when a zone is not declared.
function _M.new(opts)
  local lim = base.limits("shdict.new", opts)
  opts = opts or {}
  local ngx = rawget(_G, "ngx")
  local shared = ngx and ngx.shared
  if shared == nil then
    error("shdict.new: ngx.shared is not available (not inside nginx)", 2)
  end
  local names = { dict = opts.dict or "mphybrid", claims = opts.claims or "mphybrid_claims" }
  for what, name in pairs(names) do
    if type(name) ~= "string" or shared[name] == nil then
      error(str_format("shdict.new: lua_shared_dict %s (opts.%s) is not declared in nginx.conf",
        tostring(name), what), 2)
    end
  end
  local self = {
    limits = lim,
    dict = shared[names.dict],
    claims = shared[names.claims],
    names = names,
    -- the zones' expiry, s: past the ttls, so that the store clock decides
    store_ttl = lim.store_ttl / 1000 + 60,
    claim_ttl = lim.claim_ttl and lim.claim_ttl / 1000 + 60 or 0,
    sleep = ngx.sleep,
  }
  return setmetatable(self, mt)
end

local function zone_error(self, which, op, err)
  return fail(str_format("lua_shared_dict %s: %s: %s", self.names[which], op, tostring(err)))
end

------------------------------------------------------------ replay store

-- "<at> <length>:<first><rest>" -> at, first, rest; nil when s is not of
-- that form. Claims are "<at> <session length>:<session><api>", settled
-- replies "<at> <api length>:<api><value>": at is the store clock (the now
-- of the call that wrote it), against which claim_ttl and store_ttl are
-- judged; the zones' own expiry (real time) only frees the memory.
local function split(s)
  local space = str_find(s, " ", 1, true)
  local colon = space and str_find(s, ":", space + 1, true)
  local at = colon and tonumber(str_sub(s, 1, space - 1))
  local n = at and tonumber(str_sub(s, space + 1, colon - 1))
  if not n then
    return nil
  end
  return at, str_sub(s, colon + 1, colon + n), str_sub(s, colon + n + 1)
end

local function join(at, first, rest)
  return str_format("%.0f %d:", at, #first) .. first .. rest
end

-- what claim returns for a settled reply; nil when it is older than
-- store_ttl (the command runs again)
local function settled(self, req, s, now)
  local at, api, value = split(s)
  if at == nil then
    return fail("unreadable reply for request id " .. req)
  end
  if now - at > self.limits.store_ttl then
    return nil
  end
  return false, { api = api, value = value }
end

-- records session as waiting for the reply of the running command req
local function wait_for(self, req, session)
  local dict, wk = self.dict, "w:" .. req
  local n, err = dict:rpush(wk, session)
  if n == nil then
    return zone_error(self, "dict", "rpush", err)
  end
  if self.claim_ttl > 0 then
    dict:expire(wk, self.claim_ttl)
  end
  return true
end

--- st:claim(req, api, session, now) -> true | false, entry | nil, err, "ESTORE"
function _M.claim(self, req, api, session, now)
  local claims, dict = self.claims, self.dict
  local ck, rk = "c:" .. req, "r:" .. req
  local mine = join(now, session, api)
  for _ = 1, 3 do
    local ok, err = claims:safe_add(ck, mine, self.claim_ttl)
    if ok then
      local v = dict:get(rk)
      if v == nil then
        return true
      end
      local a, b, c = settled(self, req, v, now)
      if a == nil and b == nil then
        return true -- too old: it runs again
      end
      -- settled before, its claim since ended: the reply stands
      claims:delete(ck)
      return a, b, c
    end
    if err ~= "exists" then
      return zone_error(self, "claims", "add", err)
    end
    -- claimed by another: it runs, or it was settled a moment ago
    local c = claims:get(ck)
    local at, csession, capi
    if c ~= nil then
      at, csession, capi = split(c)
      if at == nil then
        return fail("unreadable claim of request id " .. req)
      end
      local ttl = self.limits.claim_ttl
      if ttl and now - at > ttl then
        -- given up (its worker died): one caller takes it over
        if claims:safe_add("t:" .. ck .. "\n" .. c, true, self.claim_ttl) then
          local replaced, rerr = claims:safe_set(ck, mine, self.claim_ttl)
          if not replaced then
            return zone_error(self, "claims", "set", rerr)
          end
          return true
        end
      elseif csession ~= session then
        -- before the reply is read: settle drains after it writes
        local waited, werr, wcode = wait_for(self, req, session)
        if not waited then
          return waited, werr, wcode
        end
      end
    end
    local v = dict:get(rk)
    if v ~= nil then
      local r1, r2, r3 = settled(self, req, v, now)
      if r1 ~= nil or r2 ~= nil then
        return r1, r2, r3
      end
    end
    if capi ~= nil then
      return false, { api = capi, running = true }
    end
    -- the claim ended without a reply kept (dropped for room): again
  end
  return fail("request id " .. req .. " claimed and released too often at once")
end

--- st:settle(req, api, value, now) -> waiting | nil, err, "ESTORE"
function _M.settle(self, req, api, value, now)
  local dict = self.dict
  local ok, err = dict:set("r:" .. req, join(now, api, value), self.store_ttl)
  if not ok then
    return zone_error(self, "dict", "set", err)
  end
  local waiting, seen = {}, {}
  local wk = "w:" .. req
  while true do
    local id = dict:lpop(wk)
    if id == nil then
      break
    end
    if not seen[id] then
      seen[id] = true
      waiting[#waiting + 1] = id
    end
  end
  self.claims:delete("c:" .. req)
  return waiting
end

--- st:release(req) -> true | nil, err, "ESTORE": the claim of req ends
-- unsettled (the sessions waiting for it get nothing)
function _M.release(self, req)
  self.dict:delete("w:" .. req)
  self.claims:delete("c:" .. req)
  return true
end

---------------------------------------------------------------- sessions

-- a session: "n" or "h<length>:<hash>", then per reply
-- "<at>,<req length>,<value length>:<req><value>"
local function encode_session(s)
  local parts = { s.hash and ("h" .. #s.hash .. ":" .. s.hash) or "n" }
  local outbox = s.outbox
  for i = 1, #outbox do
    local e = outbox[i]
    parts[i + 1] = str_format("%.0f,%d,%d:", e[3], #e[1], #e[2]) .. e[1] .. e[2]
  end
  return concat(parts)
end

local function decode_session(v)
  local s = { outbox = {} }
  local pos
  if str_sub(v, 1, 1) == "n" then
    pos = 2
  else
    local colon = str_find(v, ":", 2, true)
    local n = colon and tonumber(str_sub(v, 2, colon - 1))
    if not n then
      return nil
    end
    s.hash = str_sub(v, colon + 1, colon + n)
    pos = colon + n + 1
  end
  local outbox, k, len = s.outbox, 0, #v
  while pos <= len do
    local _, e, at, nreq, nval = str_find(v, "^(%d+),(%d+),(%d+):", pos)
    if not e then
      return nil
    end
    nreq, nval = tonumber(nreq), tonumber(nval)
    local p = e + 1
    k = k + 1
    outbox[k] = { str_sub(v, p, p + nreq - 1), str_sub(v, p + nreq, p + nreq + nval - 1), tonumber(at) }
    pos = p + nreq + nval
  end
  return s
end
_M.encode_session, _M.decode_session = encode_session, decode_session

--- st:session(id, now, change) -> state, dropped | nil, err, "ESTORE"
function _M.session(self, id, now, change)
  local claims, dict = self.claims, self.dict
  local lk = "l:" .. id
  local locked, err
  for _ = 1, LOCK_WAIT do
    locked, err = claims:safe_add(lk, true, LOCK_TTL)
    if locked or err ~= "exists" then
      break
    end
    self.sleep(0.001)
  end
  if not locked then
    if err == "exists" then
      return fail("session " .. id .. " stayed locked for " .. LOCK_WAIT .. " ms")
    end
    return zone_error(self, "claims", "add", err)
  end
  -- nothing from here to the unlock yields
  local sk = "s:" .. id
  local v = dict:get(sk)
  local s
  if v == nil then
    s = { outbox = {} }
  else
    s = decode_session(v)
    if s == nil then
      claims:delete(lk)
      return fail("unreadable session " .. id)
    end
  end
  if change.hash ~= nil then
    s.hash = change.hash
  end
  local dropped = change_outbox(s.outbox, math_floor(now), change, self.limits)
  local ok, serr = dict:set(sk, encode_session(s), self.limits.outbox_ttl / 1000 + 60)
  claims:delete(lk)
  if not ok then
    return zone_error(self, "dict", "set", serr)
  end
  return s, dropped
end

--- st:stats(id) -> { outbox = } (the other counts are not cheap here)
function _M.stats(self, id)
  local v = self.dict:get("s:" .. id)
  local s = v and decode_session(v)
  return { outbox = s and #s.outbox or 0 }
end

return _M
