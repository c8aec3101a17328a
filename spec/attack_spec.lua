-- Promises of README.md, docs/PROTOCOL.md and docs/SECURITY.md that hostile
-- testing broke, each held by the input that broke it.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"

local SRC = "https://h5.example.com/p"

local function quiet_router()
  local r = router.new({ log = function() end })
  r:register("echo", function(params) return params.x end)
  return r
end

local function v1_cmd(req)
  return { cmd = core.encode_uri_component('{"req":"' .. req .. '","api":"echo","params":{"x":"hi"}}') }
end

local function v2_cmd(req)
  return { cmd = core.encode_uri_component('{"req":"' .. req .. '","api":"echo","params":{"x":"hi"},"mph":2}') }
end

describe("the shell's fragment stamp", function()
  -- opts.now is the page's clock: a broken one must not stop a reply, nor
  -- make two fragments equal (no hashchange for the second)
  for _, case in ipairs({
    { "NaN", 0 / 0 },
    { "Infinity", math.huge },
    { "-Infinity", -math.huge },
    { "a time past 2^53 ms", 2 ^ 60 },
    { "nothing", nil },
    { "a string", "soon" },
    { "an error (it raises)", nil, function() error("the clock is broken") end },
  }) do
    it("is strictly increasing and on_load never raises when now() returns " .. case[1], function()
      local s = shell.new({ router = quiet_router(), src = SRC, now = case[3] or function() return case[2] end })
      local seen = {}
      for i = 1, 3 do
        for _, cmd in ipairs({ v1_cmd("H5Req_s" .. i), v2_cmd("H5Req_t" .. i) }) do
          local ok, src = pcall(s.on_load, s, cmd)
          assert.is_true(ok, src)
          assert.is_string(src)
          local v = src:match("&v=(%d+)$")
          assert.is_truthy(v, src)
          v = tonumber(v)
          assert.is_true(v < 2 ^ 53)
          if #seen > 0 then
            assert.is_true(v > seen[#seen], src)
          end
          seen[#seen + 1] = v
        end
      end
    end)
  end

  it("lets no version 2 handler stay counted as running when now() raises as its reply is written", function()
    local r = router.new({ log = function() end })
    local replies = {}
    r:register("later", function(_, _, reply) replies[#replies + 1] = reply end, { async = true })
    local broken = false
    local s = shell.new({ router = r, src = SRC, max_running = 1,
      now = function() if broken then error("the clock is broken") end return 1700000000000 end })
    s:on_load({ cmd = core.encode_uri_component('{"req":"H5Req_l1","api":"later","mph":2}') })
    assert.same(1, s:stats().running)
    broken = true
    local ok, e = pcall(replies[1], "done")
    assert.is_true(ok, e)
    assert.same(0, s:stats().running)
    assert.is_truthy(s:get_src():find("H5Req_l1=", 1, true))
  end)

  it("keeps to the clock when it is good, and never goes back with it", function()
    local t = 1700000000000
    local s = shell.new({ router = quiet_router(), src = SRC, now = function() return t end })
    assert.is_truthy(s:on_load(v1_cmd("H5Req_a")):find("&v=1700000000000$"))
    t = 0 / 0
    assert.is_truthy(s:on_load(v1_cmd("H5Req_b")):find("&v=1700000000001$"))
    t = 1600000000000
    assert.is_truthy(s:on_load(v1_cmd("H5Req_c")):find("&v=1700000000002$"))
    t = 1800000000000.7
    assert.is_truthy(s:on_load(v1_cmd("H5Req_d")):find("&v=1800000000000$"))
  end)
end)

describe("the client's acknowledgements", function()
  local client = require "mphybrid.client"

  -- a version 2 client wired to a shell; ids of one length, so that every
  -- command URL has the same length
  local function wired(opts)
    local s = shell.new({ router = quiet_router(), src = SRC, now = function() return 1700000000000 end })
    local n = 0
    local c
    opts.now = function() return 1700000000000 end
    opts.log = function() end
    opts.new_req_id = function()
      n = n + 1
      return ("R%07d"):format(n)
    end
    opts.navigate = function(url)
      s:on_load({ cmd = url:match("%?cmd=(.*)$") }, function(_, src) c:receive(src) end)
    end
    c = client.new(opts)
    return c, s
  end

  local function waiting(c)
    local n = 0
    -- the ids the next command would carry
    for _ in pairs(c.to_ack_set) do n = n + 1 end
    return math.max(n, #c.to_ack)
  end

  it("are not kept when max_acks is 0 (no command carries them), however many calls", function()
    local c = wired({ max_acks = 0 })
    for _ = 1, 2000 do
      c:call("echo", { x = 1 }, function() end)
    end
    assert.same(0, c:pending())
    assert.same(0, waiting(c))
  end)

  it("wait at most max_done when every command is too long to carry one", function()
    -- max_url is exactly the length of a command without acknowledgements
    local probe = #("/pages/hybrid-page/hybrid?cmd=" .. core.encode_uri_component(
      '{"req":"R0000001","api":"echo","params":{"x":1},"mph":2}'))
    local c = wired({ max_url = probe, max_done = 8 })
    local answered = 0
    for _ = 1, 2000 do
      c:call("echo", { x = 1 }, function(err) if not err then answered = answered + 1 end end)
    end
    assert.same(2000, answered)
    assert.is_true(waiting(c) <= 8, "waiting: " .. waiting(c))
  end)
end)

describe("client callbacks that re-enter the client", function()
  local client = require "mphybrid.client"

  it("each run exactly once to any depth: a chain of 1000 callbacks, each making a call answered within navigate", function()
    local r = router.new({ log = function() end })
    r:register("echo", function(params) return params end)
    local s = shell.new({ router = r, src = SRC, now = function() return 1700000000000 end })
    local logs = {}
    local c
    c = client.new({
      now = function() return 1700000000000 end,
      log = function(_, msg) logs[#logs + 1] = msg end,
      navigate = function(url)
        s:on_load({ cmd = url:match("%?cmd=(.*)$") }, function(_, src) c:receive(src) end)
      end,
    })
    local N = 1000
    local ran, wrong = {}, {}
    local made = 0
    local function callback(i)
      return function(err, result)
        ran[i] = (ran[i] or 0) + 1
        if err or result.i ~= i then
          wrong[#wrong + 1] = i
        end
        -- every call made, less the callbacks run, is pending
        local done = 0
        for _ in pairs(ran) do done = done + 1 end
        if c:pending() ~= made - done then
          wrong[#wrong + 1] = "pending " .. c:pending() .. " in callback " .. i
        end
        if i < N then
          made = made + 1
          c:call("echo", { i = i + 1 }, callback(i + 1))
        end
      end
    end
    made = 1
    c:call("echo", { i = 1 }, callback(1))
    local not_once = {}
    for i = 1, N do
      if ran[i] ~= 1 then
        not_once[#not_once + 1] = i .. ":" .. tostring(ran[i])
        if #not_once > 5 then break end
      end
    end
    assert.same({}, not_once)
    assert.same({}, wrong)
    assert.same({}, logs)
    assert.same(0, c:pending())
  end)
end)

describe("a log function that raises", function()
  local client = require "mphybrid.client"
  local function broken_log()
    error("the log is broken")
  end

  it("never stops a command's answer, nor keeps a version 2 handler counted as running", function()
    local r = router.new({ log = broken_log })
    r:register("boom", function() error("boom") end)
    r:register("twice", function(_, _, reply) reply(1); reply(2) end, { async = true })
    local s = shell.new({ router = r, src = SRC, now = function() return 1700000000000 end, max_running = 2 })
    for i = 1, 4 do
      for _, api in ipairs({ "boom", "twice" }) do
        local req = "H5Req_" .. api .. i
        local ok, src = pcall(s.on_load, s,
          { cmd = core.encode_uri_component('{"req":"' .. req .. '","api":"' .. api .. '","mph":2}') })
        assert.is_true(ok, src)
        local frag = core.decode_fragment(core.get_fragment(src))
        assert.is_string(frag[req], src)
        assert.is_nil(frag[req]:find("EBUSY"), src)
      end
    end
    assert.same(0, s:stats().running)
  end)

  it("given to the shell alone, never makes on_load raise", function()
    local s = shell.new({ router = quiet_router(), src = SRC, log = broken_log, max_outbox = 1 })
    for i = 1, 3 do
      local ok, src = pcall(s.on_load, s, v2_cmd("H5Req_o" .. i))
      assert.is_true(ok, src)
    end
  end)

  it("never stops the client delivering the other calls that expire together", function()
    local c = client.new({ log = broken_log, navigate = function() end, now = function() return 0 end })
    local ran = 0
    for _ = 1, 3 do
      c:call("x", nil, function() ran = ran + 1; error("the callback is broken") end, { timeout = 10 })
    end
    local ok, n = pcall(c.expire, c, 10)
    assert.is_true(ok, n)
    assert.same(3, n)
    assert.same(3, ran)
    assert.same(0, c:pending())
  end)

  it("must be a function where it is given", function()
    assert.has_error(function() router.new({ log = "stderr" }) end, "router.new: opts.log must be a function")
    assert.has_error(function() shell.new({ router = quiet_router(), src = SRC, log = {} }) end,
      "shell.new: opts.log must be a function")
  end)
end)

describe("a command whose JSON holds a lone surrogate escape", function()
  -- what the published library sends for a string cut within a surrogate
  -- pair: JSON.stringify writes "\ud83d", JSON.parse reads it back
  local text = '{"req":"H5Req_ls1","api":"echo","params":{"s":"\\ud83d","t":"\\udc00\\\\ud800"}%s}'

  it("is answered EJSON under its own req in version 1, percent-encoded or not", function()
    local s = shell.new({ router = quiet_router(), src = SRC, now = function() return 1700000000000 end })
    for _, cmd in ipairs({ core.encode_uri_component(text:format("")), text:format("") }) do
      local src = s:on_load({ cmd = cmd })
      assert.same("EJSON", core.decode_fragment(core.get_fragment(src)).H5Req_ls1, src)
    end
  end)

  it("is answered EJSON under its own req in version 2", function()
    local s = shell.new({ router = quiet_router(), src = SRC, now = function() return 1700000000000 end })
    local src = s:on_load({ cmd = core.encode_uri_component(text:format(',"mph":2')) })
    local reply = core.decode_json(core.decode_fragment(core.get_fragment(src)).H5Req_ls1)
    assert.same("EJSON", reply.error.code)
  end)

  it("comes back from decode_cmd as far as it was read, each lone surrogate as U+FFFD", function()
    local cmd, err, code, read = core.decode_cmd(text:format(""))
    assert.is_nil(cmd)
    assert.same("EJSON", code)
    assert.same("EJSON: lone surrogate at byte 48", err)
    assert.same({ req = "H5Req_ls1", api = "echo", params = { s = "\239\191\189", t = "\239\191\189\\ud800" } }, read)
    -- the JSON error comes first, still with the req read
    local _, err2, code2, read2 = core.decode_cmd('{"req":" r ","api":7,"s":"\\udc00"}')
    assert.same({ "EJSON", "EJSON: lone surrogate at byte 27", "r" }, { code2, err2, read2.req })
    -- a pair, and an escaped backslash before "ud800", are left as they are
    assert.same({ api = "x", s = "😀\\ud800" }, core.decode_cmd('{"api":"x","s":"\\ud83d\\ude00\\\\ud800"}'))
  end)
end)

describe("encode_json's max_depth", function()
  it("counts core.empty_array as a level of nesting, as decode_json counts []", function()
    local A = core.array_mt
    for depth = 1, 4 do
      local t = core.empty_array
      for _ = 2, depth do
        t = setmetatable({ t }, A)
      end
      local text = ("["):rep(depth) .. ("]"):rep(depth)
      assert.same(text, core.encode_json(t, { max_depth = depth }))
      assert.is_table(core.decode_json(text, { max_depth = depth }))
      local _, _, code = core.encode_json(t, { max_depth = depth - 1 > 0 and depth - 1 or nil })
      local _, _, dcode = core.decode_json(text, { max_depth = depth - 1 > 0 and depth - 1 or nil })
      if depth > 1 then
        assert.same({ "EDEPTH", "EDEPTH" }, { code, dcode })
      end
      assert.same("EDEPTH", select(3, core.encode_json({ a = t }, { max_depth = depth })))
    end
  end)
end)

describe("c:call's params", function()
  local client = require "mphybrid.client"

  local function nested(depth)
    local t = core.empty_array
    for _ = 2, depth do
      t = setmetatable({ t }, core.array_mt)
    end
    return t
  end

  it("nested as deep as the shell reads are answered; one level deeper fail EDEPTH at once, not by a timeout", function()
    local r = router.new({ log = function() end })
    r:register("depth", function() return "read" end)
    local s = shell.new({ router = r, src = SRC, now = function() return 1700000000000 end })
    local c
    c = client.new({ now = function() return 1700000000000 end, log = function() end,
      navigate = function(url)
        s:on_load({ cmd = url:match("%?cmd=(.*)$") }, function(_, src) c:receive(src) end)
      end })
    local got
    assert.is_string(c:call("depth", nested(99), function(err, result) got = { err, result } end))
    assert.same({ nil, "read" }, got)
    got = nil
    local id, err, code = c:call("depth", nested(100), function(e) got = { e and e.code } end)
    assert.same({ nil, "EDEPTH" }, { id, code }, err)
    -- returned, and so never heard by the callback
    assert.is_nil(got)
    assert.same(0, c:pending())
  end)
end)
