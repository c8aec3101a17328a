local core = require "mphybrid.core"
local expect = require "helpers.expect"
local paths = require "helpers.paths"
local prng = require "helpers.prng"
local gen = require "helpers.gen"

local decode_json, encode_json = core.decode_json, core.encode_json
local null, array_mt, empty_array = core.null, core.array_mt, core.empty_array

local has_integers = math.type ~= nil

-- Built at run time: Lua 5.1 merges the constants 0 and -0.0.
local NEG_ZERO = tonumber("-0.0")

local function array(t) return setmetatable(t, array_mt) end

local function nested(open, close, n)
  return open:rep(n) .. close:rep(n)
end

describe("null, array_mt, empty_array", function()
  it("null is a light userdata equal to cjson.null", function()
    assert.are.equal("userdata", type(null))
    local ok, cjson = pcall(require, "cjson")
    if ok then assert.are.equal(cjson.null, null) end
    local ok_safe, cjson_safe = pcall(require, "cjson.safe")
    if ok_safe then assert.are.equal(cjson_safe.null, null) end
  end)

  it("array_mt is a table, empty_array a value of its own", function()
    assert.are.equal("table", type(array_mt))
    assert.are_not.equal(null, empty_array)
    assert.is_not_nil(empty_array)
  end)
end)

