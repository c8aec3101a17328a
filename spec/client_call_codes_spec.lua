-- c:call fails only with the codes its documentation lists (EVALUE, EUTF8,
-- EDEPTH, ETOOLONG, ENAVIGATE), returned and never heard by the callback
-- too, and refuses api and params over max_url
-- without encoding more of them than max_url.

local core = require "mphybrid.core"
local client = require "mphybrid.client"

local DOCUMENTED = { EVALUE = true, EUTF8 = true, EDEPTH = true, ETOOLONG = true, ENAVIGATE = true }

local function deep(n)
  local t = {}
  for _ = 1, n do t = { t } end
  return t
end

describe("c:call that cannot send its command", function()
  local c
  before_each(function()
    c = client.new({ navigate = function() end, now = function() return 0 end, log = function() end })
  end)

  -- the failure is returned, and never heard by the callback too
  local function refused(api, params)
    local heard = 0
    local id, err, code = c:call(api, params, function() heard = heard + 1 end)
    assert.is_nil(id)
    assert.is_string(code)
    assert.same(code .. ": ", err:sub(1, #code + 2))
    assert.same(0, heard)
    assert.same(0, c:pending())
    return code
  end

  it("fails with ETOOLONG, not ESIZE, for params whose JSON is over every max_size", function()
    assert.same("ETOOLONG", refused("save", { text = ("x"):rep(17 * 2^20) }))
  end)

  it("fails with ETOOLONG for an api name longer than max_url", function()
    assert.same("ETOOLONG", refused(("a"):rep(5000), nil))
  end)

  it("fails with a documented code for every kind of params it cannot send", function()
    local cases = {
      { "a function", function() end },
      { "NaN", 0 / 0 },
      { "a string that is not UTF-8", "\255" },
      { "nesting 1001 deep", deep(1001) },
      { "a long string", ("x"):rep(5000) },
      { "a huge string", ("x"):rep(17 * 2^20) },
      { "an array with a hole at 200000", setmetatable({ [200000] = true }, core.array_mt) },
      { "an array with a hole at 1e9", setmetatable({ [1e9] = true }, core.array_mt) },
      { "an array with a hole at 2^53", setmetatable({ [2^53] = true }, core.array_mt) },
      { "a table with mixed keys", { 1, a = 2 } },
    }
    local undocumented = {}
    for _, case in ipairs(cases) do
      local code = refused("save", case[2])
      if not DOCUMENTED[code] then
        undocumented[#undocumented + 1] = case[1] .. ": " .. tostring(code)
      end
    end
    assert.same({}, undocumented)
  end)

  it("never hands encode_json a max_size over max_url", function()
    local real = core.encode_json
    local sizes = {}
    core.encode_json = function(v, opts)
      sizes[#sizes + 1] = opts and opts.max_size or math.huge
      return real(v, opts)
    end
    package.loaded["mphybrid.client"] = nil
    local ok, fresh = pcall(require, "mphybrid.client")
    package.loaded["mphybrid.client"] = client
    core.encode_json = real
    assert(ok, fresh)
    local f = fresh.new({ navigate = function() end, max_url = 300 })
    f:call("save", { text = ("x"):rep(100) }, function() end)
    f:call("other", { text = ("x"):rep(1000) }, function() end)
    assert.is_true(#sizes >= 3)
    for _, size in ipairs(sizes) do
      assert.is_true(size <= 300, "encode_json given max_size " .. size)
    end
  end)
end)
