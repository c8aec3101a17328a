-- Values from user code (handlers, checks, hooks, callbacks, navigate) that
-- cannot be turned into text: every conversion to text is safe, so such a
-- value never stops a reply, a dispatch or a delivery.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local paths = require "helpers.paths"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"

-- an error object none of whose text metamethods work
local function hostile()
  return setmetatable({}, {
    __tostring = function() error("no text") end,
    __index = function() error("no index") end,
    __concat = function() error("no concat") end,
  })
end

local function v2_cmd(req, api)
  return { cmd = E('{"req":"' .. req .. '","api":"' .. api .. '","mph":2}') }
end

describe("a value that cannot be turned into text", function()
  local r, logged
  before_each(function()
    logged = {}
    r = router.new({ log = function(level, msg) logged[#logged + 1] = level .. ": " .. msg end })
  end)

  describe("in the router", function()
    it("from a params check is answered EPARAMS, and on_load returns", function()
      r:register("pay", function() return "paid" end, { params = function() return nil, hostile() end })
      local s = assert(shell.new({ router = r, src = SRC, now = function() return 1 end }))
      local src, back = s:on_load(v2_cmd("H5Req_a", "pay"))
      assert.is_true(back)
      local map = core.decode_fragment(src:match("#(.*)$"))
      assert.same("EPARAMS", core.decode_json(map.H5Req_a).error.code)
    end)

    it("raised by a handler without ctx.req still finishes the dispatch", function()
      r:register("boom", function() error(hostile()) end)
      local got
      r:dispatch({ api = "boom" }, {}, function(err) got = err.code end)
      assert.same("ECRASH", got)
    end)

    it("as ctx.req of a raising handler still finishes the dispatch", function()
      r:register("boom", function() error(hostile()) end)
      local got
      r:dispatch({ api = "boom" }, { req = hostile() }, function(err) got = err.code end)
      assert.same("ECRASH", got)
    end)

    it("raised by an asynchronous handler after its reply is only logged", function()
      r:register("late", function(_, _, reply) reply("ok") error(hostile()) end, { async = true })
      local got
      r:dispatch({ api = "late" }, { req = hostile() }, function(_, result) got = result end)
      assert.same("ok", got)
      assert.same(1, #logged)
    end)

    it("as an api name is answered ENOAPI", function()
      local got
      r:dispatch({ api = hostile() }, {}, function(err) got = err.code end)
      assert.same("ENOAPI", got)
    end)

    it("raised by before and after hooks is answered and logged", function()
      r:register("guarded", function() return 1 end, { before = function() error(hostile()) end })
      r:after(function() error(hostile()) end)
      local got
      r:dispatch({ api = "guarded" }, { req = "H5Req_a" }, function(err) got = err.code end)
      assert.same("ECRASH", got)
      assert.same(2, #logged)
    end)

    it("raised by a handler file, or as a key of its table, makes load return nil, err", function()
      local ok, err = r:load({ [hostile()] = function() end })
      assert.is_nil(ok)
      assert.is_string(err)
      local path = paths.temp_file("error(setmetatable({}, { __tostring = function() error('no text') end }))")
      ok, err = r:load(path)
      os.remove(path)
      assert.is_nil(ok)
      assert.is_string(err)
    end)
  end)

  describe("in the client", function()
    local c, got
    before_each(function()
      got = {}
      c = client.new({
        navigate = function() end,
        now = function() return 0 end,
        log = function(level, msg) logged[#logged + 1] = level .. ": " .. msg end,
      })
    end)

    it("raised by a callback lets receive deliver the next reply of the fragment", function()
      local a = c:call("a", nil, function() error(hostile()) end)
      local b = c:call("b", nil, function(_, result) got[#got + 1] = result end)
      local src = assert(core.encode_reply(SRC, { { "mph", "2" }, { a, '{"result":1}' }, { b, '{"result":2}' } }, 1))
      assert.same(2, (c:receive(src)))
      assert.same({ 2 }, got)
      assert.same(0, c:pending())
      assert.same(1, #logged)
    end)

    it("raised by the callback of a call that cannot be sent is never raised: the failure is returned", function()
      local id, err, code = c:call("a", function() end, function() error(hostile()) end)
      assert.is_nil(id)
      assert.same("EVALUE", code)
      assert.is_string(err)
      assert.same(0, #logged)
    end)

    it("raised by navigate fails the call with ENAVIGATE, returned and not heard", function()
      c = client.new({ navigate = function() error(hostile()) end, log = function() end })
      local id, err, code = c:call("a", nil, function(e) got[#got + 1] = e.code end)
      assert.is_nil(id)
      assert.same("ENAVIGATE", code)
      assert.same("ENAVIGATE: navigate failed: ", err:sub(1, 28))
      assert.same({}, got)
    end)

    it("as the request id to cancel gives nil, err, ENOCALL", function()
      local ok, err, code = c:cancel(hostile())
      assert.is_nil(ok)
      assert.same("ENOCALL", code)
      assert.same("ENOCALL: ", err:sub(1, 9))
    end)

    it("as the page's own fragment leaves the hash out of the command", function()
      local sent
      c = client.new({ navigate = function(url) sent = url end, hash = function() return hostile() end })
      assert.is_string(c:call("a", nil, function() end))
      assert.is_nil(core.decode_cmd(sent:match("cmd=(.*)$")).hash)
    end)
  end)
end)
