-- One wire, two clients: runs scenarios through the Lua client and the Lua
-- shell, and prints them as JSON for js/test/crosscheck.test.js, which runs
-- the same steps through the JS client. For each call: its request id, api,
-- params, version and the URL the Lua client navigated to; for each fragment
-- the shell (or a hostile page) wrote: what the Lua client delivered.
--
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 js/test/lua/crosscheck.lua

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local errors = require "mphybrid.errors"

local SRC = "https://h5.example.com/shop/index.html?from=mp"
local null = core.null
local array_mt = core.array_mt

local function json(v)
  return assert(core.encode_json(v))
end

-- the handlers every scenario's shell runs
local pending = {} -- request id -> reply of an asynchronous handler
local function new_router()
  local r = router.new({ log = function() end })
  r:register("echo", function(params) return params end)
  r:register("nothing", function() return nil end)
  r:register("text", function(params) return params.text end)
  r:register("pay", function()
    return nil, { code = "EPAY", message = "amount over the daily limit", data = { limit = 5000 } }
  end)
  r:register("crash", function() error("boom") end)
  r:register("slow", function(_, ctx, reply) pending[ctx.req] = reply end, { async = true })
  return r
end

local function outcome_of(id, err, result)
  if err then
    return { id = id, code = err.code, message = err.message, data = err.data }
  end
  return { id = id, result = result == nil and null or result }
end

