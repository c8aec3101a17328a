-- mphybrid: H5 <-> WeChat mini-program messaging over navigateTo and URL
-- fragments. This module re-exports the C core (mphybrid.core); the Lua
-- layer lives in mphybrid.router, mphybrid.client and mphybrid.shell.
local core = require "mphybrid.core"

local _M = {}
for name, value in pairs(core) do
    _M[name] = value
end

return _M
