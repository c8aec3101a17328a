-- mphybrid.store: what every store of the shell's state shares: the
-- limits and their defaults, the ESTORE failure, and the outbox rule (ack,
-- put, expire, trim) that a store applies in one atomic step.
--
-- A store keeps, for every shell that uses it:
--   * the replay store, keyed by request id: who claimed a version 2
--     command, and its reply once it is settled;
--   * per web-view session: the outbox of unacknowledged replies and the
--     page's own fragment (hash).
-- Implementations: mphybrid.store.memory (in-process, the default outside
-- nginx), mphybrid.store.shdict (lua_shared_dict, the default in nginx),
-- mphybrid.store.redis. The interface, every method with its arguments,
-- returns and atomicity, is in docs/GATEWAY.md ("The store interface").

local limits = require "mphybrid.options"
local fail = require("mphybrid.errors").fail

local type = type
local error = error
local table_remove = table.remove

local _M = { _VERSION = require("mphybrid.core")._VERSION }

_M.defaults = {
  max_outbox = 32,       -- unacknowledged replies kept per session
  outbox_ttl = 120000,   -- ms an unacknowledged reply is written again
  max_store = 256,       -- replies kept for replayed commands (>= 2)
  store_ttl = 600000,    -- ms a reply is kept for a replayed command
  max_sessions = 10000,  -- sessions kept (>= 2): memory store only
  claim_ttl = false,     -- ms a claim is kept unsettled: false = until settled
}

--- store.limits(who, opts) -> the checked limits of opts, defaults filled in;
-- raises (at the caller of `who`) on a limit of the wrong type or range.
function _M.limits(who, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(who .. ": opts must be a table", 3)
  end
  opts = opts or {}
  local d = _M.defaults
  local claim_ttl = opts.claim_ttl
  if claim_ttl == nil or claim_ttl == false then
    claim_ttl = false
  else
    claim_ttl = limits.number(who, d, opts, "claim_ttl")
  end
  return {
    max_outbox = limits.count(who, d, opts, "max_outbox"),
    outbox_ttl = limits.number(who, d, opts, "outbox_ttl"),
    max_store = limits.count(who, d, opts, "max_store", 2),
    store_ttl = limits.number(who, d, opts, "store_ttl"),
    max_sessions = limits.count(who, d, opts, "max_sessions", 2),
    claim_ttl = claim_ttl,
  }
end

--- store.fail(message) -> nil, "ESTORE: message", "ESTORE": what every
-- store method returns when its backend fails.
function _M.fail(message)
  return fail("ESTORE", message)
end

-- removes the acknowledged request ids from outbox (an array of
-- { req, value, at }), in place
local function ack(outbox, acks)
  local n, m = #outbox, #acks
  if n == 0 or m == 0 then
    return
  end
  local set
  if m > 4 then
    set = {}
    for i = 1, m do
      set[acks[i]] = true
    end
  end
  local j = 0
  for i = 1, n do
    local e = outbox[i]
    outbox[i] = nil
    local req, acked = e[1], false
    if set then
      acked = set[req] ~= nil
    else
      for k = 1, m do
        if acks[k] == req then
          acked = true
          break
        end
      end
    end
    if not acked then
      j = j + 1
      outbox[j] = e
    end
  end
end

--- store.change_outbox(outbox, now, change, lim) -> dropped | nil
-- The outbox rule, applied in place to outbox, an array of { req, value, at }
-- oldest first: remove the ids of change.ack; append { change.req,
-- change.value, now } (an older reply to the same req is removed first);
-- drop the replies older than lim.outbox_ttl, then the oldest beyond
-- lim.max_outbox. Returns the dropped replies as { { req, why }, ... } with
-- why "expired" or "full", or nil when none was.
function _M.change_outbox(outbox, now, change, lim)
  local acks = change.ack
  if acks then
    ack(outbox, acks)
  end
  local req = change.req
  local n = #outbox
  if req ~= nil then
    for i = 1, n do
      if outbox[i][1] == req then
        table_remove(outbox, i)
        n = n - 1
        break
      end
    end
    n = n + 1
    outbox[n] = { req, change.value, now }
  end
  local dropped
  if n > 0 and now - outbox[1][3] > lim.outbox_ttl then
    local ttl, j = lim.outbox_ttl, 0
    dropped = {}
    for i = 1, n do
      local e = outbox[i]
      outbox[i] = nil
      if now - e[3] > ttl then
        dropped[#dropped + 1] = { e[1], "expired" }
      else
        j = j + 1
        outbox[j] = e
      end
    end
    n = j
  end
  local max = lim.max_outbox
  if n > max then
    dropped = dropped or {}
    local extra = n - max
    for i = 1, extra do
      dropped[#dropped + 1] = { outbox[i][1], "full" }
    end
    for i = 1, n do
      outbox[i] = outbox[i + extra]
    end
  end
  return dropped
end

return _M
