-- The gateway the bench and the soak serve: mphybrid.resty with its
-- defaults (lua_shared_dict store, metrics) and one api, echo, which
-- answers its params. Made once per worker, on first use.
local _M = {}

local gw

function _M.serve()
    if not gw then
        local r = require("mphybrid.router").new()
        assert(r:register("echo", function(params) return params end))
        gw = require("mphybrid.resty").new({ router = r })
    end
    return gw:serve()
end

return _M
