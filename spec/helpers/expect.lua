-- The core's error convention: bad data gives nil, "<CODE>: message", "<CODE>".

local assert = require "luassert"
local text = require "helpers.text"

local unpack = table.unpack or unpack

local expect = {}

local function show(v)
  if type(v) == "string" then return text.show(v, 200) end
  return tostring(v)
end

-- Asserts that (v, err, code) is a data error with one of the codes
-- (a string, or a list of strings).
function expect.failure(codes, v, err, code)
  if type(codes) == "string" then codes = { codes } end
  local known = false
  for _, c in ipairs(codes) do
    if c == code then known = true end
  end
  local ok = v == nil and known and type(err) == "string" and err:sub(1, #code + 1) == code .. ":"
  assert.is_true(ok, ("expected nil, \"<CODE>: ...\", \"<CODE>\" with CODE in {%s}; got %s, %s, %s"):format(
    table.concat(codes, ", "), show(v), show(err), show(code)))
end

-- Asserts that f(...) raises (a programming error, not a data error).
function expect.raises(f, ...)
  local args, n = { ... }, select("#", ...)
  local ok, r1, r2 = pcall(function() return f(unpack(args, 1, n)) end)
  assert.is_false(ok, ("expected an error to be raised; got %s, %s"):format(show(r1), show(r2)))
end

return expect
