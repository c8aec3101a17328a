-- Whole exchanges in process: client call -> navigate -> shell on_load ->
-- handler -> new web-view src -> client receive.

local loopback = require "mphybrid.loopback"

local SRC = "https://h5.example.com/app/index.html"

-- Park-Miller: the same sequence on every Lua
local function prng(seed)
  local x = seed
  return function(n)
    x = (x * 16807) % 2147483647
    return x % n + 1
  end
end

-- a mini-program with one web-view page and the hybrid page, and an H5
-- page in it (mphybrid.loopback); every wire message is kept in `wire`;
-- calls to "later" are answered when the test says so (w:answer)
local function world(opts)
  opts = opts or {}
  local w = loopback.new({
    handlers = { echo = function(params) return params end },
    src = SRC,
    protocol = opts.protocol,
    decoded = opts.decoded_options, -- onLoad: some devices hand options already decoded
    shell = { max_outbox = opts.max_outbox },
    client = { new_req_id = opts.new_req_id, max_url = opts.max_url },
  })
  return w:defer("later")
end

local function collect(results, key)
  return function(err, result)
    results[#results + 1] = { key = key, err = err and err.code, result = result }
  end
end

describe("round trips", function()
  it("200 calls in flight, answered asynchronously in shuffled order: each callback once, right result", function()
    local w = world()
    local rand = prng(20240611)
    local results, ids = {}, {}
    for i = 1, 200 do
      ids[i] = w.client:call("later", { n = i }, collect(results, i))
    end
    assert.same(200, w.client:pending())
    -- shuffle the order of the replies
    local order = {}
    for i = 1, 200 do order[i] = i end
    for i = 200, 2, -1 do
      local j = rand(i)
      order[i], order[j] = order[j], order[i]
    end
    -- the page sees the src only now and then: up to three replies are
    -- written before one hashchange, and new calls acknowledge as they go
    w.hashchange = false
    local since = 0
    for k, i in ipairs(order) do
      local n = i
      w:answer(ids[i], { n = n, squared = n * n })
      since = since + 1
      if since == 3 or rand(2) == 1 then
        w:see()
        since = 0
      end
      if k % 25 == 0 then
        w.hashchange = true
        w.client:call("echo", { k = k }, collect(results, "echo" .. k))
        w.hashchange = false
      end
    end
    w:see()

    local seen = {}
    for _, r in ipairs(results) do
      assert.is_nil(seen[r.key], "callback called twice")
      seen[r.key] = true
      if type(r.key) == "number" then
        assert.same({ key = r.key, result = { n = r.key, squared = r.key * r.key } }, r)
      else
        assert.same({ k = tonumber(r.key:sub(5)) }, r.result)
      end
    end
    assert.same(208, #results)
    assert.same(0, w.client:pending())
  end)

  it("delivers two replies written before one hashchange, each exactly once", function()
    local w = world()
    local results = {}
    local a = w.client:call("later", nil, collect(results, "a"))
    local b = w.client:call("later", nil, collect(results, "b"))
    w.hashchange = false
    w:answer(a, "A")
    local first = w.shell:get_src()
    w:answer(b, "B")
    w:see()
    assert.same({ { key = "a", result = "A" }, { key = "b", result = "B" } }, results)
    -- the hashchange of the first src comes late: nothing new
    assert.same(0, w.client:receive(first))
    assert.same(2, #results)
  end)

  it("stops writing a reply once the client has acknowledged it", function()
    local w = world()
    local results = {}
    local a = w.client:call("echo", { x = 1 }, collect(results, "a"))
    assert.truthy(w.shell:get_src():find(a, 1, true))
    local b = w.client:call("echo", { x = 2 }, collect(results, "b"))
    local src = w.shell:get_src()
    assert.falsy(src:find(a, 1, true))
    assert.truthy(src:find(b, 1, true))
    assert.same(1, w.shell:stats().outbox)
  end)

  it("times a call out, then ignores and acknowledges its late reply", function()
    local w = world()
    local results = {}
    local slow = w.client:call("later", nil, collect(results, "slow"), { timeout = 1000 })
    w.clock = w.clock + 1000
    assert.same(1, w.client:expire())
    assert.same({ { key = "slow", err = "ETIMEOUT" } }, results)
    w:answer(slow, "too late")
    w:see()
    assert.same(1, #results)
    w.client:call("echo", nil, collect(results, "next"))
    assert.falsy(w.shell:get_src():find(slow, 1, true))
  end)

  it("cancels a call; its reply, when it comes, is ignored", function()
    local w = world()
    local results = {}
    local id = w.client:call("later", nil, collect(results, "x"))
    assert.is_true(w.client:cancel(id))
    w:answer(id, "whatever")
    w:see()
    assert.same({ { key = "x", err = "ECANCELED" } }, results)
  end)

  it("answers a replayed command (the page re-created) from the store, without running it again", function()
    local runs = 0
    local w = world({ new_req_id = function() return "H5Req_fixed0001" end })
    w.router:register("createOrder", function() runs = runs + 1 return { orderId = "SO-" .. runs } end)
    local results = {}
    w.hashchange = false -- the page goes away before it sees the reply
    w.client:call("createOrder", { sku = 1 }, collect(results, "first"))
    assert.same({}, results)

    -- the page is loaded again, sees its replies, and sends the same command again
    w.hashchange = true
    local again = w:page({ new_req_id = function() return "H5Req_fixed0001" end })
    again:call("createOrder", { sku = 1 }, collect(results, "again"))
    assert.same(1, runs)
    assert.same({ { key = "again", result = { orderId = "SO-1" } } }, results)
  end)

  it("answers unknown api, a handler error, a raising handler and a double reply", function()
    local w = world()
    w.router:register("fails", function() return nil, { code = "EOUT", message = "out of stock" } end)
    w.router:register("raises", function() error("bug") end)
    w.router:register("twice", function(_, _, reply) reply(1) reply(2) end, { async = true })
    local results = {}
    w.client:call("nope", nil, collect(results, "nope"))
    w.client:call("fails", nil, collect(results, "fails"))
    w.client:call("raises", nil, collect(results, "raises"))
    w.client:call("twice", nil, collect(results, "twice"))
    assert.same({
      { key = "nope", err = "ENOAPI" },
      { key = "fails", err = "EOUT" },
      { key = "raises", err = "ECRASH" },
      { key = "twice", result = 1 },
    }, results)
    assert.is_true(w:logged("replied twice"))
  end)

  it("answers invalid params with EPARAMS", function()
    local w = world()
    w.router:register("getUserInfo", function() return "ok" end, { params = { lang = "string" } })
    local results = {}
    w.client:call("getUserInfo", { lang = 5 }, collect(results, "a"))
    w.client:call("getUserInfo", { lang = "en" }, collect(results, "b"))
    assert.same({ { key = "a", err = "EPARAMS" }, { key = "b", result = "ok" } }, results)
  end)

  it("fails a command over the URL limit before navigating", function()
    local w = world({ max_url = 300 })
    local results = {}
    local id, _, code = w.client:call("echo", { text = ("长"):rep(100) }, collect(results, "a"))
    assert.same({ nil, "ETOOLONG" }, { id, code })
    assert.same({}, results)
    assert.same({}, w.wire)
  end)

  it("carries text with & = % / # + and CJK both ways, also when onLoad gets decoded options", function()
    local params = { s = "a&b=c%20d/e#f+g 中文 100%", list = { "x=1&y=2", "%E4" } }
    for _, decoded in ipairs({ false, true }) do
      local w = world({ decoded_options = decoded })
      local results = {}
      w.client:call("echo", params, collect(results, "a"))
      assert.same({ { key = "a", result = params } }, results)
    end
  end)

  it("works with version 1 too, several calls in flight", function()
    local w = world({ protocol = 1 })
    local results = {}
    local a = w.client:call("later", nil, collect(results, "a"))
    local b = w.client:call("later", nil, collect(results, "b"))
    w:answer(b, "B")
    w:answer(a, { x = 1 })
    assert.same({ { key = "b", result = "B" }, { key = "a", result = '{"x":1}' } }, results)
    assert.same(0, w.client:pending())
  end)

  it("loses the first of two version 1 replies written before one hashchange (version 2 does not)", function()
    local w = world({ protocol = 1 })
    local results = {}
    w.hashchange = false
    local a = w.client:call("later", nil, collect(results, "a"), { timeout = 500 })
    local b = w.client:call("later", nil, collect(results, "b"), { timeout = 500 })
    w:answer(a, "A")
    w:answer(b, "B")
    w:see()
    w.clock = w.clock + 500
    w.client:expire()
    assert.same({ { key = "b", result = "B" }, { key = "a", err = "ETIMEOUT" } }, results)
  end)

  it("ignores the page's own hash routing between replies", function()
    local w = world()
    local results = {}
    w.hashchange = false
    local id = w.client:call("later", nil, collect(results, "a"))
    assert.same(0, w.client:receive(SRC .. "#/orders/42"))
    assert.same(0, w.client:receive(SRC .. "#/orders?" .. id))
    w:answer(id, "ok")
    w:see()
    assert.same({ { key = "a", result = "ok" } }, results)
  end)
end)
