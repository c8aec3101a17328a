local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"

local fragments = require "helpers.fragments"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"
local fragment, keys, envelope = fragments.fragment, fragments.keys, fragments.envelope

-- a v2 command's cmd option
local function v2(req, api, params, extra)
  local cmd = { req = req, api = api, params = params, mph = 2 }
  for k, v in pairs(extra or {}) do cmd[k] = v end
  return { cmd = E(core.encode_json(cmd)) }
end

local function v1(req, api, params)
  return { cmd = E(core.encode_json({ req = req, api = api, params = params })) }
end

describe("mphybrid.shell", function()
  local r, s, clock, logged, pending

  before_each(function()
    clock = 1700000000000
    logged = {}
    pending = {}
    r = router.new({ log = function(level, msg) logged[#logged + 1] = level .. ": " .. msg end })
    r:register("echo", function(params) return params end)
    r:register("nothing", function() end)
    r:register("count", function(_, ctx) return #ctx.req end)
    r:register("fail", function() return nil, "no luck" end)
    r:register("wait", function(_, ctx, reply) pending[ctx.req] = reply end, { async = true })
    s = assert(shell.new({ router = r, src = SRC, now = function() return clock end }))
  end)

  describe("new", function()
    it("needs a router and a web-view src: a constructor raises on an option it cannot use", function()
      assert.has_error(function() shell.new({ src = SRC }) end, "shell.new: opts.router must be a router")
      assert.has_error(function() shell.new({ router = r }) end,
        "shell.new: opts.src must be a non-empty string (the web-view src)")
      assert.has_error(function() shell.new({ router = r, src = "" }) end,
        "shell.new: opts.src must be a non-empty string (the web-view src)")
    end)

    it("refuses a limit that is not a positive number", function()
      assert.has_error(function() shell.new({ router = r, src = SRC, max_src = 0 }) end)
      assert.has_error(function() shell.new({ router = r, src = SRC, max_outbox = "3" }) end)
    end)

    it("keeps the src, and takes a new one", function()
      assert.same(SRC, s:get_src())
      assert.is_true(s:set_src("https://h5.example.com/other"))
      assert.same("https://h5.example.com/other", s:get_src())
      assert.same({ nil, "EURL: set_src: the web-view src must not be empty", "EURL" }, { s:set_src("") })
      assert.same({ nil, "EARG: set_src: the web-view src must be a string, got nil", "EARG" }, { s:set_src() })
      assert.same("https://h5.example.com/other", s:get_src())
    end)
  end)

  describe("on_load", function()
    it("returns the new src and true (navigate back) for a synchronous handler", function()
      local src, back = s:on_load(v1("H5Req_a1", "echo", { x = 1 }))
      assert.same(SRC .. '#H5Req_a1=%7B%22x%22%3A1%7D&v=1700000000000', src)
      assert.is_true(back)
      assert.same(src, s:get_src())
    end)

    it("calls done(nil, src) exactly once too, before returning: error first", function()
      local calls = {}
      local src = s:on_load(v1("H5Req_a1", "nothing"), function(...) calls[#calls + 1] = { n = select("#", ...), ... } end)
      assert.same({ { n = 2, nil, src } }, calls)
    end)

    it("returns false while an asynchronous handler runs, and calls done when it replies", function()
      local calls = {}
      local src, back = s:on_load(v2("H5Req_w1", "wait"), function(...) calls[#calls + 1] = { ... } end)
      assert.same({ false, nil }, { src, back })
      assert.same({}, calls)
      assert.same(SRC, s:get_src())
      clock = clock + 250
      pending.H5Req_w1("later")
      assert.same(1, #calls)
      assert.is_nil(calls[1][1])
      assert.same(calls[1][2], s:get_src())
      assert.same({ result = "later" }, envelope(calls[1][2], "H5Req_w1"))
    end)

    it("replaces the old fragment, keeps the page's query", function()
      s:set_src("https://h5.example.com/p?from=mp#/old/route")
      local src = s:on_load(v1("H5Req_a1", "nothing"))
      assert.same("https://h5.example.com/p?from=mp#H5Req_a1=0&v=1700000000000", src)
    end)

    it("writes a strictly increasing v, so that equal replies still fire hashchange", function()
      local a = s:on_load(v1("H5Req_a1", "nothing"))
      local b = s:on_load(v1("H5Req_a1", "nothing"))
      assert.same("1700000000000", fragment(a).v)
      assert.same("1700000000001", fragment(b).v)
      assert.are_not.equal(a, b)
    end)

    it("hands handlers ctx.req, ctx.version and ctx.env", function()
      local seen
      r:register("ctx", function(_, ctx) seen = { ctx.req, ctx.version, ctx.env } end)
      local env = { db = {} }
      s = shell.new({ router = r, src = SRC, env = env })
      s:on_load(v2("H5Req_c1", "ctx"))
      assert.same({ "H5Req_c1", 2, env }, seen)
      s:on_load(v1("H5Req_c2", "ctx"))
      assert.same({ "H5Req_c2", 1, env }, seen)
    end)
  end)

  describe("version 1 replies", function()
    it("writes a nil or null result as 0", function()
      assert.same("0", fragment(s:on_load(v1("H5Req_a1", "nothing"))).H5Req_a1)
      r:register("null", function() return core.null end)
      assert.same("0", fragment(s:on_load(v1("H5Req_a2", "null"))).H5Req_a2)
    end)

    it("writes strings as they are and other scalars as String() does", function()
      r:register("v", function(p) return p.v end)
      local function value(v)
        return fragment(s:on_load(v1("H5Req_v", "v", { v = v }))).H5Req_v
      end
      assert.same("ok & done", value("ok & done"))
      assert.same("42", value(42))
      assert.same("0.1", value(0.1))
      assert.same("true", value(true))
      assert.same("false", value(false))
    end)

    it("writes a table result as its JSON text", function()
      local src = s:on_load(v1("H5Req_a1", "echo", { name = "中文", list = { 1, 2 } }))
      assert.same('{"list":[1,2],"name":"中文"}', fragment(src).H5Req_a1)
    end)

    it("answers under miniProgramResult when the command has no req", function()
      local src = s:on_load({ cmd = E('{"api":"nothing"}') })
      assert.same(SRC .. "#miniProgramResult=0&v=1700000000000", src)
    end)

    it("answers every error with its code, never with silence", function()
      assert.same("ENOAPI", fragment(s:on_load(v1("H5Req_e1", "missing"))).H5Req_e1)
      assert.same("EHANDLER", fragment(s:on_load(v1("H5Req_e2", "fail"))).H5Req_e2)
    end)

    it("takes a cmd that is already decoded, or encoded twice, and keeps a literal %", function()
      local json = '{"req":"H5Req_p1","api":"echo","params":{"s":"100% & 50%"}}'
      for _, cmd in ipairs({ json, E(json), E(E(json)) }) do
        local src = s:on_load({ cmd = cmd })
        assert.same('{"s":"100% & 50%"}', fragment(src).H5Req_p1)
      end
    end)

    it("writes EREPLY when the result cannot be written", function()
      r:register("fn", function() return { f = print } end)
      assert.same("EREPLY", fragment(s:on_load(v1("H5Req_f", "fn"))).H5Req_f)
    end)

    it("keeps no outbox: one reply per fragment", function()
      s:on_load(v1("H5Req_a1", "nothing"))
      local src = s:on_load(v1("H5Req_a2", "nothing"))
      assert.same({ "H5Req_a2", "v" }, keys(src))
      assert.same({ outbox = 0, store = 0, running = 0 }, s:stats())
    end)
  end)

  describe("version 2 replies", function()
    it("marks the fragment mph=2 and carries {result} or {error}", function()
      local src = s:on_load(v2("H5Req_b1", "echo", { x = "y" }))
      assert.same({ "mph", "H5Req_b1", "v" }, keys(src))
      assert.same("2", fragment(src).mph)
      assert.same({ result = { x = "y" } }, envelope(src, "H5Req_b1"))
      src = s:on_load(v2("H5Req_b2", "missing"))
      assert.same({ error = { code = "ENOAPI", message = "unknown api: missing" } }, envelope(src, "H5Req_b2"))
    end)

    it("writes a nil result as null", function()
      assert.same('{"result":null}', fragment(s:on_load(v2("H5Req_n", "nothing"))).H5Req_n)
    end)

    it("keeps code, message and data of a handler's error", function()
      r:register("pay", function() return nil, { code = "EPAY", message = "declined", data = { retry = false } } end)
      local src = s:on_load(v2("H5Req_p", "pay"))
      assert.same({ error = { code = "EPAY", message = "declined", data = { retry = false } } },
        envelope(src, "H5Req_p"))
    end)

    it("writes every unacknowledged reply again, in order, until acknowledged", function()
      s:on_load(v2("H5Req_b1", "count"))
      s:on_load(v2("H5Req_b2", "count"))
      local src = s:on_load(v2("H5Req_b3", "count"))
      assert.same({ "mph", "H5Req_b1", "H5Req_b2", "H5Req_b3", "v" }, keys(src))
      src = s:on_load(v2("H5Req_b4", "count", nil, { ack = { "H5Req_b1", "H5Req_b3" } }))
      assert.same({ "mph", "H5Req_b2", "H5Req_b4", "v" }, keys(src))
      assert.same(2, s:stats().outbox)
    end)

    it("carries two asynchronous replies written before one hashchange", function()
      s:on_load(v2("H5Req_w1", "wait"))
      s:on_load(v2("H5Req_w2", "wait"))
      pending.H5Req_w2("second")
      pending.H5Req_w1("first")
      local src = s:get_src()
      assert.same({ "mph", "H5Req_w2", "H5Req_w1", "v" }, keys(src))
      assert.same({ result = "first" }, envelope(src, "H5Req_w1"))
      assert.same({ result = "second" }, envelope(src, "H5Req_w2"))
    end)

    it("echoes the page's own fragment as hash, so the page can restore its route", function()
      local src = s:on_load(v2("H5Req_h1", "nothing", nil, { hash = "/orders?tab=2" }))
      assert.same({ "mph", "H5Req_h1", "hash", "v" }, keys(src))
      assert.same("/orders?tab=2", fragment(src).hash)
      -- a command without hash keeps the last one
      src = s:on_load(v2("H5Req_h2", "nothing"))
      assert.same("/orders?tab=2", fragment(src).hash)
    end)

    it("answers mph above 2 in version 2", function()
      local src = s:on_load({ cmd = E('{"req":"H5Req_f","api":"nothing","mph":3}') })
      assert.same("2", fragment(src).mph)
    end)
  end)

  describe("replay", function()
    it("answers the same request id from the store, without running the handler again", function()
      local runs = 0
      r:register("once", function() runs = runs + 1 return runs end)
      local first = s:on_load(v2("H5Req_r1", "once"))
      s:on_load(v2("H5Req_x", "nothing", nil, { ack = { "H5Req_r1" } }))
      local again = s:on_load(v2("H5Req_r1", "once", nil, { ack = { "H5Req_x" } }))
      assert.same(1, runs)
      assert.same({ result = 1 }, envelope(first, "H5Req_r1"))
      assert.same({ result = 1 }, envelope(again, "H5Req_r1"))
      assert.same({ "mph", "H5Req_r1", "v" }, keys(again))
    end)

    it("does not start a command again while its asynchronous handler runs", function()
      local starts = 0
      r:register("slow", function(_, ctx, reply) starts = starts + 1 pending[ctx.req] = reply end,
        { async = true })
      assert.is_false(s:on_load(v2("H5Req_s1", "slow")))
      local calls = {}
      local src, back = s:on_load(v2("H5Req_s1", "slow"), function(...) calls[#calls + 1] = { ... } end)
      assert.same({ SRC, true }, { src, back })
      assert.same({ { nil, SRC } }, calls)
      assert.same(1, starts)
      pending.H5Req_s1("done")
      assert.same({ result = "done" }, envelope(s:get_src(), "H5Req_s1"))
    end)

    it("refuses a request id reused for another api with ECMD", function()
      s:on_load(v2("H5Req_r1", "nothing"))
      local src = s:on_load(v2("H5Req_r1", "echo", { a = 1 }))
      local e = envelope(src, "H5Req_r1")
      assert.same("ECMD", e.error.code)
      assert.same({ "mph", "H5Req_r1", "v" }, keys(src))
    end)

    it("stores at most max_store replies: the oldest is forgotten and runs again", function()
      local runs = 0
      r:register("once", function() runs = runs + 1 return runs end)
      s = shell.new({ router = r, src = SRC, now = function() return clock end, max_store = 2 })
      s:on_load(v2("H5Req_1", "once"))
      s:on_load(v2("H5Req_2", "once"))
      s:on_load(v2("H5Req_3", "once"))
      assert.same(2, s:stats().store)
      s:on_load(v2("H5Req_3", "once"))
      assert.same(3, runs)
      s:on_load(v2("H5Req_1", "once"))
      assert.same(4, runs)
    end)

    it("stores a reply for store_ttl ms", function()
      local runs = 0
      r:register("once", function() runs = runs + 1 return runs end)
      s = shell.new({ router = r, src = SRC, now = function() return clock end, store_ttl = 1000 })
      s:on_load(v2("H5Req_1", "once"))
      clock = clock + 1000
      s:on_load(v2("H5Req_1", "once"))
      assert.same(1, runs)
      clock = clock + 1001
      s:on_load(v2("H5Req_1", "once"))
      assert.same(2, runs)
    end)

    it("does not replay version 1 commands", function()
      local runs = 0
      r:register("once", function() runs = runs + 1 return runs end)
      s:on_load(v1("H5Req_1", "once"))
      s:on_load(v1("H5Req_1", "once"))
      assert.same(2, runs)
    end)
  end)

  describe("limits", function()
    it("keeps at most max_outbox unacknowledged replies, dropping the oldest with a warning", function()
      s = shell.new({ router = r, src = SRC, now = function() return clock end, max_outbox = 2 })
      s:on_load(v2("H5Req_1", "nothing"))
      s:on_load(v2("H5Req_2", "nothing"))
      local src = s:on_load(v2("H5Req_3", "nothing"))
      assert.same({ "mph", "H5Req_2", "H5Req_3", "v" }, keys(src))
      assert.truthy(logged[#logged]:find("outbox full: reply to H5Req_1", 1, true))
    end)

    it("stops writing a reply again after outbox_ttl ms", function()
      s = shell.new({ router = r, src = SRC, now = function() return clock end, outbox_ttl = 500 })
      s:on_load(v2("H5Req_1", "nothing"))
      clock = clock + 500
      assert.same({ "mph", "H5Req_1", "H5Req_2", "v" }, keys(s:on_load(v2("H5Req_2", "nothing"))))
      clock = clock + 1
      assert.same({ "mph", "H5Req_2", "H5Req_3", "v" }, keys(s:on_load(v2("H5Req_3", "nothing"))))
    end)

    it("writes the newest replies first when they do not all fit in max_src", function()
      r:register("big", function() return ("x"):rep(300) end)
      s = shell.new({ router = r, src = SRC, now = function() return clock end, max_src = 800 })
      s:on_load(v2("H5Req_1", "big"))
      s:on_load(v2("H5Req_2", "big"))
      local src = s:on_load(v2("H5Req_3", "big"))
      assert.same({ "mph", "H5Req_2", "H5Req_3", "v" }, keys(src))
      assert.is_true(#src <= 800)
      -- the one left out is still in the outbox, written once there is room
      src = s:on_load(v2("H5Req_4", "nothing", nil, { ack = { "H5Req_2", "H5Req_3" } }))
      assert.same({ "mph", "H5Req_1", "H5Req_4", "v" }, keys(src))
    end)

    it("answers EREPLY for a reply that does not fit in max_src on its own", function()
      r:register("huge", function() return ("x"):rep(5000) end)
      s = shell.new({ router = r, src = SRC, now = function() return clock end, max_src = 1000 })
      local src = s:on_load(v2("H5Req_1", "huge"))
      assert.same("EREPLY", envelope(src, "H5Req_1").error.code)
      assert.same("EREPLY", fragment(s:on_load(v1("H5Req_2", "huge"))).H5Req_2)
    end)

    it("answers EREPLY for a result JSON cannot carry", function()
      r:register("nan", function() return 0 / 0 end)
      local e = envelope(s:on_load(v2("H5Req_1", "nan")), "H5Req_1")
      assert.same("EREPLY", e.error.code)
      assert.truthy(e.error.message:find("EVALUE", 1, true))
    end)
  end)

  describe("hostile input", function()
    local function v1_error(options)
      local src, back = s:on_load(options)
      assert.is_true(back)
      local f = fragment(src)
      return f.miniProgramResult, f
    end

    it("answers options without a cmd string with ECMD under miniProgramResult", function()
      assert.same("ECMD", v1_error(nil))
      assert.same("ECMD", v1_error({}))
      assert.same("ECMD", v1_error({ cmd = { api = "echo" } }))
      assert.same("ECMD", v1_error({ cmd = 42 }))
    end)

    it("answers malformed JSON with EJSON", function()
      assert.same("EJSON", v1_error({ cmd = E('{"req":"H5Req_1","api":') }))
      assert.same("EJSON", v1_error({ cmd = E("{'api':'echo'}") }))
    end)

    it("answers a malformed escape with EESCAPE", function()
      assert.same("EESCAPE", v1_error({ cmd = "%7B%22api%22%3A%ZZ" }))
      assert.same("EESCAPE", v1_error({ cmd = "%7B%22api%22%3A%E4%22x%22%7D" }))
    end)

    it("answers a command that is not an object with ECMD", function()
      assert.same("ECMD", v1_error({ cmd = E("[1,2]") }))
      assert.same("ECMD", v1_error({ cmd = E('"echo"') }))
      assert.same("ECMD", v1_error({ cmd = "" }))
    end)

    it("answers wrong field types with ECMD, under the req when it can be read", function()
      local src = s:on_load({ cmd = E('{"req":"H5Req_t1","api":5}') })
      assert.same("ECMD", fragment(src).H5Req_t1)
      src = s:on_load({ cmd = E('{"req":"H5Req_t2","api":5,"mph":2}') })
      assert.same("ECMD", envelope(src, "H5Req_t2").error.code)
      assert.same("ECMD", v1_error({ cmd = E('{"req":7,"api":"echo"}') }))
      assert.same("ECMD", v1_error({ cmd = E('{"req":"v","api":"echo"}') }))
    end)

    it("answers version 2 fields of the wrong shape with ECMD", function()
      local function code(options, req)
        local src = s:on_load(options)
        local e = envelope(src, req)
        return e and e.error.code or fragment(src)[req] or fragment(src).miniProgramResult
      end
      assert.same("ECMD", code({ cmd = E('{"req":"H5Req_1","api":"echo","mph":"2"}') }, "H5Req_1"))
      assert.same("ECMD", code(v2("H5Req_2", "echo", nil, { ack = "H5Req_1" }), "H5Req_2"))
      assert.same("ECMD", code(v2("H5Req_3", "echo", nil, { ack = { 1, 2 } }), "H5Req_3"))
      assert.same("ECMD", code(v2("H5Req_4", "echo", nil, { hash = ("h"):rep(513) }), "H5Req_4"))
      assert.same("ECMD", code({ cmd = E('{"api":"echo","mph":2}') }, "miniProgramResult"))
      assert.same("ECMD", code(v2("v", "echo"), "miniProgramResult"))
      assert.same("ECMD", code(v2("mph", "echo"), "miniProgramResult"))
    end)

    it("answers an oversized cmd with ESIZE", function()
      local big = E(core.encode_json({ api = "echo", params = { s = ("a"):rep(70000) } }))
      assert.same("ESIZE", v1_error({ cmd = big }))
      s = shell.new({ router = r, src = SRC, max_cmd = 100 })
      assert.same("ESIZE", v1_error({ cmd = E(core.encode_json({ api = "echo", params = ("a"):rep(100) })) }))
    end)

    it("answers deep nesting with EDEPTH (max_depth, default 100)", function()
      local function nested(depth)
        return E('{"api":"nothing","params":' .. ("["):rep(depth - 1) .. ("]"):rep(depth - 1) .. "}")
      end
      assert.same("EDEPTH", v1_error({ cmd = nested(5000) }))
      assert.same("EDEPTH", v1_error({ cmd = nested(101) }))
      assert.same("0", v1_error({ cmd = nested(100) }))
      s = shell.new({ router = r, src = SRC, max_depth = 10 })
      assert.same("EDEPTH", v1_error({ cmd = nested(11) }))
      assert.same("0", v1_error({ cmd = nested(10) }))
    end)

    it("answers text that is not UTF-8 with an error code", function()
      assert.same("EJSON", v1_error({ cmd = '{"api":"echo","params":"\255"}' }))
      assert.same("EESCAPE", v1_error({ cmd = E('{"api":"echo","params":"') .. "%FF" .. E('"}') }))
    end)

    it("goes on working after every hostile command", function()
      for _, cmd in ipairs({ "%", "{", E("{}"), E('{"api":""}'), "%7B%7D%7D" }) do
        s:on_load({ cmd = cmd })
      end
      assert.same({ result = { ok = true } }, envelope(s:on_load(v2("H5Req_ok", "echo", { ok = true })), "H5Req_ok"))
    end)
  end)
end)
