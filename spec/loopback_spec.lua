-- mphybrid.loopback: a client, a shell and a router wired in one process,
-- for users' own tests.
local loopback = require "mphybrid.loopback"
local router = require "mphybrid.router"
local core = require "mphybrid.core"

local handlers = {
  add = function(p) return p.a + p.b end,
  fail = function() return nil, { code = "EPAY", message = "declined" } end,
}

describe("mphybrid.loopback", function()
  it("answers a synchronous handler at once, in version 2 and version 1", function()
    for _, protocol in ipairs({ 2, 1 }) do
      local lb = loopback.new({ handlers = handlers, protocol = protocol })
      local call = lb:call("add", { a = 1, b = 2 })
      assert.are.equal(1, call.calls)
      assert.is_nil(call.err)
      assert.are.equal(protocol == 2 and 3 or "3", call.result)
      assert.are.equal("/pages/hybrid-page/hybrid?cmd=", lb.sent[1]:sub(1, 30))
      assert.are.equal(protocol == 2, lb.sent[1]:find("%22mph%22%3A2", 1, true) ~= nil)
      assert.are.equal(0, lb.client:pending())
    end
  end)

  it("hands the handler's error and the shell's to the callback", function()
    local lb = loopback.new({ handlers = handlers })
    assert.are.equal("EPAY", lb:call("fail").err.code)
    assert.are.equal("ENOAPI", lb:call("nope").err.code)
  end)

  it("keeps every wire message: the navigate URL and the src written", function()
    local lb = loopback.new({ handlers = handlers, src = "https://h5.example.com/p.html" })
    local call = lb:call("add", { a = 1, b = 1 })
    assert.are.equal(2, #lb.wire)
    assert.are.equal("navigate " .. lb.sent[1], lb.wire[1])
    assert.are.equal("src " .. lb.shell:get_src(), lb.wire[2])
    assert.is_truthy(lb.wire[2]:find("^src https://h5%.example%.com/p%.html#mph=2&" .. call.id .. "="))
    local quiet = loopback.new({ handlers = handlers, wire = false })
    assert.are.equal(2, quiet:call("add", { a = 1, b = 1 }).result)
    assert.is_nil(quiet.wire)
    assert.is_nil(quiet.sent)
  end)

  it("hands each wire message to opts.trace as it passes", function()
    local seen = {}
    local lb = loopback.new({ handlers = handlers, hashchange = false,
                              trace = function(kind, text) seen[#seen + 1] = kind .. " " .. text end })
    lb:call("add", { a = 1, b = 1 })
    lb:see()
    local src = lb.shell:get_src()
    assert.are.same({ "navigate " .. lb.sent[1], "src " .. src, "hashchange " .. src }, seen)
  end)

  it("delivers a deferred reply when the test answers it, in either version", function()
    for _, protocol in ipairs({ 2, 1 }) do
      local lb = loopback.new({ handlers = handlers, protocol = protocol })
      lb:defer("chooseAddress")
      local a = lb:call("chooseAddress")
      local b = lb:call("chooseAddress")
      assert.are.equal(0, a.calls)
      assert.is_true(lb:answer(b, "B"))
      assert.is_true(lb:answer(a.id, "A"))
      assert.are.same({ 1, "A", 1, "B" }, { a.calls, a.result, b.calls, b.result })
      assert.are.same({ nil, "ENOCALL: no deferred call with request id " .. a.id, "ENOCALL" },
        { lb:answer(a, "again") })
    end
  end)

  it("delivers a reply that the user's asynchronous handler sends later", function()
    local pending
    local lb = loopback.new({ handlers = {
      scan = { async = true, handler = function(_, _, reply) pending = reply end },
    } })
    local call = lb:call("scan")
    assert.are.equal(0, call.calls)
    pending({ code = "X1" })
    assert.are.same({ code = "X1" }, call.result)
  end)

  it("answers a deferred call with an error", function()
    local lb = loopback.new({ handlers = handlers }):defer("pay")
    local call = lb:call("pay")
    lb:answer(call, nil, { code = "EPAY", message = "declined" })
    assert.are.equal("EPAY", call.err.code)
  end)

  it("times a call out when the fake clock passes its deadline", function()
    local lb = loopback.new({ handlers = handlers, clock = 5000 }):defer("slow")
    local call = lb:call("slow", nil, { timeout = 1000 })
    assert.are.equal(0, lb:advance(999))
    assert.are.equal(5999, lb.clock)
    assert.are.equal(1, lb:advance(1))
    assert.are.equal("ETIMEOUT", call.err.code)
    lb:answer(call, "late")
    assert.are.equal(1, call.calls)
  end)

  it("with hashchange = false, lets a src reach the page only at lb:see()", function()
    local lb = loopback.new({ handlers = handlers, hashchange = false })
    local call = lb:call("add", { a = 2, b = 2 })
    assert.are.equal(0, call.calls)
    assert.are.equal(1, (lb:see()))
    assert.are.equal(4, call.result)
    assert.are.equal("hashchange " .. lb.shell:get_src(), lb.wire[#lb.wire])
  end)

  it("hands onLoad the cmd already decoded when asked to, as some devices do", function()
    local lb = loopback.new({ handlers = { echo = function(p) return p end }, decoded = true })
    local params = { s = "a&b=c%20d #中" }
    assert.are.same(params, lb:call("echo", params).result)
  end)

  it("takes a router of the user's", function()
    local r = router.new({ log = function() end })
    r:register("twice", function(p) return p.n * 2 end, { params = { n = "number" } })
    local lb = loopback.new({ router = r })
    assert.are.equal(lb.router, r)
    assert.are.equal(8, lb:call("twice", { n = 4 }).result)
    assert.are.equal("EPARAMS", lb:call("twice", { n = "x" }).err.code)
  end)

  it("replays a command sent before, as a page re-created does", function()
    local runs = 0
    local lb = loopback.new({ handlers = { order = function() runs = runs + 1 return runs end },
                              hashchange = false })
    local call = lb:call("order")
    local src = lb:reload(1)
    assert.are.equal(1, runs)
    local t = core.decode_fragment(core.get_fragment(src))
    assert.are.same({ result = 1 }, core.decode_json(t[call.id]))
  end)

  it("makes another page on the same shell, whose replies reach it", function()
    local lb = loopback.new({ handlers = handlers })
    local page = lb:page({ prefix = "P2_" })
    local got
    local id = page:call("add", { a = 3, b = 4 }, function(err, result) got = { err, result } end)
    assert.is_truthy(id:find("^P2_"))
    assert.are.same({ nil, 7 }, got)
  end)

  it("keeps the logs and finds a line in them", function()
    local lb = loopback.new({ handlers = {
      twice = { async = true, handler = function(_, _, reply) reply(1) reply(2) end },
    } })
    lb:call("twice")
    assert.is_true(lb:logged("replied twice"))
    assert.is_false(lb:logged("no such line"))
  end)

  it("refuses options it cannot use", function()
    assert.has_error(function() loopback.new() end, "loopback.new: opts must be a table")
    assert.has_error(function() loopback.new({}) end,
      "loopback.new: give one of opts.router and opts.handlers")
    assert.has_error(function() loopback.new({ handlers = { x = 1 } }) end)
    assert.has_error(function() loopback.new({ handlers = handlers, trace = true }) end,
      "loopback.new: opts.trace must be a function")
    assert.has_error(function() loopback.new({ handlers = handlers, shell = 1 }) end,
      "loopback.new: opts.shell must be a table")
    assert.has_error(function() loopback.new({ handlers = handlers, clock = "now" }) end,
      "loopback.new: opts.clock must be a number of ms")
    assert.has_error(function() loopback.new({ handlers = handlers, src = "" }) end)
  end)

  it("fails a reload of a command never sent, and an advance by no number, as every running call fails", function()
    local lb = loopback.new({ handlers = handlers })
    assert.are.same({ nil, "ENOCALL: no command number 1 was sent", "ENOCALL" }, { lb:reload(1) })
    assert.are.same({ nil, "EARG: advance: ms must be a number", "EARG" }, { lb:advance("soon") })
  end)
end)
