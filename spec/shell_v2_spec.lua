-- Promises of the shell's version 2 paths under load: a handler is never
-- started twice, every reply is held to max_src, and the writer's cost is
-- linear in the outbox.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"

local E = core.encode_uri_component
local SRC = "https://h5.example.com/app/index.html"

local function v2(req, api, extra)
  return { cmd = E('{"req":"' .. req .. '","api":"' .. api .. '","mph":2' .. (extra or "") .. '}') }
end

-- request id -> decoded reply, for every reply pair of a version 2 src
local function replies(src)
  local map = core.decode_fragment(src:match("#(.*)$"))
  local out = {}
  for k, v in pairs(map) do
    if k ~= "mph" and k ~= "v" and k ~= "hash" then
      out[k] = core.json_decode(v)
    end
  end
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

describe("the version 2 shell", function()
  local r, clock, logged
  before_each(function()
    clock = 1700000000000
    logged = {}
    r = router.new({ log = function(level, msg) logged[#logged + 1] = level .. ": " .. msg end })
    r:register("echo", function(p) return p end)
  end)

  local function new_shell(opts)
    opts = opts or {}
    opts.router, opts.src = r, SRC
    opts.now = function() return clock end
    return assert(shell.new(opts))
  end

  describe("never starts a handler twice", function()
    local starts, pending
    before_each(function()
      starts, pending = {}, {}
      r:register("slow", function(_, ctx, reply)
        starts[ctx.req] = (starts[ctx.req] or 0) + 1
        pending[ctx.req] = reply
      end, { async = true })
    end)

    it("when its command is replayed after store_max other commands went through the store", function()
      local s = new_shell({ store_max = 4 })
      s:on_load(v2("H5Req_slow", "slow"))
      for i = 1, 20 do
        clock = clock + 1
        s:on_load(v2("H5Req_" .. i, "echo"))
      end
      local src, back = s:on_load(v2("H5Req_slow", "slow"))
      assert.same(1, starts.H5Req_slow)
      assert.is_true(back)
      assert.same(s:get_src(), src)
      assert.same(1, s:stats().running)
      -- it answers once, and a replay then gets the stored reply
      pending.H5Req_slow("done")
      assert.same({ result = "done" }, replies(s:get_src()).H5Req_slow)
      s:on_load(v2("H5Req_slow", "slow"))
      assert.same(1, starts.H5Req_slow)
      assert.same(0, s:stats().running)
    end)

    it("and answers EBUSY, storing nothing, when max_running handlers run already", function()
      local s = new_shell({ max_running = 2 })
      s:on_load(v2("H5Req_a", "slow"))
      s:on_load(v2("H5Req_b", "slow"))
      local src = s:on_load(v2("H5Req_c", "slow"))
      assert.same("EBUSY", replies(src).H5Req_c.error.code)
      assert.is_nil(starts.H5Req_c)
      assert.same(2, s:stats().running)
      -- once one ends, the same command runs
      pending.H5Req_a(1)
      s:on_load(v2("H5Req_c", "slow"))
      assert.same(1, starts.H5Req_c)
      assert.same(2, s:stats().running)
    end)

    it("however many commands go by while max_running handlers run", function()
      local s = new_shell({ store_max = 2, max_running = 8 })
      for i = 1, 8 do
        s:on_load(v2("H5Req_s" .. i, "slow"))
      end
      for round = 1, 5 do
        for i = 1, 10 do
          s:on_load(v2("H5Req_" .. round .. "_" .. i, "echo"))
        end
        for i = 1, 8 do
          s:on_load(v2("H5Req_s" .. i, "slow"))
        end
      end
      for i = 1, 8 do
        assert.same(1, starts["H5Req_s" .. i])
      end
      assert.same(8, s:stats().running)
      assert.is_true(s:stats().store <= 2)
    end)
  end)
end)
