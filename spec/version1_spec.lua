-- Version 1 (client.new{protocol = 1}): the rules the published driver follows, kept by
-- our shell and client, and the refusals PROTOCOL.md lists where following
-- it would break. spec/compat_spec.lua runs the published code itself over
-- the same ground; these are the regression specs, which need no Node.js.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local loopback = require "mphybrid.loopback"

local enc = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html?from=mp"
local STAMP = 1700000000000

local function new_shell(handlers)
  local r = router.new({ log = function() end })
  for api, h in pairs(handlers) do
    if type(h) == "table" then
      r:register(api, h[1], { async = true })
    else
      r:register(api, h)
    end
  end
  return assert(shell.new({ router = r, src = SRC, now = function() return STAMP end, log = function() end }))
end

-- the version 1 fragment's pairs, decoded
local function fragment(src)
  return (core.decode_fragment(assert(core.get_fragment(src))))
end

describe("version 1", function()
  describe("results", function()
    it("writes math.huge, -math.huge and 0/0 as String(result): Infinity, -Infinity, NaN", function()
      local results = { huge = math.huge, neg = -math.huge, nan = 0 / 0 }
      local handlers = {}
      for api, v in pairs(results) do
        handlers[api] = function() return v end
      end
      local s = new_shell(handlers)
      local function answer(api)
        return s:on_load({ cmd = enc('{"req":"H5Req_n","api":"' .. api .. '"}') })
      end
      assert.are.equal(SRC .. "#H5Req_n=Infinity&v=1700000000000", answer("huge"))
      assert.are.equal(SRC .. "#H5Req_n=-Infinity&v=1700000000001", answer("neg"))
      assert.are.equal(SRC .. "#H5Req_n=NaN&v=1700000000002", answer("nan"))
    end)

    it("answers a result that is not UTF-8 with EREPLY under the command's own req", function()
      local gbk = "\176\161\180\243" -- "啊大" in GBK
      local s = new_shell({ gbk = function() return gbk end, nested = function() return { name = gbk } end,
                            later = { function(_, _, reply) reply(gbk) end } })
      for _, api in ipairs({ "gbk", "nested", "later" }) do
        local src, back = s:on_load({ cmd = enc('{"req":"H5Req_gbk","api":"' .. api .. '"}') })
        assert.is_true(back)
        local f = fragment(src)
        assert.are.equal("EREPLY", f.H5Req_gbk, api .. ": " .. src)
        assert.is_nil(f.miniProgramResult)
      end
    end)

    it("writes an EREPLY with the stamp the refused value would have had", function()
      local s = new_shell({ gbk = function() return "\255" end })
      assert.are.equal(SRC .. "#H5Req_g=EREPLY&v=1700000000000",
        s:on_load({ cmd = enc('{"req":"H5Req_g","api":"gbk"}') }))
    end)
  end)

  describe("params", function()
    -- the params a handler gets for the command's JSON text
    local function params_of(json)
      local seen = "not run"
      local s = new_shell({ look = function(params)
        seen = params
        return "0"
      end })
      s:on_load({ cmd = enc(json) })
      return seen
    end

    it("hands a handler params 0, false, \"\", null or absent as an empty table (cmd.params || {})", function()
      for _, p in ipairs({ "0", "-0", "0.0", "false", '""', "null" }) do
        assert.are.same({}, params_of('{"req":"H5Req_p","api":"look","params":' .. p .. '}'), "params " .. p)
      end
      assert.are.same({}, params_of('{"req":"H5Req_p","api":"look"}'))
    end)

    it("hands a handler other params as they are, and version 2 params untouched", function()
      for p, want in pairs({ ["1"] = 1, ["true"] = true, ['"x"'] = "x", ['" "'] = " " }) do
        assert.are.same(want, params_of('{"req":"H5Req_p","api":"look","params":' .. p .. '}'), "params " .. p)
      end
      assert.are.equal(false, params_of('{"req":"H5Req_v2","api":"look","params":false,"mph":2}'))
    end)
  end)

  describe("api names and request ids", function()
    it("trims the api name as the published driver does: \" echo \" runs echo", function()
      local s = new_shell({ echo = function() return "ran" end })
      for _, api in ipairs({ " echo ", "\\techo\\n", "\\u3000echo\\u00a0", "\\ufeffecho" }) do
        local src = s:on_load({ cmd = enc('{"req":"H5Req_t","api":"' .. api .. '"}') })
        assert.are.equal("ran", fragment(src).H5Req_t, api)
      end
    end)

    it("trims the request id, and answers under miniProgramResult for an empty or blank one", function()
      local s = new_shell({ echo = function() return "ran" end })
      local src = s:on_load({ cmd = enc('{"req":"  H5Req_t  ","api":"echo"}') })
      assert.are.equal("ran", fragment(src).H5Req_t)
      for _, req in ipairs({ '""', '" "', '"\\t\\u3000"' }) do
        src = s:on_load({ cmd = enc('{"req":' .. req .. ',"api":"echo"}') })
        assert.are.equal("ran", fragment(src).miniProgramResult, req)
      end
    end)

    it("refuses the request id v, which the stamp's key would shadow, with ECMD under miniProgramResult", function()
      local s = new_shell({ echo = function() return "ran" end })
      for _, req in ipairs({ '"v"', '" v "' }) do
        local src, back = s:on_load({ cmd = enc('{"req":' .. req .. ',"api":"echo"}') })
        assert.is_true(back)
        local f = fragment(src)
        assert.are.equal("ECMD", f.miniProgramResult)
        assert.are.equal(tostring(STAMP):sub(1, -2), f.v:sub(1, -2))
      end
      -- refused for its shape as well
      local src = s:on_load({ cmd = enc('{"req":"v","api":7}') })
      assert.are.equal("ECMD", fragment(src).miniProgramResult)
    end)

    it("writes a request id of other characters percent-encoded, one pair our client reads", function()
      local s = new_shell({ echo = function() return "ran" end })
      for _, req in ipairs({ "a b", "a&b", "a=b", "a#b", "a%b", "请求" }) do
        local src = s:on_load({ cmd = enc(assert(core.encode_json({ req = req, api = "echo" }))) })
        assert.are.equal(SRC .. "#" .. enc(req) .. "=ran", src:match("^(.-)&v=%d+$"))
      end
    end)
  end)

  describe("the cmd option", function()
    it("answers a cmd with whitespace around it, refused for its shape, under its own req", function()
      local s = new_shell({})
      for _, lead in ipairs({ "  ", "\t\n", "\227\128\128" }) do
        for _, body in ipairs({ enc('{"req":"H5Req_ws","api":7}'), '{"req":"H5Req_ws","api":7}' }) do
          local src = s:on_load({ cmd = lead .. body .. lead })
          local f = fragment(src)
          assert.are.equal("ECMD", f.H5Req_ws, ("%q"):format(lead .. body))
          assert.is_nil(f.miniProgramResult)
        end
      end
    end)

    it("reads a cmd with JavaScript whitespace around it, as the published driver trims it", function()
      local s = new_shell({ echo = function() return "ran" end })
      for _, space in ipairs({ " ", "\227\128\128", "\194\160", "\239\187\191" }) do
        local src = s:on_load({ cmd = space .. enc('{"req":"H5Req_w","api":"echo"}') .. space })
        assert.are.equal("ran", fragment(src).H5Req_w, ("%q"):format(space))
      end
    end)
  end)

  describe("our client", function()
    for _, protocol in ipairs({ 1, 2 }) do
      it("refuses v, mph and hash as request ids (protocol " .. protocol .. "): a reply is never the stamp", function()
        for _, id in ipairs({ "v", "mph", "hash" }) do
          local got
          local c = client.new({ protocol = protocol, navigate = function() end,
                                 new_req_id = function() return id end })
          local ok, _, code = c:call("echo", nil, function(err, result) got = { err, result } end)
          assert.are.same({ nil, "ECMD" }, { ok, code })
          assert.are.equal(0, c:pending())
          assert.are.equal(0, c:receive(SRC .. "#v=1700000000000"))
          assert.is_nil(got)
        end
      end)
    end

    it("refuses request ids with spaces around them, which the shell would answer under another id", function()
      for _, id in ipairs({ " H5Req_1", "H5Req_1 ", "\227\128\128H5Req_1", "H5Req_1\194\160" }) do
        local c = client.new({ protocol = 1, navigate = function() end, new_req_id = function() return id end })
        local ok, _, code = c:call("echo", nil, function() end)
        assert.are.same({ nil, "ECMD" }, { ok, code })
        assert.are.equal(0, c:pending())
      end
    end)

    it("talking to our shell in version 1, gets each result with no stamp in its place", function()
      local n = 0
      local got = {}
      local c = loopback.new({ handlers = { echo = function(params) return params.s end },
                               src = SRC, clock = STAMP, protocol = 1,
                               client = { timeout = false,
                                          new_req_id = function()
                                            n = n + 1
                                            return "H5Req_" .. n
                                          end } }).client
      c:call("echo", { s = "a" }, function(err, result) got[#got + 1] = { err, result } end)
      c:call("echo", { s = "b" }, function(err, result) got[#got + 1] = { err, result } end)
      assert.are.same({ { nil, "a" }, { nil, "b" } }, got)
    end)
  end)
end)
