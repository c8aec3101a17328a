-- c:call and c:batch give each call one outcome: a failure returned at once
-- (the callback never called) or the callback called exactly once (the
-- call's request id returned). Never both, never neither, whatever navigate
-- does: answer, fail, raise, cancel the call, all of these together.

local client = require "mphybrid.client"
local loopback = require "mphybrid.loopback"
local errors = require "mphybrid.errors"

-- a client on a loopback whose navigate runs plan(c, id, deliver) before
-- (or instead of) delivering: deliver() sends the command to the shell
local function wired(plan, client_opts)
  local lb = loopback.new({ handlers = { echo = function(p) return p end }, log = function() end,
    client = client_opts })
  local c = lb.client
  local ids = {}
  local gen = c.new_req_id
  c.new_req_id = function(prefix)
    local id = gen(prefix)
    ids[#ids + 1] = id
    return id
  end
  c.custom_ids = false
  local deliver = c.navigate
  c.navigate = function(url)
    return plan(c, ids[#ids], function() return deliver(url) end)
  end
  return c, lb
end

-- outcomes of one call: the failure returned, the callback runs
local function one_call(c, api, params, opts)
  local runs = {}
  local id, err, code = c:call(api, params, function(e, result)
    runs[#runs + 1] = e and e.code or { result }
  end, opts)
  return { id = id, err = err, code = code, runs = runs }
end

-- settles whatever is still in flight (ETIMEOUT) and checks the promise
local function exactly_one(c, o, name)
  c:expire(math.huge)
  local returned = o.id == nil and 1 or 0
  assert.same(1, returned + #o.runs, name .. ": " .. returned .. " failure(s) returned, "
    .. #o.runs .. " callback run(s)")
  if returned == 1 then
    assert.is_string(o.code, name)
  else
    assert.is_string(o.id, name)
  end
  assert.same(0, c:pending(), name)
end

describe("c:call gives each call one outcome, a failure returned or the callback once", function()
  local plans = {
    { "navigate delivers", "callback", function(_, _, deliver) deliver() end },
    { "navigate returns false", "ENAVIGATE", function() return false end },
    { "navigate returns nil, err", "ENAVIGATE", function() return nil, "page stack full" end },
    { "navigate raises", "ENAVIGATE", function() error("no bridge") end },
    { "navigate raises an error value whose __tostring raises", "ENAVIGATE", function()
      error(setmetatable({}, { __tostring = function() error("again") end }))
    end },
    { "navigate delivers, then returns false", "callback", function(_, _, deliver) deliver() return false end },
    { "navigate delivers, then raises", "callback", function(_, _, deliver) deliver() error("late") end },
    { "navigate cancels the call, then returns false", "ECANCELED", function(c, id)
      c:cancel(id) return false
    end },
    { "navigate cancels the call, then raises", "ECANCELED", function(c, id) c:cancel(id) error("x") end },
    { "navigate cancels the call and sends it", "ECANCELED", function(c, id, deliver)
      c:cancel(id) deliver()
    end },
    { "navigate sends nothing: the call times out", "ETIMEOUT", function() end },
    { "navigate expires every call, then returns false", "callback", function(c, _, deliver)
      deliver() c:expire(math.huge) return false
    end },
  }
  for _, plan in ipairs(plans) do
    it("when " .. plan[1], function()
      local c = wired(plan[3])
      local o = one_call(c, "echo", { a = 1 })
      exactly_one(c, o, plan[1])
      if plan[2] == "callback" then
        assert.same({ { { a = 1 } } }, o.runs)
      elseif plan[2] == "ENAVIGATE" then
        assert.same({ nil, "ENAVIGATE" }, { o.id, o.code })
      else
        assert.same({ plan[2] }, o.runs)
      end
    end)
  end

  local refusals = {
    { "an api that is not a string", "EARG", { 5 } },
    { "an empty api", "EARG", { "" } },
    { "opts that are not a table", "EARG", { "echo", nil, "soon" } },
    { "a timeout that is not a number", "EARG", { "echo", nil, { timeout = "soon" } } },
    { "params JSON cannot carry", "EVALUE", { "echo", { f = print } } },
    { "params nested deeper than the shell reads", "EDEPTH", { "echo", (function()
      local t = {} for _ = 2, 100 do t = { t } end return t end)() } },
    { "a command over max_url", "ETOOLONG", { "echo", { ("x"):rep(2000) } } },
    { "an api over max_url", "ETOOLONG", { ("a"):rep(2000) } },
  }
  for _, case in ipairs(refusals) do
    it("when it refuses " .. case[1] .. " (" .. case[2] .. ")", function()
      local sent = 0
      local c = wired(function(_, _, deliver) sent = sent + 1 deliver() end)
      local args = case[3]
      local o = one_call(c, args[1], args[2], args[3])
      exactly_one(c, o, case[1])
      assert.same(case[2], o.code)
      assert.same(0, sent)
    end)
  end

  it("when the callback is not a function (EARG): nothing to call, the failure returned", function()
    local c = wired(function(_, _, deliver) deliver() end)
    local id, err, code = c:call("echo", nil, "print")
    assert.same({ nil, "EARG" }, { id, code })
    assert.is_string(err)
    assert.same(0, c:pending())
  end)

  it("when opts.new_req_id gives an id the shell cannot answer under (ECMD)", function()
    for _, gen in ipairs({ function() return "mph" end, function() return " H5Req_1" end,
      function() error("no ids left") end }) do
      local c = client.new({ navigate = function() error("never sent") end, new_req_id = gen })
      local o = one_call(c, "echo")
      exactly_one(c, o, "new_req_id")
      assert.same("ECMD", o.code)
    end
  end)

  it("when a callback makes calls that fail: each returned to whoever made it, no callback run for it", function()
    local inner = {}
    local c = wired(function(_, _, deliver) deliver() end)
    local o = { runs = {} }
    o.id = c:call("echo", { n = 1 }, function(e, result)
      o.runs[#o.runs + 1] = e or result
      inner[#inner + 1] = one_call(c, "echo", { f = print })
      inner[#inner + 1] = one_call(c, "echo", { n = 2 })
    end)
    exactly_one(c, o, "outer")
    exactly_one(c, inner[1], "inner failing")
    exactly_one(c, inner[2], "inner sent")
    assert.same("EVALUE", inner[1].code)
  end)
end)

describe("c:batch gives each entry one outcome, a failure returned or its callback once", function()
  it("whatever each entry and navigate do", function()
    for _, plan in ipairs({
      function(_, _, deliver) deliver() end,
      function() return false end,
      function() error("no bridge") end,
      function(c, id, deliver) c:cancel(id) deliver() return false end,
      function() end,
    }) do
      local c = wired(plan, { max_url = 400 })
      local runs = {}
      local list = {}
      local params = { { a = 1 }, { f = print }, { ("x"):rep(500) }, {}, (function()
        local t = {} for _ = 2, 98 do t = { t } end return t end)() }
      for i = 1, #params do
        list[i] = { "echo", params[i], function(e) runs[i] = (runs[i] or 0) + 1 return e end }
      end
      local ids, failures = c:batch(list)
      c:expire(math.huge)
      for i = 1, #list do
        local returned = failures[i] and 1 or 0
        assert.same(1, returned + (runs[i] or 0), "entry " .. i)
        assert.same(not failures[i], ids[i] ~= false, "entry " .. i)
        if failures[i] then
          assert.is_true(errors.is_code(failures[i].code))
        end
      end
      assert.same({ "EVALUE", "ETOOLONG", "EDEPTH" }, { failures[2].code, failures[3].code, failures[5].code })
      assert.same(0, c:pending())
    end
  end)
end)
