-- Options are checked once, where they are given: shell.new and client.new
-- take exactly the limits the core takes (core.limits), so that no later
-- on_load or call can raise over a limit given at the start.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"

-- numbers around every bound, and the ones no limit should take
local CANDIDATES = {
  1, 2, 15, 16, 100, 999, 1000, 1001, 1000.5, 4096.5, 65536, 2^40 - 1, 2^40, 2^40 + 1, 2^41,
  2^53, 1e300, math.huge, -math.huge, 0 / 0, 0, -1, 0.5, "5", true,
}

local function show(v)
  if type(v) == "number" then return ("%.17g"):format(v) end
  return tostring(v)
end

-- whether the core takes v as the option `name` of f
local function core_takes(f, name, v)
  return (pcall(f, "{}", { [name] = v }))
end

local function shell_takes(name, v)
  local r = router.new({ log = function() end })
  -- (a src of one byte: within any max_src, which the src is held to)
  return (pcall(shell.new, { router = r, src = "h", [name] = v }))
end

local function client_takes(name, v)
  return (pcall(client.new, { navigate = function() end, [name] = v }))
end

local function decode_cmd(s, opts) return core.decode_cmd(s, opts) end

describe("limits given to shell.new", function()
  local handed = {
    -- shell option, what the core calls it, the core function it reaches
    { "max_cmd", "max_size", decode_cmd },
    { "max_depth", "max_depth", decode_cmd },
    { "max_src", "max_size", core.encode_json },
  }
  for _, h in ipairs(handed) do
    it("are taken exactly when the core takes them: " .. h[1], function()
      local differ = {}
      for _, v in ipairs(CANDIDATES) do
        if shell_takes(h[1], v) ~= core_takes(h[3], h[2], v) then
          differ[#differ + 1] = show(v)
        end
      end
      assert.same({}, differ)
    end)
  end

  it("that are taken never make on_load raise", function()
    local r = router.new({ log = function() end })
    r:register("echo", function(p) return p end)
    for _, h in ipairs(handed) do
      for _, v in ipairs(CANDIDATES) do
        local ok, s = pcall(shell.new, { router = r, src = SRC, now = function() return 1 end, [h[1]] = v })
        if ok then
          for _, mph in ipairs({ "", ',"mph":2' }) do
            local cmd = E('{"req":"H5Req_a","api":"echo","params":[1]' .. mph .. '}')
            local fine, err = pcall(s.on_load, s, { cmd = cmd })
            assert(fine, h[1] .. " = " .. show(v) .. ": " .. tostring(err))
          end
        end
      end
    end
  end)

  it("of things kept are whole numbers", function()
    for _, name in ipairs({ "max_outbox", "max_store", "max_hash" }) do
      assert.is_false(shell_takes(name, 2.5), name)
      assert.is_false(shell_takes(name, math.huge), name)
      assert.is_false(shell_takes(name, 0 / 0), name)
      assert.is_true(shell_takes(name, 2), name)
    end
    assert.is_false(shell_takes("max_store", 1))
  end)

  it("of time may be never (math.huge), not NaN", function()
    for _, name in ipairs({ "outbox_ttl", "store_ttl" }) do
      assert.is_true(shell_takes(name, math.huge), name)
      assert.is_true(shell_takes(name, 1.5), name)
      assert.is_false(shell_takes(name, 0 / 0), name)
      assert.is_false(shell_takes(name, "5"), name)
    end
  end)

  it("are checked in shell.defaults too", function()
    local saved = shell.defaults.max_cmd
    shell.defaults.max_cmd = 2^41
    local ok = shell_takes("max_src", 1000)
    shell.defaults.max_cmd = saved
    assert.is_false(ok)
  end)
end)

describe("limits given to client.new", function()
  it("take max_url exactly when the core's encode_json takes it as max_size (16 or more)", function()
    local differ = {}
    for _, v in ipairs(CANDIDATES) do
      local want = core_takes(core.encode_json, "max_size", v) and type(v) == "number" and v >= 16
      if client_takes("max_url", v) ~= want then
        differ[#differ + 1] = show(v)
      end
    end
    assert.same({}, differ)
  end)

  it("of things kept are whole numbers", function()
    for _, name in ipairs({ "max_acks", "max_done" }) do
      assert.is_false(client_takes(name, 2.5), name)
      assert.is_false(client_takes(name, math.huge), name)
      assert.is_false(client_takes(name, 0 / 0), name)
      assert.is_true(client_takes(name, 2), name)
    end
  end)
end)

describe("core.limits", function()
  it("are the bounds the core checks its options against", function()
    assert.is_true(core_takes(core.encode_json, "max_size", core.limits.max_size))
    assert.is_false(core_takes(core.encode_json, "max_size", core.limits.max_size + 1))
    assert.is_true(core_takes(core.decode_json, "max_depth", core.limits.max_depth))
    assert.is_false(core_takes(core.decode_json, "max_depth", core.limits.max_depth + 1))
    assert.is_true(core_takes(decode_cmd, "max_size", core.limits.max_size))
    assert.is_false(core_takes(decode_cmd, "max_depth", core.limits.max_depth + 1))
  end)
end)
