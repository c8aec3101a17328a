local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local batch = require "mphybrid.batch"

local fragments = require "helpers.fragments"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"
local fragment, keys, envelope = fragments.fragment, fragments.keys, fragments.envelope

-- the cmd option of a batch: entries as Lua tables, extra fields on the batch
local function batch_cmd(entries, extra)
  local parts = {}
  for i, e in ipairs(entries) do
    parts[i] = type(e) == "string" and e or core.encode_json(e)
  end
  local text = '{"mph":2,"batch":[' .. table.concat(parts, ",") .. "]"
  for _, kv in ipairs(extra or {}) do
    text = text .. "," .. core.encode_json(kv[1]) .. ":" .. kv[2]
  end
  return { cmd = E(text .. "}") }
end

describe("a version 2 batch on the shell", function()
  local r, s, clock, pending, runs

  before_each(function()
    clock = 1700000000000
    pending, runs = {}, {}
    r = router.new({ log = function() end })
    r:register("echo", function(params, ctx)
      runs[#runs + 1] = ctx.req
      return params
    end)
    r:register("fail", function() return nil, { code = "EPAY", message = "over the limit" } end)
    r:register("wait", function(_, ctx, reply) pending[ctx.req] = reply end, { async = true })
    s = assert(shell.new({ router = r, src = SRC, now = function() return clock end }))
  end)

  it("answers every entry in one fragment, in the order of the batch, with the batch's hash", function()
    local src, back = s:on_load(batch_cmd({
      { req = "H5Req_b1", api = "echo", params = { n = 1 } },
      { req = "H5Req_b2", api = "fail" },
      { req = "H5Req_b3", api = "nosuch" },
    }, { { "hash", '"/cart"' } }))
    assert.is_true(back)
    assert.same(src, s:get_src())
    assert.same({ "mph", "H5Req_b1", "H5Req_b2", "H5Req_b3", "hash", "v" }, keys(src))
    assert.same({ result = { n = 1 } }, envelope(src, "H5Req_b1"))
    assert.same("EPAY", envelope(src, "H5Req_b2").error.code)
    assert.same("ENOAPI", envelope(src, "H5Req_b3").error.code)
    assert.same("/cart", fragment(src).hash)
  end)

  it("reads a batch whose cmd value has white space around it, as a command alone is read (trimmed)", function()
    local opts = batch_cmd({
      { req = "H5Req_t1", api = "echo", params = { n = 1 } },
      { req = "H5Req_t2", api = "echo", params = { n = 2 } },
    })
    local src = s:on_load({ cmd = " \n" .. opts.cmd .. "\t " })
    assert.same({ result = { n = 1 } }, envelope(src, "H5Req_t1"))
    assert.same({ result = { n = 2 } }, envelope(src, "H5Req_t2"))
  end)

  it("calls done once, after the last asynchronous entry has replied, with every reply", function()
    local calls = {}
    local out = s:on_load(batch_cmd({
      { req = "H5Req_w1", api = "wait" },
      { req = "H5Req_e1", api = "echo", params = { a = 1 } },
      { req = "H5Req_w2", api = "wait" },
    }), function(err, src) calls[#calls + 1] = { err or false, src } end)
    assert.is_false(out)
    assert.same({}, calls)
    clock = clock + 5
    pending.H5Req_w2("second")
    assert.same({}, calls)
    pending.H5Req_w1("first")
    assert.same(1, #calls)
    assert.is_false(calls[1][1])
    local src = calls[1][2]
    assert.same(src, s:get_src())
    assert.same({ result = "first" }, envelope(src, "H5Req_w1"))
    assert.same({ result = { a = 1 } }, envelope(src, "H5Req_e1"))
    assert.same({ result = "second" }, envelope(src, "H5Req_w2"))
  end)

  it("runs each entry as if it came alone: a replayed entry is answered from the store, not run again", function()
    s:on_load(batch_cmd({ { req = "H5Req_r1", api = "echo", params = { k = "v" } } }))
    assert.same({ "H5Req_r1" }, runs)
    local src = s:on_load(batch_cmd({
      { req = "H5Req_r1", api = "echo", params = { k = "v" } },
      { req = "H5Req_r2", api = "echo" },
    }))
    assert.same({ "H5Req_r1", "H5Req_r2" }, runs)
    assert.same({ result = { k = "v" } }, envelope(src, "H5Req_r1"))
    -- the same request id under another api, as alone
    src = s:on_load(batch_cmd({ { req = "H5Req_r2", api = "fail" } }))
    assert.same("ECMD", envelope(src, "H5Req_r2").error.code)
  end)

  it("takes the batch's acknowledgements before its entries run", function()
    local src = s:on_load(batch_cmd({ { req = "H5Req_k1", api = "echo" }, { req = "H5Req_k2", api = "echo" } }))
    assert.same({ "mph", "H5Req_k1", "H5Req_k2", "v" }, keys(src))
    src = s:on_load(batch_cmd({ { req = "H5Req_k3", api = "echo" } },
      { { "ack", '["H5Req_k1","H5Req_k2"]' } }))
    assert.same({ "mph", "H5Req_k3", "v" }, keys(src))
  end)

  it("answers an entry of the wrong shape under its own id, and runs the others", function()
    local src = s:on_load(batch_cmd({
      '{"req":"H5Req_x1","api":7}',
      { req = "H5Req_x2", api = "echo", params = { ok = true } },
      '{"req":"mph","api":"echo"}',
    }))
    assert.same("ECMD", envelope(src, "H5Req_x1").error.code)
    assert.same({ result = { ok = true } }, envelope(src, "H5Req_x2"))
    assert.same({ "H5Req_x2" }, runs)
  end)

  it("refuses a batch of the wrong shape with ECMD under miniProgramResult, running nothing", function()
    local cases = {
      '{"mph":2,"batch":[]}',
      '{"mph":2,"batch":{"req":"H5Req_1","api":"echo"}}',
      '{"mph":1,"batch":[{"req":"H5Req_1","api":"echo"}]}',
      '{"batch":[{"req":"H5Req_1","api":"echo"}]}',
    }
    local many = {}
    for i = 1, batch.max_entries + 1 do many[i] = '{"req":"H5Req_m' .. i .. '","api":"echo"}' end
    cases[#cases + 1] = '{"mph":2,"batch":[' .. table.concat(many, ",") .. "]}"
    for _, text in ipairs(cases) do
      clock = clock + 1
      local src = s:on_load({ cmd = E(text) })
      assert.same({ "miniProgramResult", "v" }, keys(src), text)
      assert.same("ECMD", fragment(src).miniProgramResult, text)
    end
    assert.same({}, runs)
  end)

  it("leaves a command with an api of its own to the single path, batch field or not", function()
    local src = s:on_load({ cmd = E('{"req":"H5Req_s1","api":"echo","params":{"a":1},"mph":2,"batch":[7]}') })
    assert.same({ result = { a = 1 } }, envelope(src, "H5Req_s1"))
  end)

  it("keeps exactly-once when an entry's handler re-enters the shell with another batch", function()
    local inner
    r:register("reenter", function()
      inner = s:on_load(batch_cmd({ { req = "H5Req_i1", api = "echo" } }))
      return "outer"
    end)
    local done = 0
    local src = s:on_load(batch_cmd({ { req = "H5Req_o1", api = "reenter" }, { req = "H5Req_o2", api = "echo" } }),
      function() done = done + 1 end)
    assert.same(1, done)
    assert.is_string(inner)
    assert.same({ result = "outer" }, envelope(src, "H5Req_o1"))
    assert.same({ result = {} }, envelope(src, "H5Req_o2"))
    assert.same({ result = {} }, envelope(src, "H5Req_i1"))
  end)
end)

describe("a batch from the Lua client", function()
  local client = require "mphybrid.client"
  local r, s, c, urls, ids, clock, got

  -- request ids H5Req_000000001, ... in order
  local function fixed_ids()
    local n = 0
    return function()
      n = n + 1
      return ("H5Req_%09d"):format(n)
    end
  end

  local function collect(tag)
    return function(err, result)
      got[#got + 1] = { tag, err and err.code or result }
    end
  end

  before_each(function()
    clock, urls, got = 1700000000000, {}, {}
    r = router.new({ log = function() end })
    r:register("echo", function(params) return params end)
    r:register("fail", function() return nil, { code = "EPAY", message = "no" } end)
    s = assert(shell.new({ router = r, src = SRC, now = function() return clock end }))
    local opts = {
      now = function() return clock end,
      new_req_id = fixed_ids(),
      hash = function() return "/cart" end,
      log = function() end,
      navigate = function(url)
        urls[#urls + 1] = url
        local src = s:on_load({ cmd = url:match("%?cmd=(.*)$") })
        if src then c:receive(src) end
      end,
    }
    c = client.new(opts)
  end)

  it("writes several calls in one navigation, byte for byte as documented, each callback once", function()
    c:call("echo", { first = true }, collect("first"))
    ids = c:batch({
      { "echo", { i = 1 }, collect("a") },
      { "fail", nil, collect("b") },
      { "nosuch", {}, collect("c") },
    })
    assert.same({ "H5Req_000000002", "H5Req_000000003", "H5Req_000000004" }, ids)
    assert.same(2, #urls)
    assert.same("/pages/hybrid-page/hybrid?cmd=" .. E('{"mph":2,"batch":[' ..
      '{"req":"H5Req_000000002","api":"echo","params":{"i":1}},' ..
      '{"req":"H5Req_000000003","api":"fail"},' ..
      '{"req":"H5Req_000000004","api":"nosuch","params":{}}],' ..
      '"ack":["H5Req_000000001"],"hash":"/cart"}'), urls[2])
    assert.same({ { "first", { first = true } }, { "a", { i = 1 } }, { "b", "EPAY" }, { "c", "ENOAPI" } }, got)
    assert.same(0, c:pending())
  end)

  it("splits a batch that would not fit in max_url, and every URL fits", function()
    c = client.new({ max_url = 400, new_req_id = fixed_ids(), log = function() end, now = function() return clock end,
      navigate = function(url)
        urls[#urls + 1] = url
        local src = s:on_load({ cmd = url:match("%?cmd=(.*)$") })
        if src then c:receive(src) end
      end })
    local list = {}
    for i = 1, 12 do list[i] = { "echo", { text = ("x"):rep(20 + i) }, collect(i) } end
    ids = c:batch(list)
    assert.is_true(#urls >= 3, #urls .. " navigations")
    for _, url in ipairs(urls) do assert.is_true(#url <= 400, #url .. " bytes") end
    assert.same(12, #got)
    for i = 1, 12 do
      assert.same({ i, { text = ("x"):rep(20 + i) } }, got[i])
      assert.same(("H5Req_%09d"):format(i), ids[i])
    end
  end)

  it("carries at most max_batch calls per navigation", function()
    c.max_batch = 2
    c:batch({ { "echo", {}, collect(1) }, { "echo", {}, collect(2) }, { "echo", {}, collect(3) } })
    assert.same(2, #urls)
    assert.same(3, #got)
  end)

  -- the code of each failure c:batch returned
  local function codes(failures)
    local t = {}
    for i, e in pairs(failures) do
      t[i] = e.code .. ": " .. e.message == tostring(e) and e.code or "not an error object"
    end
    return t
  end

  it("fails a call that cannot be written before sending, returning its error, and sends the others", function()
    local failures
    ids, failures = c:batch({
      { "echo", { f = function() end }, collect("bad") },
      { "echo", { ok = 1 }, collect("good") },
      { "echo", { text = ("長"):rep(400) }, collect("long") },
    })
    assert.same({ false, "H5Req_000000001", false }, ids)
    assert.same(1, #urls)
    -- params over max_url are refused as they are encoded, before any send;
    -- a failure returned is never heard by the callback too
    assert.same({ [1] = "EVALUE", [3] = "ETOOLONG" }, codes(failures))
    assert.same({ { "good", { ok = 1 } } }, got)
  end)

  it("fails with EDEPTH a call whose params would be deeper than the shell reads inside a batch (97 levels)", function()
    local function nest(n)
      local v = {}
      for _ = 2, n do v = { v } end
      return v
    end
    local failures
    ids, failures = c:batch({
      { "echo", nest(98), collect("deep") },
      { "echo", nest(97), collect("fits") },
    })
    assert.same({ false, "H5Req_000000001" }, ids)
    assert.same(1, #urls)
    assert.same({ "EDEPTH" }, codes(failures))
    assert.same(1, #got)
    assert.same("fits", got[1][1])
    assert.same(nest(97), got[1][2])
    assert.same(0, c:pending())
  end)

  it("fails every call of a navigation that fails with ENAVIGATE, and gives the acknowledgements back", function()
    c:call("echo", {}, collect("first"))
    local nav = c.navigate
    c.navigate = function(url) urls[#urls + 1] = url; return nil, "navigateTo:fail webview count limit exceed" end
    local failures
    ids, failures = c:batch({ { "echo", {}, collect("a") }, { "echo", {}, collect("b") } })
    assert.same({ false, false }, ids)
    assert.same({ "ENAVIGATE", "ENAVIGATE" }, codes(failures))
    assert.same({ { "first", {} } }, got)
    assert.same(0, c:pending())
    c.navigate = nav
    c:call("echo", {}, collect("after"))
    assert.same({ "H5Req_000000001" }, core.decode_json(core.decode_uri_component(urls[#urls]:match("cmd=(.*)$"))).ack)
  end)

  it("is refused by a client that speaks version 1, and checks its list, with EARG: nothing sent", function()
    local v1_client = client.new({ protocol = 1, navigate = function() end })
    local function refused(...)
      local ids_, err, code = ...
      assert.is_nil(ids_)
      assert.same("EARG", code)
      assert.same("EARG: ", err:sub(1, 6))
    end
    refused(v1_client:batch({}))
    refused(c:batch("x"))
    refused(c:batch({ { "echo", {}, collect("fine") }, { "echo", {}, "not a function" } }))
    assert.same(0, #urls)
    assert.same({}, got)
  end)
end)
