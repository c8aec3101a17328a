-- One whole exchange between the client (the H5 page inside the web-view)
-- and the shell (the mini-program page that does the work), written with the
-- primitives of mphybrid.core alone. Every wire message is printed.
--
--   make demo
--   LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/roundtrip.lua

local core = require "mphybrid.core"

local WEBVIEW_SRC = "https://h5.example.com/shop/index.html?from=menu"
local SHELL_PAGE = "/pages/hybrid/hybrid"

local function step(title)
  print()
  print("== " .. title)
end

local function wire(label, message)
  print(("   %-26s %s"):format(label, message))
end

------------------------------------------------------------------------------
step("client: the H5 page sends a command with wx.miniProgram.navigateTo")

local req = core.new_req_id()
local cmd = {
  req = req,
  api = "createOrder",
  params = {
    shopId = "S-2048",
    items = {
      { sku = "A1001", name = "有机绿茶 250g", qty = 2, price = 39.9 },
      { sku = "F6002", name = "香薰蜡烛 50%off", qty = 1, price = 79 },
    },
    remark = "请在 18:00 前送达 & 不要辣; 备注=无 / a%b",
  },
}
local cmd_json = assert(core.json_encode(cmd))
local url = SHELL_PAGE .. "?" .. assert(core.encode_query({ cmd = cmd_json }))

wire("request id", req)
wire("command (JSON)", cmd_json)
wire("navigateTo url", url)

------------------------------------------------------------------------------
step("shell: onLoad(options) on the mini-program page")

-- Some devices hand onLoad the query value still percent-encoded, others
-- (and the developer tools) already decoded. decode_cmd takes both.
local query = url:match("%?(.*)$")
local raw_value = query:match("^cmd=([^&]*)")
local options = assert(core.decode_query(query))

wire("options.cmd as encoded", raw_value)
wire("options.cmd as decoded", options.cmd)

local from_raw = assert(core.decode_cmd(raw_value))
local received = assert(core.decode_cmd(options.cmd))
assert(core.json_encode(from_raw) == core.json_encode(received), "both forms give the same command")

wire("command api", received.api)
wire("command req", received.req)
wire("command params", assert(core.json_encode(received.params)))

------------------------------------------------------------------------------
step("shell: the handler answers and the web-view src is rewritten")

local total = 0
for _, item in ipairs(received.params.items) do total = total + item.qty * item.price end
local result = { orderId = "O-20240601-0007", total = total, status = "created" }

local new_src = assert(core.encode_reply(WEBVIEW_SRC, { [received.req] = result }))

wire("result", assert(core.json_encode(result)))
wire("new web-view src", new_src)

------------------------------------------------------------------------------
step("client: hashchange on the H5 page reads the reply")

local fragment = assert(core.get_fragment(new_src), "the new src has a fragment")
local fields, bad = core.decode_fragment(fragment)
assert(bad == nil, "every pair of the fragment decodes")
local reply_text = assert(fields[req], "the fragment carries a reply to our request id")
local reply = assert(core.json_decode(reply_text))

wire("location.hash", "#" .. fragment)
wire("reply to " .. req, reply_text)
wire("stamp v", fields.v)
wire("order", ("%s, %s, total %s"):format(reply.orderId, reply.status, core.json_encode(reply.total)))

assert(reply.orderId == result.orderId and reply.total == total)
print()
print("exchange complete")
