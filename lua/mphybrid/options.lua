-- mphybrid.options: what client.new and shell.new share in reading their
-- options: the default clock and the check of numeric limits.

local type = type
local error = error
local rawget = rawget
local os_time = os.time

local _M = { _VERSION = "0.1.0" }

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

--- options.number(who, defaults, opts, name [, min]) -> opts[name], or
-- defaults[name] when absent; raises (at the caller of `who`) unless it is
-- a number >= min (default 1).
function _M.number(who, defaults, opts, name, min)
    local v = opts[name]
    if v == nil then
        return defaults[name]
    end
    min = min or 1
    if type(v) ~= "number" or v ~= v or v < min then
        error(who .. ": " .. name .. " must be a number >= " .. min, 3)
    end
    return v
end

return _M