local function run(sc)
  local clock = 1700000000000
  local page_hash = sc.hash
  local next_id
  local outcomes -- callbacks of the step under way
  local src_written
  local s = assert(shell.new({ router = new_router(), src = SRC, now = function() return clock end }))
  local c = client.new({
    protocol = sc.protocol,
    max_url = sc.max_url,
    now = function() return clock end,
    new_req_id = function() return next_id end,
    hash = sc.hash and function() return page_hash end or nil,
    log = function() end,
    navigate = function(url)
      s:on_load({ cmd = url:match("%?cmd=(.*)$") }, function(_, src) src_written = src end)
    end,
  })
  local out = { name = sc.name, protocol = sc.protocol, max_url = sc.max_url, hash = sc.hash, steps = {} }
  local function receive(step, src)
    clock = clock + 1
    local n, hash = c:receive(src)
    step.src, step.delivered, step.hash = src, n, hash
  end
  for _, st in ipairs(sc.steps) do
    outcomes, src_written = setmetatable({}, array_mt), nil
    local kind = st[1]
    local step = { kind = kind, outcomes = outcomes }
    if kind == "call" then
      local id, api, params_json, timeout = st[2], st[3], st[4], st[5]
      local params = params_json and assert(core.decode_json(params_json)) or nil
      next_id = id
      local sent_before = src_written
      local url_seen
      local nav = c.navigate
      c.navigate = function(url) url_seen = url; return nav(url) end
      local sent, err, code = c:call(api, params,
        function(e, result) outcomes[#outcomes + 1] = outcome_of(id, e, result) end,
        timeout and { timeout = timeout } or nil)
      if not sent then
        -- a failure c:call returns is its call's outcome (the JS client
        -- hands it to the callback): the callback never hears it
        local _, message = errors.parse(err, code)
        outcomes[#outcomes + 1] = outcome_of(id, { code = code, message = message })
      end
      c.navigate = nav
      step.id, step.api, step.timeout = id, api, timeout
      step.params = params_json and json(params) or nil
      step.url = url_seen
      if src_written and src_written ~= sent_before then
        receive(step, src_written)
      end
    elseif kind == "batch" then
      -- { "batch", { { id, api, params_json }, ... } }: one c:batch
      local ids, list = {}, {}
      for i, e in ipairs(st[2]) do
        local id = e[1]
        ids[i] = id
        list[i] = { e[2], e[3] and assert(core.decode_json(e[3])) or nil,
          function(err, result) outcomes[#outcomes + 1] = outcome_of(id, err, result) end }
      end
      local k = 0
      local gen = c.new_req_id
      c.new_req_id = function() k = k + 1; return ids[k] end
      local urls = setmetatable({}, array_mt)
      local nav = c.navigate
      c.navigate = function(url) urls[#urls + 1] = url; return nav(url) end
      local sent_before = src_written
      local _, failures = c:batch(list)
      c.navigate, c.new_req_id = nav, gen
      for i in ipairs(st[2]) do
        if failures[i] then
          -- as for c:call: returned, never heard by the callback
          outcomes[#outcomes + 1] = outcome_of(ids[i], failures[i])
        end
      end
      step.calls = setmetatable({}, array_mt)
      for i, e in ipairs(st[2]) do
        step.calls[i] = { id = e[1], api = e[2], params = e[3] and json(assert(core.decode_json(e[3]))) or nil }
      end
      step.urls = urls
      if src_written and src_written ~= sent_before then
        receive(step, src_written)
      end
    elseif kind == "answer" then
      local reply = assert(pending[st[2]])
      pending[st[2]] = nil
      reply(st[3] and assert(core.decode_json(st[3])) or nil)
      receive(step, assert(src_written))
    elseif kind == "fragment" then
      receive(step, SRC .. "#" .. st[2])
    elseif kind == "expire" then
      clock = clock + st[2]
      step.ms = st[2]
      c:expire()
    elseif kind == "cancel" then
      step.id = st[2]
      c:cancel(st[2])
    elseif kind == "route" then
      page_hash = st[2]
      step.route = st[2]
    end
    out.steps[#out.steps + 1] = step
  end
  return out
end

local BIG = '{"text":"' .. ("长文本"):rep(60) .. '"}'

local scenarios = {
  { name = "version 2: results, errors, acknowledgements", protocol = 2, steps = {
    { "call", "H5Req_a0000001", "echo", '{"lang":"zh_CN","withCredentials":true,"n":[1,2.5,-0,1e21,1e-7,null],"o":{"z":1,"a":{},"1":[]}}' },
    { "call", "H5Req_a0000002", "pay", '{"orderId":"SO-2","total":9999}' },
    { "call", "H5Req_a0000003", "nothing", nil },
    { "call", "H5Req_a0000004", "crash", "{}" },
    { "call", "H5Req_a0000005", "nope", "[]" },
    { "call", "H5Req_a0000006", "text", '{"text":"a&b=c#d%e+f 😀 \\u0000 \\"q\\""}' },
    { "call", "H5Req_a0000007", "echo", '"a string"' },
    { "call", "H5Req_a0000008", "echo", "null" },
  } },
  { name = "version 2: the page's own route carried through replies", protocol = 2, hash = "/cart", steps = {
    { "call", "H5Req_b0000001", "echo", '{"x":1}' },
    { "route", "/orders/42?tab=a&b=%E4%B8%AD" },
    { "call", "H5Req_b0000002", "echo", '{"x":2}' },
    { "route", "" },
    { "call", "H5Req_b0000003", "nothing", nil },
  } },
  { name = "version 2: an asynchronous handler, a timeout and a late reply acknowledged again", protocol = 2, steps = {
    { "call", "H5Req_c0000001", "slow", '{"i":1}', 1000 },
    { "expire", 1000 },
    { "answer", "H5Req_c0000001", '{"late":true}' },
    { "call", "H5Req_c0000002", "slow", '{"i":2}' },
    { "answer", "H5Req_c0000002", '{"ok":2}' },
    { "call", "H5Req_c0000003", "echo", "{}" },
  } },
  { name = "version 2: a canceled call's reply is acknowledged, not delivered", protocol = 2, steps = {
    { "call", "H5Req_d0000001", "slow", "{}" },
    { "cancel", "H5Req_d0000001" },
    { "answer", "H5Req_d0000001", "1" },
    { "call", "H5Req_d0000002", "echo", "[1]" },
  } },
  { name = "version 2: hostile fragments", protocol = 2, steps = {
    { "call", "H5Req_e0000001", "slow", "{}" },
    { "fragment", "/orders/42" },
    { "fragment", "H5Req_e0000001" },
    { "fragment", "mph=2&H5Req_e0000001&v=1" },
    { "fragment", "access_token=x&H5Req_other=1&&=&v=2" },
    { "fragment", "mph=2&junk=%ZZ&H5Req_e0000001=" .. core.encode_uri_component('{"result":[1,{"a":null}]}') .. "&v=3" },
    { "call", "H5Req_e0000002", "slow", "{}" },
    { "fragment", "mph=2&H5Req_e0000002=%E4&v=4" },
    { "call", "H5Req_e0000003", "slow", "{}" },
    { "fragment", "mph=2&H5Req_e0000003=" .. core.encode_uri_component('{"error":{"code":"bad code"}}') .. "&v=5" },
    { "call", "H5Req_e0000004", "slow", "{}" },
    { "fragment", "mph=2&H5Req_e0000004=" .. core.encode_uri_component('{"error":{"code":"EX","message":7,"data":null}}') .. "&v=6" },
    { "call", "H5Req_e0000005", "slow", "{}" },
    { "fragment", "mph=2&H5Req_e0000005=not%20json&hash=%2Fx&v=7" },
    { "call", "H5Req_e0000006", "slow", "{}" },
    { "fragment", "H5Req_e0000006=seed%20text&v=8" },
  } },
  { name = "version 2: a command over max_url, and acknowledgements left for a shorter one", protocol = 2, steps = {
    { "call", "H5Req_f0000001", "text", BIG },
    { "call", "H5Req_f0000002", "nothing", nil },
    { "call", "H5Req_f0000003", "text", '{"text":"' .. ("x"):rep(845) .. '"}' },
    { "call", "H5Req_f0000004", "nothing", nil },
  } },
  { name = "version 2: batches of calls made together, after a version 2 reply", protocol = 2, hash = "/cart",
    steps = {
    { "call", "H5Req_h0000001", "echo", '{"first":true}' },
    { "batch", {
      { "H5Req_h0000002", "echo", '{"n":[1,2.5,1e21],"s":"a&b=c#d 😀"}' },
      { "H5Req_h0000003", "pay", '{"total":9999}' },
      { "H5Req_h0000004", "nothing", nil },
      { "H5Req_h0000005", "slow", "{}" },
    } },
    { "answer", "H5Req_h0000005", '{"late":1}' },
    { "route", "/orders/7" },
    { "batch", {
      { "H5Req_h0000006", "nope", "[]" },
      { "H5Req_h0000007", "text", '{"text":"x"}' },
    } },
  } },
  -- the request-id rule is core.valid_id's: '"' and '\\' are usable
  -- (escaped in the command's JSON, percent-encoded in the fragment)
  { name = "version 2: request ids with a quote and a backslash", protocol = 2, steps = {
    { "call", 'H5Req_"q"1', "echo", '{"x":1}' },
    { "call", "H5Req_\\b\\2", "slow", "{}" },
    { "answer", "H5Req_\\b\\2", '{"late":true}' },
    { "batch", {
      { 'H5Req_"q"3', "echo", '{"y":2}' },
      { "H5Req_\\b\\4", "pay", "{}" },
    } },
    { "call", 'H5Req_"&=#%5', "nothing", nil },
  } },
  { name = "version 1: request ids with a quote and a backslash", protocol = 1, steps = {
    { "call", 'H5Req_"q"6', "echo", '{"x":1}' },
    { "call", "H5Req_\\b\\7", "pay", "{}" },
  } },
  { name = "version 1: the published wire", protocol = 1, steps = {
    { "call", "H5Req_g0000001", "echo", '{"lang":"zh_CN","withCredentials":true}' },
    { "call", "H5Req_g0000002", "pay", "{}" },
    { "call", "H5Req_g0000003", "nothing", nil },
    { "call", "H5Req_g0000004", "text", '{"text":"a&b=c"}' },
    { "call", "H5Req_g0000005", "nope", "1" },
    { "call", "H5Req_g0000006", "slow", "{}" },
    { "answer", "H5Req_g0000006", '{"done":true}' },
  } },
}

local all = setmetatable({}, array_mt)
for i, sc in ipairs(scenarios) do
  all[i] = run(sc)
end
io.write(json(all), "\n")
