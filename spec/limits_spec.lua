-- The limits of mphybrid.core bound the cost of a call, whatever the value:
-- output is held to max_size as it is written (not after), and values within
-- max_depth are handled on every Lua, whatever their width.

local core = require "mphybrid.core"
local expect = require "helpers.expect"

local encode_json, decode_json, encode_reply = core.encode_json, core.decode_json, core.encode_reply
local array_mt = core.array_mt

local function array(t) return setmetatable(t, array_mt) end
local function bad() end -- a value JSON cannot carry: EVALUE when it is reached

-- 999 levels, each an object of 8 keys (the last one the next level)
local function deep_and_wide(levels)
  local top = {}
  local t = top
  for _ = 1, levels - 1 do
    for k = 1, 7 do t["k" .. k] = k end
    t.next = {}
    t = t.next
  end
  return top
end

describe("encode_json holds max_size as it writes", function()
  it("stops writing the holes of an array_mt array at max_size", function()
    -- 40 items fit in 100 bytes at the least (2n + 1), but 40 nulls do not:
    -- the limit is reached before the function at index 40 is
    expect.failure("ESIZE", encode_json(array({ [40] = bad }), { max_size = 100 }))
  end)

  it("refuses an array_mt array whose highest index alone cannot fit, before writing", function()
    expect.failure("ESIZE", encode_json(array({ [1e6] = bad }), { max_size = 100 }))
    expect.failure("ESIZE", encode_json(array({ [1e9] = true }), { max_size = 100 }))
    expect.failure("ESIZE", encode_json(array({ [2 ^ 53] = true })))
    expect.failure("ESIZE", encode_json({ a = { array({ [2 ^ 53] = true }) } }))
  end)

  it("still writes an array_mt array that fits, holes as null", function()
    assert.are.equal("[null,null,null,1]", encode_json(array({ [4] = 1 }), { max_size = 18 }))
    expect.failure("ESIZE", encode_json(array({ [4] = 1 }), { max_size = 17 }))
    assert.are.equal(("null,"):rep(999) .. "1", encode_json(array({ [1000] = 1 })):sub(2, -2))
  end)

  it("checks max_size after every value, not only after strings and tables", function()
    local items = {}
    for i = 1, 1000 do items[i] = true end
    items[1001] = bad
    expect.failure("ESIZE", encode_json(items, { max_size = 100 }))
    local numbers = {}
    for i = 1, 1000 do numbers[i] = i end
    numbers[1001] = bad
    expect.failure("ESIZE", encode_json(numbers, { max_size = 100 }))
    local object = { zzz = bad }
    for i = 1, 100 do object[("k%03d"):format(i)] = false end
    expect.failure("ESIZE", encode_json(object, { max_size = 100 }))
  end)

  it("refuses a string longer than max_size before escaping it", function()
    expect.failure("ESIZE", encode_json(("\1"):rep(1000), { max_size = 100 }))
    assert.are.equal(('"' .. ("\\u0001"):rep(16) .. '"'), encode_json(("\1"):rep(16), { max_size = 98 }))
    expect.failure("ESIZE", encode_json(("\1"):rep(16), { max_size = 97 }))
  end)
end)

describe("values within max_depth on every Lua", function()
  it("encode_json writes 999 levels of 8 keys each", function()
    local s, err = encode_json(deep_and_wide(999))
    assert.is_string(s, err)
    assert.are.equal(999, select(2, s:gsub("{", "")))
  end)

  it("encode_json writes 999 levels of 300 keys each", function()
    local top = {}
    local t = top
    for _ = 1, 998 do
      for k = 1, 299 do t["k" .. k] = k end
      t.next = {}
      t = t.next
    end
    local s, err = encode_json(top)
    assert.is_string(s, err)
    assert.are.equal(999, select(2, s:gsub("{", "")))
  end)

  it("encode_json refuses 1000 levels of 8 keys past max_depth with EDEPTH, not a raise", function()
    local v = deep_and_wide(1000)
    assert.is_string(encode_json(v))
    expect.failure("EDEPTH", encode_json({ v }))
  end)

  it("decode_json reads 999 levels of 8 keys each", function()
    local level = '"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"next":'
    local s = ("{" .. level):rep(998) .. "{}" .. ("}"):rep(998)
    local v, err = decode_json(s)
    assert.is_table(v, err)
    for _ = 1, 998 do
      assert.are.equal(7, v.k7)
      v = v.next
    end
    assert.are.same({}, v)
  end)

  it("encode_reply writes a reply value of 999 levels of 8 keys each", function()
    local src, err = encode_reply("u", { r = deep_and_wide(999) }, 1)
    assert.is_string(src, err)
  end)
end)

describe("encode_reply holds max_size as it writes", function()
  it("takes max_size (bytes of the whole src) and refuses a longer src with ESIZE", function()
    assert.are.equal("u#r=abc&v=1", encode_reply("u", { r = "abc" }, 1, { max_size = 11 }))
    expect.failure("ESIZE", encode_reply("u", { r = "abc" }, 1, { max_size = 10 }))
    expect.failure("ESIZE", encode_reply(("u"):rep(100), { r = "0" }, 1, { max_size = 100 }))
    expect.failure("ESIZE", encode_reply("u", { r = ("x"):rep(200) }, 1, { max_size = 100 }))
  end)

  it("stops a JSON value at the room left in the src", function()
    -- the holes of an array_mt value: bounded by the src, not by the index
    expect.failure("ESIZE", encode_reply("u", { r = array({ [1e9] = true }) }, 1, { max_size = 100 }))
    expect.failure("ESIZE", encode_reply("u", { r = array({ [40] = bad }) }, 1, { max_size = 100 }))
    expect.failure("ESIZE", encode_reply("u", { { "a", ("x"):rep(60) }, { "b", array({ [20] = bad }) } },
      1, { max_size = 100 }))
  end)

  it("holds 16 MiB by default", function()
    expect.failure("ESIZE", encode_reply("u", { r = array({ [2 ^ 53] = true }) }, 1))
    expect.failure("ESIZE", encode_reply("u", { a = ("x"):rep(9 * 2 ^ 20), b = ("x"):rep(9 * 2 ^ 20) }, 1))
  end)

  it("checks its options where they are given", function()
    expect.raises(encode_reply, "u", { r = "0" }, 1, { max_size = 0 })
    expect.raises(encode_reply, "u", { r = "0" }, 1, { max_size = 1.5 })
    expect.raises(encode_reply, "u", { r = "0" }, 1, { max_size = "100" })
    expect.raises(encode_reply, "u", { r = "0" }, 1, 100)
  end)
end)
