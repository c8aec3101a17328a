-- Seed compatibility: what the published H5 library and mini-program page
-- send and expect goes through our shell and client unchanged.
--
-- The published behaviour is written out twice below: as literal URLs and
-- fragments, and as the published JavaScript functions (serialize,
-- setUrlHash, the hashchange listener, onLoad), run by Node.js on the same
-- cases.

local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"

local STAMP = 1700000000000
local SRC = "https://h5.example.com/app/index.html?from=mp"

-- the published functions, as the H5 library and the hybrid page use them
local PUBLISHED_JS = [[
'use strict';
const fs = require('fs');
function serialize(obj) {
  return Object.keys(obj).map(k => k + '=' + encodeURIComponent(obj[k])).join('&').replace(/\+/g, '%2B');
}
function request(page, req, api, params) {
  const cmd = { req: req, api: api, params: params };
  return page + '?' + serialize({ cmd: JSON.stringify(cmd) });
}
function setUrlHash(url, hash) {
  if (!url) return url;
  url = url.trim();
  const i = url.indexOf('#');
  if (i >= 0) url = url.slice(0, i);
  return url + '#' + hash;
}
function reply(src, req, result, now) {
  const value = (result === null || result === undefined) ? '0' : String(result);
  return setUrlHash(src, (req || 'miniProgramResult') + '=' + encodeURIComponent(value) + '&v=' + now);
}
// the H5 page's hashchange listener: the value for currentReq, or null
function listen(hash, currentReq) {
  if (!hash.startsWith('#' + currentReq + '=')) return null;
  const params = {};
  hash.slice(1).split('&').forEach(pair => {
    const kv = pair.split('=');
    params[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]);
  });
  return params[currentReq];
}
// the hybrid page's onLoad
function onLoad(options) {
  return JSON.parse(decodeURIComponent(options.cmd));
}
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = cases.map(c => {
  switch (c.kind) {
    case 'request': return request(c.page, c.req === null ? undefined : c.req, c.api,
                                   c.params === null ? undefined : c.params);
    case 'reply': return reply(c.src, c.req, c.result, c.now);
    case 'listen': return listen(c.src.slice(c.src.indexOf('#')), c.req);
    case 'onLoad': return onLoad({ cmd: c.cmd });
  }
  throw new Error('unknown case ' + c.kind);
});
fs.writeFileSync(process.argv[3], JSON.stringify(out));
]]

