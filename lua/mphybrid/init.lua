-- mphybrid: H5 <-> WeChat mini-program messaging over navigateTo and URL
-- fragments. require "mphybrid" gives the C core (mphybrid.core) and, loaded
-- on first use, the Lua layer: mphybrid.router, .shell, .client, .errors,
-- .loopback, .protocol.
local core = require "mphybrid.core"

local _M = {}
for name, value in pairs(core) do
  _M[name] = value
end

local submodules = { router = true, shell = true, client = true, errors = true, loopback = true, protocol = true }

return setmetatable(_M, {
  __index = function(self, name)
    if submodules[name] then
      local m = require("mphybrid." .. name)
      rawset(self, name, m)
      return m
    end
  end,
})
