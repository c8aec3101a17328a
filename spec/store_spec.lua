-- The in-process store against the store interface (docs/GATEWAY.md).
local memory = require "mphybrid.store.memory"
local contract = require "helpers.store_contract"

describe("mphybrid.store.memory", function()
  contract(it, memory.new)

  it("keeps at most max_sessions sessions, forgetting the oldest generation", function()
    local st = memory.new({ max_sessions = 2 })
    st:session("s1", 0, { req = "a", value = "1" })
    st:session("s2", 0, {})
    st:session("s3", 0, {})
    assert.same({}, st:session("s1", 0, {}).outbox)
  end)
end)

describe("shells that share a store", function()
  local core = require "mphybrid.core"
  local shell = require "mphybrid.shell"
  local router = require "mphybrid.router"
  local SRC = "https://h5.example.com/"

  local runs, r
  before_each(function()
    runs = 0
    r = router.new({ log = function() end })
    r:register("once", function() runs = runs + 1 return runs end)
  end)

  local function cmd(req)
    return { cmd = core.encode_uri_component('{"req":"' .. req .. '","api":"once","mph":2}') }
  end

  local function reply(src, req)
    return core.decode_json(core.decode_fragment(core.get_fragment(src))[req])
  end

  it("run a request id once across sessions, by default (replay_scope global)", function()
    local base = shell.new({ router = r, src = SRC, store = memory.new() })
    assert.same({ result = 1 }, reply(base:for_session("s1", SRC):on_load(cmd("H5Req_1")), "H5Req_1"))
    assert.same({ result = 1 }, reply(base:for_session("s2", SRC):on_load(cmd("H5Req_1")), "H5Req_1"))
    assert.same(1, runs)
  end)

  it("keep each session's request ids apart with replay_scope session", function()
    local base = shell.new({ router = r, src = SRC, store = memory.new(), replay_scope = "session" })
    assert.same({ result = 1 }, reply(base:for_session("s1", SRC):on_load(cmd("H5Req_1")), "H5Req_1"))
    assert.same({ result = 2 }, reply(base:for_session("s2", SRC):on_load(cmd("H5Req_1")), "H5Req_1"))
    assert.same({ result = 1 }, reply(base:for_session("s1", SRC):on_load(cmd("H5Req_1")), "H5Req_1"))
    assert.same(2, runs)
  end)

  it("keep an outbox per session", function()
    local base = shell.new({ router = r, src = SRC, store = memory.new() })
    base:for_session("s1", SRC):on_load(cmd("H5Req_1"))
    local src = base:for_session("s2", SRC):on_load(cmd("H5Req_2"))
    assert.is_nil(core.decode_fragment(core.get_fragment(src)).H5Req_1)
    assert.same({ outbox = 1, store = 2, running = 0 }, base:for_session("s1", SRC):stats())
  end)

  it("write stamps above the one that ends the src a shell for a session was made with", function()
    local base = shell.new({ router = r, src = SRC, store = memory.new(), now = function() return 1000 end })
    local function stamp(src)
      local out = base:for_session("s1", src):on_load({ cmd = core.encode_uri_component('{"api":"once"}') })
      return core.decode_fragment(core.get_fragment(out)).v
    end
    assert.same("1800000000001", stamp(SRC .. "#a=1&v=1800000000000"))
    assert.same("4243", stamp(SRC .. "#v=4242"))
    assert.same("1000", stamp(SRC .. "#a=1&bv=5000"))
    assert.same("1000", stamp(SRC .. "#a=v=5000"))
    assert.same("1000", stamp(SRC .. "?v=5000"))
    assert.same("1000", stamp(SRC))
  end)

  it("refuse a replay_scope other than global or session", function()
    assert.has_error(function() shell.new({ router = r, src = SRC, replay_scope = "node" }) end)
  end)
end)
