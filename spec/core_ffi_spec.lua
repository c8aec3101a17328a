-- On LuaJIT, encode_uri_component and decode_uri_component are Lua
-- functions over the FFI (csrc/binding/ffi.c); each keeps the Lua C API
-- function it replaces as its upvalue of the same name. Here both are
-- called on the same hostile inputs and must give the same results, the
-- same errors and raise the same messages.
local core = require "mphybrid.core"
local jit, newproxy = rawget(_G, "jit"), rawget(_G, "newproxy")
local prng = require "helpers.prng"

local NAMES = { "encode_uri_component", "decode_uri_component" }

-- The C API function a wrapper keeps, or nil when there is no wrapper.
local function c_api(name)
  local f = core[name]
  if debug.getinfo(f, "S").what ~= "Lua" then return nil end
  for i = 1, 20 do
    local up, v = debug.getupvalue(f, i)
    if up == nil then break end
    if up == name then return v end
  end
  error("the FFI wrapper of " .. name .. " keeps no upvalue " .. name)
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function pack(...)
  return { n = select("#", ...), ... }
end

-- Every result of pcall(f, x), written out so that two can be compared
-- and a difference shown.
local function outcome(f, x)
  local r = pack(pcall(f, x))
  local parts = {}
  for i = 1, r.n do
    local v = r[i]
    parts[i] = type(v) == "string" and ("string " .. (#v <= 200 and hex(v) or (#v .. " bytes " .. hex(v:sub(1, 64)) .. "..." .. hex(v:sub(-64)))))
      or (type(v) .. " " .. tostring(v))
  end
  return table.concat(parts, " | ")
end

local function hostile_inputs()
  local list = {
    "", "abc", "a b&c=d/e?f#g", "中文 & 日本語", "\0", "a\0b", "%00", "%",
    "%4", "%zz", "%4g", "%%41", "%C0%80", "%C3", "%C3%", "%C3%2", "%E4%B8", "%E4%B8%2",
    "%ED%A0%80", "%ED%BF%BF", "%ED%A0%BD%ED%B8%80", "%F4%90%80%80", "%F0%9F%98%80",
    "%f0%9f%98%80", "%80", "%FF", "\128", "a\255b", "\192\128", "\237\160\128",
    "\237\160\189\237\184\128", "\244\144\128\128", "\240\159\152", "ok\240\159\152",
    "\228a\173", "+", "%2B+%20", "%E4%B8%AD\0%E6%96%87",
    string.rep("%E4%B8%AD", 2000), string.rep("中", 1500), string.rep("a", 4096),
    string.rep("\0", 5000), string.rep("%", 3000),
    string.rep("a", 400000) .. "\255", -- refused past a buffer the wrapper keeps
    string.rep("%41", 140000) .. "%", -- same, decoding
    string.rep("é", 200000),          -- output past the size the wrapper keeps
  }
  -- random bytes, and random strings of escapes, good and bad
  local rng = prng.new(20261128)
  local pieces = { "%", "%4", "%41", "%C3%A9", "%E4%B8%AD", "%F0%9F%98%80", "%ED%A0%80",
                   "%C3", "%zz", "a", "\0", "\195\169", "\255", "+", " ", "\237\160\128" }
  for _ = 1, 300 do
    local t = {}
    for i = 1, rng:int(0, 24) do
      if rng:int(1, 3) == 1 then t[i] = string.char(rng:int(0, 255))
      else t[i] = pieces[rng:int(1, #pieces)] end
    end
    list[#list + 1] = table.concat(t)
  end
  return list
end

describe("the URI codecs over LuaJIT's FFI", function()
  local function on_luajit()
    if not jit then
      pending("the FFI path exists only on LuaJIT")
      return false
    end
    return true
  end

  it("are Lua functions on LuaJIT, each keeping the C API function it replaces", function()
    if not on_luajit() then return end
    for _, name in ipairs(NAMES) do
      assert.are.equal("Lua", debug.getinfo(core[name], "S").what)
      assert.are.equal("function", type(c_api(name)))
    end
  end)

  it("are the C API functions when MPH_NO_FFI is set", function()
    if not on_luajit() then return end
    local interpreter = arg and arg[-1] or "luajit"
    local cmd = string.format(
      "MPH_NO_FFI=1 LUA_CPATH=%q %s -e 'local c = require \"mphybrid.core\" " ..
      "io.write(debug.getinfo(c.encode_uri_component).what, debug.getinfo(c.decode_uri_component).what)'",
      package.cpath, interpreter)
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    assert.are.equal("CC", out)
  end)

  it("give the C API path's results, errors and raised messages on hostile inputs", function()
    if not on_luajit() then return end
    local checked = 0
    for _, name in ipairs(NAMES) do
      local ffi_f, c_f = core[name], c_api(name)
      for _, x in ipairs(hostile_inputs()) do
        -- the encoded form too, so that decoding meets good escapes as well
        local inputs = { x }
        local enc = c_api("encode_uri_component")(x)
        if enc then inputs[2] = enc end
        for _, input in ipairs(inputs) do
          local want, got = outcome(c_f, input), outcome(ffi_f, input)
          if want ~= got then
            error(string.format("%s(%s):\n  C API: %s\n  FFI:   %s", name,
              hex(input:sub(1, 80)), want, got), 0)
          end
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked > 600)
  end)

  it("raise as the C API functions do on arguments that are no strings", function()
    if not on_luajit() then return end
    for _, name in ipairs(NAMES) do
      local ffi_f, c_f = core[name], c_api(name)
      for _, x in ipairs({ 12.5, 0, -1e300, true, {}, print, core.null }) do
        assert.are.equal(outcome(c_f, x), outcome(ffi_f, x))
      end
      assert.are.same({ pcall(c_f) }, { pcall(ffi_f) })
      assert.are.same({ pcall(c_f, nil) }, { pcall(ffi_f, nil) })
    end
  end)

  it("give each caller its own result when a finalizer calls them in the middle of a call", function()
    if not on_luajit() then return end
    local encode, decode = core.encode_uri_component, core.decode_uri_component
    local seen_in_gc, bad = 0, nil
    local function finalizer()
      local s = string.rep("\229\165\189", 700) -- longer than the buffer the wrappers start with
      if decode(encode(s)) ~= s then bad = "a finalizer got a wrong answer" end
      seen_in_gc = seen_in_gc + 1
    end
    local rng = prng.new(7)
    for i = 1, 3000 do
      local p = newproxy(true)
      getmetatable(p).__gc = finalizer
      local t = {}
      for k = 1, rng:int(1, 40) do t[k] = string.char(rng:int(0, 127)) end
      local s = table.concat(t) .. string.rep("\228\184\173", i % 50)
      local e = encode(s)
      assert.are.equal(c_api("encode_uri_component")(s), e)
      assert.are.equal(s, decode(e))
    end
    collectgarbage()
    assert.is_nil(bad)
    assert.is_true(seen_in_gc > 0)
  end)
end)
