-- The Redis store against the store interface (docs/GATEWAY.md), inside a
-- real nginx talking to a real redis-server, both on free loopback ports.
local servers = require "helpers.servers"
local in_nginx = require "helpers.store_in_nginx"

local nginx = require "helpers.nginx"

local available, missing = nginx.available()
if available and not servers.which("redis-server") then
  missing = "redis-server is not installed (make setup installs it)"
end

-- the cases of the module `cases` against stores on one redis-server
local function in_redis(cases)
  local redis
  local runner = in_nginx.new({ name = "store-redis", missing = missing, cases = cases })

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
end

describe("mphybrid.store.redis", function()
  in_redis("helpers.store_contract")
end)

describe("mphybrid.store.redis, beyond the contract,", function()
  in_redis("helpers.store_redis_cases")
end)

describe("mphybrid.store.redis options", function()
  local redis = require "mphybrid.store.redis"

  it("reads a Redis URL with or without its port, database and password", function()
    assert.same({ host = "10.0.0.5", port = 6380, db = 2 }, redis.parse_url("redis://10.0.0.5:6380/2"))
    assert.same({ host = "cache.internal", port = 6379, db = 0 }, redis.parse_url("redis://cache.internal"))
    assert.same({ host = "::1", port = 7000, db = 0, password = "s3cret" },
      redis.parse_url("redis://:s3cret@[::1]:7000"))
  end)

  it("refuses what is not a Redis URL, with a reason", function()
    for _, bad in ipairs({ "http://h:1/0", "redis://", "redis://h:0/0", "redis://h:70000", "redis://h:1/x",
                           "redis://h h", 42 }) do
      local u, err = redis.parse_url(bad)
      assert.is_nil(u)
      assert.is_string(err)
    end
  end)

  it("raises on options of the wrong type or range, before any connection", function()
    for _, opts in ipairs({ "redis://h", { url = "nope" }, { port = 0 }, { port = 1.5 }, { db = -1 },
                            { host = "" }, { prefix = "a\nb" }, { read_timeout = "1" }, { pool_size = 0 },
                            { max_outbox = "3" }, { password = 7 } }) do
      assert.has_error(function() redis.new(opts) end)
    end
  end)

  it("takes the server from a URL and every limit from its options", function()
    local st = redis.new({ url = "redis://:pw@127.0.0.1:6390/3", prefix = "app:", max_store = 10,
      read_timeout = 500 })
    assert.same({ "127.0.0.1", 6390, 3, "pw", "app:", 10, 500 },
      { st.host, st.port, st.db, st.password, st.prefix, st.limits.max_store, st.read_timeout })
  end)
end)
