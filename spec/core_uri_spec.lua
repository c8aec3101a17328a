local core = require "mphybrid.core"
local expect = require "helpers.expect"
local prng = require "helpers.prng"
local gen = require "helpers.gen"
local text = require "helpers.text"

local encode, decode = core.encode_uri_component, core.decode_uri_component

local UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"

-- Byte strings that are not UTF-8, one per way of getting it wrong.
local NOT_UTF8 = {
  { "a lone continuation byte", "\128" },
  { "0xFF", "a\255b" },
  { "0xFE", "\254" },
  { "an overlong two-byte NUL", "\192\128" },
  { "an overlong two-byte '/'", "\193\175" },
  { "an overlong three-byte form", "\224\128\175" },
  { "an overlong three-byte U+07FF", "\224\159\191" },
  { "an overlong four-byte form", "\240\143\191\191" },
  { "the surrogate U+D800", "\237\160\128" },
  { "the surrogate U+DFFF", "\237\191\191" },
  { "a surrogate pair written as two three-byte forms", "\237\160\189\237\184\128" },
  { "U+110000", "\244\144\128\128" },
  { "a 0xF5 lead byte", "\245\128\128\128" },
  { "a five-byte form", "\248\136\128\128\128" },
  { "a truncated three-byte sequence", "\228\184" },
  { "a truncated four-byte sequence at the end", "ok\240\159\152" },
  { "a lead byte followed by ASCII", "\228a\173" },
}

describe("encode_uri_component", function()
  it("writes the README example", function()
    assert.are.equal("%7B%22a%22%3A%22%E4%B8%AD%20%26%22%7D", encode('{"a":"中 &"}'))
  end)

  it("leaves exactly A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are", function()
    assert.are.equal(UNRESERVED, encode(UNRESERVED))
    for b = 0, 127 do
      local c = string.char(b)
      local want = UNRESERVED:find(c, 1, true) and c or ("%%%02X"):format(b)
      assert.are.equal(want, encode(c), ("byte 0x%02X"):format(b))
    end
  end)

  it("writes %XX with uppercase hex for every UTF-8 byte", function()
    assert.are.equal("%C3%A9", encode("é"))
    assert.are.equal("%E4%B8%AD%E6%96%87", encode("中文"))
    assert.are.equal("%F0%9F%98%80", encode("😀"))
    assert.are.equal("%2B%25%3D%26%23%2F%3F%20", encode("+%=&#/? "))
  end)

  it("keeps NUL bytes and everything after them", function()
    assert.are.equal("a%00b%00", encode("a\0b\0"))
  end)

  it("writes the empty string as the empty string", function()
    assert.are.equal("", encode(""))
  end)

  it("accepts the UTF-8 boundary code points", function()
    local cases = {
      { "\127", "%7F" }, { "\194\128", "%C2%80" }, { "\223\191", "%DF%BF" },
      { "\224\160\128", "%E0%A0%80" }, { "\237\159\191", "%ED%9F%BF" },
      { "\238\128\128", "%EE%80%80" }, { "\239\191\191", "%EF%BF%BF" },
      { "\240\144\128\128", "%F0%90%80%80" }, { "\244\143\191\191", "%F4%8F%BF%BF" },
      { "\239\187\191", "%EF%BB%BF" },
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[2], encode(c[1]))
    end
  end)

  for _, case in ipairs(NOT_UTF8) do
    local what, s = case[1], case[2]
    it("refuses " .. what .. " with EUTF8", function()
      expect.failure("EUTF8", encode(s))
    end)
  end

  it("encodes a 1 MiB string", function()
    local n = math.floor(1024 * 1024 / 5) + 1
    local s = ("中a "):rep(n)
    local e = encode(s)
    assert.are.equal(n * 13, #e)
    assert.are.equal(s, decode(e))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(encode)
    expect.raises(encode, nil)
    expect.raises(encode, {})
    expect.raises(encode, true)
  end)
end)

describe("decode_uri_component", function()
  it("decodes the README examples", function()
    assert.are.equal("a b+c", decode("a%20b+c"))
    local v, err, code = decode("100%")
    assert.is_nil(v)
    assert.are.equal("EESCAPE: malformed escape at byte 4", err)
    assert.are.equal("EESCAPE", code)
  end)

  it("keeps + as +", function()
    assert.are.equal("1+1=2", decode("1+1=2"))
    assert.are.equal("+", decode("%2B"))
    assert.are.equal("+", decode("%2b"))
  end)

  it("decodes every escape, reserved characters included", function()
    assert.are.equal("#/?&=%", decode("%23%2F%3F%26%3D%25"))
    assert.are.equal("\0", decode("%00"))
    assert.are.equal("%41", decode("%2541"))
  end)

  it("accepts lowercase and mixed-case hex", function()
    assert.are.equal("中", decode("%e4%B8%aD"))
  end)

  it("passes raw UTF-8 through", function()
    assert.are.equal("中文 é😀", decode("中文 é😀"))
    assert.are.equal("", decode(""))
  end)

  local malformed = {
    "%", "%4", "%G0", "%0G", "%%", "%%41", "% 1", "a%", "a%2", "%-1", "%+1", "%\228\184\173",
    "%E4%", "%E4%B", "%E4%B8%",
  }
  for _, s in ipairs(malformed) do
    it("refuses the malformed escape in " .. text.show(s) .. " with EESCAPE", function()
      expect.failure("EESCAPE", decode(s))
    end)
  end

  local escaped_not_utf8 = {
    "%E4", "%E4%B8", "%E4%B8x", "%80", "%BF", "%FF", "%FE", "%C0%80", "%C1%BF", "%E0%80%80",
    "%ED%A0%80", "%ED%BF%BF", "%ED%A0%BD%ED%B8%80", "%F0%8F%BF%BF", "%F4%90%80%80",
    "%F5%80%80%80", "%F8%88%80%80%80", "a%C3", "%C3a",
  }
  for _, s in ipairs(escaped_not_utf8) do
    it("refuses escaped bytes that are not UTF-8 in " .. text.show(s) .. " with EESCAPE", function()
      expect.failure("EESCAPE", decode(s))
    end)
  end

  it("does not let raw and escaped bytes combine into one character", function()
    -- "\228" raw then "%B8%AD": neither half is UTF-8 on its own
    local v = decode("\228%B8%AD")
    assert.is_nil(v)
    v = decode("%E4\184\173")
    assert.is_nil(v)
  end)

  for _, case in ipairs(NOT_UTF8) do
    local what, s = case[1], case[2]
    it("refuses raw bytes that are not UTF-8 (" .. what .. ") with EUTF8", function()
      expect.failure("EUTF8", decode(s))
    end)
  end

  it("reports the byte position of a malformed escape", function()
    local _, err = decode("abc%zz")
    assert.is_truthy(err:find("byte 4", 1, true), err)
  end)

  it("raises on a wrong argument type", function()
    expect.raises(decode)
    expect.raises(decode, {})
  end)
end)

describe("encode_uri_component and decode_uri_component", function()
  it("round-trip 5,000 random UTF-8 strings", function()
    local r = prng.new(7)
    for _ = 1, 5000 do
      local s = gen.string(r, 20)
      local e = encode(s)
      assert.is_string(e)
      assert.is_nil(e:find("[^%w%-_%.!~%*'%(%)%%]"), text.show(e))
      assert.are.equal(s, decode(e))
    end
  end)
end)
