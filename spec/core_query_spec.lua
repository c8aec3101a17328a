local core = require "mphybrid.core"
local expect = require "helpers.expect"
local prng = require "helpers.prng"
local gen = require "helpers.gen"

local encode_query, decode_query = core.encode_query, core.decode_query

-- Built at run time: Lua 5.1 merges the constants 0 and -0.0.
local NEG_ZERO = tonumber("-0.0")

describe("encode_query", function()
  it("writes the README examples", function()
    assert.are.equal("b=1&cmd=%7B%22api%22%3A%22x%22%7D", encode_query({ cmd = '{"api":"x"}', b = 1 }))
    assert.are.equal("z=1&a=2", encode_query({ { "z", "1" }, { "a", "2" } }))
  end)

  it("sorts the keys of a map bytewise", function()
    assert.are.equal("B=1&_=2&a=3&%C3%A9=4", encode_query({ a = 3, B = 1, _ = 2, ["é"] = 4 }))
    assert.are.equal("10=a&9=b", encode_query({ ["9"] = "b", ["10"] = "a" }))
  end)

  it("gives equal text for equal tables", function()
    local a, b = {}, {}
    local keys = { "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10" }
    for i = 1, #keys do a[keys[i]] = i end
    for i = #keys, 1, -1 do b[keys[i]] = i end
    assert.are.equal(encode_query(a), encode_query(b))
  end)

  it("writes the empty table as the empty string", function()
    assert.are.equal("", encode_query({}))
  end)

  it("percent-encodes keys and values as encodeURIComponent", function()
    assert.are.equal("a%20b=c%26d%3De%2Bf%25", encode_query({ ["a b"] = "c&d=e+f%" }))
    assert.are.equal("%E4%B8%AD=%E6%96%87", encode_query({ ["中"] = "文" }))
    assert.are.equal("k=", encode_query({ k = "" }))
    assert.are.equal("=v", encode_query({ { "", "v" } }))
  end)

  it("writes numbers as JavaScript's String(n)", function()
    assert.are.equal("n=1", encode_query({ n = 1 }))
    assert.are.equal("n=1", encode_query({ n = 1.0 }))
    assert.are.equal("n=1.5", encode_query({ n = 1.5 }))
    assert.are.equal("n=0", encode_query({ n = NEG_ZERO }))
    assert.are.equal("n=-2", encode_query({ n = -2 }))
    assert.are.equal("n=1e%2B21", encode_query({ n = 1e21 }))
    assert.are.equal("n=1e-7", encode_query({ n = 1e-7 }))
    assert.are.equal("n=9007199254740992", encode_query({ n = 2 ^ 53 }))
    assert.are.equal("n=0.30000000000000004", encode_query({ n = 0.1 + 0.2 }))
  end)

  it("writes booleans as true and false", function()
    assert.are.equal("a=true&b=false", encode_query({ a = true, b = false }))
  end)

  it("follows an explicit order, then the keys it does not name, sorted", function()
    local t = { cmd = "x", b = "2", a = "1", z = "26" }
    assert.are.equal("z=26&cmd=x&a=1&b=2", encode_query(t, { "z", "cmd" }))
    assert.are.equal("b=2&a=1&cmd=x&z=26", encode_query(t, { "b", "a", "cmd", "z" }))
    assert.are.equal("a=1&b=2&cmd=x&z=26", encode_query(t, {}))
  end)

  it("writes a key that order names twice once, at its first place", function()
    local t = { cmd = "x", b = "2", a = "1" }
    assert.are.equal("cmd=x&b=2&a=1", encode_query(t, { "cmd", "b", "cmd" }))
    assert.are.equal("b=2&cmd=x&a=1", encode_query(t, { "b", "b", "cmd", "b", "cmd" }))
    assert.are.equal("a=1&b=2&cmd=x", encode_query(t, { "missing", "missing" }))
  end)

  it("writes an array of pairs in its order, repeated keys included", function()
    assert.are.equal("y=1&x=2&y=3", encode_query({ { "y", 1 }, { "x", 2 }, { "y", 3 } }))
  end)

  it("refuses strings that are not UTF-8 with EUTF8", function()
    expect.failure("EUTF8", encode_query({ k = "\255" }))
    expect.failure("EUTF8", encode_query({ ["\237\160\128"] = "v" }))
    expect.failure("EUTF8", encode_query({ { "k", "\192\128" } }))
  end)

  it("does not write a value that is not a string, number or boolean", function()
    for _, bad in ipairs({ {}, function() end, core.null }) do
      local ok, s = pcall(encode_query, { k = bad })
      assert.is_false(ok and type(s) == "string", "wrote " .. tostring(s))
    end
  end)

  it("raises on a wrong argument type", function()
    expect.raises(encode_query)
    expect.raises(encode_query, "a=1")
  end)
end)

