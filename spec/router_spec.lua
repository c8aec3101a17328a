local router = require "mphybrid.router"
local core = require "mphybrid.core"

-- runs one command through r and returns what done received
local function dispatch(r, api, params, req)
  local got = {}
  local cmd = { req = req or "H5Req_test0001", api = api, params = params }
  r:dispatch(cmd, { req = cmd.req }, function(err, result)
    got[#got + 1] = { err = err, result = result }
  end)
  return got
end

local function quiet()
  local lines = {}
  return function(level, msg) lines[#lines + 1] = level .. ": " .. msg end, lines
end

describe("mphybrid.router", function()
  local r, log, logged

  before_each(function()
    log, logged = quiet()
    r = router.new({ log = log })
  end)

  describe("register", function()
    it("registers a handler and lists it", function()
      r:register("ping", function() return "pong" end)
      assert.is_true(r:has("ping"))
      assert.same({ "ping" }, r:apis())
    end)

    it("refuses a name registered twice", function()
      r:register("ping", function() end)
      assert.has_error(function() r:register("ping", function() end) end,
        'register("ping"): api already registered')
    end)

    it("refuses a handler that is not a function", function()
      assert.has_error(function() r:register("ping", "pong") end)
      assert.has_error(function() r:register("ping", {}) end)
      assert.is_false(r:has("ping"))
    end)

    it("refuses an api name that is not a non-empty string", function()
      assert.has_error(function() r:register("", function() end) end)
      assert.has_error(function() r:register(42, function() end) end)
      assert.has_error(function() r:register(("x"):rep(129), function() end) end)
    end)

    it("refuses a params schema naming an unknown type", function()
      assert.has_error(function()
        r:register("x", function() end, { params = { a = "strng" } })
      end)
    end)

    it("unregisters, after which the api is unknown", function()
      r:register("ping", function() return "pong" end)
      assert.is_true(r:unregister("ping"))
      assert.same({ nil, "ENOAPI: api not registered: ping", "ENOAPI" }, { r:unregister("ping") })
      assert.same({ nil, "EARG: unregister: api must be a string, got nil", "EARG" }, { r:unregister() })
      assert.same("ENOAPI", dispatch(r, "ping")[1].err.code)
      r:register("ping", function() return "again" end)
      assert.same("again", dispatch(r, "ping")[1].result)
    end)
  end)

  describe("dispatch of a synchronous handler", function()
    it("passes params and ctx, and delivers the result once", function()
      local seen
      r:register("echo", function(params, ctx)
        seen = { params = params, req = ctx.req, api = ctx.api, cmd_api = ctx.cmd.api }
        return { got = params.x }
      end)
      local got = dispatch(r, "echo", { x = 1 }, "H5Req_abc")
      assert.same({ { result = { got = 1 } } }, got)
      assert.same({ params = { x = 1 }, req = "H5Req_abc", api = "echo", cmd_api = "echo" }, seen)
    end)

    it("gives params {} when the command has none or null, as published", function()
      local seen = {}
      r:register("p", function(params) seen[#seen + 1] = params return true end)
      dispatch(r, "p", nil)
      dispatch(r, "p", core.null)
      assert.same({ {}, {} }, seen)
    end)

    it("answers an unknown api with ENOAPI", function()
      local got = dispatch(r, "nope")
      assert.same(1, #got)
      assert.same("ENOAPI", got[1].err.code)
      assert.same("unknown api: nope", got[1].err.message)
      assert.same("ENOAPI: unknown api: nope", tostring(got[1].err))
    end)

    it("looks names up as own keys only: no inherited or metatable names", function()
      for _, name in ipairs({ "toString", "constructor", "__index", "__proto__", "register",
                              "dispatch", "new", "_VERSION", "hasOwnProperty" }) do
        assert.same("ENOAPI", dispatch(r, name)[1].err.code, name)
      end
    end)

    it("answers nil, err with EHANDLER and the message", function()
      r:register("f", function() return nil, "out of stock" end)
      local err = dispatch(r, "f")[1].err
      assert.same({ "EHANDLER", "out of stock" }, { err.code, err.message })
    end)

    it("keeps a code the handler gives, as a table or as 'ECODE: message'", function()
      r:register("t", function() return nil, { code = "EAUTH", message = "login first", data = { to = "/login" } } end)
      r:register("s", function() return nil, "EPAY: card declined" end)
      local e1, e2 = dispatch(r, "t")[1].err, dispatch(r, "s")[1].err
      assert.same({ "EAUTH", "login first", { to = "/login" } }, { e1.code, e1.message, e1.data })
      assert.same({ "EPAY", "card declined" }, { e2.code, e2.message })
    end)

    it("answers a raising handler with ECRASH, without the message unless debug", function()
      r:register("boom", function() error("secret path /srv/x.lua") end)
      local err = dispatch(r, "boom")[1].err
      assert.same("ECRASH", err.code)
      assert.same("handler raised an error", err.message)
      assert.truthy(logged[1]:find("secret path", 1, true))

      local rd = router.new({ log = log, debug = true })
      rd:register("boom", function() error("bad thing", 0) end)
      assert.same("handler raised an error: bad thing", dispatch(rd, "boom")[1].err.message)
    end)

    it("delivers a nil result as nil (no error)", function()
      r:register("nothing", function() end)
      assert.same({ {} }, dispatch(r, "nothing"))
    end)
  end)

  describe("dispatch of an asynchronous handler", function()
    it("delivers reply(result) once, when the handler calls it", function()
      local later
      r:register("wait", function(_, _, reply) later = reply end, { async = true })
      local got = dispatch(r, "wait")
      assert.same({}, got)
      later({ ok = 1 })
      assert.same({ { result = { ok = 1 } } }, got)
    end)

    it("delivers reply(nil, err) as EHANDLER", function()
      r:register("wait", function(_, _, reply) reply(nil, "gone") end, { async = true })
      local err = dispatch(r, "wait")[1].err
      assert.same({ "EHANDLER", "gone" }, { err.code, err.message })
    end)

    it("ignores and logs a second reply: never delivered twice", function()
      local later
      r:register("twice", function(_, _, reply) later = reply end, { async = true })
      local got = dispatch(r, "twice")
      assert.is_true(later("first"))
      assert.is_false(later("second"))
      assert.is_false(later(nil, "third"))
      assert.same({ { result = "first" } }, got)
      assert.same(2, #logged)
      assert.truthy(logged[1]:find("replied twice", 1, true))
    end)

    it("answers a handler that raises before replying with ECRASH", function()
      r:register("boom", function() error("x") end, { async = true })
      assert.same("ECRASH", dispatch(r, "boom")[1].err.code)
    end)

    it("keeps the reply of a handler that raises after replying, and logs the raise", function()
      r:register("late", function(_, _, reply) reply("done") error("after") end, { async = true })
      assert.same({ { result = "done" } }, dispatch(r, "late"))
      assert.truthy(logged[1]:find("raised after replying", 1, true))
    end)
  end)

  describe("params checks", function()
    it("checks params against a schema, answering EPARAMS", function()
      r:register("getUserInfo", function(p) return p.lang end,
        { params = { withCredentials = "boolean", lang = "string?" } })
      assert.same("zh_CN", dispatch(r, "getUserInfo", { withCredentials = true, lang = "zh_CN" })[1].result)
      assert.same({}, { dispatch(r, "getUserInfo", { withCredentials = false })[1].err })

      local function failure(params)
        local err = dispatch(r, "getUserInfo", params)[1].err
        return err.code .. " " .. err.message
      end
      assert.same("EPARAMS params.withCredentials: missing, expected boolean", failure({}))
      assert.same("EPARAMS params.lang: expected string, got number",
        failure({ withCredentials = true, lang = 5 }))
      assert.same("EPARAMS params: expected object, got array",
        failure(setmetatable({ 1, 2 }, core.array_mt)))
      assert.same("EPARAMS params: expected object, got string", failure("x"))
    end)

    it("knows the JSON types: integer, array, object, null, any", function()
      r:register("types", function() return true end, {
        params = { n = "integer", a = "array", o = "object", z = "null", any = "any" },
      })
      local good = core.decode_json('{"n":3,"a":[],"o":{},"z":null,"any":"x"}')
      assert.same({ { result = true } }, dispatch(r, "types", good))
      local bad = core.decode_json('{"n":3.5,"a":[],"o":{},"z":null,"any":"x"}')
      assert.same("params.n: expected integer, got number", dispatch(r, "types", bad)[1].err.message)
      bad = core.decode_json('{"n":3,"a":{},"o":{},"z":null,"any":"x"}')
      assert.same("params.a: expected array, got object", dispatch(r, "types", bad)[1].err.message)
    end)

    it("takes a check function returning true or nil, message", function()
      r:register("pay", function() return "paid" end, {
        params = function(p) if type(p.amount) == "number" and p.amount > 0 then return true end
                             return nil, "amount must be positive" end,
      })
      assert.same("paid", dispatch(r, "pay", { amount = 3 })[1].result)
      local err = dispatch(r, "pay", { amount = -1 })[1].err
      assert.same({ "EPARAMS", "amount must be positive" }, { err.code, err.message })
    end)

    it("never runs the handler when the check fails", function()
      local ran = false
      r:register("x", function() ran = true end, { params = { a = "string" } })
      dispatch(r, "x", {})
      assert.is_false(ran)
    end)
  end)

  describe("hooks", function()
    it("runs router and per-api before hooks in order, then the handler, then after hooks", function()
      local trace = {}
      r:before(function(_, ctx) trace[#trace + 1] = "before " .. ctx.api end)
      r:after(function(_, _, result) trace[#trace + 1] = "after " .. tostring(result) end)
      r:register("x", function() trace[#trace + 1] = "handler" return "r" end, {
        before = function() trace[#trace + 1] = "api before" end,
        after = function() trace[#trace + 1] = "api after" end,
      })
      dispatch(r, "x")
      assert.same({ "before x", "api before", "handler", "api after", "after r" }, trace)
    end)

    it("lets a before hook refuse a command: auth in one place", function()
      r:before(function(params, ctx)
        if ctx.api ~= "login" and params.token ~= "t0k" then
          return nil, { code = "EAUTH", message = "not logged in" }
        end
      end)
      r:register("login", function() return "ok" end)
      r:register("orders", function() return { 1, 2 } end)
      assert.same("ok", dispatch(r, "login")[1].result)
      assert.same("EAUTH", dispatch(r, "orders", {})[1].err.code)
      assert.same({ 1, 2 }, dispatch(r, "orders", { token = "t0k" })[1].result)
    end)

    it("answers a before hook returning false with EDENIED", function()
      r:before(function() return false end)
      r:register("x", function() return 1 end)
      assert.same("EDENIED", dispatch(r, "x")[1].err.code)
    end)

    it("lets after hooks see every outcome, errors included", function()
      local seen = {}
      r:after(function(_, err, result) seen[#seen + 1] = err and err.code or result end)
      r:register("ok", function() return "fine" end)
      r:register("bad", function() return nil, "no" end)
      dispatch(r, "ok")
      dispatch(r, "bad")
      dispatch(r, "missing")
      assert.same({ "fine", "EHANDLER", "ENOAPI" }, seen)
    end)

    it("logs a raising after hook and still delivers", function()
      r:after(function() error("log sink down") end)
      r:register("ok", function() return 1 end)
      assert.same({ { result = 1 } }, dispatch(r, "ok"))
      assert.same(1, #logged)
    end)
  end)

  describe("load", function()
    it("registers every function of a table; tables carry options", function()
      assert.same(r, r:load({
        ping = function() return "pong" end,
        later = { async = true, handler = function(_, _, reply) reply("l") end },
      }))
      assert.same({ "later", "ping" }, r:apis())
      assert.same("l", dispatch(r, "later")[1].result)
    end)

    it("loads a Lua file that returns a table of handlers", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write('return { add = function(p) return p.a + p.b end }')
      f:close()
      assert.same(r, r:load(path))
      os.remove(path)
      assert.same(5, dispatch(r, "add", { a = 2, b = 3 })[1].result)
    end)

    it("returns nil, err for a file that is missing, broken or not a table", function()
      local ok, err = r:load("/nonexistent/handlers.lua")
      assert.is_nil(ok)
      assert.truthy(err:find("cannot load handlers", 1, true))
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write("return 42")
      f:close()
      ok, err = r:load(path)
      os.remove(path)
      assert.is_nil(ok)
      assert.truthy(err:find("not a table", 1, true))
    end)

    it("refuses a table that names a registered api, and registers none of it", function()
      r:register("ping", function() end)
      local ok, err = r:load({ ping = function() end, other = function() end })
      assert.is_nil(ok)
      assert.truthy(err:find("already registered: ping", 1, true))
      assert.is_false(r:has("other"))
    end)

    it("registers none of a table whose entry raises when read (all or nothing), and does not raise", function()
      local raising = setmetatable({}, { __index = function() error("no such field") end })
      local ok, err = r:load({ a = function() end, b = raising })
      assert.is_nil(ok)
      assert.truthy(err:find("no such field", 1, true))
      assert.is_false(r:has("a"))
    end)

    it("loads examples/handlers.lua", function()
      assert.same(r, r:load("examples/handlers.lua"))
      assert.is_true(#r:apis() >= 3)
    end)
  end)
end)
