-- Regressions found by attacking the Lua layer's one error rule (README.md,
-- "Errors"): callbacks that raise, re-entered on_load, a src or an api name
-- the layer cannot use, the gateway's body, a Redis URL's db.

local router = require "mphybrid.router"
local shell = require "mphybrid.shell"

local SRC = "https://h5.example.com/p"
local NOW = 1700000000000

-- a router whose log lines are kept in logs, with echo (synchronous) and
-- later (asynchronous: its reply waits in pending)
local function setup(logs, pending)
  local r = router.new({ log = function(_, m) logs[#logs + 1] = m end })
  r:register("echo", function(p) return p end)
  r:register("later", function(_, _, reply) pending[#pending + 1] = reply end, { async = true })
  return r
end

local function cmd(req, api, version)
  return '{"req":"' .. req .. '","api":"' .. api .. '"' .. (version == 2 and ',"mph":2' or "") .. "}"
end

describe("a done callback that raises", function()
  it("is logged by s:on_load, never raised: done called once, the reply written and returned", function()
    for _, version in ipairs({ 1, 2 }) do
      for _, api in ipairs({ "echo", "x" }) do
        local logs, pending = {}, {}
        local s = shell.new({ router = setup(logs, pending), src = SRC, now = function() return NOW end })
        local runs = 0
        local ok, src, back = pcall(s.on_load, s, { cmd = cmd("H5Req_1", api, version) }, function()
          runs = runs + 1
          error("done broke")
        end)
        local what = api .. " v" .. version
        assert.is_true(ok, what .. ": " .. tostring(src))
        assert.is_true(back, what)
        assert.same(s:get_src(), src, what)
        assert.is_truthy(src:find("H5Req_1=", 1, true), what)
        assert.same(1, runs, what)
        assert.is_truthy(table.concat(logs, "\n"):find("done broke", 1, true), what)
      end
    end
  end)

  it("is logged when an asynchronous reply comes later: reply() never raises, done called once", function()
    for _, version in ipairs({ 1, 2 }) do
      local logs, pending = {}, {}
      local s = shell.new({ router = setup(logs, pending), src = SRC, now = function() return NOW end })
      local runs = 0
      assert.is_false(s:on_load({ cmd = cmd("H5Req_2", "later", version) }, function()
        runs = runs + 1
        error("done broke")
      end))
      local ok, err = pcall(pending[1], { late = true })
      assert.is_true(ok, tostring(err))
      assert.same(1, runs)
      assert.is_truthy(s:get_src():find("H5Req_2=", 1, true))
      assert.is_truthy(table.concat(logs, "\n"):find("done broke", 1, true))
      -- the shell goes on: the next command is answered
      assert.is_truthy(s:on_load({ cmd = cmd("H5Req_3", "echo", version) }):find("H5Req_3=", 1, true))
    end
  end)

  it("is logged by a version 2 batch, at once or later: done called once, the batch answered", function()
    for _, api in ipairs({ "echo", "later" }) do
      local logs, pending = {}, {}
      local s = shell.new({ router = setup(logs, pending), src = SRC, now = function() return NOW end })
      local runs = 0
      local batch = '{"mph":2,"batch":[' .. cmd("H5Req_4", "echo") .. "," .. cmd("H5Req_5", api) .. "]}"
      local ok, src = pcall(s.on_load, s, { cmd = batch }, function()
        runs = runs + 1
        error("done broke")
      end)
      assert.is_true(ok, api .. ": " .. tostring(src))
      if api == "later" then
        assert.is_false(src)
        ok, src = pcall(pending[1], 5)
        assert.is_true(ok, tostring(src))
      end
      assert.same(1, runs, api)
      assert.is_truthy(s:get_src():find("H5Req_5=", 1, true), api)
      assert.is_truthy(table.concat(logs, "\n"):find("done broke", 1, true), api)
    end
  end)

  it("is logged by r:dispatch, never raised: dispatch returns true, the after hooks ran once", function()
    for _, api in ipairs({ "echo", "x", "later" }) do
      local logs, pending = {}, {}
      local r = setup(logs, pending)
      local afters, runs = 0, 0
      r:after(function() afters = afters + 1 end)
      local ok, finished = pcall(r.dispatch, r, { api = api }, { req = "H5Req_6", version = 2 }, function()
        runs = runs + 1
        error("done broke")
      end)
      assert.is_true(ok, api .. ": " .. tostring(finished))
      if api == "later" then
        assert.is_false(finished)
        local replied
        ok, replied = pcall(pending[1], 1)
        assert.is_true(ok, tostring(replied))
        assert.is_true(replied)
      else
        assert.is_true(finished, api)
      end
      assert.same({ 1, 1 }, { runs, afters }, api)
      assert.is_truthy(table.concat(logs, "\n"):find("done broke", 1, true), api)
    end
  end)
end)

describe("s:on_load called again from inside its done", function()
  it("returns the shell's src as it stands when the outer call returns (version 2: carrying both replies)", function()
    for _, version in ipairs({ 1, 2 }) do
      local logs, pending = {}, {}
      local s = shell.new({ router = setup(logs, pending), src = SRC, now = function() return NOW end })
      local inner
      local src, back = s:on_load({ cmd = cmd("H5Req_5", "echo", version) }, function()
        inner = s:on_load({ cmd = cmd("H5Req_61", "echo", version) })
      end)
      assert.is_true(back)
      assert.same(s:get_src(), src, "v" .. version)
      assert.same(inner, src, "v" .. version)
      assert.is_truthy(src:find("H5Req_61=", 1, true))
      if version == 2 then
        -- the outbox holds both unacknowledged replies
        assert.is_truthy(src:find("H5Req_5=", 1, true))
      end
    end
  end)

  it("returns the shell's src as it stands for a batch whose done runs another command", function()
    local logs, pending = {}, {}
    local s = shell.new({ router = setup(logs, pending), src = SRC, now = function() return NOW end })
    local batch = '{"mph":2,"batch":[' .. cmd("H5Req_7", "echo") .. "," .. cmd("H5Req_8", "echo") .. "]}"
    local src, back = s:on_load({ cmd = batch }, function()
      s:on_load({ cmd = cmd("H5Req_9", "echo", 2) })
    end)
    assert.is_true(back)
    assert.same(s:get_src(), src)
    for _, req in ipairs({ "H5Req_7", "H5Req_8", "H5Req_9" }) do
      assert.is_truthy(src:find(req .. "=", 1, true), req)
    end
  end)
end)

describe("a web-view src over max_src or blank", function()
  local BLANKS = { " ", "   ", " \t\r\n ", "\194\160", "\227\128\128", "\239\187\191 " }
  local MAX = 64

  local function new(opts)
    opts.router = opts.router or router.new({ log = function() end })
    opts.max_src = MAX
    return shell.new(opts)
  end

  it("is refused by shell.new, which raises", function()
    for _, src in ipairs(BLANKS) do
      assert.has_error(function() new({ src = src }) end, "shell.new: opts.src (the web-view src) must not be blank")
    end
    assert.has_error(function() new({ src = SRC .. string.rep("a", MAX + 1 - #SRC) }) end,
      "shell.new: opts.src (the web-view src) of 65 bytes is over max_src (64 bytes)")
    assert.same(MAX, #new({ src = SRC .. string.rep("a", MAX - #SRC) }):get_src())
  end)

  it("is refused by s:set_src and s:for_session with EURL (blank) or ESIZE (over max_src), the src kept", function()
    local s = new({ src = SRC })
    local long = SRC .. string.rep("a", MAX + 1 - #SRC)
    local cases = { { long, "ESIZE" } }
    for _, blank in ipairs(BLANKS) do
      cases[#cases + 1] = { blank, "EURL" }
    end
    for _, case in ipairs(cases) do
      local ok, err, code = s:set_src(case[1])
      assert.same({ nil, case[2] }, { ok, code }, ("%q"):format(case[1]))
      assert.is_truthy(err:find("^" .. case[2] .. ": set_src: "), err)
      local view
      view, err, code = s:for_session("session", case[1])
      assert.same({ nil, case[2] }, { view, code }, ("%q"):format(case[1]))
      assert.is_truthy(err:find("^" .. case[2] .. ": for_session: "), err)
    end
    assert.same(SRC, s:get_src())
    assert.is_true(s:set_src(SRC .. string.rep("a", MAX - #SRC)))
  end)

  it("is never written: a src with no room for even EREPLY fails on_load with EREPLY in version 1 as in version 2", function()
    for _, version in ipairs({ 1, 2 }) do
      local s = new({ src = SRC .. string.rep("a", MAX - #SRC), router = setup({}, {}) })
      local heard = 0
      local src, err, code = s:on_load({ cmd = cmd("H5Req_1", "echo", version) }, function() heard = heard + 1 end)
      assert.same({ nil, "EREPLY" }, { src, code }, "v" .. version)
      assert.is_string(err)
      assert.same(0, heard)
      assert.same(MAX, #s:get_src())
    end
  end)
end)

describe("a Redis database number Redis does not accept", function()
  local redis = require "mphybrid.store.redis"
  local TOO_BIG = { "99999999999999999999", "2147483648", "1" .. string.rep("0", 400) }

  it("is refused by redis.parse_url with EARG, never read as a huge or inexact number", function()
    for _, db in ipairs(TOO_BIG) do
      local u, err, code = redis.parse_url("redis://10.0.0.5:6379/" .. db)
      assert.same({ nil, "EARG" }, { u, code }, db)
      assert.is_string(err)
    end
    assert.same(2147483647, redis.parse_url("redis://10.0.0.5:6379/2147483647").db)
    assert.same(15, redis.parse_url("redis://10.0.0.5/015").db)
  end)

  it("is refused by redis.new, which raises, as opts.db or in opts.url", function()
    for _, db in ipairs({ 2 ^ 31, 1e20, math.huge }) do
      assert.has_error(function() redis.new({ db = db }) end, "redis.new: db must be a whole number from 0 to 2147483647")
    end
    assert.has_error(function() redis.new({ url = "redis://h/99999999999999999999" }) end)
    assert.same(2147483647, redis.new({ db = 2147483647 }).db)
  end)
end)

describe("an api name that is not UTF-8", function()
  local core = require "mphybrid.core"
  local NAMES = { "\255", "echo\255", "\237\160\128", "\192\128", "ok\244\144\128\128" }

  it("is refused by r:register, which raises, as every name decode_cmd could never read", function()
    for _, name in ipairs(NAMES) do
      local r = router.new({ log = function() end })
      assert.has_error(function() r:register(name, function() end) end, nil, ("%q"):format(name))
      assert.same({}, r:apis())
      local got, _, code = r:load({ [name] = function() end })
      assert.same({ nil, "ELOAD" }, { got, code }, ("%q"):format(name))
    end
  end)

  it("is refused by the one id rule, core.valid_id (ECMD), which encode_reply keeps too", function()
    for _, name in ipairs(NAMES) do
      local ok, err, code = core.valid_id(name)
      assert.same({ nil, "ECMD" }, { ok, code }, ("%q"):format(name))
      assert.is_string(err)
      assert.same("ECMD", select(3, core.encode_reply(SRC, { { name, "0" } }, 1)))
    end
    assert.is_true(core.valid_id("中文 ok"))
  end)
end)
