-- What LuaJIT's compiler made of a piece of code (the facts `luajit -jv`
-- prints, gathered through jit.attach): the traces compiled and how each
-- ends, the aborted ones by reason, and the starts it blacklisted (gave up
-- on: their bytecode patched to the interpreter-only form).
--
--   jv.collect(fn, names) -> summary: runs fn() with the collector on
--   jv.lines(summary) -> { "3 traces (1 stitch), 2 aborts", "  2x NYI: ..." }
-- names: { [function] = "core.decode_json", ... } to name C functions.

local jit = require "jit"
local jutil = require "jit.util"
local vmdef = require "jit.vmdef"
local bit = require "bit"

local format, sort = string.format, table.sort

local _M = {}

local function fmtfunc(names, func, pc)
  if names[func] then
    return names[func]
  end
  local fi = jutil.funcinfo(func, pc)
  if fi.loc then
    return fi.loc
  elseif fi.ffid then
    return vmdef.ffnames[fi.ffid]
  elseif fi.addr then
    return format("C:%x", fi.addr)
  end
  return "(?)"
end

local function fmterr(names, err, info)
  if type(err) == "number" then
    if type(info) == "function" then
      info = fmtfunc(names, info)
    end
    return format(vmdef.traceerr[err], info)
  end
  return tostring(err)
end

-- the name of the bytecode at func's pc ("ILOOP" once blacklisted)
local function opname(func, pc)
  local ins = jutil.funcbc(func, pc)
  if not ins then
    return "?"
  end
  local op = bit.band(ins, 0xff)
  return vmdef.bcnames:sub(op * 6 + 1, op * 6 + 6):gsub("%s+$", "")
end

function _M.collect(fn, names)
  names = names or {}
  local s = { traces = 0, links = {}, aborts = 0, reasons = {}, flushes = 0, starts = {}, stitched = {} }
  local start_of = {}
  local function on_trace(what, tr, func, pc, otr, oex)
    if what == "start" then
      start_of[tr] = { func = func, pc = pc }
    elseif what == "stop" then
      s.traces = s.traces + 1
      local ltype = jutil.traceinfo(tr).linktype
      s.links[ltype] = (s.links[ltype] or 0) + 1
      if ltype == "stitch" then
        -- the trace stops before a call it cannot compile (a C function)
        local callee = fmtfunc(names, func, pc)
        s.stitched[callee] = (s.stitched[callee] or 0) + 1
      end
    elseif what == "abort" then
      s.aborts = s.aborts + 1
      local reason = fmterr(names, otr, oex) .. " at " .. fmtfunc(names, func, pc)
      s.reasons[reason] = (s.reasons[reason] or 0) + 1
      local st = start_of[tr]
      if st then
        s.starts[#s.starts + 1] = st
      end
    elseif what == "flush" then
      s.flushes = s.flushes + 1
    end
  end
  jit.attach(on_trace, "trace")
  local ok, err = pcall(fn)
  jit.attach(on_trace)
  if not ok then
    error(err, 0)
  end
  -- a start that aborted and is now interpreter-only was blacklisted
  local seen = {}
  s.blacklisted = {}
  for _, st in ipairs(s.starts) do
    local loc = fmtfunc(names, st.func, st.pc)
    if not seen[loc] and opname(st.func, st.pc):match("^I") then
      seen[loc] = true
      s.blacklisted[#s.blacklisted + 1] = loc
    end
  end
  sort(s.blacklisted)
  s.starts = nil
  return s
end

function _M.lines(s)
  local kinds = {}
  for ltype, n in pairs(s.links) do
    kinds[#kinds + 1] = n .. " " .. ltype
  end
  sort(kinds)
  local head = format("%d trace%s%s, %d abort%s, %d blacklisted", s.traces, s.traces == 1 and "" or "s",
    #kinds > 0 and " (" .. table.concat(kinds, ", ") .. ")" or "",
    s.aborts, s.aborts == 1 and "" or "s", #s.blacklisted)
  if s.flushes > 0 then
    head = head .. format(", %d flush%s", s.flushes, s.flushes == 1 and "" or "es")
  end
  local lines = { head }
  local reasons = {}
  for reason, n in pairs(s.reasons) do
    reasons[#reasons + 1] = { reason = reason, n = n }
  end
  sort(reasons, function(a, b) return a.n > b.n or a.n == b.n and a.reason < b.reason end)
  for _, r in ipairs(reasons) do
    lines[#lines + 1] = format("  %4dx abort: %s", r.n, r.reason)
  end
  local stitched = {}
  for callee in pairs(s.stitched) do
    stitched[#stitched + 1] = callee
  end
  sort(stitched)
  for _, callee in ipairs(stitched) do
    lines[#lines + 1] = "        stitched at: " .. callee
  end
  for _, loc in ipairs(s.blacklisted) do
    lines[#lines + 1] = "        blacklisted: " .. loc
  end
  return lines
end

return _M
