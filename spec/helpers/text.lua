-- Byte-string helpers for the specs, in pure Lua (5.1, 5.4, LuaJIT).

local byte, char, format = string.byte, string.char, string.format
local floor, concat = math.floor, table.concat

local text = {}

function text.hex(s)
  return (s:gsub(".", function(c) return format("%02x", byte(c)) end))
end

function text.unhex(h)
  return (h:gsub("%x%x", function(x) return char(tonumber(x, 16)) end))
end

-- UTF-8 for a code point; surrogate code points are written as their
-- three-byte form (WTF-8), which is what a lone surrogate looks like in Lua.
function text.utf8(cp)
  if cp < 0x80 then
    return char(cp)
  elseif cp < 0x800 then
    return char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  elseif cp < 0x10000 then
    return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  else
    return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64,
                0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
end

-- UTF-16 code units -> bytes: pairs become one code point, lone surrogates
-- stay lone (WTF-8).
function text.from_units(units)
  local out, i, n = {}, 1, #units
  while i <= n do
    local u = units[i]
    local v = units[i + 1]
    if u >= 0xD800 and u <= 0xDBFF and v and v >= 0xDC00 and v <= 0xDFFF then
      out[#out + 1] = text.utf8(0x10000 + (u - 0xD800) * 1024 + (v - 0xDC00))
      i = i + 2
    else
      out[#out + 1] = text.utf8(u)
      i = i + 1
    end
  end
  return concat(out)
end

-- Code points -> UTF-16 code units.
function text.units_of(cps)
  local units = {}
  for _, cp in ipairs(cps) do
    if cp >= 0x10000 then
      local c = cp - 0x10000
      units[#units + 1] = 0xD800 + floor(c / 1024)
      units[#units + 1] = 0xDC00 + c % 1024
    else
      units[#units + 1] = cp
    end
  end
  return units
end

function text.units_field(units)
  local out = {}
  for i, u in ipairs(units) do out[i] = format("%04x", u) end
  return "u" .. concat(out)
end

function text.bytes_field(s)
  return "x" .. text.hex(s)
end

-- The characters of a UTF-8 string, split by their lead bytes.
function text.chars(s)
  local out, i = {}, 1
  while i <= #s do
    local b = byte(s, i)
    local n = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
    out[#out + 1] = s:sub(i, i + n - 1)
    i = i + n
  end
  return out
end

-- Bytewise order, independent of the C library's locale.
function text.bytewise_less(a, b)
  local n = #a < #b and #a or #b
  for i = 1, n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Printable form for failure messages: ASCII kept, anything else as \xNN.
function text.show(s, limit)
  if type(s) ~= "string" then return tostring(s) end
  limit = limit or 400
  local cut = #s > limit
  if cut then s = s:sub(1, limit) end
  s = s:gsub("[^\32-\126]", function(c) return format("\\x%02X", byte(c)) end)
  s = s:gsub('"', '\\"')
  return '"' .. s .. '"' .. (cut and "..." or "")
end

-- Code points JavaScript's String.prototype.trim removes, and some it keeps.
text.js_trimmed = {
  0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
  0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF,
}
text.js_not_trimmed = { 0x85, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x1C, 0x1F, 0xFFFE }

return text
