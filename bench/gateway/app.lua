-- The gateways the bench and the soak serve: mphybrid.resty with one api,
-- echo, which answers its params and never yields (so it is listed in
-- opts.direct, as a user would list it); serve() with the defaults
-- (lua_shared_dict store, metrics), serve_redis() on the Redis store at
-- $BENCH_REDIS. Each made once per worker, on first use.
local _M = {}

local gw, gw_redis

local function router()
  local r = require("mphybrid.router").new()
  assert(r:register("echo", function(params) return params end))
  return r
end

function _M.serve()
  if not gw then
    gw = require("mphybrid.resty").new({ router = router(), direct = { "echo" } })
  end
  return gw:serve()
end

function _M.serve_redis()
  if not gw_redis then
    local store = require("mphybrid.store.redis").new({ url = os.getenv("BENCH_REDIS"),
      prefix = "bench:", claim_ttl = 60000 })
    gw_redis = require("mphybrid.resty").new({ router = router(), store = store, direct = { "echo" } })
  end
  return gw_redis:serve()
end

return _M