describe("decode_query", function()
  it("reads the README example", function()
    assert.are.same({ cmd = "{}", x = "", y = { "1", "2" } }, decode_query("cmd=%7B%7D&x&y=1&y=2"))
  end)

  it("gives a repeated key all its values in order", function()
    assert.are.same({ a = { "1", "", "3" } }, decode_query("a=1&a&a=3"))
  end)

  it("splits a pair on its first =", function()
    assert.are.same({ a = "1=2", b = "=" }, decode_query("a=1=2&b=="))
  end)

  it("skips empty pairs", function()
    assert.are.same({}, decode_query(""))
    assert.are.same({}, decode_query("&&&"))
    assert.are.same({ a = "1", b = "2" }, decode_query("&a=1&&b=2&"))
  end)

  it("reads a pair with an empty key", function()
    assert.are.same({ [""] = "x" }, decode_query("=x"))
  end)

  it("skips a leading ?", function()
    assert.are.same({ a = "1" }, decode_query("?a=1"))
    assert.are.same({ ["?a"] = "1" }, decode_query("%3Fa=1"))
  end)

  it("decodes keys and values with decode_uri_component", function()
    assert.are.same({ ["中 文"] = "a&b=c", ["+"] = "+" }, decode_query("%E4%B8%AD%20%E6%96%87=a%26b%3Dc&%2B=+"))
    assert.are.same({ k = "100%" }, decode_query("k=100%25"))
  end)

  it("keeps + as + unless opts.plus is set", function()
    assert.are.same({ ["a+b"] = "c+d" }, decode_query("a+b=c+d"))
    assert.are.same({ ["a b"] = "c d", p = "+" }, decode_query("a+b=c+d&p=%2B", { plus = true }))
  end)

  it("returns the pairs in order with opts.ordered", function()
    assert.are.same({ { "y", "1" }, { "x", "" }, { "y", "2" }, { "", "z" } },
      decode_query("y=1&x&&y=2&=z", { ordered = true }))
    assert.are.same({}, decode_query("", { ordered = true }))
  end)

  it("refuses a malformed escape with EESCAPE naming the pair", function()
    local v, err, code = decode_query("a=1&b=%zz&c=3")
    expect.failure("EESCAPE", v, err, code)
    assert.is_truthy(err:find("in pair 2", 1, true), err)
    v, err, code = decode_query("a=1&%E4=2")
    expect.failure("EESCAPE", v, err, code)
    assert.is_truthy(err:find("in pair 2", 1, true), err)
    expect.failure("EESCAPE", decode_query("a=100%"))
    expect.failure("EESCAPE", decode_query("a=%ED%A0%80"))
  end)

  it("refuses raw bytes that are not UTF-8", function()
    expect.failure({ "EUTF8", "EESCAPE" }, decode_query("a=\255"))
  end)

  it("reads back what encode_query writes", function()
    local r = prng.new(11)
    for _ = 1, 2000 do
      local t, want = {}, {}
      for _ = 1, r:int(0, 6) do
        local k, v = gen.string(r, 6), gen.string(r, 8)
        t[k], want[k] = v, v
      end
      local q = encode_query(t)
      assert.are.same(want, decode_query(q))
    end
  end)

  it("raises on a wrong argument type", function()
    expect.raises(decode_query)
    expect.raises(decode_query, {})
  end)
end)
