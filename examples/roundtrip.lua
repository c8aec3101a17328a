-- A timeline of whole exchanges between the client (the H5 page inside the
-- web-view) and the shell (the mini-program's hybrid page), in one process,
-- with the handlers of examples/handlers.lua: several calls in flight,
-- asynchronous replies, an error, an unknown api and a timeout. Every wire
-- message is printed.
--
--   make demo
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/roundtrip.lua
--
-- The page and the mini-program are wired in process by mphybrid.loopback.
-- Time is simulated: its clock in milliseconds and a queue of timers stand in
-- for the mini-program's and the browser's event loops.

local core = require "mphybrid.core"
local loopback = require "mphybrid.loopback"
local client = require "mphybrid.client"

local WEBVIEW_SRC = "https://h5.example.com/shop/index.html?from=menu#/cart"
local T0 = 1700000000000

------------------------------------------------------------------ the clock

local lb            -- the page and the mini-program, made below
local timers = {}   -- { at =, seq =, fn = }, run in order
local seq = 0

local function after(ms, fn)
  seq = seq + 1
  timers[#timers + 1] = { at = lb.clock + ms, seq = seq, fn = fn }
end

local function run_until(t)
  while true do
    table.sort(timers, function(a, b)
      if a.at ~= b.at then return a.at < b.at end
      return a.seq < b.seq
    end)
    local first = timers[1]
    if first == nil or first.at > t then break end
    table.remove(timers, 1)
    lb.clock = first.at
    first.fn()
  end
  lb.clock = t
end

------------------------------------------------------------------ printing

local function log(side, what, text)
  print(("[%5d ms] %-5s %-12s %s"):format(lb.clock - T0, side, what, text or ""))
end

local function detail(label, text)
  print(("%28s %s"):format(label, text))
end

-- the replies a web-view src carries, one line each
local function show_fragment(src)
  local fields = core.decode_fragment(core.get_fragment(src))
  local keys = {}
  for k in pairs(fields) do
    if k ~= "mph" and k ~= "v" and k ~= "hash" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do detail(k .. " =", fields[k]) end
  if fields.hash then detail("page route (hash) =", fields.hash) end
end

------------------------------------------------------------------ the wire

local page_route = "/cart"
local hashchange_pending = false

-- the web-view fires hashchange a little after its src changes; two changes
-- before it fires make one event, which sees the last src
local function hashchange_soon()
  if hashchange_pending then return end
  hashchange_pending = true
  after(10, function()
    hashchange_pending = false
    local delivered, route = lb:see()
    if delivered == 0 then
      detail("replies delivered:", "0 (each one already delivered or given up;"
        .. " acknowledged by the next command)")
    else
      detail("replies delivered:", tostring(delivered))
    end
    if route then detail("route put back:", "#" .. route) end
  end)
end

-- every message on the wire, as it passes
local function trace(kind, text)
  if kind == "navigate" then
    -- the hybrid page is pushed; its onLoad runs the command
    log("h5", "navigateTo", text)
    detail("cmd =", core.decode_uri_component(text:match("%?cmd=(.*)$")))
  elseif kind == "src" then
    log("mp", "web-view src", text)
    show_fragment(text)
    hashchange_soon()
    log("mp", "navigateBack")
  else
    log("h5", "hashchange", "#" .. core.get_fragment(text))
  end
end

lb = loopback.new({
  handlers = "examples/handlers.lua",
  src = WEBVIEW_SRC,
  clock = T0,
  hashchange = false, -- the page sees a src at its hashchange, a little later
  wire = false,
  trace = trace,
  log = function(level, msg) log("mp", level, msg) end,
  shell = { env = { after = after } }, -- handlers.lua answers asynchronously through it
  client = { timeout = 2000, hash = function() return page_route end },
})
local r, s, c = lb.router, lb.shell, lb.client

------------------------------------------------------------------ the calls

local outcomes, order = {}, {}

local function call(label, api, params, opts)
  order[#order + 1] = label
  outcomes[label] = { count = 0 }
  local id, err, code = c:call(api, params, function(e, result)
    local o = outcomes[label]
    o.count = o.count + 1
    o.err, o.result = e, result
    if e then
      log("h5", "callback", ("%s: %s"):format(label, tostring(e)))
    else
      log("h5", "callback", ("%s: %s"):format(label, core.encode_json(result)))
    end
  end, opts)
  if not id then
    -- a failure returned is the call's one outcome: its callback never runs
    outcomes[label].returned = { code = code, text = err }
    log("h5", "not sent", err)
  end
  return id
end

after(0, function()
  call("getUserInfo", "getUserInfo", { withCredentials = true, lang = "zh_CN" })
end)
after(20, function()
  call("chooseAddress #1", "chooseAddress", nil)
end)
after(25, function()
  call("chooseAddress #2", "chooseAddress", nil)
end)
after(40, function()
  call("createOrder", "createOrder", {
    shopId = "S-2048",
    items = {
      { sku = "A1001", name = "有机绿茶 250g", qty = 2, price = 39.9 },
      { sku = "F6002", name = "香薰蜡烛 50%off", qty = 1, price = 79 },
    },
    remark = "请在 18:00 前送达 & 不要辣; 备注=无 / a%b",
  })
end)
after(60, function()
  call("requestPayment", "requestPayment", { orderId = "SOS-2048-0001", total = 9999 })
end)
after(80, function()
  call("getLocation", "getLocation", { type = "gcj02" })
end)
after(100, function()
  call("scanCode", "scanCode", { onlyFromCamera = true })
end)
after(3000, function()
  page_route = "/orders"
  call("getSystemInfo", "getSystemInfo", nil)
end)
after(6000, function()
  call("getSystemInfo again", "getSystemInfo", nil)
end)
after(6500, function()
  call("a long remark", "createOrder", { shopId = "S-2048", items = {}, remark = ("很长的备注"):rep(80) })
end)

-- the page checks its deadlines every 500 ms
local function tick()
  local n = c:expire()
  if n > 0 then log("h5", "timeout", n .. " call(s) failed with ETIMEOUT") end
  if lb.clock - T0 < 7000 then after(500, tick) end
end
after(500, tick)

print("H5 page in the web-view: " .. WEBVIEW_SRC)
print("hybrid page: " .. client.defaults.page .. "   handlers: " .. table.concat(r:apis(), ", "))
print()
run_until(T0 + 7000)

------------------------------------------------------------------ summary

print()
print("every call, with how many times its callback ran (or the failure call returned):")
local once = true
for _, label in ipairs(order) do
  local o = outcomes[label]
  if o.returned then
    print(("  %-22s --  returned %s"):format(label, o.returned.text))
    once = once and o.count == 0
  else
    local what = o.err and tostring(o.err) or core.encode_json(o.result)
    print(("  %-22s x%d  %s"):format(label, o.count, what))
    once = once and o.count == 1
  end
end
local stats = s:stats()
print(("shell: %d repl%s in the outbox, %d in the replay store; calls in flight: %d"):format(
  stats.outbox, stats.outbox == 1 and "y" or "ies", stats.store, c:pending()))
assert(once, "every call has one outcome")
print("every call had one outcome: its callback ran exactly once, or call returned its failure")
