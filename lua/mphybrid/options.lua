-- mphybrid.options: what the constructors share in reading their options:
-- the default clock, the check of numeric limits and of a router. Limits that
-- reach the core are checked against the bounds the core itself exports
-- (core.limits), once, where they are given.

local core = require "mphybrid.core"

local type = type
local pcall = pcall
local error = error
local rawget = rawget
local os_time = os.time
local math_floor = math.floor
local huge = math.huge
local str_format = string.format

local limits = core.limits

local _M = { _VERSION = core._VERSION }

--- options.clock() -> function returning the time in ms: ngx.now under
-- OpenResty (millisecond resolution), os.time elsewhere (whole seconds;
-- pass opts.now for a finer clock).
function _M.clock()
  local ngx = rawget(_G, "ngx")
  if ngx and ngx.now then
    local ngx_now = ngx.now
    return function()
      return ngx_now() * 1000
    end
  end
  return function()
    return os_time() * 1000
  end
end

-- a time in ms is one a double holds exactly as a whole number of ms
local TIME_MAX = 2 ^ 53

--- options.read_clock(now, last) -> the time in ms now() gives; last when
-- now() raises or gives no usable time (not a number, NaN, an infinity, a
-- time past 2^53 ms). The one rule for a clock a program hands the layer:
-- reading it never raises.
function _M.read_clock(now, last)
  local ok, t = pcall(now)
  t = ok and type(t) == "number" and t or nil
  if t == nil or not (t > -TIME_MAX and t < TIME_MAX) then
    return last
  end
  return t
end

-- Raises (at the caller of `who`, which reads its options through a helper
-- of its own) unless v is a number from min to max, and a whole one when
-- whole is set.
local function check(who, name, v, min, max, whole)
  if type(v) ~= "number" or v ~= v or v < min or v > max or (whole and v ~= math_floor(v)) then
    local what = whole and "a whole number" or "a number"
    if max == huge then
      error(who .. ": " .. name .. " must be " .. what .. " >= " .. min, 5)
    end
    error(str_format("%s: %s must be %s from %d to %d", who, name, what, min, max), 5)
  end
  return v
end

-- opts[name], or defaults[name] when absent: both are checked
local function get(defaults, opts, name)
  local v = opts[name]
  if v == nil then
    return defaults[name]
  end
  return v
end

--- options.number(who, defaults, opts, name [, min]) -> opts[name], or
-- defaults[name] when absent; raises (at the caller of `who`) unless it is
-- a number >= min (default 1). For durations in ms: math.huge is never.
function _M.number(who, defaults, opts, name, min)
  return check(who, name, get(defaults, opts, name), min or 1, huge, false)
end

--- options.count(who, defaults, opts, name [, min]) -> likewise, a whole
-- number from min (default 1) to 2^53: a number of things kept.
function _M.count(who, defaults, opts, name, min)
  return check(who, name, get(defaults, opts, name), min or 1, 2^53, true)
end

--- options.size(who, defaults, opts, name [, min]) -> likewise, a number of
-- bytes the core takes as its max_size: a whole number from min (default 1)
-- to core.limits.max_size.
function _M.size(who, defaults, opts, name, min)
  return check(who, name, get(defaults, opts, name), min or 1, limits.max_size, true)
end

--- options.depth(who, defaults, opts, name) -> likewise, a nesting depth
-- the core takes as its max_depth: a whole number from 1 to
-- core.limits.max_depth.
function _M.depth(who, defaults, opts, name)
  return check(who, name, get(defaults, opts, name), 1, limits.max_depth, true)
end

--- options.router(who, v) -> v; raises (at the caller of `who`) unless v
-- is a router: a table with a dispatch method (a mphybrid.router, or a
-- table that dispatches as one does, as the gateway's)
function _M.router(who, v)
  if type(v) ~= "table" or type(v.dispatch) ~= "function" then
    error(who .. ": opts.router must be a router", 3)
  end
  return v
end

return _M