describe("decode_json", function()
  it("reads the README example", function()
    local v = decode_json('{"a":[1,2.5,null]}')
    assert.are.same({ a = { 1, 2.5, null } }, v)
    assert.are.equal(array_mt, getmetatable(v.a))
  end)

  it("reads null as core.null, so nil always means an error", function()
    assert.are.equal(null, decode_json("null"))
    assert.are.equal(null, decode_json(" null "))
    assert.are.equal(null, decode_json("[null]")[1])
  end)

  it("reads scalars at the top level", function()
    assert.are.equal(true, decode_json("true"))
    assert.are.equal(false, decode_json("false"))
    assert.are.equal(12, decode_json("12"))
    assert.are.equal("s", decode_json('"s"'))
  end)

  it("marks every array with array_mt, empty ones too", function()
    local v = decode_json('[[],{"a":[]},[[1]]]')
    assert.are.equal(array_mt, getmetatable(v))
    assert.are.equal(array_mt, getmetatable(v[1]))
    assert.is_nil(getmetatable(v[2]))
    assert.are.equal(array_mt, getmetatable(v[2].a))
    assert.are.equal(array_mt, getmetatable(v[3][1]))
  end)

  it("keeps [] and {} apart through a round trip", function()
    local s = '{"a":[],"b":{},"c":[{}],"d":[[]]}'
    assert.are.equal(s, encode_json(decode_json(s)))
  end)

  if has_integers then
    it("reads integral numbers within 2^53 as Lua integers", function()
      for _, s in ipairs({ "0", "1", "-1", "100", "1e2", "1.0", "9007199254740992", "-9007199254740992" }) do
        assert.are.equal("integer", math.type(decode_json(s)), s)
      end
      assert.are.equal(100, decode_json("1e2"))
      assert.are.equal(9007199254740992, decode_json("9007199254740992"))
    end)

    it("reads other numbers as floats", function()
      for _, s in ipairs({ "1.5", "-0.25", "1e-7", "9007199254740994", "1e300", "12345678901234567890" }) do
        assert.are.equal("float", math.type(decode_json(s)), s)
      end
    end)
  end

  it("reads numbers as the nearest double", function()
    assert.are.equal(0.1, decode_json("0.1"))
    assert.are.equal(5e-324, decode_json("5e-324"))
    assert.are.equal(1.7976931348623157e308, decode_json("1.7976931348623157e308"))
    assert.are.equal(2 ^ 53, decode_json("9007199254740993"))
    assert.are.equal(1e21, decode_json("1E+21"))
  end)

  it("keeps \\u0000 and everything after it", function()
    assert.are.equal("a\0b", decode_json('"a\\u0000b"'))
    local t = decode_json('{"k\\u0000x":"\\u0000\\u0000"}')
    assert.are.equal("\0\0", t["k\0x"])
    assert.are.equal(2, #t["k\0x"])
  end)

  it("decodes escapes", function()
    assert.are.equal('"\\/\b\f\n\r\t', decode_json('"\\"\\\\\\/\\b\\f\\n\\r\\t"'))
    assert.are.equal("é中", decode_json('"\\u00e9\\u4E2D"'))
    assert.are.equal("😀", decode_json('"\\ud83d\\ude00"'))
    assert.are.equal("\244\143\191\191", decode_json('"\\uDBFF\\uDFFF"'))
  end)

  it("passes raw UTF-8 through", function()
    assert.are.equal("中文 😀 \226\128\168", decode_json('"中文 😀 \226\128\168"'))
  end)

  it("keeps the last value of a repeated key, as JSON.parse", function()
    assert.are.same({ a = "c" }, decode_json('{"a":"b","a":"c"}'))
  end)

  local refused = {
    { "trailing garbage", "{} x" },
    { "a second value", "1 2" },
    { "an extra ]", "[1]]" },
    { "a NUL after the value", "[1]\0" },
    { "a non-hex \\u", '"\\u12G4"' },
    { "a short \\u", '"\\u12"' },
    { "an unknown escape", '"\\x41"' },
    { "a lone high surrogate", '"\\ud800"' },
    { "a lone low surrogate", '"\\udc00"' },
    { "a high surrogate before a non-surrogate", '"\\ud800\\u0041"' },
    { "swapped surrogates", '"\\udc00\\ud800"' },
    { "a high surrogate then a raw character", '"\\ud83dx"' },
    { "a lone surrogate in a key", '{"\\udfff":1}' },
    { "a raw control character", '"a\1b"' },
    { "a raw tab in a string", '"a\tb"' },
    { "a raw newline in a string", '"a\nb"' },
    { "a leading zero", "01" },
    { "a negative leading zero", "-01" },
    { "a leading zero in an array", "[00]" },
    { "a leading +", "+1" },
    { "a bare fraction", ".5" },
    { "a trailing dot", "1." },
    { "an empty exponent", "1e" },
    { "a hex number", "0x10" },
    { "NaN", "NaN" },
    { "Infinity", "Infinity" },
    { "-Infinity", "-Infinity" },
    { "single quotes", "'a'" },
    { "a trailing comma in an array", "[1,]" },
    { "a trailing comma in an object", '{"a":1,}' },
    { "an unquoted key", "{a:1}" },
    { "a comment", "[1]//" },
    { "a byte-order mark", "\239\187\191{}" },
    { "an empty text", "" },
    { "whitespace only", " \n" },
    { "a vertical tab as whitespace", "[\v1]" },
    { "a form feed as whitespace", "[\f1]" },
    { "a no-break space as whitespace", "[\194\1601]" },
    { "True", "True" },
    { "nul", "nul" },
    { "an unterminated string", '"abc' },
    { "an unterminated array", "[1" },
    { "a lone ]", "]" },
  }
  for _, case in ipairs(refused) do
    it("refuses " .. case[1] .. " with EJSON", function()
      expect.failure("EJSON", decode_json(case[2]))
    end)
  end

  local not_utf8 = {
    { "0xFF in a string", '"\255"' },
    { "an overlong form in a string", '"\192\175"' },
    { "an encoded surrogate in a string", '"\237\160\128"' },
    { "a truncated sequence in a string", '"\228\184"' },
    { "a code point above U+10FFFF", '"\244\144\128\128"' },
    { "invalid UTF-8 in a key", '{"\255":1}' },
    { "invalid UTF-8 outside strings", "[1,\255]" },
  }
  for _, case in ipairs(not_utf8) do
    it("refuses " .. case[1], function()
      expect.failure({ "EJSON", "EUTF8" }, decode_json(case[2]))
    end)
  end

  it("gives the byte offset in EJSON messages", function()
    local _, err = decode_json("[1,2,x]")
    assert.is_truthy(err:find("%d"), err)
  end)

  it("takes 1000 levels of nesting by default and refuses 1001 with EDEPTH", function()
    assert.is_table(decode_json(nested("[", "]", 1000)))
    expect.failure("EDEPTH", decode_json(nested("[", "]", 1001)))
    assert.is_table(decode_json(('{"a":'):rep(1000) .. "1" .. ("}"):rep(1000)))
    expect.failure("EDEPTH", decode_json(('{"a":'):rep(1001) .. "1" .. ("}"):rep(1001)))
  end)

  it("takes max_depth per call", function()
    assert.is_table(decode_json("[[[1]]]", { max_depth = 3 }))
    expect.failure("EDEPTH", decode_json("[[[[1]]]]", { max_depth = 3 }))
    expect.failure("EDEPTH", decode_json('{"a":{"b":{"c":{}}}}', { max_depth = 3 }))
    assert.are.equal(1, decode_json("1", { max_depth = 1 }))
  end)

  it("refuses 100,000 open brackets without crashing", function()
    expect.failure({ "EDEPTH", "EJSON" }, decode_json(("["):rep(100000)))
    expect.failure({ "EDEPTH", "EJSON" }, decode_json(('{"a":['):rep(50000)))
  end)

  it("takes texts of up to 16 MiB by default and refuses longer ones with ESIZE", function()
    local fill = ("a"):rep(16 * 1024 * 1024 - 2)
    assert.are.equal(#fill, #decode_json('"' .. fill .. '"'))
    expect.failure("ESIZE", decode_json('"' .. fill .. 'a"'))
  end)

  it("takes max_size per call and refuses longer texts with ESIZE", function()
    assert.are.equal("abc", decode_json('"abc"', { max_size = 5 }))
    expect.failure("ESIZE", decode_json('"abcd"', { max_size = 5 }))
  end)

  it("reads number literals of any length exactly", function()
    local n64 = "1." .. ("0"):rep(62)
    assert.are.equal(64, #n64)
    assert.are.equal(1, decode_json(n64))
    assert.are.same({ 1 }, decode_json("[" .. n64 .. "]"))
    assert.are.equal(1e-81, decode_json("0." .. ("0"):rep(80) .. "1"))
    assert.are.equal(-1e-81, decode_json("-0." .. ("0"):rep(80) .. "1"))
    assert.are.equal(math.pi, decode_json("3.14159265358979323846264338327950288419716939937510582097494459230781"))
    local big = "1234567890123456789012345678901234567890123456789012345678901234567890"
    assert.are.equal(tonumber(big), decode_json(big))
    assert.are.equal(tonumber(big .. "e-60"), decode_json(big .. "e-60"))
    -- just above the midpoint between 2^53 and 2^53 + 2: rounds up, which a
    -- literal cut to 63 characters (exactly the midpoint) would not
    assert.are.equal(9007199254740994, decode_json("9007199254740993." .. ("0"):rep(60) .. "1"))
    assert.are.equal(9007199254740992, decode_json("9007199254740993." .. ("0"):rep(61)))
  end)

  it("reads numbers beyond the double range as +-math.huge and underflow as 0", function()
    assert.are.equal(math.huge, decode_json("1e400"))
    assert.are.equal(-math.huge, decode_json("-1e400"))
    assert.are.same({ math.huge }, decode_json("[1e309]"))
    assert.are.equal(math.huge, decode_json("1" .. ("0"):rep(400)))
    assert.are.equal(0, decode_json("1e-400"))
    assert.are.equal(0, decode_json("-1e-400"))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(decode_json)
    expect.raises(decode_json, {})
  end)
end)

describe("encode_json", function()
  it("writes the README example", function()
    assert.are.equal('{"a":[1,"x"],"b":1e+21}', encode_json({ b = 1e21, a = { 1, "x" } }))
  end)

  it("writes scalars at the top level", function()
    assert.are.equal("null", encode_json(null))
    assert.are.equal("true", encode_json(true))
    assert.are.equal("false", encode_json(false))
    assert.are.equal("1", encode_json(1))
    assert.are.equal('"s"', encode_json("s"))
  end)

  it("writes numbers as JavaScript does", function()
    local cases = {
      { 0, "0" }, { NEG_ZERO, "0" }, { 1.0, "1" }, { -1, "-1" }, { 0.1, "0.1" }, { 0.1 + 0.2, "0.30000000000000004" },
      { 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 1e-7, "1e-7" }, { 1e-6, "0.000001" },
      { 1.5e-7, "1.5e-7" }, { 2 ^ 53, "9007199254740992" }, { -2 ^ 53, "-9007199254740992" },
      { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
      { 123456789012345680000, "123456789012345680000" }, { 1 / 3, "0.3333333333333333" },
      { 100, "100" }, { 1e100, "1e+100" }, { 2.5e-5, "0.000025" }, { 4.35, "4.35" },
    }
    for _, c in ipairs(cases) do
      assert.are.equal("[" .. c[2] .. "]", encode_json(array({ c[1] })), ("%.17g"):format(c[1]))
    end
  end)

  if has_integers then
    it("writes integers beyond 2^53 as the double they round to", function()
      assert.are.equal("[9223372036854776000]", encode_json({ math.maxinteger }))
      assert.are.equal("[-9223372036854776000]", encode_json({ math.mininteger }))
      assert.are.equal("[9007199254740992]", encode_json({ 9007199254740993 }))
      assert.are.equal("[9007199254740991]", encode_json({ 9007199254740991 }))
      assert.are.equal("[3]", encode_json({ 3 }))
      assert.are.equal("[3]", encode_json({ 3.0 }))
    end)
  end

  it("escapes strings as JSON.stringify does", function()
    local want = {
      [0] = "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
      "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
      "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    }
    for b = 0, 31 do
      assert.are.equal('"' .. want[b] .. '"', encode_json(string.char(b)), ("byte %d"):format(b))
    end
    assert.are.equal('"\\"\\\\/\127"', encode_json('"\\/\127'))
    assert.are.equal('"中文😀\226\128\168\226\128\169"', encode_json("中文😀\226\128\168\226\128\169"))
    assert.are.equal('"a\\u0000b"', encode_json("a\0b"))
  end)

  it("writes array-index keys first in numeric order, then the others bytewise", function()
    assert.are.equal('{"9":1,"10":2,"01":3,"a":4,"b":5}',
      encode_json({ b = 5, a = 4, ["01"] = 3, ["10"] = 2, ["9"] = 1 }))
    assert.are.equal('{"0":0,"4294967294":1,"-1":2,"0x":3,"1.5":4,"4294967295":5}',
      encode_json({ ["4294967295"] = 5, ["0x"] = 3, ["4294967294"] = 1, ["-1"] = 2, ["1.5"] = 4, ["0"] = 0 }))
    assert.are.equal('{"":1,"B":2,"_":3,"a":4,"\195\169":5}',
      encode_json({ a = 4, [""] = 1, _ = 3, B = 2, ["é"] = 5 }))
  end)

  it("gives equal text for equal tables", function()
    local a, b = {}, {}
    for i = 1, 50 do a["k" .. i] = i end
    for i = 50, 1, -1 do b["k" .. i] = i end
    assert.are.equal(encode_json(a), encode_json(b))
  end)

  it("tells arrays from objects", function()
    assert.are.equal("[1,2,3]", encode_json({ 1, 2, 3 }))
    assert.are.equal("[]", encode_json(empty_array))
    assert.are.equal("[]", encode_json(setmetatable({}, array_mt)))
    assert.are.equal("{}", encode_json({}))
    assert.are.equal("[null,1]", encode_json({ null, 1 }))
    assert.are.equal('{"1":1}', encode_json({ ["1"] = 1 }))
    assert.are.equal('[[],{}]', encode_json({ empty_array, {} }))
  end)

  it("writes the holes of a table marked with array_mt as null, up to its highest index", function()
    assert.are.equal("[1,null,3]", encode_json(setmetatable({ 1, nil, 3 }, array_mt)))
    assert.are.equal("[1,2,null,4]", encode_json(setmetatable({ [1] = 1, [2] = 2, [4] = 4 }, array_mt)))
    assert.are.equal("[null,null,1]", encode_json(setmetatable({ [3] = 1 }, array_mt)))
  end)

  local refused = {
    { "NaN", 0 / 0 },
    { "Infinity", math.huge },
    { "-Infinity", -math.huge },
    { "NaN in an array", { 1, 0 / 0 } },
    { "a function", function() end },
    { "a coroutine", coroutine.create(function() end) },
    { "a full userdata", io.stdout },
    { "a sparse table", { 1, nil, 3 } },
    { "a table with a hole at 1", { [2] = 1 } },
    { "a mixed table", { 1, 2, a = 3 } },
    { "a table marked with array_mt that has a string key", setmetatable({ a = 1 }, array_mt) },
    { "a table marked with array_mt that mixes items and a string key", setmetatable({ 1, a = 2 }, array_mt) },
    { "a table marked with array_mt that has a float key", setmetatable({ [1.5] = 1 }, array_mt) },
    { "a table marked with array_mt that has a negative key", setmetatable({ [-1] = 1 }, array_mt) },
    { "a table with a key 0", { [0] = 1 } },
    { "a boolean key", { [true] = 1 } },
    { "a float key", { [1.5] = 1 } },
    { "a table key", { [{}] = 1 } },
    { "a string that is not UTF-8", "\255" },
    { "an encoded surrogate", "\237\160\128" },
    { "an overlong form", "\192\128" },
    { "a key that is not UTF-8", { ["\255"] = 1 } },
    { "a nested bad value", { a = { b = { c = function() end } } } },
  }
  for _, case in ipairs(refused) do
    it("refuses " .. case[1] .. " with EVALUE", function()
      expect.failure("EVALUE", encode_json(case[2]))
    end)
  end

  it("reports a cycle as EDEPTH", function()
    local t = {}
    t.self = t
    expect.failure("EDEPTH", encode_json(t))
    local a = {}
    a[1] = a
    expect.failure("EDEPTH", encode_json(a))
  end)

  it("takes 1000 levels of nesting by default and refuses 1001 with EDEPTH", function()
    local function deep(n)
      local t = setmetatable({}, array_mt)
      for _ = 1, n - 1 do t = { t } end
      return t
    end
    assert.are.equal(nested("[", "]", 1000), encode_json(deep(1000)))
    expect.failure("EDEPTH", encode_json(deep(1001)))
    assert.is_string(encode_json(deep(3), { max_depth = 3 }))
    expect.failure("EDEPTH", encode_json(deep(4), { max_depth = 3 }))
  end)

  it("writes up to 16 MiB by default and refuses longer output with ESIZE", function()
    local fill = ("a"):rep(16 * 1024 * 1024 - 2)
    assert.are.equal(16 * 1024 * 1024, #encode_json(fill))
    expect.failure("ESIZE", encode_json(fill .. "a"))
  end)

  it("takes max_size per call and refuses longer output with ESIZE", function()
    assert.are.equal('"abc"', encode_json("abc", { max_size = 5 }))
    expect.failure("ESIZE", encode_json("abcd", { max_size = 5 }))
    expect.failure("ESIZE", encode_json({ ("x"):rep(1000) }, { max_size = 100 }))
  end)

  it("raises on a missing argument", function()
    expect.raises(encode_json)
  end)
end)

describe("encode_json and decode_json", function()
  -- What a value reads back as: integers beyond 2^53 come back as doubles,
  -- empty_array as an empty table marked with array_mt.
  local function as_read_back(v)
    if v == empty_array then return setmetatable({}, array_mt) end
    if type(v) == "number" and has_integers and math.type(v) == "integer"
        and (v > 9007199254740992 or v < -9007199254740992) then
      return v + 0.0
    end
    if type(v) == "table" then
      local t = {}
      for k, x in pairs(v) do t[k] = as_read_back(x) end
      return setmetatable(t, getmetatable(v))
    end
    return v
  end

  it("round-trip 3,000 random values", function()
    local r = prng.new(3)
    for _ = 1, 3000 do
      local v = gen.json_value(r, core, 4)
      local s, err = encode_json(v)
      assert.is_string(s, err)
      local back, err2 = decode_json(s)
      assert.is_not_nil(back, err2)
      assert.are.equal(s, encode_json(back))
      local want = as_read_back(v)
      assert.are.same(want, back)
      if type(want) == "table" then
        assert.are.equal(getmetatable(want) == array_mt or #want > 0, getmetatable(back) == array_mt, s)
      end
    end
  end)
end)

describe("decode_json of texts longer than a piece (64 KiB)", function()
  -- A long text is converted a piece at a time (csrc/mphybrid.c, walk):
  -- each item must read exactly as the same text read on its own.
  local r = prng.new(17)
  local items = {
    '"a\\u0000b"', '{"k\\u0000":"\\u0000"}', ('1'):rep(70), '-0.' .. ('0'):rep(70) .. '1',
    '{"d":1,"d":2}', '[ ]', '{ }', '"\\ud83d\\ude00"', '  {"a" : [ 1 , 2 ] }  ',
  }
  while #items < 4000 do items[#items + 1] = assert(encode_json((gen.json_value(r, core, 4)))) end

  local function each_reads_alone(got, keys)
    for i, item in ipairs(items) do
      local want = decode_json(item)
      assert.are.same(want, got[keys and keys[i] or i], item)
      if type(want) == "table" then
        assert.are.equal(getmetatable(want), getmetatable(got[keys and keys[i] or i]), item)
      end
    end
  end

  it("reads a long array item by item as each item alone", function()
    local text = "[ \n" .. table.concat(items, " ,\t") .. "\r ]"
    assert.is_true(#text > 65536)
    local got, err = decode_json(text)
    assert.is_table(got, err)
    assert.are.equal(#items, #got)
    assert.are.equal(array_mt, getmetatable(got))
    each_reads_alone(got)
  end)

  it("reads a long object member by member, keys with \\u0000 and repeated keys too", function()
    local members, keys = {}, {}
    for i, item in ipairs(items) do
      keys[i] = "k" .. i .. (i % 7 == 0 and "\0x" or "")
      members[i] = encode_json(keys[i]) .. " : " .. item
    end
    local text = "{" .. table.concat(members, ",\n") .. ',"k1":"last"}'
    local got, err = decode_json(text)
    assert.is_table(got, err)
    assert.are.equal("last", got.k1)
    got.k1 = decode_json(items[1])
    each_reads_alone(got, keys)
  end)

  it("reads long containers nested in long containers", function()
    local long = "[" .. table.concat(items, ",") .. "]"
    local text = '{"a":[' .. long .. ',{"b":' .. long .. '},[]],"c":' .. long .. '}'
    local got, err = decode_json(text)
    assert.is_table(got, err)
    each_reads_alone(got.a[1])
    each_reads_alone(got.a[2].b)
    each_reads_alone(got.c)
    assert.are.same(setmetatable({}, array_mt), got.a[3])
  end)

  it("reads a long empty container and a long string", function()
    assert.are.same(setmetatable({}, array_mt), decode_json("[" .. (" "):rep(70000) .. "]"))
    assert.are.same({}, decode_json("{" .. ("\n"):rep(70000) .. "}"))
    local s = ("é\0"):rep(30000)
    assert.are.equal(s, decode_json(encode_json(s)))
    assert.are.same({ s, { s } }, decode_json(encode_json({ s, { s } })))
  end)

  it("refuses a long text past max_depth with EDEPTH", function()
    local text = "[" .. table.concat(items, ",") .. "," .. nested("[", "]", 999) .. "]"
    assert.is_table(decode_json(text))
    expect.failure("EDEPTH", decode_json("[" .. text .. "]"))
  end)
end)

describe("decode_json on JSONTestSuite", function()
  local dir = paths.shared_dir() .. "/conformance/JSONTestSuite/test_parsing"
  local names = paths.list_dir(dir)
  if not names then
    it("needs the JSONTestSuite files", function()
      pending("JSONTestSuite not found at " .. dir)
    end)
    return
  end

  -- Files the README's strictness refuses although the suite leaves them
  -- to the parser: invalid UTF-8, lone surrogates, a byte-order mark.
  local function refused_by_readme(name)
    return name:match("^i_string_") or name == "i_object_key_lone_2nd_surrogate.json"
      or name == "i_structure_UTF-8_BOM_empty_object.json"
  end

  local counts = { y = 0, n = 0, i = 0 }
  for _, name in ipairs(names) do
    local kind = name:match("^([yni])_.*%.json$")
    if kind then
      counts[kind] = counts[kind] + 1
      local s = assert(paths.read_file(dir .. "/" .. name))
      if kind == "y" then
        it("parses " .. name, function()
          local v, err = decode_json(s)
          assert.is_not_nil(v, err)
        end)
      elseif kind == "n" then
        it("refuses " .. name, function()
          expect.failure({ "EJSON", "EDEPTH", "EUTF8" }, decode_json(s))
        end)
      elseif refused_by_readme(name) then
        it("refuses " .. name .. " (README: strict UTF-8, no lone surrogates, no BOM)", function()
          expect.failure({ "EJSON", "EUTF8" }, decode_json(s))
        end)
      else
        it("parses or refuses " .. name .. " without crashing", function()
          local ok, v, err, code = pcall(decode_json, s)
          assert.is_true(ok, tostring(v))
          if v == nil then
            expect.failure({ "EJSON", "EDEPTH", "EUTF8", "ESIZE" }, v, err, code)
          end
        end)
      end
    end
  end

  it("found the whole suite", function()
    assert.is_true(counts.y >= 90 and counts.n >= 180 and counts.i >= 30)
  end)

  it("parses i_structure_500_nested_arrays.json (within the default depth)", function()
    local s = paths.read_file(dir .. "/i_structure_500_nested_arrays.json")
    assert.is_table(decode_json(s))
  end)
end)
