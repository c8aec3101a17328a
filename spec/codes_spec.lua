-- The result codes come from one list in csrc/errors.h: the codes the core
-- returns, core.codes and errors.codes cannot differ.
local core = require "mphybrid.core"
local errors = require "mphybrid.errors"

-- one call that fails with each code the core returns
local failures = {
  EUTF8 = function() return core.encode_uri_component("\255") end,
  EESCAPE = function() return core.decode_uri_component("100%") end,
  EJSON = function() return core.decode_json("[1,]") end,
  EDEPTH = function() return core.decode_json("[[1]]", { max_depth = 1 }) end,
  ESIZE = function() return core.encode_json("abc", { max_size = 2 }) end,
  EVALUE = function() return core.encode_json(0 / 0) end,
  ECMD = function() return core.decode_cmd('{"api":""}') end,
  EURL = function() return core.encode_reply(" ", { r = "0" }) end,
}

describe("the result codes", function()
  it("core.codes lists every code a core function returns, and no other", function()
    local listed = {}
    for code, meaning in pairs(core.codes) do
      assert.is_string(meaning)
      assert.is_truthy(failures[code], code .. " is listed but no call here returns it")
      listed[code] = true
    end
    for code, call in pairs(failures) do
      local v, err, got = call()
      assert.is_nil(v)
      assert.are.equal(code, got)
      assert.are.equal(code .. ": ", err:sub(1, #code + 2))
      assert.is_true(listed[code], code .. " is returned but not listed in core.codes")
    end
  end)

  it("errors.codes holds the core's codes with the core's meanings", function()
    for code, meaning in pairs(core.codes) do
      assert.are.equal(meaning, errors.codes[code])
    end
  end)
end)
