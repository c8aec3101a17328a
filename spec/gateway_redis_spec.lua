-- Two gateway nodes (two nginx, two workers each) on one real redis-server,
-- all on free loopback ports: exactly-once across nodes, and what the page
-- sees while Redis is down and once it is back (docs/GATEWAY.md, "The Redis
-- store").

local core = require "mphybrid.core"
local nginx = require "helpers.nginx"
local servers = require "helpers.servers"

local json = core.encode_json
local SRC = "https://h5.example.com/shop/index.html"

local available, why = nginx.available()
if available and not servers.which("redis-server") then
  available, why = false, "redis-server is not installed (make setup installs it)"
end

-- a node's conf: the spec fixtures' gateway on the Redis store at port
local function node_conf(port, prefix)
  return {
    name = "redis-node",
    http = [[
  lua_shared_dict mphybrid_metrics 1m;
  lua_shared_dict spec_runs 1m;
  init_by_lua_block {
    require("fixtures.gateway").setup({
      store = require("mphybrid.store.redis").new({
        url = "redis://127.0.0.1:]] .. port .. [[/0", prefix = "]] .. prefix .. [[",
        connect_timeout = 1000, read_timeout = 1000, claim_ttl = 30000,
      }),
    })
  }
]],
    server = [[
    location = /__ping { return 200 "pong"; }
    location = /mphybrid { content_by_lua_block { require("fixtures.gateway").gw:serve() } }
    location = /runs { content_by_lua_block { require("fixtures.gateway").runs() } }
]],
  }
end

-- a session id of the page name (16 to 128 bytes of [A-Za-z0-9_-])
local function page(name)
  return "page-" .. name .. string.rep("0", 16)
end

local function command(req, api, params, session, extra)
  session = page(session)
  local cmd = { mph = 2, req = req, api = api, params = params }
  for k, v in pairs(extra or {}) do cmd[k] = v end
  return { method = "POST", path = "/mphybrid", headers = { "Content-Type: application/json" },
    body = json({ cmd = core.encode_uri_component(json(cmd)), src = SRC, session = session }) }
end

-- the answer's JSON, and the reply to req its src carries (decoded), if any
local function reply(status, body, req)
  assert.are.equal(200, status, body)
  local answer = assert(core.decode_json(body), body)
  local fields = core.decode_fragment(core.get_fragment(answer.src) or "") or {}
  return fields[req] and core.decode_json(fields[req]), answer
end

local function send(node, req, api, params, session, extra)
  local r = command(req, api, params, session, extra)
  local status, body = node:request(r.method, r.path, r.body, r.headers)
  return reply(status, body, req)
end

-- runs of params.key counted on both nodes
local function runs(nodes, key)
  local total = 0
  for _, node in ipairs(nodes) do
    local status, body = node:request("GET", "/runs")
    assert.are.equal(200, status, body)
    total = total + (core.decode_json(body)[key] or 0)
  end
  return total
end

-- lines of a node's error log that tell of a worker that failed
local function worker_errors(node)
  local bad = {}
  for line in (node:error_log() or ""):gmatch("[^\n]+") do
    if line:find("signal", 1, true) or line:find("exited on", 1, true)
        or line:find("%[alert%]") or line:find("%[crit%]") or line:find("%[emerg%]")
        or line:find("lua entry thread aborted", 1, true) or line:find("runtime error", 1, true)
        or line:find("stack traceback", 1, true) then
      bad[#bad + 1] = line
    end
  end
  return bad
end

describe("two gateway nodes on one Redis", function()
  if not available then
    pending("needs nginx, its lua module and redis-server: " .. why)
    return
  end

  local redis, a, b
  local tag = tostring(os.time()) .. tostring(math.random(1e6))

  setup(function()
    redis = assert(servers.redis("build/spec-gateway-redis/redis"))
    local prefix = "spec-" .. tag .. ":"
    a = assert(nginx.start(node_conf(redis.port, prefix)))
    b = assert(nginx.start(node_conf(redis.port, prefix)))
  end)

  teardown(function()
    if a then a:stop() end
    if b then b:stop() end
    if redis then servers.stop(redis.pid) end
  end)

  it("run a command replayed to the other node once, and answer the replay with the first reply", function()
    local key = "replay-" .. tag
    local first = send(a, "H5Req_replay1", "count", { key = key }, "page-a")
    assert.same({ result = 1 }, first)
    local again = send(b, "H5Req_replay1", "count", { key = key }, "page-a")
    assert.same(first, again)
    assert.same(first, send(a, "H5Req_replay1", "count", { key = key }, "page-a"))
    assert.are.equal(1, runs({ a, b }, key))
  end)

  it("run the same command sent to both nodes at the same instant once, and deliver its reply on both", function()
    local key = "race-" .. tag
    local n = 20
    local reqs = {}
    for i = 1, n do
      reqs[i] = command("H5Req_race" .. i, "count", { key = key, ms = 100 }, "race-" .. i)
    end
    local on_a = a:background(reqs)
    local on_b = b:parallel(reqs)
    local answers_a = on_a.wait()
    assert.are.equal(n, runs({ a, b }, key))
    for i = 1, n do
      local req = "H5Req_race" .. i
      local ra = reply(answers_a[i].status, answers_a[i].body, req)
      local rb = reply(on_b[i].status, on_b[i].body, req)
      -- one node ran it; the other answered at once with no reply (it was
      -- running) or with the settled reply
      assert.is_true(ra ~= nil or rb ~= nil, "no node answered " .. req)
      if ra and rb then
        assert.same(ra, rb)
      end
      -- the page sends it again: the reply the first run settled, from either node
      local later = send(ra and b or a, "H5Req_race" .. i, "count", { key = key, ms = 100 }, "race-" .. i)
      assert.same(ra or rb, later)
    end
    assert.are.equal(n, runs({ a, b }, key))
  end)

  it("give up a claim Redis took while it did not answer, so that the page's retry runs the command on any node", function()
    local key = "paused-" .. tag
    servers.signal(redis.pid, "STOP")
    local r = send(a, "H5Req_paused", "count", { key = key }, "paused")
    servers.signal(redis.pid, "CONT")
    assert.are.equal("ESTORE", r and r.error and r.error.code, json(r))
    -- the claim went through once Redis read it again: node a gives it up
    -- by itself; until then node b sees it running and answers no reply yet
    local retried
    for _ = 1, 50 do
      retried = send(b, "H5Req_paused", "count", { key = key }, "paused")
      if retried then break end
      nginx.sleep(0.1)
    end
    assert.same({ result = 1 }, retried)
    assert.are.equal(1, runs({ a, b }, key))
  end)

  it("answer every version 2 command with ESTORE and run no handler while Redis is down, then serve again once it is back", function()
    local key = "outage-" .. tag
    assert.same({ result = 1 }, send(a, "H5Req_before", "count", { key = key }, "outage"))

    servers.stop(redis.pid)
    for i, node in ipairs({ a, b, a, b }) do
      local req = "H5Req_down" .. i
      local t0 = os.time()
      local r = send(node, req, "count", { key = key }, "outage")
      -- no hang: the store's timeouts are 1 s each
      assert.is_true(os.time() - t0 <= 5, "an answer waited past the store's timeouts")
      assert.are.equal("ESTORE", r and r.error and r.error.code, json(r))
    end
    -- version 1 needs no state: answered as usual
    local v1_request = { method = "POST", path = "/mphybrid", headers = { "Content-Type: application/json" },
      body = json({ cmd = core.encode_uri_component(json({ req = "H5Req_v1", api = "echo", params = { n = 1 } })),
        src = SRC, session = page("outage") }) }
    local status, body = b:request(v1_request.method, v1_request.path, v1_request.body, v1_request.headers)
    assert.are.equal(200, status, body)
    local answer = core.decode_json(body)
    assert.are.equal('{"n":1}', core.decode_fragment(core.get_fragment(answer.src)).H5Req_v1)
    assert.are.equal(1, runs({ a, b }, key))

    redis = assert(servers.redis("build/spec-gateway-redis/redis", redis.port))
    for i, node in ipairs({ a, b }) do
      local r = send(node, "H5Req_back" .. i, "count", { key = key }, "outage")
      assert.are.equal("number", type(r and r.result), json(r))
    end
    assert.are.equal(3, runs({ a, b }, key))
    -- a request id that failed while Redis was down runs when the page retries it
    assert.are.same("number", type(send(a, "H5Req_down1", "count", { key = key }, "outage").result))
    assert.are.equal(4, runs({ a, b }, key))
    assert.same({}, worker_errors(a))
    assert.same({}, worker_errors(b))
  end)
end)
