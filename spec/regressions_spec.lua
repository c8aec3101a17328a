-- Inputs that the fuzz targets (fuzz/) found to break mphybrid, replayed
-- through the public API. Each case names its reproducer in fuzz/regressions/.
--
-- Undefined behaviour does not change what plain Lua sees: the cases of the
-- C core fail only where it is detected, i.e. with the module built by clang
-- with -fsanitize=undefined (make -f fuzz/Makefile regressions). Every build
-- still checks the results.

local paths = require "helpers.paths"
local client = require "mphybrid.client"

-- A new instance of the module: its scratch buffers have never grown, as
-- in the first call a Lua state makes.
local function fresh_core()
  local loaded = package.loaded["mphybrid.core"]
  package.loaded["mphybrid.core"] = nil
  local ok, m = pcall(require, "mphybrid.core")
  package.loaded["mphybrid.core"] = loaded
  assert(ok, m)
  return m
end

local function reproducer(name)
  return paths.read_file(paths.repo_root() .. "/fuzz/regressions/" .. name)
end

describe("regressions", function()
  it("uri-1: decode_uri_component of an empty string, first call (NULL + 0 in mph_uri_decode)", function()
    assert.are.equal("", reproducer("uri-1"))
    local core = fresh_core()
    assert.are.equal("", core.decode_uri_component(""))
    assert.are.same({ a = "" }, fresh_core().decode_query("a="))
  end)

  it("roundtrip-1: encode_uri_component of an empty string, first call (NULL + 0 in mph_uri_encode)", function()
    assert.are.equal("", reproducer("roundtrip-1"))
    assert.are.equal("", fresh_core().encode_uri_component(""))
  end)

  it("roundtrip-2: a table without keys, first call (qsort of a NULL array in sorted_keys)", function()
    assert.are.equal("&", reproducer("roundtrip-2"))
    assert.are.equal("", fresh_core().encode_query({}))
    assert.are.equal("https://h5.example.com/p#v=1",
      fresh_core().encode_reply("https://h5.example.com/p", {}, 1))
  end)

  it("shell-1: a fragment repeating a malformed reply pair answers its call once", function()
    local fragment = reproducer("shell-1")
    assert.are.equal("H5Req_a=\173&H5Req_a=\173", fragment)
    local ids, k = { "H5Req_a", "H5Req_b" }, 0
    local c = client.new({
      navigate = function() return true end,
      now = function() return 0 end,
      log = function() end,
      new_req_id = function() k = k + 1 return ids[k] end,
    })
    local runs = 0
    c:call("ping", nil, function() runs = runs + 1 end)
    c:call("ping", nil, function() end)
    assert.are.equal(1, c:receive(fragment))
    assert.are.equal(1, runs)
    assert.are.equal(1, c:pending()) -- H5Req_b is still in flight
    assert.are.equal(1, c:receive("H5Req_a=%E4&H5Req_a=%E4&H5Req_b=0"))
    assert.are.equal(1, runs)
    assert.are.equal(0, c:pending())
  end)
end)
