-- "Each call's callback exactly once", under callbacks that re-enter the
-- client while receive or expire is delivering several calls: every
-- combination of cancel, call, receive and expire, nested to any depth.

local core = require "mphybrid.core"
local client = require "mphybrid.client"
local prng = require "helpers.prng"

local SRC = "https://h5.example.com/app/index.html"
local T0 = 1700000000000

-- What a callback does when it runs, by number:
--   0 nothing
--   1, 2, 3 cancel the first, second or third call
--   4 receive a fragment answering every call made so far
--   5 expire every call in flight
--   6 make a new call whose navigate receives a fragment answering every
--     call made so far, itself included
--   7 make a new call that stays in flight
--   8 receive a version 1 fragment answering the newest call
--   9 receive a fragment with a malformed reply pair for every call
--  10 make a new call whose navigate fails (ENAVIGATE, returned at once)
local ACTIONS = 10

-- Runs one scenario: three calls, then `trigger` ("receive" or "expire")
-- delivers all three; the n-th callback to run does plan[n] (then nothing).
-- Returns a description of the first broken promise, or nil.
local function run(trigger, plan)
  local clock = T0
  local c
  local ids = {}          -- request ids, in the order of the calls
  local runs = {}         -- request id -> callbacks run
  local started = 0       -- callbacks started
  local step = 0
  local broken
  local function fail(msg)
    broken = broken or msg
  end

  local function fragment()
    local list = { { "mph", "2" } }
    for i = 1, #ids do
      list[#list + 1] = { ids[i], core.encode_json({ result = ids[i] }) }
    end
    return assert(core.encode_reply(SRC, list, clock))
  end

  local act

  local function callback_for(id)
    return function(err, result)
      runs[id] = (runs[id] or 0) + 1
      started = started + 1
      if runs[id] > 1 then
        fail("callback of " .. id .. " ran " .. runs[id] .. " times")
      end
      if err == nil and result ~= id then
        fail("call " .. id .. " got the result " .. tostring(result))
      end
      if c:pending() ~= #ids - started then
        fail("pending() is " .. c:pending() .. " with " .. (#ids - started) .. " calls in flight")
      end
      step = step + 1
      act(plan[step] or 0)
    end
  end

  local deliver_on_navigate, navigate_fails = false, false
  local function new_call()
    local k = #ids + 1
    local id = c:call("ping", nil, function(err, result)
      return callback_for(ids[k])(err, result)
    end)
    if id == nil then
      -- a failure returned (ENAVIGATE) is its call's one outcome: its
      -- callback never runs, before or after
      local failed = ids[k]
      runs[failed] = (runs[failed] or 0) + 1
      started = started + 1
      if runs[failed] > 1 then
        fail("call " .. failed .. " failed with its callback run too")
      end
    end
  end

  c = client.new({
    navigate = function()
      if navigate_fails then
        navigate_fails = false
        return false
      end
      if deliver_on_navigate then
        deliver_on_navigate = false
        c:receive(fragment())
      end
    end,
    new_req_id = function(prefix)
      local id = core.new_req_id(prefix)
      ids[#ids + 1] = id
      return id
    end,
    now = function() return clock end,
    log = function(_, msg) fail("logged: " .. msg) end,
    timeout = 1000,
  })

  function act(a)
    if a >= 1 and a <= 3 then
      c:cancel(ids[a])
    elseif a == 4 then
      c:receive(fragment())
    elseif a == 5 then
      clock = clock + 5000
      c:expire()
    elseif a == 6 then
      deliver_on_navigate = true
      new_call()
      deliver_on_navigate = false
    elseif a == 7 then
      new_call()
    elseif a == 8 then
      local id = ids[#ids]
      c:receive(assert(core.encode_reply(SRC, { { id, id } }, clock)))
    elseif a == 9 then
      local pairs_ = {}
      for i = 1, #ids do pairs_[i] = ids[i] .. "=%E4" end
      c:receive("#mph=2&" .. table.concat(pairs_, "&") .. "&v=" .. clock)
    elseif a == 10 then
      navigate_fails = true
      new_call()
      navigate_fails = false
    end
  end

  for _ = 1, 3 do
    new_call()
  end
  if trigger == "receive" then
    c:receive(fragment())
  else
    clock = clock + 1000
    c:expire()
  end
  -- whatever is still in flight fails now, once (a callback may make calls)
  for _ = 1, 100 do
    if c:pending() <= 0 then break end
    clock = clock + 1e9
    c:expire()
  end

  for i = 1, #ids do
    if runs[ids[i]] ~= 1 then
      fail("callback of call " .. i .. " ran " .. (runs[ids[i]] or 0) .. " times")
    end
  end
  if c:pending() ~= 0 then
    fail("pending() is " .. c:pending() .. " at the end")
  end
  return broken
end

local function show(plan)
  local t = {}
  for i = 1, #plan do t[i] = tostring(plan[i]) end
  return "{" .. table.concat(t, ",") .. "}"
end

describe("client callbacks that re-enter the client", function()
  for _, trigger in ipairs({ "receive", "expire" }) do
    describe("while " .. trigger .. " delivers several calls", function()
      it("run exactly once for A cancelling B", function()
        assert.is_nil(run(trigger, { 2 }))
      end)

      it("run exactly once for A making a call whose fragment delivers B again", function()
        assert.is_nil(run(trigger, { 6 }))
      end)

      it("run exactly once for every plan of four actions (every combination)", function()
        local plan, failures = {}, {}
        local function walk(depth)
          if depth > 4 then
            local broken = run(trigger, plan)
            if broken and #failures < 5 then
              failures[#failures + 1] = show(plan) .. ": " .. broken
            end
            return
          end
          for a = 0, ACTIONS do
            plan[depth] = a
            walk(depth + 1)
          end
        end
        walk(1)
        assert.same({}, failures)
      end)

      it("run exactly once for random plans of twenty actions, nested deep", function()
        local rng = prng.new(trigger == "receive" and 7 or 11)
        local failures = {}
        for _ = 1, 300 do
          local plan = {}
          for i = 1, 20 do plan[i] = rng:int(0, ACTIONS) end
          local broken = run(trigger, plan)
          if broken and #failures < 5 then
            failures[#failures + 1] = show(plan) .. ": " .. broken
          end
        end
        assert.same({}, failures)
      end)
    end)
  end
end)
