-- The Lua layer's one error rule (README.md, "Errors"): setting up raises,
-- running returns nil, "CODE: message", "CODE"; every code is a code by the
-- one rule (errors.is_code), listed in errors.codes and in docs/PROTOCOL.md;
-- a failure is returned or heard by a callback, never both. Each running
-- function's failures are walked here, hostile error values included.

local core = require "mphybrid.core"
local errors = require "mphybrid.errors"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local loopback = require "mphybrid.loopback"
local store = require "mphybrid.store"
local options = require "mphybrid.options"
local paths = require "helpers.paths"

local SRC = "https://h5.example.com/app/index.html"
local ROOT = paths.repo_root()

-- the codes docs/PROTOCOL.md's tables list
local function documented_codes()
  local f = assert(io.open(ROOT .. "/docs/PROTOCOL.md"))
  local codes = {}
  for line in f:lines() do
    if line:sub(1, 1) == "|" then
      for code in line:gmatch("`([A-Z][A-Z0-9_]*)`") do
        codes[code] = true
      end
    end
  end
  f:close()
  return codes
end
local DOCUMENTED = documented_codes()

-- a value whose every metamethod raises: what a faulty handler may hand back
local function hostile()
  local function raise() error("metamethod raised") end
  return setmetatable({}, { __index = raise, __tostring = raise, __newindex = raise,
    __call = raise, __concat = raise, __len = raise, __eq = raise })
end

