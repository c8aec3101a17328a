-- luacheck: globals ngx
-- Cases of the Redis store beyond the store contract, in the contract's
-- form: cases(it, new_store), run inside nginx by helpers.store_in_nginx.
-- new_store(limits) gives a store on the spec's redis-server with a fresh
-- key prefix.

local assert = require "luassert"

return function(it, new_store)
  local T0 = 1700000000000

  local function same_place(st)
    return require("mphybrid.store.redis").new({ host = st.host, port = st.port, db = st.db,
      prefix = st.prefix })
  end

  -- a plain connection to the store's server, for what a spec does behind it
  local function raw(st)
    local red = require("nginx.redis"):new()
    red:set_timeout(2000)
    assert(red:connect(st.host, st.port))
    return red
  end

  it("shares claims, replies and sessions with every store on the same server and prefix", function()
    local a = new_store({})
    local b = same_place(a)
    assert.is_true(a:claim("r1", "echo", "s1", T0))
    assert.same({ api = "echo", running = true }, select(2, b:claim("r1", "echo", "s2", T0)))
    assert.same({ "s2" }, b:settle("r1", "echo", '{"result":1}', T0))
    assert.same({ api = "echo", value = '{"result":1}' }, select(2, a:claim("r1", "echo", "s1", T0)))
    a:session("s1", T0, { req = "r1", value = '{"result":1}', hash = "/cart" })
    local state = b:session("s1", T0, {})
    assert.same("/cart", state.hash)
    assert.same("r1", state.outbox[1][1])
  end)

  it("answers ESTORE, and neither raises nor hangs, when nothing listens on its port", function()
    local st = require("mphybrid.store.redis").new({ url = "redis://127.0.0.1:1/0",
      connect_timeout = 1000, read_timeout = 1000 })
    local t0 = ngx.now()
    for _, call in ipairs({
      function() return st:claim("r1", "echo", "s1", T0) end,
      function() return st:settle("r1", "echo", "{}", T0) end,
      function() return st:session("s1", T0, {}) end,
      function() return st:stats("s1") end,
    }) do
      local v, err, code = call()
      assert.is_nil(v)
      assert.same("ESTORE", code)
      assert.matches("^ESTORE: redis 127%.0%.0%.1:1/0: %a+ ?[%w]*: connect: ", err)
    end
    -- no hang: far below what four calls of one-second timeouts could take
    assert.is_true(ngx.now() - t0 < 4)
  end)

  it("refuses an api or a session id with a line break, as ESTORE", function()
    local st = new_store({})
    assert.same({ nil, "ESTORE" }, { nil, select(3, st:claim("r1", "a\nb", "s1", T0)) })
    assert.same({ nil, "ESTORE" }, { nil, select(3, st:claim("r1", "echo", "s\n1", T0)) })
    assert.same({ nil, "ESTORE" }, { nil, select(3, st:settle("r1", "a\nb", "{}", T0)) })
    assert.is_true(st:claim("r1", "echo", "s1", T0))
  end)

  it("loads its scripts again when Redis has forgotten them", function()
    local st = new_store({})
    assert.is_true(st:claim("r1", "echo", "s1", T0))
    local red = raw(st)
    assert.same("OK", red:script("flush"))
    red:close()
    assert.is_false(st:claim("r1", "echo", "s1", T0))
    assert.same({}, st:settle("r1", "echo", "{}", T0))
  end)

  it("gives up, with its next claim, a claim whose answer it never heard", function()
    local st = new_store({})
    local other = same_place(st)
    assert.is_true(st:claim("lost", "echo", "s1", T0))
    local red = raw(st)
    local value = red:get(st.prefix .. "c:lost")
    red:close()
    -- what claim() keeps when the connection fails after the script ran
    st.orphans[1] = { st.prefix .. "c:lost", value }
    assert.is_false(other:claim("lost", "echo", "s1", T0))
    assert.is_true(st:claim("next", "echo", "s1", T0))
    assert.is_true(other:claim("lost", "echo", "s1", T0))
    -- only a claim that is still its own: not the other store's
    st.orphans[1] = { st.prefix .. "c:lost", value }
    assert.is_true(st:claim("next2", "echo", "s1", T0))
    assert.is_false(st:claim("lost", "echo", "s1", T0))
  end)

  it("keeps, once Redis answers again, a reply whose settle failed", function()
    local st = new_store({})
    local other = same_place(st)
    assert.is_true(st:claim("ran", "echo", "s1", T0))
    -- what settle() keeps when its connection fails
    st.unsettled[1] = { "ran", "echo", '{"result":7}', T0 }
    assert.same({ api = "echo", running = true }, select(2, other:claim("ran", "echo", "s1", T0)))
    assert.is_true(st:claim("next", "echo", "s1", T0))
    assert.same({ api = "echo", value = '{"result":7}' }, select(2, other:claim("ran", "echo", "s1", T0)))
    assert.same({}, st.unsettled)
  end)
end
