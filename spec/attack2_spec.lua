-- Regressions found by attacking the one error rule and mphybrid.protocol:
-- each was a promise of README.md ("Errors", the client, the shell) or of
-- docs/PROTOCOL.md that an input broke.

local client = require "mphybrid.client"

describe("a request id from opts.new_req_id that is not UTF-8", function()
  -- ids with '"' or '\' are usable (JSON escapes them); one that also holds
  -- a byte that is not UTF-8 cannot be written as JSON at all
  local IDS = { 'H5Req_"\255', "H5Req_\\\255", "H5Req_\255", "H5Req_\237\160\128" }

  it("fails c:call with EUTF8, returned, never raised, the callback never called", function()
    for _, id in ipairs(IDS) do
      local runs = 0
      local c = client.new({ navigate = function() error("never sent") end, new_req_id = function() return id end })
      local ok, got, err, code = pcall(c.call, c, "echo", nil, function() runs = runs + 1 end)
      assert.is_true(ok, ("%q: %s"):format(id, tostring(got)))
      assert.same({ nil, "EUTF8" }, { got, code })
      assert.is_string(err)
      assert.same(0, runs)
      assert.same(0, c:pending())
    end
  end)

  it("fails that entry of c:batch with EUTF8, never raised, nothing sent for it", function()
    for _, id in ipairs(IDS) do
      local runs = 0
      local c = client.new({ navigate = function() error("never sent") end, new_req_id = function() return id end })
      local ok, ids, failures = pcall(c.batch, c, { { "echo", nil, function() runs = runs + 1 end } })
      assert.is_true(ok, ("%q: %s"):format(id, tostring(ids)))
      assert.same({ false }, ids)
      assert.same("EUTF8", failures[1].code)
      assert.same(0, runs)
      assert.same(0, c:pending())
    end
  end)
end)

describe("r:load of a table whose iteration raises", function()
  local router = require "mphybrid.router"

  -- __pairs is honoured by Lua 5.2 and later only: on 5.1 and LuaJIT such
  -- a table is its own keys
  local function raising_pairs(keys)
    return setmetatable(keys, {
      __pairs = function() error("__pairs raised") end,
      __index = function() error("__index raised") end,
    })
  end

  it("returns ELOAD (or loads its own keys where __pairs is not honoured), never raises, all or nothing", function()
    local r = router.new({ log = function() end })
    local ok, got, err, code = pcall(r.load, r, raising_pairs({ echo = function(p) return p end }))
    assert.is_true(ok, tostring(got))
    if got == nil then
      assert.same("ELOAD", code)
      assert.is_string(err)
      assert.same({}, r:apis())
    else
      assert.same(r, got)
      assert.same({ "echo" }, r:apis())
    end
  end)

  it("returns ELOAD when __pairs hands out a name whose lookup raises", function()
    local r = router.new({ log = function() end })
    local t = setmetatable({}, {
      __pairs = function()
        return function(_, k) if k == nil then return "ghost", nil end end, nil, nil
      end,
      __index = function() error("__index raised") end,
    })
    local ok, got, err, code = pcall(r.load, r, t)
    assert.is_true(ok, tostring(got))
    if _VERSION ~= "Lua 5.1" then
      -- the value comes from __pairs itself (nil): no lookup, no handler
      assert.same({ nil, "ELOAD" }, { got, code })
      assert.is_string(err)
    end
    assert.same({}, r:apis())
  end)
end)

describe("lb:advance", function()
  local loopback = require "mphybrid.loopback"

  it("refuses a negative or infinite ms with EARG and leaves the clock where it was", function()
    for _, ms in ipairs({ -1, -math.huge, math.huge, 0 / 0 }) do
      local lb = loopback.new({ handlers = { echo = function(p) return p end }, log = function() end })
      lb:defer("slow")
      local clock = lb.clock
      local got, err, code = lb:advance(ms)
      assert.same({ nil, "EARG" }, { got, code }, tostring(ms))
      assert.is_string(err)
      assert.same(clock, lb.clock, tostring(ms))
      -- the clock still moves on: a call times out at its deadline, not before
      local call = lb:call("slow", nil, { timeout = 1000 })
      assert.same(0, lb:advance(999))
      assert.same(0, call.calls)
      assert.same(1, lb:advance(1))
      assert.same("ETIMEOUT", call.err.code)
    end
  end)
end)

