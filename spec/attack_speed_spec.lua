-- Hostile inputs against the fast paths of the core (issue 10): the FFI
-- path on LuaJIT, the small scratch on the C stack, and the number
-- formatting that now casts instead of calling floor.
local core = require "mphybrid.core"
local jit = rawget(_G, "jit")

-- bytes of memory the system says it has free (/proc/meminfo), or 0
local function available_memory()
  local f = io.open("/proc/meminfo", "r")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  local kb = text:match("MemAvailable:%s*(%d+) kB")
  return kb and tonumber(kb) * 1024 or 0
end

describe("the URI codecs reached through LuaJIT's FFI", function()
  it("encode a string whose encoded form could pass 2 GB as the C API path does", function()
    if not jit then
      pending("the FFI path exists only on LuaJIT")
      return
    end
    if available_memory() < 6e9 then
      pending("needs about 4 GB of free memory")
      return
    end
    -- 3n + 1 bytes of room passes what ffi.new can allocate (2^31 - 1)
    local n = 716 * 1000 * 1000
    local s = string.rep("a", n)
    local ok, r = pcall(core.encode_uri_component, s)
    assert.is_true(ok, r)
    assert.are.equal(n, #r)
    assert.is_true(r == s)
  end)
end)
