-- mphybrid.batch: version 2 batches on the shell's side. A batch carries
-- several commands in one navigateTo:
--   {"mph":2,"batch":[{"req":..,"api":..,"params":..},..],"ack":[..],"hash":".."}
-- The shell runs each entry as if it had come alone (the checks, the replay
-- store, the outbox), the acknowledgements and the hash with the first, and
-- answers the batch once, with one src, when every entry has its reply.
-- Protocol: docs/PROTOCOL.md ("Batches").

local core = require "mphybrid.core"
local protocol = require "mphybrid.protocol"

local src_version = protocol.src_version
local call = require("mphybrid.errors").call

local _M = { _VERSION = core._VERSION }

-- entries one batch may carry (the batch is read by protocol.decode_batch)
_M.max_entries = protocol.max_batch

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
    -- a version 1 error (an entry without a usable req)
    if src and (state.src == nil or src_version(src) == 2 or src_version(state.src) ~= 2) then
      state.src = src
    end
    if view.last_stamp > state.stamp then
      state.stamp = view.last_stamp
    end
    state.left = state.left - 1
    if state.left == 0 and state.async then
      local out = answer()
      if done then
        call(shell.log, "on_load's done of a batch", nil, done, nil, out)
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
      call(shell.log, "on_load's done of a batch", nil, done, nil, src)
    end
    -- (newer than src when done ran another command, as shell's on_load)
    return shell.src, true
  end
  state.async = true
  return false
end

return _M
