-- Faults on the mini-program side, seen from the H5 side: handlers that
-- raise, never reply, reply twice, or return what cannot be sent; replies
-- over the size limit; floods past the outbox and the replay store. Each
-- case drives a real client, shell and router in process, and shows what the
-- page's callbacks get, and that the other calls lose nothing.

local core = require "mphybrid.core"
local loopback = require "mphybrid.loopback"
local shell = require "mphybrid.shell"

local SRC = "https://h5.example.com/app/index.html"
local T0 = 1700000000000

-- A page and its mini-program (mphybrid.loopback): navigate runs the hybrid
-- page's onLoad at once, and w:see() is the page's hashchange (the current
-- web-view src); w:call records every time a callback runs.
local function wire(shell_opts, client_opts)
  return loopback.new({ handlers = {}, src = SRC, clock = T0, hashchange = false,
                        shell = shell_opts, client = client_opts })
end

-- every call answered exactly once, nothing left in flight
local function all_answered_once(w, recs)
  for _, rec in ipairs(recs) do
    assert.are.equal(1, rec.calls, "call " .. tostring(rec.id) .. " answered " .. rec.calls .. " times")
  end
  assert.are.equal(0, w.client:pending())
end

local function ping(w)
  w.router:register("ping", function() return "pong" end)
end

