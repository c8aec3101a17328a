-- Promises of the shell's version 2 paths under load: a handler is never
-- started twice, every reply is held to max_src, and the writer's cost is
-- linear in the outbox.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local prng = require "helpers.prng"

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
      out[k] = core.decode_json(v)
    end
  end
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- A shell module of its own whose core functions are wrapped by spy:
-- { name = function(real) return wrapper end }.
local function spied_shell(spy)
  local saved = {}
  for name, wrap in pairs(spy) do
    saved[name] = core[name]
    core[name] = wrap(saved[name])
  end
  local loaded = package.loaded["mphybrid.shell"]
  package.loaded["mphybrid.shell"] = nil
  local ok, m = pcall(require, "mphybrid.shell")
  package.loaded["mphybrid.shell"] = loaded
  for name, real in pairs(saved) do
    core[name] = real
  end
  assert(ok, m)
  return m
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

    it("when its command is replayed after max_store other commands went through the store", function()
      local s = new_shell({ max_store = 4 })
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
      local s = new_shell({ max_store = 2, max_running = 8 })
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

  describe("holds every reply to max_src", function()
    -- the longest JSON text the shell's encode_json calls gave
    local longest, spy_shell
    before_each(function()
      longest = 0
      spy_shell = spied_shell({
        encode_json = function(real)
          return function(...)
            local s, e, c = real(...)
            if s and #s > longest then longest = #s end
            return s, e, c
          end
        end,
      })
    end)

    local function answer(err)
      r:register("fails", function() return nil, err end)
      local s = assert(spy_shell.new({ router = r, src = SRC, now = function() return clock end }))
      local src = s:on_load(v2("H5Req_f", "fails"))
      assert.is_true(#src <= s.max_src)
      assert.is_true(longest <= s.max_src, "encoded " .. longest .. " bytes of JSON")
      return replies(src).H5Req_f.error, s
    end

    it("an error whose message is over it becomes EREPLY, naming its code", function()
      local e, s = answer({ code = "EBIG", message = ("m"):rep(1000000) })
      assert.same("EREPLY", e.code)
      assert.truthy(e.message:find("EBIG", 1, true))
      -- and a replay gets the same, from the store
      local again = replies(s:on_load(v2("H5Req_f", "fails"))).H5Req_f.error
      assert.same(e, again)
    end)

    it("an error whose data is over it keeps its code and message, without the data", function()
      local e = answer({ code = "EBIG", message = "too big", data = { blob = ("d"):rep(1000000) } })
      assert.same({ code = "EBIG", message = "too big" }, e)
    end)

    it("an error whose data fits keeps it", function()
      local e = answer({ code = "EBIG", message = "too big", data = { n = 1 } })
      assert.same({ code = "EBIG", message = "too big", data = { n = 1 } }, e)
    end)
  end)

  describe("writes the outbox", function()
    it("with the older replies that fit, after shrinking a newest reply that does not", function()
      r:register("wide", function() return ("中"):rep(2000) end)
      local s = new_shell()
      for i = 1, 3 do
        s:on_load(v2("H5Req_" .. i, "echo", ',"params":' .. i))
      end
      local src = s:on_load(v2("H5Req_wide", "wide"))
      assert.is_true(#src <= s.max_src)
      local got = replies(src)
      assert.same("EREPLY", got.H5Req_wide.error.code)
      assert.same({ result = 1 }, got.H5Req_1)
      assert.same({ result = 3 }, got.H5Req_3)
      assert.same(4, count(got))
    end)

    it("with one encode and no measuring when every reply fits", function()
      local calls = {}
      local function counted(name)
        return function(real)
          return function(...)
            calls[name] = (calls[name] or 0) + 1
            return real(...)
          end
        end
      end
      local spy_shell = spied_shell({
        encode_reply = counted("encode_reply"),
        encode_uri_component = counted("encode_uri_component"),
      })
      local s = assert(spy_shell.new({ router = r, src = SRC, now = function() return clock end }))
      for i = 1, 3 do
        calls = {}
        local src = s:on_load(v2("H5Req_" .. i, "echo", ',"params":' .. i))
        assert.same(i, count(replies(src)))
        assert.same({ encode_reply = 1 }, calls)
      end
    end)

    it("with the newest replies that fit together, the older ones waiting", function()
      local s = new_shell({ max_src = 4096, max_outbox = 64 })
      local blob = ("x"):rep(1000)
      for i = 1, 10 do
        s:on_load(v2("H5Req_" .. i, "echo", ',"params":"' .. blob .. '"'))
      end
      local got = replies(s:get_src())
      assert.same(3, count(got))
      for i = 8, 10 do
        assert.same({ result = blob }, got["H5Req_" .. i])
      end
      -- acknowledged, the older ones come next
      local src = s:on_load(v2("H5Req_11", "echo",
        ',"params":"' .. blob .. '","ack":["H5Req_8","H5Req_9","H5Req_10"]'))
      got = replies(src)
      assert.same({ result = blob }, got.H5Req_6)
      assert.same({ result = blob }, got.H5Req_7)
      assert.is_nil(got.H5Req_5)
    end)

    it("with exactly the longest run of newest replies that fits in max_src (random outboxes)", function()
      local rng = prng.new(2024)
      local pieces = { "a", "中", "😀", "&", "=", "%", "#", " ", "\"", "xyz" }
      r:register("text", function(p) return p.t end)
      for _ = 1, 60 do
        local max_src = rng:int(300, 3000)
        local s = new_shell({ max_src = max_src, max_outbox = 16 })
        for i = 1, rng:int(1, 24) do
          local t = {}
          for k = 1, rng:int(0, 120) do t[k] = rng:pick(pieces) end
          local hash = rng:chance(0.3) and (',"hash":' .. core.encode_json(("/r"):rep(rng:int(0, 40)))) or ""
          local req = "H5Req_" .. i
          clock = clock + 1
          local src = s:on_load(v2(req, "text", ',"params":{"t":' .. core.encode_json(table.concat(t)) .. '}' .. hash))
          assert.is_true(#src <= max_src)
          local map = core.decode_fragment(src:match("#(.*)$"))
          -- the session's outbox as the store holds it: { req, value, at }
          local outbox = s.store:session(s.session, clock, {}).outbox
          local n, k = #outbox, count(replies(src))
          -- the replies written are the k newest, as the outbox holds them
          for j = n - k + 1, n do
            assert.same(outbox[j][2], map[outbox[j][1]])
          end
          if k < n then
            -- one more would not have fitted
            local list = { { "mph", "2" } }
            for j = n - k, n do list[#list + 1] = { outbox[j][1], outbox[j][2] } end
            if map.hash then list[#list + 1] = { "hash", map.hash } end
            assert.is_true(#core.encode_reply(src, list, tonumber(map.v)) > max_src)
          end
        end
      end
    end)

    it("filling max_src to the byte", function()
      local blob = ("x"):rep(300)
      local value = core.encode_json({ result = blob })
      local base = #core.encode_reply(SRC, { { "mph", "2" } }, clock)
      local pair = #E("H5Req_1") + 1 + #E(value) + 1
      for _, extra in ipairs({ 0, -1 }) do
        local s = new_shell({ max_src = base + 3 * pair + extra })
        for i = 1, 5 do
          s:on_load(v2("H5Req_" .. i, "echo", ',"params":"' .. blob .. '"'))
        end
        local src = s:get_src()
        assert.same(3 + extra, count(replies(src)))
        assert.same(base + (3 + extra) * pair, #src)
      end
    end)

    it("handing the core's encoders bytes linear in the outbox, however many replies wait", function()
      local bytes = 0
      local spy_shell = spied_shell({
        encode_reply = function(real)
          return function(src, list, stamp)
            bytes = bytes + #src
            for i = 1, #list do bytes = bytes + #list[i][1] + #list[i][2] end
            return real(src, list, stamp)
          end
        end,
        encode_uri_component = function(real)
          return function(s) bytes = bytes + #s return real(s) end
        end,
      })
      local s = assert(spy_shell.new({ router = r, src = SRC, now = function() return clock end }))
      local blob = ("x"):rep(1000)
      local most = 0
      for i = 1, 40 do
        bytes = 0
        s:on_load(v2("H5Req_" .. i, "echo", ',"params":"' .. blob .. '"'))
        if bytes > most then most = bytes end
      end
      assert.same(32, s:stats().outbox)
      -- a write measures the newest reply, and hands the core the src it
      -- replaces (at most max_src) twice and the replies that fit once
      assert.is_true(most <= 3 * s.max_src + 4 * #blob, most .. " bytes for one on_load")
    end)
  end)
end)
