-- Percent-coding as users write it by hand in pure Lua (string.gsub), the
-- peers of encode_uri_component and decode_uri_component outside nginx:
-- encodeURIComponent's unreserved set kept, every other byte as %XX; every
-- %XX decoded, no check of what it decodes to.

local format, byte, char = string.format, string.byte, string.char
local tonumber = tonumber

local _M = {}

local function hex_of(c)
  return format("%%%02X", byte(c))
end

function _M.encode_uri_component(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", hex_of))
end

local function byte_of(h)
  return char(tonumber(h, 16))
end

function _M.decode_uri_component(s)
  return (s:gsub("%%(%x%x)", byte_of))
end

return _M
