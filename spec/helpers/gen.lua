-- Random inputs for the oracle spec: strings as UTF-16 code units (so that
-- lone surrogates exist on the JavaScript side too), raw byte strings with
-- invalid UTF-8, numbers, JSON values and JSON texts.

local text = require "helpers.text"

local format, concat = string.format, table.concat

local gen = {}

local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local UNRESERVED_PUNCT = "-_.!~*'()"
local OTHER_ASCII = " \"#$%&+,/:;<=>?@[\\]^`{|}"

local function pick_char(r, set)
  local i = r:int(1, #set)
  return set:byte(i)
end

-- One code point of a random class. With allow_lone, sometimes a lone
-- surrogate code unit (only meaningful as a UTF-16 unit).
function gen.code_point(r, allow_lone)
  local c = r:int(1, allow_lone and 21 or 20)
  if c <= 5 then
    return pick_char(r, ALNUM)
  elseif c == 6 then
    return pick_char(r, UNRESERVED_PUNCT)
  elseif c <= 8 then
    return pick_char(r, OTHER_ASCII)
  elseif c == 9 then
    return r:chance(0.9) and r:int(0, 0x1F) or 0x7F
  elseif c == 10 then
    return r:pick({ 0x80, 0x85, 0xA0, 0xFF, 0x100, 0x7FF, r:int(0x80, 0x7FF) })
  elseif c <= 13 then
    return r:int(0x4E00, 0x9FA5) -- CJK
  elseif c == 14 then
    return r:pick({ 0x800, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x3000, 0x2028,
                    0x2029, 0x200B, r:int(0x800, 0xD7FF), r:int(0xE000, 0xFFFF) })
  elseif c <= 16 then
    return r:int(0x1F300, 0x1FAFF) -- emoji
  elseif c == 17 then
    return r:pick({ 0x10000, 0x10FFFF, 0x1D11E, r:int(0x10000, 0x10FFFF) })
  elseif c == 18 then
    return r:pick(text.js_trimmed)
  elseif c == 19 then
    return r:pick(text.js_not_trimmed)
  elseif c == 20 then
    return r:pick({ 0x25, 0x2B, 0x3D, 0x26, 0x23, 0x3F, 0x2F }) -- % + = & # ? /
  else
    return r:chance(0.5) and r:int(0xD800, 0xDBFF) or r:int(0xDC00, 0xDFFF)
  end
end

-- A list of code points (no lone surrogates).
function gen.code_points(r, maxlen)
  local n = r:int(0, maxlen or 12)
  local cps = {}
  for i = 1, n do cps[i] = gen.code_point(r, false) end
  return cps
end

-- UTF-16 code units, possibly with lone surrogates, and the matching bytes.
function gen.js_string(r, maxlen, allow_lone)
  local n = r:int(0, maxlen or 12)
  local cps = {}
  for i = 1, n do cps[i] = gen.code_point(r, allow_lone) end
  local units = text.units_of(cps)
  return units, text.from_units(units)
end

-- A valid UTF-8 string.
function gen.string(r, maxlen)
  local _, s = gen.js_string(r, maxlen, false)
  return s
end

-- Byte sequences that are not UTF-8 (or not on their own).
gen.bad_utf8 = {
  "\255", "\254", "\192\128", "\193\191", "\224\128\128", "\224\159\191",
  "\237\160\128", "\237\191\191", "\237\176\128", "\240\128\128\128",
  "\240\143\191\191", "\244\144\128\128", "\245\128\128\128", "\248\136\128\128\128",
  "\128", "\191", "\228\184", "\240\159\152", "\195", "\237\160\128\237\176\128",
}

-- Bytes: mostly valid characters, with invalid sequences mixed in at rate p.
function gen.bytes(r, maxlen, p)
  local n = r:int(0, maxlen or 12)
  local out = {}
  for i = 1, n do
    if r:chance(p or 0.1) then
      out[i] = r:pick(gen.bad_utf8)
    else
      out[i] = text.utf8(gen.code_point(r, false))
    end
  end
  return concat(out)
end

local HEX = "0123456789ABCDEF"
local function pct(r, b)
  local s = format("%%%02X", b)
  if r:chance(0.3) then s = s:lower() end
  return s
end

-- Input for decodeURIComponent: raw characters, escapes of whole
-- characters, escapes of invalid UTF-8, malformed escapes, and (at rate
-- raw_bad) raw invalid bytes.
function gen.uri_encoded(r, maxlen, raw_bad)
  local n = r:int(0, maxlen or 10)
  local out = {}
  for i = 1, n do
    local c = r:int(1, 20)
    if c <= 6 then
      out[i] = text.utf8(gen.code_point(r, false))
    elseif c <= 13 then
      local s = text.utf8(gen.code_point(r, false))
      out[i] = s:gsub(".", function(ch) return pct(r, ch:byte()) end)
    elseif c <= 15 then
      out[i] = r:pick({ "+", "%2B", "%2b", "%25", "%00", "%20", "%23", "%26", "%3D", "%7F" })
    elseif c <= 17 then
      local s = r:pick(gen.bad_utf8)
      out[i] = s:gsub(".", function(ch) return pct(r, ch:byte()) end)
    elseif c <= 19 then
      local h1 = HEX:sub(r:int(1, 16), r:int(1, 16))
      out[i] = r:pick({ "%", "%" .. h1:sub(1, 1), "%G0", "%0g", "%%", "%%41", "% 1",
                        "%\228\184\173", "%-1", "%+1", "%E4%", "%E4%B" })
    else
      if r:chance(raw_bad or 0) then
        out[i] = r:pick(gen.bad_utf8)
      else
        out[i] = "%" .. format("%02X", r:int(0x80, 0xFF)) -- a lone escaped byte
      end
    end
  end
  return concat(out)
end

-- Numbers -------------------------------------------------------------------

local has_integers = math.type ~= nil

-- -0.0 is built at run time: Lua 5.1 merges the constants 0 and -0.0.
local NEG_ZERO = tonumber("-0.0")

gen.edge_numbers = {
  0, NEG_ZERO, 1, -1, 0.1, 0.2, 0.1 + 0.2, 0.3, 1 / 3, 2 / 3, 0.5, 1.5, 4.35, 100, 1e-6, 1e-7,
  -1e-7, 1.5e-7, 0.000001, 0.0000012345, 1e20, 1e21, -1e21, 1e22, 999999999999999999999,
  123456789012345680000, 1.2345678901234567e20, 1e100, 1.5e300, 2 ^ 31, 2 ^ 32, 2 ^ 52,
  2 ^ 53, 2 ^ 53 - 1, -2 ^ 53, 2 ^ 53 + 2, 2 ^ 63, 2 ^ 64, -2 ^ 63, 1e16, 1e15 + 0.3,
  12345.6789, 5e-324, -5e-324, 1e-323, 2.2250738585072014e-308, 2.225073858507201e-308,
  1.7976931348623157e308, -1.7976931348623157e308, 1.7976931348623155e308, 4.9406564584124654e-324,
  9007199254740993, 0.1 * 3, 1e-5, 123e-20, 5e-7, 2e21, 1.0000000000000002, 0.9999999999999999,
  299792458, 6.02214076e23, 6.62607015e-34, 1e308, 1e-308,
}

-- A random finite number: edge values, small and large integers, short
-- decimals, and doubles from random bit patterns.
function gen.number(r)
  local c = r:int(1, 10)
  if c <= 2 then
    return r:pick(gen.edge_numbers)
  elseif c <= 4 then
    local v = r:int(-1000000, 1000000)
    if r:chance(0.5) then v = v + 0.0 end -- a float with an integral value
    return v
  elseif c == 5 then
    local v = r:int(0, 9007199254740991)
    if r:chance(0.5) then v = -v end
    return v + 0.0
  elseif c == 6 then
    -- 64-bit integers: Lua integers on 5.3+ (beyond 2^53 too), the double
    -- they round to elsewhere. The same draws either way.
    local hi = r:int(0, 2147483647)
    local lo = r:int(0, 4294967295)
    local negative = r:chance(0.5)
    local which = r:int(1, 6)
    if has_integers then
      local v = math.tointeger(hi) * 4294967296 + math.tointeger(lo)
      if negative then v = -v end
      return ({ v, math.maxinteger, math.mininteger, 9007199254740993, -9007199254740993, v })[which]
    end
    local v = hi * 4294967296 + lo
    if negative then v = -v end
    return ({ v, 2 ^ 63, -2 ^ 63, 2 ^ 53, -2 ^ 53, v })[which]
  elseif c <= 8 then
    -- a short decimal literal, read by the C library
    local digits = tostring(r:int(1, 999999999))
    local e = r:int(-30, 30)
    return tonumber(digits .. "e" .. e)
  else
    return r:double_bits()
  end
end

-- The text given to Node for a number: the same double, exactly.
function gen.number_field(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "Infinity" end
  if v == -math.huge then return "-Infinity" end
  return format("%.17g", v)
end

-- JSON values ---------------------------------------------------------------

local index_like_keys = {
  "0", "1", "7", "10", "9", "01", "-1", "1.5", "4294967294", "4294967295",
  "4294967296", "0x", "", " ", "__proto__", "constructor", "toString", "length",
}

function gen.key(r)
  if r:chance(0.25) then return r:pick(index_like_keys) end
  return gen.string(r, 6)
end

-- A Lua value for encode_json and its description for oracle.js.
function gen.json_value(r, core, depth)
  local c = r:int(1, depth > 0 and 12 or 7)
  if c == 1 then
    return core.null, "N"
  elseif c == 2 then
    if r:chance(0.5) then return true, "T" end
    return false, "F"
  elseif c <= 4 then
    local v = gen.number(r)
    return v, "d" .. gen.number_field(v)
  elseif c <= 7 then
    local s = gen.string(r, 10)
    return s, "s" .. text.hex(s)
  elseif c <= 9 then
    local n = r:int(0, 5)
    local t, desc = {}, { "a" .. n }
    for i = 1, n do
      local v, d = gen.json_value(r, core, depth - 1)
      t[i] = v
      desc[#desc + 1] = d
    end
    if n == 0 then
      if r:chance(0.5) then t = core.empty_array else setmetatable(t, core.array_mt) end
    elseif r:chance(0.3) then
      setmetatable(t, core.array_mt)
    end
    return t, concat(desc, ",")
  else
    local n = r:int(0, 5)
    local t, desc, seen = {}, { "o" .. n }, {}
    local i = 0
    while i < n do
      local k = gen.key(r)
      if not seen[k] then
        seen[k] = true
        i = i + 1
        local v, d = gen.json_value(r, core, depth - 1)
        t[k] = v
        desc[#desc + 1] = "k" .. text.hex(k)
        desc[#desc + 1] = d
      end
    end
    return t, concat(desc, ",")
  end
end

-- JSON texts ----------------------------------------------------------------

local function ws(r)
  if r:chance(0.7) then return "" end
  return r:pick({ " ", "\t", "\n", "\r", "\r\n", "  ", " \n\t " })
end

local function hex4(r, u)
  local s = format("%04x", u)
  if r:chance(0.5) then s = s:upper() end
  return "\\u" .. s
end

function gen.json_string_literal(r)
  local cps = gen.code_points(r, 10)
  local out = { '"' }
  for _, cp in ipairs(cps) do
    local esc = r:chance(0.25)
    if cp == 0x22 then
      out[#out + 1] = esc and hex4(r, cp) or '\\"'
    elseif cp == 0x5C then
      out[#out + 1] = esc and hex4(r, cp) or "\\\\"
    elseif cp == 0x2F then
      out[#out + 1] = esc and "\\/" or "/"
    elseif cp < 0x20 then
      local short = ({ [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r" })[cp]
      out[#out + 1] = (short and not esc) and short or hex4(r, cp)
    elseif esc then
      for _, u in ipairs(text.units_of({ cp })) do out[#out + 1] = hex4(r, u) end
    else
      out[#out + 1] = text.utf8(cp)
    end
  end
  out[#out + 1] = '"'
  return concat(out)
end

local function digits(r, n)
  local out = {}
  for i = 1, n do out[i] = r:int(0, 9) end
  return concat(out)
end

-- Number literals longer than 63 characters (more than cJSON reads).
local function long_number_literal(r)
  local s = r:chance(0.3) and "-" or ""
  local c = r:int(1, 4)
  if c == 1 then
    return s .. r:int(1, 9) .. digits(r, r:int(60, 120))
  elseif c == 2 then
    return s .. "0." .. ("0"):rep(r:int(0, 80)) .. r:int(1, 9) .. digits(r, r:int(40, 80))
  elseif c == 3 then
    return s .. r:int(1, 9) .. digits(r, r:int(0, 20)) .. "." .. digits(r, r:int(50, 100)) ..
      r:pick({ "e", "E" }) .. r:pick({ "", "+", "-" }) .. r:int(0, 200)
  else
    -- near a rounding midpoint: digits of a double, then a long tail
    local v = r:double_bits()
    if v ~= v or v == 0 then v = 1.5 end
    local m, e = format("%.16e", v):match("^-?(%d%.%d+)e([-+]%d+)$")
    local tail = r:chance(0.5) and ("0"):rep(r:int(50, 70)) .. r:int(1, 9) or ("9"):rep(r:int(50, 70))
    return s .. m .. "5" .. tail .. "e" .. e
  end
end

function gen.json_number_literal(r)
  if r:chance(0.05) then return long_number_literal(r) end
  local s = r:chance(0.3) and "-" or ""
  if r:chance(0.2) then
    s = s .. "0"
  else
    s = s .. r:int(1, 9)
    for _ = 1, r:int(0, 15) do s = s .. r:int(0, 9) end
  end
  if r:chance(0.4) then
    s = s .. "."
    for _ = 1, r:int(1, 10) do s = s .. r:int(0, 9) end
  end
  if r:chance(0.3) then
    s = s .. r:pick({ "e", "E" }) .. r:pick({ "", "+", "-" }) .. r:int(0, 280)
  end
  return s
end

function gen.json_text(r, depth)
  local c = r:int(1, depth > 0 and 10 or 6)
  if c == 1 then
    return r:pick({ "null", "true", "false" })
  elseif c <= 3 then
    return gen.json_number_literal(r)
  elseif c <= 6 then
    return gen.json_string_literal(r)
  elseif c <= 8 then
    local parts = {}
    for i = 1, r:int(0, 5) do parts[i] = ws(r) .. gen.json_text(r, depth - 1) .. ws(r) end
    return "[" .. (#parts == 0 and ws(r) or concat(parts, ",")) .. "]"
  else
    local parts, seen = {}, {}
    for _ = 1, r:int(0, 5) do
      local k = gen.json_string_literal(r)
      if not seen[k] then
        seen[k] = true
        parts[#parts + 1] = ws(r) .. k .. ws(r) .. ":" .. ws(r) .. gen.json_text(r, depth - 1) .. ws(r)
      end
    end
    return "{" .. (#parts == 0 and ws(r) or concat(parts, ",")) .. "}"
  end
end

local inserts = {
  '"', "\\", ",", "]", "}", "[", "{", ":", "0", "-", ".", "e", " ", "\1", "\127", "\255",
  "\192\128", "\239\187\191", "\\ud800", "\\udc00", "\\u12G4", "\\x", "\0", "01", "+", "/",
  "\\ud83d", "\\ude00", "tru", "nul", "\t", "\226\128\168",
}

-- A JSON text, valid or (at rate p) damaged in one place.
function gen.json_document(r, p)
  local s = ws(r) .. gen.json_text(r, 4) .. ws(r)
  if not r:chance(p) then return s end
  local pos = r:int(0, #s)
  local c = r:int(1, 7)
  if c == 1 and #s > 0 then
    pos = r:int(1, #s)
    return s:sub(1, pos - 1) .. s:sub(pos + 1)
  elseif c == 2 then
    return s:sub(1, pos) .. r:pick(inserts) .. s:sub(pos + 1)
  elseif c == 3 and #s > 0 then
    pos = r:int(1, #s)
    return s:sub(1, pos - 1) .. r:pick(inserts) .. s:sub(pos + 1)
  elseif c == 4 then
    return s:sub(1, pos)
  elseif c == 5 then
    return s .. r:pick({ "x", "]", "}", " 1", ",", "\0", "//", "null" })
  elseif c == 6 then
    local q = s:find('"', 1, true)
    if q then return s:sub(1, q) .. r:pick({ "\\ud800", "\\udfff", "\\ud800\\u0041", "\\udc00\\ud800" }) .. s:sub(q + 1) end
    return s .. "]"
  else
    return r:pick({ "\239\187\191", "0", "-0", "[" }) .. s
  end
end

return gen