-- runs the published functions over cases; one answer per case
local function published(cases)
  local dir = os.tmpname()
  local js, input, output = dir .. ".js", dir .. ".in", dir .. ".out"
  local function write(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
  end
  write(js, PUBLISHED_JS)
  write(input, assert(core.json_encode(setmetatable(cases, core.array_mt))))
  local p = assert(io.popen((os.getenv("NODE") or "node") .. " " .. js .. " " .. input .. " " .. output .. " 2>&1"))
  local log = p:read("*a")
  p:close()
  local f = io.open(output, "rb")
  local text = f and f:read("*a")
  if f then f:close() end
  for _, path in ipairs({ dir, js, input, output }) do os.remove(path) end
  assert(text, "Node.js is needed for the compatibility spec: " .. log)
  return assert(core.json_decode(text))
end

-- a shell whose handlers answer with fixed values, at a fixed time
local function seed_shell()
  local r = router.new({ log = function() end })
  r:register("getUserInfo", function() return '{"nickName":"小明","gender":1}' end)
  r:register("setTitle", function() return nil end)
  r:register("zero", function() return "0" end)
  r:register("count", function() return 3 end)
  r:register("echo", function(params) return params.s end)
  return assert(shell.new({ router = r, src = SRC, now = function() return STAMP end }))
end

describe("seed compatibility", function()
  describe("literal", function()
    it("our shell answers the published request for getUserInfo with the published fragment", function()
      local url = "/pages/hybrid-page/hybrid?cmd=%7B%22req%22%3A%22H5Req_k3j2h1g0a%22%2C%22api%22%3A%22getUserInfo%22"
        .. "%2C%22params%22%3A%7B%22lang%22%3A%22zh_CN%22%2C%22withCredentials%22%3Atrue%7D%7D"
      local src = seed_shell():on_load({ cmd = url:match("%?cmd=(.*)$") })
      assert.same("https://h5.example.com/app/index.html?from=mp#H5Req_k3j2h1g0a="
        .. "%7B%22nickName%22%3A%22%E5%B0%8F%E6%98%8E%22%2C%22gender%22%3A1%7D&v=1700000000000", src)
    end)

    it("answers a null result with 0 and a command without req under miniProgramResult", function()
      local s = seed_shell()
      assert.same(SRC .. "#H5Req_a=0&v=1700000000000",
        s:on_load({ cmd = "%7B%22req%22%3A%22H5Req_a%22%2C%22api%22%3A%22setTitle%22%7D" }))
      assert.same(SRC .. "#miniProgramResult=0&v=1700000000001",
        s:on_load({ cmd = "%7B%22api%22%3A%22setTitle%22%7D" }))
    end)

    it("our client (protocol 1) sends the published request", function()
      local sent
      local c = client.new({ protocol = 1, navigate = function(url) sent = url end,
                             new_req_id = function() return "H5Req_k3j2h1g0a" end })
      c:call("getUserInfo", { lang = "zh_CN", withCredentials = true }, function() end)
      assert.same("/pages/hybrid-page/hybrid?cmd=%7B%22req%22%3A%22H5Req_k3j2h1g0a%22%2C%22api%22%3A"
        .. "%22getUserInfo%22%2C%22params%22%3A%7B%22lang%22%3A%22zh_CN%22%2C%22withCredentials%22%3Atrue%7D%7D",
        sent)
    end)

    it("our client takes the published reply fragment, for either protocol", function()
      for _, protocol in ipairs({ 1, 2 }) do
        local got
        local c = client.new({ protocol = protocol, navigate = function() end,
                               new_req_id = function() return "H5Req_k3j2h1g0a" end })
        c:call("getUserInfo", nil, function(err, result) got = { err, result } end)
        assert.same(1, c:receive("https://h5.example.com/app/index.html?from=mp#H5Req_k3j2h1g0a="
          .. "%7B%22nickName%22%3A%22%E5%B0%8F%E6%98%8E%22%7D&v=1700000000000"))
        assert.same({ nil, '{"nickName":"小明"}' }, got)
      end
    end)
  end)

  describe("against the published functions, run by Node.js", function()
    local commands = {
      { req = "H5Req_k3j2h1g0a", api = "getUserInfo", params = { lang = "zh_CN", withCredentials = true } },
      { req = "H5Req_0000000001", api = "setTitle", params = { title = "订单 #12 & 更多" } },
      { req = "H5Req_zzzzzzzzff", api = "zero" },
      { req = "H5Req_abcdefgh7", api = "count", params = {} },
      { req = "H5Req_q1w2e3r4t", api = "echo", params = { s = "a=b&c=d 100% /path?x=1#frag +plus 中文" } },
      { api = "setTitle", params = { title = "no req" } },
    }
    local srcs = { SRC, "  " .. SRC .. "#old=1&v=3  ", "https://h5.example.com/p#/route/7" }

    -- the result our shell answers each command with, as the page sees it
    local results = {
      getUserInfo = '{"nickName":"小明","gender":1}', setTitle = core.null, zero = "0", count = 3,
      echo = "a=b&c=d 100% /path?x=1#frag +plus 中文",
    }

    local function src_of(i)
      return srcs[(i - 1) % #srcs + 1]
    end

    it("our shell writes the published reply to each published request", function()
      local cases = {}
      for i, cmd in ipairs(commands) do
        cases[#cases + 1] = { kind = "request", page = "/pages/hybrid-page/hybrid", req = cmd.req or core.null,
                              api = cmd.api, params = cmd.params or core.null }
        cases[#cases + 1] = { kind = "reply", src = src_of(i), req = cmd.req or core.null,
                              result = results[cmd.api], now = STAMP }
      end
      local answers = published(cases)
      for i = 1, #commands do
        local url, want = answers[2 * i - 1], answers[2 * i]
        local s = seed_shell()
        s:set_src(src_of(i))
        assert.same(want, s:on_load({ cmd = url:match("%?cmd=(.*)$") }))
      end
    end)

    it("the published hashchange listener reads our fragments", function()
      local listen = {}
      for i, cmd in ipairs(commands) do
        if cmd.req then
          local s = seed_shell()
          s:set_src(src_of(i))
          local json = core.json_encode({ req = cmd.req, api = cmd.api, params = cmd.params })
          local src = s:on_load({ cmd = core.encode_uri_component(json) })
          listen[#listen + 1] = { kind = "listen", req = cmd.req, src = src }
        end
      end
      local answers = published(listen)
      local want = {}
      for _, cmd in ipairs(commands) do
        if cmd.req then
          local r = results[cmd.api]
          want[#want + 1] = (r == core.null) and "0" or tostring(r)
        end
      end
      assert.same(want, answers)
    end)

    it("our client (protocol 1) sends what the published library sends", function()
      local reqs, ours = {}, {}
      for _, cmd in ipairs(commands) do
        if cmd.req then
          reqs[#reqs + 1] = { kind = "request", page = "/pages/hybrid-page/hybrid", req = cmd.req,
                              api = cmd.api, params = cmd.params or core.null }
          local sent
          local c = client.new({ protocol = 1, navigate = function(url) sent = url end,
                                 new_req_id = function() return cmd.req end })
          c:call(cmd.api, cmd.params, function() end)
          ours[#ours + 1] = sent
        end
      end
      assert.same(published(reqs), ours)
    end)

    it("our client delivers the published fragments, for either protocol", function()
      local replies = {}
      for i, cmd in ipairs(commands) do
        if cmd.req then
          replies[#replies + 1] = { kind = "reply", src = src_of(i), req = cmd.req,
                                    result = results[cmd.api], now = STAMP + i }
        end
      end
      local fragments = published(replies)
      for _, protocol in ipairs({ 1, 2 }) do
        for i, frag in ipairs(fragments) do
          local got
          local c = client.new({ protocol = protocol, navigate = function() end,
                                 new_req_id = function() return replies[i].req end })
          c:call("x", nil, function(err, result) got = { err = err, result = result } end)
          assert.same(1, c:receive(frag), frag)
          local r = replies[i].result
          assert.same({ result = (r == core.null) and "0" or tostring(r) }, got)
        end
      end
    end)

    it("our shell reads a cmd the published onLoad reads, and one it cannot (a literal % decoded twice)", function()
      local json = core.json_encode({ req = "H5Req_pct00001", api = "echo", params = { s = "100% sure" } })
      local encoded = core.encode_uri_component(json)
      local answers = published({
        { kind = "onLoad", cmd = encoded },
      })
      assert.same({ req = "H5Req_pct00001", api = "echo", params = { s = "100% sure" } }, answers[1])
      -- the options already decoded (developer tools): the published onLoad
      -- throws URIError on "% s"; ours reads it
      local s = seed_shell()
      local src = s:on_load({ cmd = json })
      assert.same(SRC .. "#H5Req_pct00001=100%25%20sure&v=1700000000000", src)
    end)
  end)
end)