describe("faults", function()
  describe("a handler that raises", function()
    it("answers ECRASH, without the error's text, and the calls around it go on", function()
      local w = wire()
      ping(w)
      local replies = {}
      w.router:register("boom", function() error("db password=hunter2 in a stack trace") end)
      w.router:register("slow", function(_, _, reply) replies[#replies + 1] = reply end, { async = true })

      local slow = w:call("slow", { n = 1 })
      w:see()
      local boom = w:call("boom")
      w:see()
      assert.are.equal("ECRASH", boom.err.code)
      assert.is_nil(boom.err.message:find("hunter2", 1, true))
      assert.is_true(w:logged("hunter2")) -- the operator sees it in the log

      local p = w:call("ping")
      w:see()
      assert.are.equal("pong", p.result)
      replies[1]({ ok = true })
      w:see()
      assert.are.same({ ok = true }, slow.result)
      all_answered_once(w, { slow, boom, p })
    end)

    it("answers the code to a version 1 page, which reads it as its callback's string", function()
      local w = wire(nil, { protocol = 1 })
      w.router:register("boom", function() error("no") end)
      local boom = w:call("boom")
      w:see()
      assert.is_nil(boom.err)
      assert.are.equal("ECRASH", boom.result)
      all_answered_once(w, { boom })
    end)

    it("answers ECRASH when it raises a table, and after it replied it is only logged", function()
      local w = wire()
      w.router:register("raise_table", function() error({ code = "EPAY" }) end)
      w.router:register("late_raise", function(_, _, reply)
        reply("done")
        error("after the reply")
      end, { async = true })
      local a, b = w:call("raise_table"), w:call("late_raise")
      w:see()
      assert.are.equal("ECRASH", a.err.code)
      assert.are.equal("done", b.result)
      assert.is_true(w:logged("after the reply"))
      all_answered_once(w, { a, b })
    end)
  end)

  describe("a handler that never replies", function()
    it("times the call out with ETIMEOUT; a late reply is ignored; other calls are answered", function()
      local w = wire()
      ping(w)
      local reply_later
      w.router:register("hang", function(_, _, reply) reply_later = reply end, { async = true })

      local hang = w:call("hang", nil, { timeout = 5000 })
      w:see()
      local p = w:call("ping")
      w:see()
      assert.are.equal("pong", p.result)
      assert.are.equal(0, hang.calls)
      assert.are.equal(1, w.shell:stats().running)

      w.clock = w.clock + 5000
      assert.are.equal(1, w.client:expire())
      assert.are.equal("ETIMEOUT", hang.err.code)

      reply_later("too late")
      assert.are.equal(0, w:see())
      assert.are.equal(0, w.shell:stats().running)
      all_answered_once(w, { hang, p })
    end)

    it("is not started twice when its command is sent again while it runs", function()
      local w = wire()
      local runs, reply_later = 0, nil
      w.router:register("hang", function(_, _, reply)
        runs = runs + 1
        reply_later = reply
      end, { async = true })
      local hang = w:call("hang", nil, { timeout = 60000 })
      w:reload(1) -- the page re-created
      assert.are.equal(1, runs)
      reply_later("once")
      w:see()
      assert.are.equal("once", hang.result)
      all_answered_once(w, { hang })
    end)
  end)

  describe("a handler that replies twice", function()
    it("delivers the first reply only, logs the second, and answers the next call", function()
      local w = wire()
      ping(w)
      local saved
      w.router:register("twice", function(_, _, reply)
        saved = reply
        reply("first")
      end, { async = true })
      local t = w:call("twice")
      w:see()
      assert.is_false(saved("second"))
      w:see()
      assert.are.equal("first", t.result)
      assert.is_true(w:logged("replied twice"))
      local p = w:call("ping")
      w:see()
      assert.are.equal("pong", p.result)
      all_answered_once(w, { t, p })
    end)
  end)

  describe("a result JSON cannot carry", function()
    local cycle = {}
    cycle.self = cycle
    local bad = {
      { "a function", function() end },
      { "a cycle", cycle },
      { "NaN", 0 / 0 },
      { "an infinity", math.huge },
      { "a string that is not UTF-8", "\255\254" },
      { "a table mixing array items and keys", { 1, 2, x = 3 } },
      { "a coroutine", coroutine.create(function() end) },
    }
    for _, case in ipairs(bad) do
      it("answers EREPLY for " .. case[1] .. ", and the shell goes on", function()
        local w = wire()
        ping(w)
        w.router:register("bad", function() return { value = case[2] } end)
        local b = w:call("bad")
        w:see()
        assert.are.equal("EREPLY", b.err.code)
        local p = w:call("ping")
        w:see()
        assert.are.equal("pong", p.result)
        all_answered_once(w, { b, p })
      end)
    end

    it("answers EREPLY to a version 1 page too", function()
      local w = wire(nil, { protocol = 1 })
      w.router:register("bad", function() return { f = print } end)
      local b = w:call("bad")
      w:see()
      assert.are.equal("EREPLY", b.result)
    end)

    it("keeps the error's code and message when only its data cannot be sent", function()
      local w = wire()
      w.router:register("pay", function() return nil, { code = "EPAY", message = "declined", data = print } end)
      local b = w:call("pay")
      w:see()
      assert.are.equal("EPAY", b.err.code)
      assert.are.equal("declined", b.err.message)
      assert.is_nil(b.err.data)
    end)
  end)

  describe("a faulty error value", function()
    -- error values whose metamethods raise: the shell must still answer
    local raising = { __tostring = function() error("tostring raised") end,
                      __index = function() error("index raised") end }
    local cases = {
      { "an error table whose message cannot be turned into text",
        function() return nil, { code = "EPAY", message = setmetatable({}, raising) } end },
      { "an error table whose fields raise", function() return nil, setmetatable({}, raising) end },
      { "a raised error value whose text raises", function() error(setmetatable({}, raising)) end },
    }
    for _, case in ipairs(cases) do
      it("answers " .. case[1] .. " with an error, and the shell goes on", function()
        local w = wire()
        ping(w)
        w.router:register("faulty", case[2])
        local f = w:call("faulty")
        w:see()
        assert.are.equal(1, f.calls)
        assert.is_table(f.err)
        assert.are_not.equal("ENAVIGATE", f.err.code) -- the hybrid page's onLoad did not raise
        assert.are.equal(0, w.shell:stats().running)
        local p = w:call("ping")
        w:see()
        assert.are.equal("pong", p.result)
      end)
    end

    it("answers an error message that is not UTF-8 with EREPLY, saying why", function()
      local w = wire()
      w.router:register("faulty", function() return nil, "EPAY: \255" end)
      local f = w:call("faulty")
      w:see()
      assert.are.equal("EREPLY", f.err.code)
      assert.is_nil(f.err.message:find("not a version 2 reply", 1, true))
    end)
  end)

  describe("a reply over the size limit", function()
    it("answers EREPLY for that call; the replies written with it are delivered", function()
      local w = wire()
      local replies = {}
      w.router:register("slow", function(p, _, reply) replies[p.n] = reply end, { async = true })
      w.router:register("big", function() return ("x"):rep(20000) end)
      local a = w:call("slow", { n = 1 })
      local big = w:call("big")
      local b = w:call("slow", { n = 2 })
      replies[1]({ n = 1 })
      replies[2]({ n = 2 })
      w:see()
      assert.are.equal("EREPLY", big.err.code)
      assert.truthy(big.err.message:find("16384", 1, true), big.err.message)
      assert.are.same({ n = 1 }, a.result)
      assert.are.same({ n = 2 }, b.result)
      assert.truthy(#w.shell:get_src() <= shell.defaults.max_src)
      all_answered_once(w, { a, big, b })
    end)

    it("answers EREPLY to a version 1 page, and keeps the src under the limit", function()
      local w = wire(nil, { protocol = 1 })
      w.router:register("big", function() return ("x"):rep(20000) end)
      local big = w:call("big")
      w:see()
      assert.are.equal("EREPLY", big.result)
      assert.truthy(#w.shell:get_src() <= shell.defaults.max_src)
    end)

    it("fails a command over the URL limit on the H5 side, before navigating", function()
      local w = wire()
      ping(w)
      local long, err, code = w:call("ping", { text = ("长"):rep(400) })
      assert.is_nil(long)
      assert.are.equal("ETOOLONG", code)
      assert.are.equal("ETOOLONG: ", err:sub(1, 10))
      assert.are.equal(0, #w.sent)
      local p = w:call("ping")
      w:see()
      assert.are.equal("pong", p.result)
      all_answered_once(w, { p })
    end)
  end)

  describe("floods", function()
    it("past max_outbox: the newest replies are written, the dropped ones time out, or come back on a replay", function()
      local w = wire()
      local max = shell.defaults.max_outbox
      local replies, recs = {}, {}
      w.router:register("slow", function(p, _, reply) replies[p.n] = reply end, { async = true })
      for n = 1, max + 8 do recs[n] = w:call("slow", { n = n }, { timeout = 10000 }) end
      -- every handler answers before the page sees any hashchange
      for n = 1, max + 8 do replies[n]({ n = n }) end
      assert.is_true(w:logged("outbox full"))
      assert.are.equal(max, w:see())
      for n = 9, max + 8 do assert.are.same({ n = n }, recs[n].result) end
      for n = 1, 8 do assert.are.equal(0, recs[n].calls) end

      -- the page sends the first dropped command again: answered from the store
      w:reload(1)
      assert.are.equal(1, w:see())
      assert.are.same({ n = 1 }, recs[1].result)

      w.clock = w.clock + 10000
      assert.are.equal(7, w.client:expire())
      for n = 2, 8 do assert.are.equal("ETIMEOUT", recs[n].err.code) end
      all_answered_once(w, recs)
    end)

    it("past max_store: a recent command replayed is answered from the store, an old one runs again", function()
      local w = wire()
      local runs = {}
      w.router:register("count", function(p)
        runs[p.n] = (runs[p.n] or 0) + 1
        return { n = p.n, run = runs[p.n] }
      end)
      local total = shell.defaults.max_store + 44
      local recs = {}
      for n = 1, total do
        recs[n] = w:call("count", { n = n })
        w:see()
      end
      all_answered_once(w, recs)
      assert.truthy(w.shell:stats().store <= shell.defaults.max_store)

      local function replay(n)
        w:reload(n)
        local t = core.decode_fragment(core.get_fragment(w.shell:get_src()))
        return core.decode_json(t[recs[n].id])
      end
      assert.are.same({ result = { n = total, run = 1 } }, replay(total))
      assert.are.equal(1, runs[total])
      assert.are.same({ result = { n = 1, run = 2 } }, replay(1))
      assert.are.equal(2, runs[1])
    end)

    it("200 calls in flight answered out of order: each callback once, with its own result", function()
      local w = wire()
      local replies, recs = {}, {}
      w.router:register("slow", function(p, _, reply) replies[p.n] = reply end, { async = true })
      for n = 1, 200 do recs[n] = w:call("slow", { n = n }) end
      for n = 200, 1, -1 do
        replies[n]({ n = n })
        if n % 7 == 0 then w:see() end
      end
      w:see()
      for n = 1, 200 do assert.are.same({ n = n }, recs[n].result) end
      all_answered_once(w, recs)
    end)
  end)
end)
