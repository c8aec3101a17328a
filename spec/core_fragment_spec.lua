local core = require "mphybrid.core"
local expect = require "helpers.expect"
local text = require "helpers.text"

local set_fragment, get_fragment, decode_fragment = core.set_fragment, core.get_fragment, core.decode_fragment

describe("set_fragment", function()
  it("writes the README example", function()
    assert.are.equal("https://h5.example.com/p?a=1#r=0",
      set_fragment(" https://h5.example.com/p?a=1#old ", "r=0"))
  end)

  it("returns an empty or absent url unchanged", function()
    assert.are.equal("", set_fragment("", "r=0"))
    assert.is_nil(set_fragment(nil, "r=0"))
  end)

  it("returns a blank url trimmed, as the published setUrlHash does (url = String(url).trim(), then returned)", function()
    assert.are.equal("", set_fragment(" ", "r=0"))
    assert.are.equal("", set_fragment(" \t\r\n\227\128\128", "f"))
  end)

  it("appends the fragment to a url that has none", function()
    assert.are.equal("https://h5.example.com/p#H5Req_ab=0&v=1", set_fragment("https://h5.example.com/p", "H5Req_ab=0&v=1"))
  end)

  it("drops everything from the first #", function()
    assert.are.equal("a#new", set_fragment("a#b#c", "new"))
    assert.are.equal("#new", set_fragment("#only", "new"))
    assert.are.equal("https://h5.example.com/#new", set_fragment("https://h5.example.com/#/route?x=1", "new"))
  end)

  it("appends an empty fragment as a bare #", function()
    assert.are.equal("https://h5.example.com/p#", set_fragment("https://h5.example.com/p#x", ""))
  end)

  it("trims what JavaScript's trim trims, Unicode spaces included", function()
    for _, cp in ipairs(text.js_trimmed) do
      local sp = text.utf8(cp)
      assert.are.equal("u#f", set_fragment(sp .. "u" .. sp .. sp, "f"), ("U+%04X"):format(cp))
    end
  end)

  it("does not trim what JavaScript's trim keeps", function()
    for _, cp in ipairs(text.js_not_trimmed) do
      local c = text.utf8(cp)
      assert.are.equal(c .. "u" .. c .. "#f", set_fragment(c .. "u" .. c, "f"), ("U+%04X"):format(cp))
    end
  end)

  it("keeps inner whitespace", function()
    assert.are.equal("a b\tc#f", set_fragment("\t a b\tc \n", "f"))
  end)

  it("trims before it looks for #", function()
    assert.are.equal("#f", set_fragment("  #x", "f"))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(set_fragment, {}, "f")
    expect.raises(set_fragment, "u", {})
  end)
end)

describe("get_fragment", function()
  it("returns what follows the first #", function()
    assert.are.equal("H5Req_ab=0&v=17", get_fragment("https://h5.example.com/p?a=1#H5Req_ab=0&v=17"))
    assert.are.equal("b#c", get_fragment("a#b#c"))
    assert.are.equal("", get_fragment("a#"))
    assert.are.equal("x", get_fragment("#x"))
  end)

  it("returns nil when there is no #", function()
    assert.is_nil(get_fragment("https://h5.example.com/p?a=1"))
    assert.is_nil(get_fragment(""))
  end)

  it("reads back what set_fragment writes", function()
    assert.are.equal("r=1", get_fragment(set_fragment("https://h5.example.com/p#old", "r=1")))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(get_fragment)
    expect.raises(get_fragment, {})
  end)
end)

describe("decode_fragment", function()
  it("reads the README example, reporting the bad pair", function()
    local t, bad = decode_fragment("#H5Req_ab=0&bad=%E4&v=17")
    assert.are.same({ H5Req_ab = "0", v = "17" }, t)
    assert.are.equal(1, #bad)
    assert.are.equal(2, bad[1].index)
    assert.are.equal("bad=%E4", bad[1].pair)
    assert.are.equal("EESCAPE:", bad[1].err:sub(1, 8))
  end)

  it("returns nil as second result when every pair is fine", function()
    local t, bad = decode_fragment("H5Req_ab=0&v=17")
    assert.are.same({ H5Req_ab = "0", v = "17" }, t)
    assert.is_nil(bad)
  end)

  it("reads a fragment with or without its #", function()
    assert.are.same(decode_fragment("#a=1"), decode_fragment("a=1"))
  end)

  it("gives a pair without = the value \"\"", function()
    assert.are.same({ a = "", b = "2" }, (decode_fragment("a&b=2")))
  end)

  it("skips empty pairs", function()
    assert.are.same({}, (decode_fragment("")))
    assert.are.same({}, (decode_fragment("#")))
    assert.are.same({ a = "1" }, (decode_fragment("&&a=1&&")))
  end)

  it("keeps the last value of a repeated key", function()
    assert.are.same({ a = "3" }, (decode_fragment("a=1&a=2&a=3")))
  end)

  it("splits a pair on its first =", function()
    assert.are.same({ r = "a=b" }, (decode_fragment("r=a=b")))
  end)

  it("decodes keys and values", function()
    local t = decode_fragment("H5Req_x=%7B%22ok%22%3Atrue%2C%22s%22%3A%22%E4%B8%AD%20%26%22%7D&v=1")
    assert.are.equal('{"ok":true,"s":"中 &"}', t.H5Req_x)
    assert.are.equal("+", decode_fragment("k=+").k)
  end)

  it("reports every bad pair and keeps the others", function()
    local t, bad = decode_fragment("a=%&b=1&%zz=2&c=%ED%A0%80&d=4")
    assert.are.same({ b = "1", d = "4" }, t)
    assert.are.equal(3, #bad)
    assert.are.same({ 1, 3, 4 }, { bad[1].index, bad[2].index, bad[3].index })
    assert.are.same({ "a=%", "%zz=2", "c=%ED%A0%80" }, { bad[1].pair, bad[2].pair, bad[3].pair })
    for _, b in ipairs(bad) do
      assert.are.equal("EESCAPE:", b.err:sub(1, 8))
    end
  end)

  it("does not fail when every pair is bad", function()
    local t, bad = decode_fragment("%&%%")
    assert.are.same({}, t)
    assert.are.equal(2, #bad)
  end)

  it("raises on a wrong argument type", function()
    expect.raises(decode_fragment)
    expect.raises(decode_fragment, {})
  end)
end)

describe("trim", function()
  it("trims what JavaScript's trim trims, Unicode spaces included, and keeps the rest", function()
    for _, cp in ipairs(text.js_trimmed) do
      local sp = text.utf8(cp)
      assert.are.equal("a" .. sp .. "b", core.trim(sp .. sp .. "a" .. sp .. "b" .. sp), ("U+%04X"):format(cp))
      assert.are.equal("", core.trim(sp .. sp), ("U+%04X"):format(cp))
    end
    for _, cp in ipairs(text.js_not_trimmed) do
      local c = text.utf8(cp)
      assert.are.equal(c .. "u" .. c, core.trim(c .. "u" .. c), ("U+%04X"):format(cp))
    end
    assert.are.equal("\255", core.trim(" \255\t"))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(core.trim)
    expect.raises(core.trim, {})
  end)
end)
