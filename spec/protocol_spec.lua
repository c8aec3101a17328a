local core = require "mphybrid.core"
local protocol = require "mphybrid.protocol"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local paths = require "helpers.paths"
local fragments = require "helpers.fragments"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"
local fragment, envelope = fragments.fragment, fragments.envelope

describe("mphybrid.protocol", function()
  it("reads the limits the core enforces from core.limits, and both ends read them from it", function()
    assert.are.equal(core.limits.max_id, protocol.max_id)
    assert.are.equal(core.limits.max_cmd, protocol.max_cmd)
    assert.are.equal(core.limits.max_cmd_depth, protocol.max_depth)
    assert.are.equal(protocol.max_depth - 1, protocol.max_params_depth)
    assert.are.equal(protocol.max_cmd, shell.defaults.max_cmd)
    assert.are.equal(protocol.max_depth, shell.defaults.max_depth)
    assert.are.equal(protocol.max_hash, shell.defaults.max_hash)
    assert.are.equal(protocol.max_batch, require("mphybrid.batch").max_entries)
    assert.are.equal(protocol.page, client.defaults.page)
    assert.are.equal(protocol.prefix, client.defaults.prefix)
    assert.are.equal(core.req_id_prefix, protocol.prefix)
    assert.truthy(core.new_req_id():find(protocol.prefix, 1, true) == 1)
  end)

  it("keeps the core's request-id rule: the one decode_cmd, encode_reply, the client and the router keep", function()
    assert.are.equal(core.valid_id, protocol.valid_id)
    local max = core.limits.max_id
    for _, id in ipairs({ "H5Req_1", "a", ("x"):rep(max), 'a"b', "a\\b", "中文", "a b" }) do
      assert.is_true(protocol.valid_id(id), id)
    end
    for _, id in ipairs({ "", ("x"):rep(max + 1), " a", "a ", "\ta", "a\n", "a\0b", "a\127", "\194\160a", 7, {} }) do
      local ok, err, code = protocol.valid_id(id)
      assert.is_nil(ok, tostring(id))
      assert.are.equal("ECMD", code)
      assert.truthy(err:find("^ECMD: "))
    end
    -- decode_cmd reads an id by it, trimmed first
    assert.are.equal("a b", core.decode_cmd('{"req":" a b ","api":"x"}').req)
    assert.are.equal("ECMD", select(3, core.decode_cmd('{"req":"a\\u0001","api":"x"}')))
    -- encode_reply writes no reply under an id it refuses
    assert.are.equal("ECMD", select(3, core.encode_reply(SRC, { { " a", "0" } }, 1)))
    -- the router registers no api decode_cmd could not read
    local r = router.new()
    assert.has_error(function() r:register(" echo", function() end) end)
    assert.has_error(function() r:register("ec\1ho", function() end) end)
    assert.has_no.errors(function() r:register("ec ho", function() end) end)
  end)

  it("is the only Lua module that writes the names, keys and limits of the wire", function()
    -- (plain text, or a pattern: a comparison with a number)
    local literals = {
      '"miniProgramResult"', '"H5Req_"', '"/pages/hybrid-page/hybrid"', "65536",
      '"mph"', '{ mph = true', "#mph=2&", '"?cmd="',
      "[<>]=? *128%f[^%d]", "[<>=] *512%f[^%d]", "max_depth = 100%f[^%d]",
    }
    local files = paths.files_under("lua", "%.lua$")
    assert.is_true(#files > 5)
    for _, file in ipairs(files) do
      if not file:find("protocol%.lua$") then
        -- the code, not its comments
        local text = paths.read_file(paths.repo_root() .. "/" .. file):gsub("%-%-[^\n]*", "")
        for _, lit in ipairs(literals) do
          local plain = not lit:find("%", 1, true)
          assert.is_nil(text:find(lit, 1, plain), file .. " repeats " .. lit .. ": it is mphybrid.protocol's")
        end
      end
    end
  end)

  it("writes a command's fields in the published order, then the version 2 ones", function()
    assert.are.equal('{"req":"H5Req_1","api":"x","params":{"a":1}}',
      protocol.command_json(1, "H5Req_1", '"x"', '{"a":1}', { "H5Req_0" }, '"/h"'))
    assert.are.equal('{"req":"H5Req_1","api":"x","mph":2,"ack":["H5Req_0","a\\"b"],"hash":"/h"}',
      protocol.command_json(2, "H5Req_1", '"x"', nil, { "H5Req_0", 'a"b' }, '"/h"'))
    local text = protocol.batch_open .. protocol.entry_json('q"1', '"x"', "[1]") .. protocol.batch_sep
      .. protocol.entry_json("q2", '"y"') .. protocol.batch_close({ "q0" }, nil)
    assert.are.same({ mph = 2, batch = { { req = 'q"1', api = "x", params = { 1 } }, { req = "q2", api = "y" } },
      ack = { "q0" } }, core.decode_json(text))
    assert.are.same({ '{"ack":["q0"],"api":"x","mph":2,"params":[1],"req":"q\\"1"}', '{"api":"y","mph":2,"req":"q2"}' },
      protocol.decode_batch(core.decode_json(text)))
  end)

  it("writes the reply values of both versions and reads a version 2 one back", function()
    local err = { code = "EPAY", message = "too much", data = { max = 1 } }
    assert.are.equal('{"result":{"a":1}}', protocol.reply_value(2, nil, { a = 1 }))
    assert.are.equal('{"result":null}', protocol.reply_value(2, nil, nil))
    assert.are.equal('{"error":{"code":"EPAY","data":{"max":1},"message":"too much"}}', protocol.reply_value(2, err))
    assert.are.equal("EREPLY", select(2, protocol.reply_value(2, nil, ("x"):rep(100), { max_size = 50 })).code)
    assert.are.equal("0", protocol.reply_value(1, nil, nil))
    assert.are.equal("EPAY", protocol.reply_value(1, err))
    assert.are.equal('{"a":1}', protocol.reply_value(1, nil, { a = 1 }))
    local e, result = protocol.read_reply(protocol.reply_value(2, err))
    assert.are.same({ "EPAY", "too much", 1 }, { e.code, e.message, e.data.max })
    assert.is_nil(result)
    e, result = protocol.read_reply(protocol.reply_value(2, nil, "ok"))
    assert.are.same({ nil, "ok" }, { e, result })
    assert.are.equal("EREPLY", protocol.read_reply('{"other":1}').code)
  end)

  it("keeps the fragment's own keys out of request ids: v in version 1, mph, hash and v in version 2", function()
    assert.is_nil(protocol.reply_id("v", 1))
    assert.are.equal("mph", protocol.reply_id("mph", 1))
    for _, k in ipairs({ "mph", "hash", "v" }) do
      assert.is_nil(protocol.reply_id(k, 2))
    end
    assert.are.equal("H5Req_1", protocol.reply_id("H5Req_1", 2))
  end)
end)

describe("decode_cmd's answer to a refused command", function()
  it("is the req and version it read, so that no caller reads the command again", function()
    local _
    local cmd, err, code, read, req, version = core.decode_cmd(E('  {"req":" H5Req_1 ","api":7,"mph":2}'))
    assert.is_nil(cmd)
    assert.are.same({ "ECMD", "H5Req_1", 2 }, { code, req, version })
    assert.truthy(err:find("^ECMD: api "))
    assert.are.equal("H5Req_1", read.req)
    _, _, code, _, req, version = core.decode_cmd('{"req":"H5Req_2","api":"x","mph":"2"}')
    assert.are.same({ "ECMD", "H5Req_2", 1 }, { code, req, version })
    _, _, code, _, req, version = core.decode_cmd('{"req":"H5Req_3","api":"","mph":5}')
    assert.are.same({ "ECMD", "H5Req_3", 2 }, { code, req, version })
    _, _, code, _, req, version = core.decode_cmd('{"req":"H5Req_4","api":"x","s":"\\ud800"}')
    assert.are.same({ "EJSON", "H5Req_4", 1 }, { code, req, version })
    _, _, code, _, req, version = core.decode_cmd('{"req":7,"api":"x","mph":2}')
    assert.are.same({ "ECMD", nil, 2 }, { code, req, version })
    -- nothing to read: no req, no version
    assert.are.equal(3, select("#", core.decode_cmd('{"req":"H5Req_5","api":')))
    assert.are.equal(3, select("#", core.decode_cmd(("x"):rep(10), { max_size = 5 })))
  end)

  it("and of a command it reads, the version it asks for", function()
    assert.are.equal(1, select(2, core.decode_cmd('{"api":"x"}')))
    assert.are.equal(1, select(2, core.decode_cmd('{"api":"x","mph":1}')))
    assert.are.equal(2, select(2, core.decode_cmd('{"api":"x","mph":2}')))
    assert.are.equal(2, select(2, core.decode_cmd('{"api":"x","mph":3.5}')))
    for _, mph in ipairs({ '"2"', "null", "0", "1.5", "-2", "[2]" }) do
      assert.are.equal("ECMD", select(3, core.decode_cmd('{"api":"x","mph":' .. mph .. "}")), mph)
    end
  end)
end)

describe("a shell answering a command it refuses", function()
  local s
  before_each(function()
    local r = router.new({ log = function() end })
    r:register("echo", function(p) return p end)
    s = assert(shell.new({ router = r, src = SRC, now = function() return 1700000000000 end }))
  end)

  it("answers under the command's own req, in its version, however it is spaced", function()
    -- spaces before the JSON object, around the req, percent-encoded or not
    local src = s:on_load({ cmd = E(' \t{"req":" H5Req_a1 ","api":"","mph":2}') })
    assert.are.equal("ECMD", envelope(src, "H5Req_a1").error.code)
    src = s:on_load({ cmd = '  {"req":"H5Req_a2","api":7,"mph":2}' })
    assert.are.equal("ECMD", envelope(src, "H5Req_a2").error.code)
    src = s:on_load({ cmd = E('\n{"req":"H5Req_a3","api":["echo"]}') })
    assert.are.equal("ECMD", fragment(src).H5Req_a3)
    -- an mph that is no version: under the req, in version 1
    src = s:on_load({ cmd = E(' {"req":"H5Req_a4","api":"echo","mph":"2"}') })
    assert.are.equal("ECMD", fragment(src).H5Req_a4)
    -- a lone surrogate, as the published library sends one
    src = s:on_load({ cmd = E(' {"req":"H5Req_a5","api":"echo","params":{"s":"\\ud800"},"mph":2}') })
    assert.are.equal("EJSON", envelope(src, "H5Req_a5").error.code)
  end)

  it("answers under miniProgramResult what it cannot read, or a req the fragment keeps for itself", function()
    -- over max_cmd or cut short: neither its req nor its version can be
    -- known without reading it, and a version 1 answer to a version 2 call
    -- would read as a result
    local big = E('{"req":"H5Req_b1","api":"echo","params":"' .. ("a"):rep(protocol.max_cmd) .. '","mph":2}')
    assert.are.equal("ESIZE", fragment(s:on_load({ cmd = big })).miniProgramResult)
    assert.are.equal("EJSON", fragment(s:on_load({ cmd = '{"req":"H5Req_b2","api":' })).miniProgramResult)
    assert.are.equal("ECMD", fragment(s:on_load({ cmd = E(' {"req":"hash","api":7,"mph":2}') })).miniProgramResult)
    assert.are.equal("ECMD", fragment(s:on_load({ cmd = E(' {"req":"v","api":7}') })).miniProgramResult)
  end)
end)