describe("a client whose clock or hash() is broken", function()
  local errors = require "mphybrid.errors"

  local BROKEN = {
    { "raises", function() error("clock broke") end },
    { "raises an error whose __tostring raises", function()
      error(setmetatable({}, { __tostring = function() error("no text") end }))
    end },
    { "gives a string that is no number", function() return "soon" end },
    { "gives a string that reads as a number", function() return "5000" end },
    { "gives a table", function() return {} end },
    { "gives NaN", function() return 0 / 0 end },
  }

  it("reads as the last time it gave: c:call, c:batch, c:receive and c:expire never raise, each call one outcome", function()
    for _, case in ipairs(BROKEN) do
      local t, broken = 1000, false
      local c = client.new({ navigate = function() return true end, log = function() end,
        now = function() if broken then return case[2]() end return t end })
      broken = true
      local runs = {}
      local function cb(e) runs[#runs + 1] = e and e.code or "result" end
      local ok, id = pcall(c.call, c, "echo", nil, cb, { timeout = 1000 })
      assert.is_true(ok, case[1] .. ": " .. errors.text(id))
      assert.is_string(id, case[1])
      local ok2, ids = pcall(c.batch, c, { { "echo", nil, cb, { timeout = 1000 } } })
      assert.is_true(ok2, case[1] .. ": " .. errors.text(ids))
      assert.is_string(ids[1], case[1])
      local ok3, n = pcall(c.receive, c, "#mph=2&" .. id .. "=%7B%22result%22%3A1%7D&v=1")
      assert.is_true(ok3, case[1] .. ": " .. errors.text(n))
      assert.same(1, n, case[1])
      local ok4, m = pcall(c.expire, c)
      assert.is_true(ok4, case[1] .. ": " .. errors.text(m))
      assert.same(0, m, case[1]) -- the clock stands at 1000: no deadline passed
      -- the clock mends: the batch's call times out at its deadline
      broken, t = false, 2000
      assert.same(1, c:expire())
      assert.same({ "result", "ETIMEOUT" }, runs, case[1])
      assert.same(0, c:pending())
    end
  end)

  it("a hash() that raises is logged and the call sent without the page's fragment", function()
    local sent, logs = {}, {}
    local c = client.new({ navigate = function(url) sent[#sent + 1] = url return true end,
      log = function(_, m) logs[#logs + 1] = m end,
      hash = function() error("router broke") end })
    local ok, id = pcall(c.call, c, "echo", nil, function() end)
    assert.is_true(ok, errors.text(id))
    assert.is_string(id)
    assert.same(1, #sent)
    assert.is_nil(sent[1]:find("hash", 1, true))
    assert.is_truthy(table.concat(logs, "\n"):find("router broke", 1, true))
  end)
end)

describe("c:call and c:batch given tables whose metamethods raise or change", function()
  local function raising()
    local function raise() error("metamethod raised") end
    return setmetatable({}, { __index = raise, __len = raise, __pairs = raise })
  end

  it("return EARG for opts that cannot be read, never raise, the callback never called", function()
    local runs = 0
    local c = client.new({ navigate = function() error("never sent") end })
    local ok, id, err, code = pcall(c.call, c, "echo", nil, function() runs = runs + 1 end, raising())
    assert.is_true(ok, tostring(id))
    assert.same({ nil, "EARG" }, { id, code })
    assert.is_string(err)
    assert.same(0, runs)
  end)

  it("return EARG for a list or an entry that cannot be read, nothing sent", function()
    local lists = { { raising() }, { { "echo", nil, function() end, raising() } } }
    if _VERSION ~= "Lua 5.1" then
      -- Lua 5.1 and LuaJIT take # of a table raw: that list is empty there
      lists[#lists + 1] = raising()
    end
    for _, list in ipairs(lists) do
      local c = client.new({ navigate = function() error("never sent") end })
      local ok, ids, err, code = pcall(c.batch, c, list)
      assert.is_true(ok, tostring(ids))
      assert.same({ nil, "EARG" }, { ids, code })
      assert.is_string(err)
      assert.same(0, c:pending())
    end
  end)

  it("send what they checked: an entry read twice cannot turn its callback into another value", function()
    local reads, runs = 0, 0
    local function checked() runs = runs + 1 end
    local entry = setmetatable({}, { __index = function(_, k)
      reads = reads + 1
      if k == 3 then
        -- the callback when checked, a string when read again
        return reads <= 3 and checked or "not a function"
      end
      return ({ "echo" })[k]
    end })
    local sent = 0
    local c = client.new({ navigate = function() sent = sent + 1 return true end, log = function() end })
    local ok, ids = pcall(c.batch, c, { entry })
    assert.is_true(ok, tostring(ids))
    assert.is_string(ids[1])
    assert.same(1, sent)
    -- the callback called is the one checked: it runs, exactly once
    assert.same(1, c:expire(math.huge))
    assert.same(1, runs)
    assert.same(0, c:pending())
  end)
end)

describe("s:on_load and r:dispatch given tables whose metamethods raise", function()
  local router = require "mphybrid.router"
  local shell = require "mphybrid.shell"
  local function raising()
    local function raise() error("metamethod raised") end
    return setmetatable({}, { __index = raise, __newindex = raise, __len = raise, __pairs = raise })
  end

  it("s:on_load answers options it cannot read as options without cmd (ECMD under miniProgramResult), never raises", function()
    local r = router.new({ log = function() end })
    local s = shell.new({ router = r, src = "https://h5.example.com/p", now = function() return 1700000000000 end })
    local heard = {}
    local ok, src, back = pcall(s.on_load, s, raising(), function(_, written) heard[#heard + 1] = written end)
    assert.is_true(ok, tostring(src))
    assert.same("https://h5.example.com/p#miniProgramResult=ECMD&v=1700000000000", src)
    assert.is_true(back)
    assert.same({ src }, heard)
  end)

  it("r:dispatch returns EARG for a cmd or ctx it cannot read, done never called", function()
    local r = router.new({ log = function() end })
    r:register("echo", function(p) return p end)
    for _, args in ipairs({ { raising(), {} }, { { api = "echo" }, raising() } }) do
      local runs = 0
      local ok, got, err, code = pcall(r.dispatch, r, args[1], args[2], function() runs = runs + 1 end)
      assert.is_true(ok, tostring(got))
      assert.same({ nil, "EARG" }, { got, code })
      assert.is_string(err)
      assert.same(0, runs)
    end
  end)
end)

describe("redis.parse_url", function()
  local redis = require "mphybrid.store.redis"

  it("never shows the password of a URL it refuses in its error message", function()
    for _, url in ipairs({ "redis://:s3cret-pw@10.0.0.5:99999/0", "redis://:s3cret-pw@10.0.0.5:6379/x y",
      "rediss://:s3cret-pw@10.0.0.5:6379/0", "redis://user:s3cret-pw@bad host/0" }) do
      local u, err, code = redis.parse_url(url)
      assert.is_nil(u, url)
      assert.same("EARG", code)
      assert.is_string(err)
      assert.is_nil(err:find("s3cret", 1, true), err)
    end
  end)
end)