-- checks that the values are one failure of the rule; returns its code
local function failure(who, ...)
  local n = select("#", ...)
  local v, err, code = ...
  assert(v == nil, who .. ": returned " .. tostring(v) .. ", not nil")
  assert(n == 3, who .. ": " .. n .. " values, not nil, err, code")
  assert(errors.is_code(code), who .. ": " .. tostring(code) .. " is not a code")
  assert(type(err) == "string" and err:sub(1, #code + 2) == code .. ": ",
    who .. ": " .. tostring(err) .. " is not \"" .. code .. ": message\"")
  assert(#err > #code + 2, who .. ": no message")
  assert(errors.codes[code], who .. ": " .. code .. " is not in errors.codes")
  assert(DOCUMENTED[code], who .. ": " .. code .. " is not in docs/PROTOCOL.md's tables")
  return code
end

-- checks an error object as a callback gets it
local function error_object(who, e)
  assert(type(e) == "table", who .. ": no error object")
  assert(errors.is_code(rawget(e, "code")), who .. ": code " .. tostring(rawget(e, "code")))
  assert(type(rawget(e, "message")) == "string", who .. ": message")
  assert(tostring(e) == e.code .. ": " .. e.message, who .. ": tostring")
end

-- each case: { name, code, function returning what the call returned }
local function walk(cases)
  local wrong = {}
  for _, case in ipairs(cases) do
    local ok, got = pcall(function() return failure(case[1], case[3]()) end)
    if not ok then
      wrong[#wrong + 1] = tostring(got)
    elseif got ~= case[2] then
      wrong[#wrong + 1] = case[1] .. ": " .. got .. ", not " .. case[2]
    end
  end
  assert.same({}, wrong)
end

describe("the one code rule", function()
  it("is errors.is_code: [A-Z][A-Z0-9_]*, at most 64 bytes", function()
    for _, c in ipairs({ "E", "EPAY", "E_2", "X" .. ("Y"):rep(63) }) do
      assert.is_true(errors.is_code(c), c)
    end
    for _, c in ipairs({ "", "e", "Epay", "1E", "_E", "E-1", "E ", " E", "X" .. ("Y"):rep(64), 5, nil, {} }) do
      assert.is_false(errors.is_code(c), tostring(c))
    end
  end)

  it("holds every code of the core and of the Lua layer, each listed in docs/PROTOCOL.md", function()
    for code in pairs(core.codes) do
      assert.is_true(errors.is_code(code), code)
      assert.is_string(errors.codes[code], code)
    end
    for code, meaning in pairs(errors.codes) do
      assert.is_true(errors.is_code(code), code)
      assert.is_string(meaning)
      assert.is_true(DOCUMENTED[code], code .. " is not in docs/PROTOCOL.md")
    end
  end)

  it("reads \"CODE: message\" by the same rule wherever a code is read", function()
    -- errors.parse (the core's and the stores' failures), errors.from_value
    -- (what handlers hand back) and a client reading a version 2 reply
    local long = "E" .. ("X"):rep(63)
    for _, case in ipairs({
      { "EPAY: declined", "EPAY", "declined" },
      { "PAY: declined", "PAY", "declined" },
      { long .. ": m", long, "m" },
      { long .. "X: m", "EDEF", long .. "X: m" },
      { "Epay: declined", "EDEF", "Epay: declined" },
      { "EPAY:declined", "EDEF", "EPAY:declined" },
    }) do
      assert.same({ case[2], case[3] }, { errors.parse(case[1], "EDEF") }, case[1])
      local e = errors.from_value(case[1], "EDEF", "default")
      assert.same({ case[2], case[3] }, { e.code, e.message }, case[1])
      e = errors.from_value({ code = case[2] ~= "EDEF" and case[2] or "bad code", message = "m" }, "EDEF", "d")
      assert.same(case[2], e.code)
    end
    local c = client.new({ navigate = function() end })
    local got
    local id = c:call("x", nil, function(e) got = e end)
    c:receive("#mph=2&" .. id .. "=" .. core.encode_uri_component('{"error":{"code":"Epay","message":"m"}}'))
    assert.same("EREPLY", got.code)
  end)

  it("is written in errors.lua alone: no other Lua file of the layer has a pattern of its own", function()
    local found = {}
    local list = assert(io.popen("find " .. paths.shell_quote(ROOT .. "/lua") .. " -name '*.lua'"))
    for file in list:lines() do
      if not file:find("/errors%.lua$") then
        local text = assert(paths.read_file(file))
        if text:find("A-Z0-9_", 1, true) or text:find('"^E', 1, true) or text:find("(E%u", 1, true) then
          found[#found + 1] = file
        end
      end
    end
    list:close()
    assert.same({}, found)
  end)
end)

describe("setting up raises", function()
  it("at a constructor or registration given an option or argument it cannot use, saying who", function()
    local r = router.new()
    local cases = {
      { "router.new", function() router.new(5) end },
      { "router.new", function() router.new({ log = 5 }) end },
      { "register", function() r:register("", function() end) end },
      { "register", function() r:register("x", 5) end },
      { "before", function() r:before(5) end },
      { "after", function() r:after(5) end },
      { "shell.new", function() shell.new({ router = 5, src = SRC }) end },
      { "shell.new", function() shell.new({ router = r, src = "" }) end },
      { "shell.new", function() shell.new({ router = r, src = SRC, max_src = 0 }) end },
      { "client.new", function() client.new({}) end },
      { "client.new", function() client.new({ navigate = print, max_url = 1 }) end },
      { "loopback.new", function() loopback.new({}) end },
      { "loopback.new", function() loopback.new({ handlers = { x = 5 } }) end },
      { "memory.new", function() require("mphybrid.store.memory").new({ max_store = 1 }) end },
      { "shdict.new", function() require("mphybrid.store.shdict").new() end },
      { "redis.new", function() require("mphybrid.store.redis").new({ url = "http://x" }) end },
      { "metrics.new", function() require("mphybrid.resty.metrics").new("nope") end },
      { "errors.new", function() errors.new("bad code", "m") end },
      { "who", function() errors.logger("who", 5) end },
      { "who", function() options.count("who", {}, { n = 1.5 }, "n") end },
      { "who", function() options.router("who", {}) end },
    }
    local wrong = {}
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[2])
      if ok then
        wrong[#wrong + 1] = case[1] .. " did not raise"
      elseif not (tostring(err):find(case[1] .. ": ", 1, true) or tostring(err):find(case[1] .. "(", 1, true)) then
        wrong[#wrong + 1] = case[1] .. " raised " .. tostring(err)
      end
    end
    assert.same({}, wrong)
  end)
end)

describe("running returns nil, \"CODE: message\", code", function()
  it("from the router", function()
    local r = router.new({ log = function() end })
    r:register("taken", function() end)
    walk({
      { "r:unregister(nil)", "EARG", function() return r:unregister() end },
      { "r:unregister(hostile)", "EARG", function() return r:unregister(hostile()) end },
      { "r:unregister(unknown)", "ENOAPI", function() return r:unregister("nope") end },
      { "r:load(5)", "EARG", function() return r:load(5) end },
      { "r:load(no file)", "ELOAD", function() return r:load("/nonexistent/handlers.lua") end },
      { "r:load(key not a name)", "ELOAD", function() return r:load({ function() end }) end },
      { "r:load(entry of no use)", "ELOAD", function() return r:load({ x = 5 }) end },
      { "r:load(taken)", "ELOAD", function() return r:load({ taken = function() end }) end },
      { "r:load(hostile entry)", "ELOAD", function() return r:load({ x = hostile() }) end },
      { "r:dispatch(no cmd)", "EARG", function() return r:dispatch(nil, {}, function() end) end },
      { "r:dispatch(no done)", "EARG", function() return r:dispatch({ api = "taken" }, {}, 5) end },
    })
    assert.same({ "taken" }, r:apis())
  end)

  it("from the shell, its done never called with a failure returned", function()
    local r = router.new({ log = function() end })
    r:register("echo", function(p) return p end)
    local s = shell.new({ router = r, src = SRC, log = function() end })
    local heard = 0
    local function done() heard = heard + 1 end
    walk({
      { "s:set_src(nil)", "EARG", function() return s:set_src() end },
      { "s:set_src('')", "EURL", function() return s:set_src("") end },
      { "s:for_session(nil)", "EARG", function() return s:for_session(nil, SRC) end },
      { "s:for_session(hostile)", "EARG", function() return s:for_session(hostile(), SRC) end },
      { "s:for_session(src '')", "EURL", function() return s:for_session("session", "") end },
      { "s:for_session(src hostile)", "EARG", function() return s:for_session("session", hostile()) end },
      { "s:on_load(done 5)", "EARG", function() return s:on_load({ cmd = "{}" }, 5) end },
      { "s:on_load(no src can be written)", "EREPLY", function()
        -- a src with no room left for a reply
        local view = s:for_session("full", SRC .. string.rep("a", shell.defaults.max_src - #SRC))
        return view:on_load({ cmd = core.encode_uri_component('{"req":"H5Req_1","api":"echo"}') }, done)
      end },
    })
    assert.same(0, heard)
    assert.same(SRC, s:get_src())
  end)

  it("from the shell later: a src that cannot be written after on_load returned false goes to done as an error", function()
    local r = router.new({ log = function() end })
    local reply
    r:register("wait", function(_, _, rep) reply = rep end, { async = true })
    local s = shell.new({ router = r, src = SRC, log = function() end })
    local heard = {}
    local out = s:on_load({ cmd = core.encode_uri_component('{"req":"H5Req_w","api":"wait","mph":2}') },
      function(...) heard[#heard + 1] = { n = select("#", ...), ... } end)
    assert.is_false(out)
    -- a src with no room left for a reply
    assert.is_true(s:set_src(SRC .. string.rep("a", shell.defaults.max_src - #SRC)))
    reply("late")
    assert.same(1, #heard)
    error_object("done", heard[1][1])
    assert.same("EREPLY", heard[1][1].code)
    assert.is_nil(heard[1][2])
  end)

  it("from the client, its callbacks never called with a failure returned", function()
    local heard = {}
    local function cb(name) return function(e) heard[#heard + 1] = name .. " " .. tostring(e and e.code) end end
    local function new(opts)
      opts.navigate = opts.navigate or function() end
      opts.log = function() end
      return client.new(opts)
    end
    local c = new({ max_url = 300 })
    local function deep(n) local t = {} for _ = 2, n do t = { t } end return t end
    walk({
      { "c:call(api nil)", "EARG", function() return c:call(nil, nil, cb("a")) end },
      { "c:call(api hostile)", "EARG", function() return c:call(hostile(), nil, cb("a")) end },
      { "c:call(callback 5)", "EARG", function() return c:call("x", nil, 5) end },
      { "c:call(opts hostile)", "EARG", function() return c:call("x", nil, cb("a"), { timeout = hostile() }) end },
      { "c:call(api not UTF-8)", "EVALUE", function() return c:call("\255", nil, cb("a")) end },
      { "c:call(params a function)", "EVALUE", function() return c:call("x", { f = print }, cb("a")) end },
      { "c:call(params too deep)", "EDEPTH", function() return c:call("x", deep(100), cb("a")) end },
      { "c:call(too long)", "ETOOLONG", function() return c:call("x", { ("x"):rep(400) }, cb("a")) end },
      { "c:call(navigate false)", "ENAVIGATE", function()
        return new({ navigate = function() return false end }):call("x", nil, cb("a")) end },
      { "c:call(navigate nil, hostile)", "ENAVIGATE", function()
        return new({ navigate = function() return nil, hostile() end }):call("x", nil, cb("a")) end },
      { "c:call(navigate raises hostile)", "ENAVIGATE", function()
        return new({ navigate = function() error(hostile()) end }):call("x", nil, cb("a")) end },
      { "c:call(new_req_id reserved)", "ECMD", function()
        return new({ new_req_id = function() return "v" end }):call("x", nil, cb("a")) end },
      { "c:call(new_req_id raises hostile)", "ECMD", function()
        return new({ new_req_id = function() error(hostile()) end }):call("x", nil, cb("a")) end },
      { "c:batch(protocol 1)", "EARG", function() return new({ protocol = 1 }):batch({}) end },
      { "c:batch('x')", "EARG", function() return c:batch("x") end },
      { "c:batch(entry hostile)", "EARG", function() return c:batch({ { hostile(), nil, cb("b") } }) end },
      { "c:receive(5)", "EARG", function() return c:receive(5) end },
      { "c:expire('now')", "EARG", function() return c:expire("now") end },
      { "c:cancel(unknown)", "ENOCALL", function() return c:cancel("H5Req_nope") end },
      { "c:cancel(hostile)", "ENOCALL", function() return c:cancel(hostile()) end },
    })
    assert.same({}, heard)
    assert.same(0, c:pending())
  end)

  it("from the loopback", function()
    local lb = loopback.new({ handlers = { echo = function(p) return p end } })
    walk({
      { "lb:call(cannot send)", "ETOOLONG", function() return lb:call("echo", { ("x"):rep(2000) }) end },
      { "lb:call(api 5)", "EARG", function() return lb:call(5) end },
      { "lb:answer(unknown)", "ENOCALL", function() return lb:answer("H5Req_nope", 1) end },
      { "lb:answer(hostile)", "ENOCALL", function() return lb:answer(hostile(), 1) end },
      { "lb:reload(never sent)", "ENOCALL", function() return lb:reload(7) end },
      { "lb:advance('x')", "EARG", function() return lb:advance("x") end },
    })
  end)

  it("from protocol.decode_batch, the stores' shared code and redis.parse_url", function()
    local redis = require "mphybrid.store.redis"
    local decode_batch = require("mphybrid.protocol").decode_batch
    walk({
      { "decode_batch(mph 1)", "ECMD", function() return decode_batch({ mph = 1, batch = setmetatable({}, core.array_mt) }) end },
      { "decode_batch(empty)", "ECMD", function() return decode_batch({ mph = 2, batch = setmetatable({}, core.array_mt) }) end },
      { "store.fail", "ESTORE", function() return store.fail("down") end },
      { "redis.parse_url(5)", "EARG", function() return redis.parse_url(5) end },
      { "redis.parse_url(http)", "EARG", function() return redis.parse_url("http://x") end },
      { "redis.parse_url(port)", "EARG", function() return redis.parse_url("redis://x:70000") end },
    })
    assert.is_nil(decode_batch({ req = "H5Req_1", api = "x" }))
  end)
end)

describe("error values with raising metamethods", function()
  it("become error objects with a code by the rule, wherever they are handed back", function()
    local h = {
      returned = function() return nil, hostile() end,
      raised = function() error(hostile()) end,
      refused = { handler = function() return 1 end, before = function() return nil, hostile() end },
      checked = { handler = function() return 1 end, params = function() return nil, hostile() end },
      replied = { async = true, handler = function(_, _, reply) reply(nil, hostile()) end },
    }
    for _, protocol in ipairs({ 2, 1 }) do
      local lb = loopback.new({ handlers = h, protocol = protocol, log = function() end })
      for api in pairs(h) do
        local call = assert(lb:call(api))
        assert.same(1, call.calls, api)
        if protocol == 2 then
          error_object(api, call.err)
        else
          -- the published format carries the code alone, as the result
          assert.is_true(errors.is_code(call.result), api)
        end
      end
    end
  end)

  it("are read by errors.from_value, errors.parse and errors.text without raising", function()
    error_object("from_value", errors.from_value(hostile(), "EDEF", "default"))
    error_object("from_value message", errors.from_value({ code = "EPAY", message = hostile() }, "EDEF", "d"))
    local code, msg = errors.parse(hostile(), "EDEF")
    assert.same("EDEF", code)
    assert.is_string(msg)
    assert.is_string(errors.text(hostile()))
  end)
end)
