local core = require "mphybrid.core"
local client = require "mphybrid.client"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"

-- the command a navigate URL carries
local function command(url)
  return assert(core.decode_cmd(url:match("%?cmd=(.*)$")))
end

-- a version 2 fragment, as the shell writes it
local function v2_src(replies, extra)
  local list = { { "mph", "2" } }
  for _, r in ipairs(replies) do
    list[#list + 1] = { r[1], core.encode_json(r[2]) }
  end
  for _, p in ipairs(extra or {}) do list[#list + 1] = p end
  return assert(core.encode_reply(SRC, list, 1700000000000))
end

describe("mphybrid.client", function()
  local c, sent, clock, results, logged

  -- a callback that records what it was called with
  local function recorder(name)
    return function(err, result)
      results[#results + 1] = { name = name, err = err and err.code, message = err and err.message,
                                result = result }
    end
  end

  before_each(function()
    sent, results, logged = {}, {}, {}
    clock = 1700000000000
    c = client.new({
      navigate = function(url) sent[#sent + 1] = url end,
      now = function() return clock end,
      log = function(level, msg) logged[#logged + 1] = level .. ": " .. msg end,
    })
  end)

  describe("new", function()
    it("needs a navigate function", function()
      assert.has_error(function() client.new({}) end)
      assert.has_error(function() client.new() end)
    end)

    it("refuses a page path with a query or fragment, and a bad protocol", function()
      local nav = function() end
      assert.has_error(function() client.new({ navigate = nav, page = "/p?x=1" }) end)
      assert.has_error(function() client.new({ navigate = nav, protocol = 3 }) end)
      assert.has_error(function() client.new({ navigate = nav, timeout = "1s" }) end)
      assert.has_error(function() client.new({ navigate = nav, prefix = "bad prefix!" }) end)
    end)
  end)

  describe("call", function()
    it("navigates to the hybrid page with the command and returns its request id", function()
      local id = c:call("getUserInfo", { lang = "zh_CN" }, recorder("a"))
      assert.truthy(id:match("^H5Req_[0-9a-z]+$"))
      assert.same(1, #sent)
      assert.same("/pages/hybrid-page/hybrid?cmd=", sent[1]:sub(1, 30))
      assert.same({ req = id, api = "getUserInfo", params = { lang = "zh_CN" }, mph = 2 }, command(sent[1]))
      assert.same(1, c:pending())
    end)

    it("writes the fields in the published order, then mph", function()
      local id = c:call("ping", { a = 1 }, recorder("a"))
      local json = core.decode_uri_component(sent[1]:match("cmd=(.*)$"))
      assert.same('{"req":"' .. id .. '","api":"ping","params":{"a":1},"mph":2}', json)
    end)

    it("leaves params out when there are none, as JSON.stringify does with undefined", function()
      local id = c:call("ping", nil, recorder("a"))
      assert.same('{"req":"' .. id .. '","api":"ping","mph":2}',
        core.decode_uri_component(sent[1]:match("cmd=(.*)$")))
    end)

    it("uses the page path and id prefix it was given", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end, page = "/pages/bridge/index",
                       prefix = "Shop_" })
      local id = c:call("ping", nil, recorder("a"))
      assert.truthy(id:match("^Shop_"))
      assert.same("/pages/bridge/index?cmd=", sent[1]:sub(1, 24))
    end)

    it("sends the published command, without version 2 fields, with protocol = 1 (version 1)", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end, protocol = 1,
                       new_req_id = function() return "H5Req_k3j2h1g0a" end })
      c:call("getUserInfo", { withCredentials = true }, recorder("a"))
      assert.same("/pages/hybrid-page/hybrid?cmd=%7B%22req%22%3A%22H5Req_k3j2h1g0a%22%2C%22api%22%3A"
        .. "%22getUserInfo%22%2C%22params%22%3A%7B%22withCredentials%22%3Atrue%7D%7D", sent[1])
    end)

    it("fails with EARG on a missing api or callback, or bad opts: returned, never heard", function()
      for _, args in ipairs({
        { nil, {}, recorder("a") },
        { "", {}, recorder("a") },
        { "x", {} },
        { "x", {}, recorder("a"), "opts" },
        { "x", {}, recorder("a"), { timeout = "soon" } },
      }) do
        local id, err, code = c:call(args[1], args[2], args[3], args[4])
        assert.same({ nil, "EARG" }, { id, code })
        assert.same("EARG: call: ", err:sub(1, 12))
      end
      assert.same(0, #sent)
      assert.same({}, results)
      assert.same(0, c:pending())
    end)

    it("fails a command over max_url with ETOOLONG before navigating", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end, max_url = 200 })
      local id, err, code = c:call("save", { text = ("字"):rep(20) }, recorder("a"))
      assert.is_nil(id)
      assert.same("ETOOLONG", code)
      assert.truthy(err:match("^ETOOLONG: command URL of %d+ bytes is over the limit of 200 bytes$"))
      -- returned, so never heard by the callback
      assert.same({}, results)
      assert.same(0, #sent)
      assert.same(0, c:pending())
    end)

    it("has a default max_url of 1000 bytes", function()
      assert.same(1000, client.defaults.max_url)
      assert.truthy(c:call("save", { text = ("a"):rep(800) }, recorder("a")))
      assert.is_nil(c:call("save", { text = ("a"):rep(1000) }, recorder("b")))
      assert.is_true(#sent[1] <= 1000)
    end)

    it("fails params JSON cannot carry with the core's code, before navigating", function()
      local id, err, code = c:call("x", { f = function() end }, recorder("a"))
      assert.same({ nil, "EVALUE" }, { id, code })
      assert.truthy(err:find("^EVALUE: params: "))
      assert.same({}, results)
      assert.same(0, #sent)
    end)

    it("fails with ENAVIGATE when navigate says it could not send", function()
      for _, nav in ipairs({
        function() return false end,
        function() return nil, "page stack full" end,
        function() error("no bridge") end,
      }) do
        results = {}
        c = client.new({ navigate = nav })
        local id, _, code = c:call("x", nil, recorder("a"))
        assert.same({ nil, "ENAVIGATE" }, { id, code })
        assert.same({}, results)
        assert.same(0, c:pending())
      end
    end)

    it("takes a navigate that returns nothing as sent", function()
      c = client.new({ navigate = function() end })
      assert.truthy(c:call("x", nil, recorder("a")))
      assert.same(0, #results)
    end)
  end)

  describe("receive", function()
    it("delivers a version 2 result to its callback, once", function()
      local id = c:call("getUserInfo", nil, recorder("a"))
      local src = v2_src({ { id, { result = { nickName = "小明" } } } })
      assert.same(1, c:receive(src))
      assert.same(0, c:receive(src))
      assert.same({ { name = "a", result = { nickName = "小明" } } }, results)
      assert.same(0, c:pending())
    end)

    it("delivers a version 2 error as err with its code and message", function()
      local id = c:call("nope", nil, recorder("a"))
      c:receive(v2_src({ { id, { error = { code = "ENOAPI", message = "unknown api: nope" } } } }))
      assert.same({ { name = "a", err = "ENOAPI", message = "unknown api: nope" } }, results)
    end)

    it("gives err a tostring of CODE: message, and the data the handler sent", function()
      local got
      local id = c:call("pay", nil, function(err) got = err end)
      c:receive(v2_src({ { id, { error = { code = "EPAY", message = "declined", data = { retry = true } } } } }))
      assert.same("EPAY: declined", tostring(got))
      assert.same({ retry = true }, got.data)
    end)

    it("delivers a version 1 reply as the string it carries", function()
      local id = c:call("getUserInfo", nil, recorder("a"))
      c:receive(SRC .. "#" .. id .. "=" .. E('{"a":1}') .. "&v=1700000000000")
      assert.same({ { name = "a", result = '{"a":1}' } }, results)
    end)

    it("takes a src, a fragment with its #, or a fragment without", function()
      local a = c:call("x", nil, recorder("a"))
      local b = c:call("x", nil, recorder("b"))
      local d = c:call("x", nil, recorder("d"))
      assert.same(1, c:receive(SRC .. "#" .. a .. "=0&v=1"))
      assert.same(1, c:receive("#" .. b .. "=0&v=2"))
      assert.same(1, c:receive(d .. "=0&v=3"))
      assert.same(3, #results)
    end)

    it("delivers several replies of one fragment in the order of the calls", function()
      local ids = {}
      for i = 1, 5 do ids[i] = c:call("n", nil, recorder(i)) end
      local replies = {}
      for i = 5, 1, -1 do replies[#replies + 1] = { ids[i], { result = i } } end
      assert.same(5, c:receive(v2_src(replies)))
      for i = 1, 5 do assert.same({ name = i, result = i }, results[i]) end
    end)

    it("ignores fragments that are not ours", function()
      local id = c:call("x", nil, recorder("a"))
      for _, other in ipairs({
        SRC, SRC .. "#", SRC .. "#/orders/7", "#/home?tab=2", "#access_token=abc&state=xyz",
        "#H5Req_someoneelse=0&v=1", "#" .. id, "#" .. id .. "x=0", "#=&&&=", "#%%%", "https://other.example.com/",
        "/pages/x", "#" .. "a=b&"
      }) do
        assert.same(0, c:receive(other), other)
      end
      assert.same({}, results)
      assert.same(1, c:pending())
    end)

    it("delivers EESCAPE to the call whose reply has a malformed escape, and keeps the others", function()
      local a = c:call("x", nil, recorder("a"))
      local b = c:call("x", nil, recorder("b"))
      assert.same(2, c:receive("#" .. a .. "=%E4%B8&" .. b .. "=ok&v=1"))
      assert.same({ { name = "a", err = "EESCAPE", message = results[1].message }, { name = "b", result = "ok" } },
        results)
    end)

    it("delivers EREPLY for a version 2 reply that is not {result} or {error}", function()
      local a = c:call("x", nil, recorder("a"))
      local b = c:call("x", nil, recorder("b"))
      c:receive(assert(core.encode_reply(SRC, { { "mph", "2" }, { a, "not json" }, { b, "[1]" } }, 1)))
      assert.same({ "EREPLY", "EREPLY" }, { results[1].err, results[2].err })
    end)

    it("logs a callback that raises and still delivers the other replies", function()
      local a = c:call("x", nil, function() error("oops") end)
      local b = c:call("x", nil, recorder("b"))
      assert.same(2, c:receive(v2_src({ { a, { result = 1 } }, { b, { result = 2 } } })))
      assert.same({ { name = "b", result = 2 } }, results)
      assert.truthy(logged[1]:find("oops", 1, true))
    end)

    it("fails with EARG on something that is not a string", function()
      local n, err, code = c:receive(nil)
      assert.same({ nil, "EARG" }, { n, code })
      assert.same("EARG: receive: ", err:sub(1, 15))
    end)
  end)

  describe("timeouts", function()
    it("fails a call with ETIMEOUT at its deadline (default 30 s)", function()
      c:call("slow", nil, recorder("a"))
      clock = clock + 29999
      assert.same(0, c:expire())
      clock = clock + 1
      assert.same(1, c:expire())
      assert.same({ { name = "a", err = "ETIMEOUT", message = "no reply to slow within 30000 ms" } }, results)
      assert.same(0, c:pending())
    end)

    it("takes a per-call timeout, and expire(now) with an explicit time", function()
      c:call("a", nil, recorder("a"), { timeout = 100 })
      c:call("b", nil, recorder("b"), { timeout = 50 })
      c:call("c", nil, recorder("c"), { timeout = false })
      assert.same(1, c:expire(clock + 50))
      assert.same(1, c:expire(clock + 100))
      assert.same(0, c:expire(clock + 10 ^ 9))
      assert.same({ "b", "a" }, { results[1].name, results[2].name })
      assert.same(1, c:pending())
    end)

    it("has no default timeout with timeout = false", function()
      c = client.new({ navigate = function() end, now = function() return clock end, timeout = false })
      c:call("a", nil, recorder("a"))
      assert.same(0, c:expire(clock + 10 ^ 12))
    end)

    it("does not deliver a reply that comes after the deadline", function()
      local id = c:call("slow", nil, recorder("a"), { timeout = 100 })
      clock = clock + 100
      assert.same(0, c:receive(v2_src({ { id, { result = "late" } } })))
      assert.same({ { name = "a", err = "ETIMEOUT", message = "no reply to slow within 100 ms" } }, results)
    end)

    it("expires late calls when another call is made", function()
      c:call("a", nil, recorder("a"), { timeout = 10 })
      clock = clock + 10
      c:call("b", nil, recorder("b"))
      assert.same({ "a" }, { results[1].name })
    end)
  end)

  describe("cancel", function()
    it("fails the call with ECANCELED at once, and ignores its reply later", function()
      local id = c:call("x", nil, recorder("a"))
      assert.is_true(c:cancel(id))
      assert.same({ { name = "a", err = "ECANCELED", message = "call to x canceled" } }, results)
      assert.same(0, c:receive(v2_src({ { id, { result = 1 } } })))
      assert.same(1, #results)
    end)

    it("fails with ENOCALL for an id not in flight", function()
      local id = c:call("x", nil, recorder("a"))
      c:receive("#" .. id .. "=0")
      assert.same({ nil, "ENOCALL: no call in flight with request id " .. id, "ENOCALL" }, { c:cancel(id) })
      assert.same({ nil, "ENOCALL: no call in flight with request id nope", "ENOCALL" }, { c:cancel("nope") })
      assert.same({ nil, "ENOCALL: no call in flight with request id nil", "ENOCALL" }, { c:cancel(nil) })
    end)
  end)

  describe("acknowledgements", function()
    it("acknowledges version 2 replies in the next command", function()
      local a = c:call("x", nil, recorder("a"))
      local b = c:call("x", nil, recorder("b"))
      c:receive(v2_src({ { a, { result = 1 } }, { b, { result = 2 } } }))
      c:call("y", nil, recorder("c"))
      assert.same({ a, b }, command(sent[3]).ack)
      c:call("z", nil, recorder("d"))
      assert.is_nil(command(sent[4]).ack)
    end)

    it("does not acknowledge version 1 replies", function()
      local a = c:call("x", nil, recorder("a"))
      c:receive("#" .. a .. "=0&v=1")
      c:call("y", nil, recorder("b"))
      assert.is_nil(command(sent[2]).ack)
    end)

    it("acknowledges again a reply written again after it was delivered, timed out or canceled", function()
      local a = c:call("x", nil, recorder("a"))
      local b = c:call("x", nil, recorder("b"), { timeout = 5 })
      local d = c:call("x", nil, recorder("d"))
      c:receive(v2_src({ { a, { result = 1 } } }))
      c:call("y", nil, recorder("y"))
      assert.same({ a }, command(sent[4]).ack)
      clock = clock + 5
      c:expire()
      c:cancel(d)
      -- the shell had not seen the ack yet: all three come again
      assert.same(0, c:receive(v2_src({ { a, { result = 1 } }, { b, { result = 2 } }, { d, { result = 3 } } })))
      c:call("z", nil, recorder("z"))
      local ack = command(sent[5]).ack
      table.sort(ack)
      local want = { a, b, d }
      table.sort(want)
      assert.same(want, ack)
    end)

    it("carries at most max_acks, the rest in later commands", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end, max_acks = 2 })
      local replies, ids = {}, {}
      for i = 1, 5 do
        ids[i] = c:call("x", nil, recorder(i))
        replies[i] = { ids[i], { result = i } }
      end
      c:receive(v2_src(replies))
      c:call("y", nil, recorder("y"))
      c:call("y", nil, recorder("y"))
      c:call("y", nil, recorder("y"))
      assert.same({ ids[1], ids[2] }, command(sent[6]).ack)
      assert.same({ ids[3], ids[4] }, command(sent[7]).ack)
      assert.same({ ids[5] }, command(sent[8]).ack)
    end)

    it("leaves the acknowledgements out of a command they would make too long", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end, max_url = 200 })
      local a = c:call("x", nil, recorder("a"))
      c:receive(v2_src({ { a, { result = 1 } } }))
      assert.truthy(c:call("y", { pad = ("p"):rep(40) }, recorder("b")))
      assert.is_nil(command(sent[2]).ack)
      c:call("y", nil, recorder("c"))
      assert.same({ a }, command(sent[3]).ack)
    end)

    it("keeps the acknowledgements of a command that could not be sent", function()
      local fail = false
      c = client.new({ navigate = function(url) if fail then return false end sent[#sent + 1] = url end })
      local a = c:call("x", nil, recorder("a"))
      c:receive(v2_src({ { a, { result = 1 } } }))
      fail = true
      c:call("y", nil, recorder("b"))
      fail = false
      c:call("y", nil, recorder("c"))
      assert.same({ a }, command(sent[2]).ack)
    end)
  end)

  describe("the page's own fragment", function()
    it("is sent as hash, and handed back by receive", function()
      c = client.new({ navigate = function(url) sent[#sent + 1] = url end,
                       hash = function() return "/orders?tab=2" end })
      local id = c:call("x", nil, recorder("a"))
      assert.same("/orders?tab=2", command(sent[1]).hash)
      local n, hash = c:receive(v2_src({ { id, { result = 1 } } }, { { "hash", "/orders?tab=2" } }))
      assert.same({ 1, "/orders?tab=2" }, { n, hash })
    end)
  end)
end)
