-- mphybrid.store.memory: the shell's state in this Lua state's own tables
-- (the default outside nginx). The interface is in docs/GATEWAY.md ("The
-- store interface"); every method is atomic because nothing in it yields.
--
-- Replies and sessions are kept in two generations each: when the young
-- one is full it becomes the old one and the old one is dropped whole (no
-- deletions: tables that churn at a fixed size rehash on every insert).
-- Claims not yet settled are kept apart and never dropped with a
-- generation, so that a running command is never started twice.

local base = require "mphybrid.store"

local pairs = pairs
local setmetatable = setmetatable
local math_floor = math.floor

local change_outbox = base.change_outbox

local _M = { _VERSION = require("mphybrid.core")._VERSION }
local mt = { __index = _M }

-- what settle returns when no other session waits: one empty array for
-- every call, that refuses to be written into
local NONE = setmetatable({}, {
  __newindex = function()
    error("memory store: the waiting list of settle is read-only", 2)
  end,
})

-- a table in two generations of at most `half` keys each
local function generations(half)
  return { young = {}, old = {}, young_count = 0, old_count = 0, half = half }
end

local function gen_get(g, key)
  local v = g.young[key]
  if v == nil then
    v = g.old[key]
  end
  return v
end

local function gen_put(g, key, value)
  local young = g.young
  if young[key] == nil then
    if g.young_count >= g.half then
      g.old, g.old_count = young, g.young_count
      young = {}
      g.young, g.young_count = young, 0
    end
    g.young_count = g.young_count + 1
    if g.old[key] ~= nil then
      g.old[key] = nil
      g.old_count = g.old_count - 1
    end
  end
  young[key] = value
end

--- memory.new([opts]) -> store
-- opts: the limits of mphybrid.store.defaults.
function _M.new(opts)
  local lim = base.limits("memory.new", opts)
  local self = {
    limits = lim,
    replies = generations(math_floor(lim.max_store / 2)),   -- req -> { api, value, at }
    sessions = generations(math_floor(lim.max_sessions / 2)), -- id -> { hash =, outbox = }
    claims = {},         -- req -> { api =, at =, session =, waiting = { id = true } | nil }
    claim_count = 0,
  }
  return setmetatable(self, mt)
end

--- st:claim(req, api, session, now) -> true | false, entry
function _M.claim(self, req, api, session, now)
  local claims = self.claims
  local c = claims[req]
  if c ~= nil then
    local ttl = self.limits.claim_ttl
    if ttl and now - c.at > ttl then
      claims[req] = nil
      self.claim_count = self.claim_count - 1
      c = nil
    end
  end
  if c ~= nil then
    if session ~= c.session then
      local waiting = c.waiting
      if waiting == nil then
        waiting = {}
        c.waiting = waiting
      end
      waiting[session] = true
    end
    return false, { api = c.api, running = true }
  end
  local r = gen_get(self.replies, req)
  if r ~= nil and now - r[3] <= self.limits.store_ttl then
    return false, { api = r[1], value = r[2] }
  end
  claims[req] = { api = api, at = now, session = session, waiting = nil }
  self.claim_count = self.claim_count + 1
  return true
end

--- st:settle(req, api, value, now) -> waiting
function _M.settle(self, req, api, value, now)
  local c = self.claims[req]
  local waiting = NONE
  if c ~= nil then
    self.claims[req] = nil
    self.claim_count = self.claim_count - 1
    if c.waiting ~= nil then
      waiting = {}
      for id in pairs(c.waiting) do
        waiting[#waiting + 1] = id
      end
      table.sort(waiting)
    end
  end
  gen_put(self.replies, req, { api, value, now })
  return waiting
end

--- st:release(req) -> true: the claim of req ends unsettled
function _M.release(self, req)
  if self.claims[req] ~= nil then
    self.claims[req] = nil
    self.claim_count = self.claim_count - 1
  end
  return true
end

--- st:session(id, now, change) -> { hash =, outbox = }, dropped
function _M.session(self, id, now, change)
  local sessions = self.sessions
  local s = sessions.young[id]
  if s == nil then
    -- (a session seen lately is young already: it stays where it is)
    s = gen_get(sessions, id)
    if s == nil then
      s = { hash = nil, outbox = {} }
    end
    gen_put(sessions, id, s)
  end
  if change.hash ~= nil then
    s.hash = change.hash
  end
  local dropped = change_outbox(s.outbox, now, change, self.limits)
  return s, dropped
end

--- st:stats(id) -> { outbox =, store =, running = }
function _M.stats(self, id)
  local s = gen_get(self.sessions, id)
  local r = self.replies
  return {
    outbox = s and #s.outbox or 0,
    store = r.young_count + r.old_count,
    running = self.claim_count,
  }
end

return _M
