-- mphybrid.batch: version 2 batches on the shell's side. A batch carries
-- several commands in one navigateTo:
--   {"mph":2,"batch":[{"req":..,"api":..,"params":..},..],"ack":[..],"hash":".."}
-- The shell runs each entry as if it had come alone (the checks, the replay
-- store, the outbox), the acknowledgements and the hash with the first, and
-- answers the batch once, with one src, when every entry has its reply.
-- Protocol: docs/PROTOCOL.md ("Batches").

local core = require "mphybrid.core"
local fail = require("mphybrid.errors").fail

local array_mt = core.array_mt

local _M = { _VERSION = core._VERSION }

-- entries one batch may carry: a command URL within max_url holds far fewer;
-- a gateway's POST body could hold more than an outbox keeps
_M.max_entries = 32

-- fields of the batch itself, never copied from an entry
local BATCH_FIELDS = { mph = true, ack = true, hash = true, batch = true }

--- batch.read(cmd) -> entries | false | nil, err, "ECMD"
-- cmd: the command as far as core.decode_cmd read it, when it refused it as
-- ECMD (a batch has no api of its own). entries: the JSON text of each entry
-- as a command of its own (the batch's mph in each, its ack and hash in the
-- first). false: not a batch (the refusal stands); nil, err, "ECMD": a
-- batch of the wrong shape.
function _M.read(cmd)
  if type(cmd) ~= "table" or getmetatable(cmd) == array_mt or cmd.batch == nil
    or cmd.req ~= nil or cmd.api ~= nil then
    return false
  end
  local list, mph = cmd.batch, cmd.mph
  if type(mph) ~= "number" or mph < 2 then
    return fail("ECMD", "a batch needs mph 2")
  end
  if getmetatable(list) ~= array_mt or #list == 0 or #list > _M.max_entries then
    return fail("ECMD", "batch must be an array of 1 to " .. _M.max_entries .. " commands")
  end
  local entries = {}
  for i = 1, #list do
    local e = list[i]
    local one = e
    if type(e) == "table" and getmetatable(e) ~= array_mt then
      one = {}
      for k, v in pairs(e) do
        if not BATCH_FIELDS[k] then
          one[k] = v
        end
      end
      one.mph = mph
      if i == 1 then
        one.ack, one.hash = cmd.ack, cmd.hash
      end
    end
    -- an entry that is not an object is answered as such a command would be
    entries[i] = core.encode_json(one) or "null"
  end
  return entries
end

--- batch.run(shell, entries, done) -> src, true | false
-- Runs each entry on a view of its own (shell:for_session, so that a
-- gateway keeps one command per view), and answers like shell:on_load: the
-- src and true when every reply is written at once, else false, and
-- done(nil, src) once the last reply is written. The src answered is the
-- version 2 one written last: every such write carries the whole outbox of
-- the session (an entry answered under miniProgramResult, for want of a
-- usable req, is heard only when no entry is answered in version 2).
-- shell.batch holds the views while they run.
function _M.run(shell, entries, done)
  local views = {}
  local state = { views = views, left = 1, src = nil, stamp = 0 }
  shell.batch, shell.version, shell.outcome = state, 2, "batch"
  shell.outcome_req, shell.outcome_api = nil, nil
  local answered = false

  local function answer()
    local src = state.src or shell.src
    shell.src = src
    if state.stamp > (shell.last_stamp or 0) then
      shell.last_stamp = state.stamp
    end
    answered = true
    return src
  end

  local function one(src, view)
    -- a version 2 write carries the whole outbox: the last one wins over
    -- a seed-compatible error (an entry without a usable req)
    if src and (state.src == nil or string.find(src, "#mph=2&", 1, true)
      or not string.find(state.src, "#mph=2&", 1, true)) then
      state.src = src
    end
    if view.last_stamp > state.stamp then
      state.stamp = view.last_stamp
    end
    state.left = state.left - 1
    if state.left == 0 and state.async then
      local out = answer()
      if done then
        done(nil, out)
      end
    end
  end

  for i = 1, #entries do
    local view = shell:for_session(shell.session, shell.src)
    views[i] = view
    state.left = state.left + 1
    local called = false
    local out = view:on_load({ cmd = entries[i] }, function(_, src)
      -- on_load calls done once; guard anyway: the count must hold
      if not called then
        called = true
        one(src, view)
      end
    end)
    if out == nil and not called then
      -- no src written for it (on_load returned the failure, done unheard)
      called = true
      one(nil, view)
    end
  end
  state.left = state.left - 1
  if state.left == 0 and not answered then
    local src = answer()
    if done then
      done(nil, src)
    end
    return src, true
  end
  state.async = true
  return false
end

return _M
