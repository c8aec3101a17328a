-- The Redis store against the store interface (docs/GATEWAY.md), inside a
-- real nginx talking to a real redis-server, both on free loopback ports.
local servers = require "helpers.servers"
local in_nginx = require "helpers.store_in_nginx"

local nginx = require "helpers.nginx"

local available, missing = nginx.available()
if available and not servers.which("redis-server") then
  missing = "redis-server is not installed (make setup installs it)"
end

describe("mphybrid.store.redis", function()
  local redis
  local runner = in_nginx.new({ name = "store-redis", missing = missing })

  setup(function()
    if missing then return end
    redis = assert(servers.redis("build/spec-store-redis/redis"))
    runner.opts.new_store = [[
      local lim, prefix = ...
      lim.url, lim.prefix = "redis://127.0.0.1:]] .. redis.port .. [[/0", prefix
      return require("mphybrid.store.redis").new(lim)]]
    runner.start()
  end)

  teardown(function()
    runner.stop()
    if redis then servers.stop(redis.pid) end
  end)

  runner.declare(it, pending, assert)
end)
