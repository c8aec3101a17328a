-- The store interface (docs/GATEWAY.md, "The store interface") as busted
-- specs that every store passes. contract(it, new_store) declares them inside
-- the current describe block; new_store(limits) returns a fresh, empty store
-- with those limits. Methods may yield: call contract from a context where
-- the store's methods work (for a store of nginx, inside nginx).

local assert = require "luassert"

return function(it, new_store)
  local T0 = 1700000000000

  local function ok(v, err)
    assert(v ~= nil, "store failed: " .. tostring(err))
    return v
  end

  local function reqs(state)
    local list = {}
    for i, e in ipairs(state.outbox) do
      list[i] = e[1]
    end
    return list
  end

  it("gives a request id's claim to exactly one caller, then its settled reply to every other", function()
    local st = new_store({})
    assert.is_true(ok(st:claim("r1", "echo", "s1", T0)))
    local claimed, entry = st:claim("r1", "echo", "s1", T0 + 1)
    assert.is_false(claimed)
    assert.same({ api = "echo", running = true }, entry)
    assert.same({}, ok(st:settle("r1", "echo", '{"result":1}', T0 + 2)))
    claimed, entry = st:claim("r1", "echo", "s2", T0 + 3)
    assert.is_false(claimed)
    assert.same({ api = "echo", value = '{"result":1}' }, entry)
  end)

  it("names the sessions that asked for a running command when it is settled", function()
    local st = new_store({})
    assert.is_true(ok(st:claim("r1", "slow", "s1", T0)))
    st:claim("r1", "slow", "s2", T0)
    st:claim("r1", "slow", "s3", T0)
    st:claim("r1", "slow", "s2", T0)
    st:claim("r1", "slow", "s1", T0)
    local waiting = ok(st:settle("r1", "slow", '{"result":null}', T0 + 1))
    table.sort(waiting)
    assert.same({ "s2", "s3" }, waiting)
  end)

  it("keeps the api of the first claim, so that a reuse for another api is seen", function()
    local st = new_store({})
    st:claim("r1", "a", "s1", T0)
    local _, entry = st:claim("r1", "b", "s1", T0)
    assert.same("a", entry.api)
    st:settle("r1", "a", '{"result":1}', T0)
    _, entry = st:claim("r1", "b", "s1", T0)
    assert.same("a", entry.api)
  end)

  it("never drops a running claim for max_store other replies", function()
    local st = new_store({ max_store = 2 })
    assert.is_true(ok(st:claim("running", "slow", "s1", T0)))
    for i = 1, 10 do
      local req = "r" .. i
      assert.is_true(ok(st:claim(req, "echo", "s1", T0)))
      ok(st:settle(req, "echo", '{"result":1}', T0))
    end
    local claimed, entry = st:claim("running", "slow", "s1", T0 + 1)
    assert.is_false(claimed)
    assert.is_true(entry.running)
  end)

  it("forgets a reply after store_ttl ms, so that its command runs again", function()
    local st = new_store({ store_ttl = 1000 })
    st:claim("r1", "echo", "s1", T0)
    st:settle("r1", "echo", '{"result":1}', T0)
    assert.is_false(ok(st:claim("r1", "echo", "s1", T0 + 1000)))
    assert.is_true(ok(st:claim("r1", "echo", "s1", T0 + 1001)))
  end)

  it("gives up an unsettled claim after claim_ttl ms when that is set", function()
    local st = new_store({ claim_ttl = 1000 })
    st:claim("r1", "slow", "s1", T0)
    assert.is_false(ok(st:claim("r1", "slow", "s1", T0 + 1000)))
    assert.is_true(ok(st:claim("r1", "slow", "s1", T0 + 1001)))
  end)

  it("gives a released claim to the next caller", function()
    local st = new_store({})
    if not st.release then return end -- optional: the shell then refuses before claiming
    assert.is_true(ok(st:claim("r1", "slow", "s1", T0)))
    assert.is_true(ok(st:release("r1")))
    assert.is_true(ok(st:claim("r1", "slow", "s1", T0 + 1)))
  end)

  it("keeps per session an outbox in the order written, and the page's hash", function()
    local st = new_store({})
    ok(st:session("s1", T0, { req = "a", value = "1" }))
    ok(st:session("s2", T0, { req = "x", value = "9", hash = "/other" }))
    ok(st:session("s1", T0, { req = "b", value = "2", hash = "/cart" }))
    local state = ok(st:session("s1", T0, {}))
    assert.same({ "a", "b" }, reqs(state))
    assert.same("2", state.outbox[2][2])
    assert.same("/cart", state.hash)
    state = ok(st:session("s1", T0, { req = "a", value = "3" }))
    assert.same({ "b", "a" }, reqs(state))
    assert.same("3", state.outbox[2][2])
    state = ok(st:session("s2", T0, {}))
    assert.same({ "x" }, reqs(state))
    assert.same("/other", state.hash)
  end)

  it("removes acknowledged replies before it appends the new one", function()
    local st = new_store({})
    for _, r in ipairs({ "a", "b", "c", "d", "e", "f" }) do
      st:session("s1", T0, { req = r, value = r })
    end
    local state = ok(st:session("s1", T0, { ack = { "a", "c", "zz" }, req = "g", value = "g" }))
    assert.same({ "b", "d", "e", "f", "g" }, reqs(state))
    state = ok(st:session("s1", T0, { ack = { "b", "d", "e", "f", "g", "q" } }))
    assert.same({}, reqs(state))
  end)

  it("drops the oldest replies beyond max_outbox and those older than outbox_ttl, and says which", function()
    local st = new_store({ max_outbox = 2, outbox_ttl = 500 })
    st:session("s1", T0, { req = "a", value = "1" })
    st:session("s1", T0 + 100, { req = "b", value = "2" })
    local state, dropped = st:session("s1", T0 + 200, { req = "c", value = "3" })
    assert.same({ "b", "c" }, reqs(state))
    assert.same({ { "a", "full" } }, dropped)
    state, dropped = st:session("s1", T0 + 601, {})
    assert.same({ "c" }, reqs(state))
    assert.same({ { "b", "expired" } }, dropped)
  end)

  it("refuses limits of the wrong type or range", function()
    assert.has_error(function() new_store({ max_outbox = "3" }) end)
    assert.has_error(function() new_store({ max_store = 1 }) end)
    assert.has_error(function() new_store({ store_ttl = 0 / 0 }) end)
  end)
end
