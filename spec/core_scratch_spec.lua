-- A small call runs on fixed buffers on the C stack (csrc/binding/shared.c:
-- 8 KB out, 4 KB tmp and aux, a 16 KB arena for cJSON's tree); one that
-- outgrows them runs again on a scratch from the pool. Here are calls on
-- either side of each of these sizes: their answers must not depend on it.
local core = require "mphybrid.core"

local rep, concat = string.rep, table.concat

-- sizes from just under to just over n
local function around(n)
  return { n - 2, n - 1, n, n + 1, n + 2 }
end

describe("calls on either side of the small scratch's sizes", function()
  it("encode_json writes strings whose JSON is about 8 KB long", function()
    for _, n in ipairs(around(8192 - 2)) do
      local s = rep("a", n - 1) .. "\""
      assert.are.equal('"' .. rep("a", n - 1) .. '\\""', core.encode_json(s))
    end
  end)

  it("encode_json writes objects with about as many keys as the small aux holds", function()
    for keys = 120, 260, 7 do
      local t, parts, names = {}, {}, {}
      for i = 1, keys do names[i] = string.format("k%04d", i) end
      table.sort(names)
      for i, k in ipairs(names) do
        t[k] = i
        parts[i] = '"' .. k .. '":' .. i
      end
      assert.are.equal("{" .. concat(parts, ",") .. "}", core.encode_json(t))
    end
  end)

  it("encode_json refuses a value past max_size the same way on either side", function()
    for _, n in ipairs(around(8192)) do
      local v, err, code = core.encode_json(rep("b", n), { max_size = n + 1 })
      assert.is_nil(v)
      assert.are.equal("ESIZE", code)
      assert.are.equal("ESIZE: output longer than max_size (" .. (n + 1) .. " bytes)", err)
    end
  end)

  it("decode_json reads texts whose tree needs about the small arena", function()
    -- each 0 is a cJSON node of 64 bytes: 250 fit in 16 KB
    for count = 150, 350, 10 do
      local v = core.decode_json("[" .. rep("0,", count - 1) .. "0]")
      assert.are.equal(count, #v)
      assert.are.equal(0, v[count])
    end
  end)

  it("decode_json reads texts about 4 KB long, the size tried on the small scratch", function()
    for _, n in ipairs(around(4096)) do
      local text = '{"s":"' .. rep("x", n - 8) .. '"}'
      assert.are.equal(n, #text)
      assert.are.equal(n - 8, #core.decode_json(text).s)
    end
  end)

  it("decode_json reads long numbers and \\u0000 strings, which need buffers the small scratch lacks", function()
    local digits = "1" .. rep("0", 80)
    assert.are.equal(1e80, core.decode_json(digits))
    assert.are.equal(1e80, core.decode_json("[" .. digits .. "]")[1])
    local v = core.decode_json('["a\\u0000b", {"k\\u0000":"\\u0000"}]')
    assert.are.equal("a\0b", v[1])
    assert.are.equal("\0", v[2]["k\0"])
    local many = {}
    for i = 1, 300 do many[i] = '"\\u0000' .. i .. '"' end
    local list = core.decode_json("[" .. concat(many, ",") .. "]")
    assert.are.equal("\0" .. 300, list[300])
  end)

  it("decode_cmd reads commands encoded twice, decoded once into each small buffer", function()
    for _, n in ipairs({ 1000, 1400, 2000, 3000, 4000 }) do
      local json = '{"req":"r1","api":"echo","params":{"s":"' .. rep("%", n) .. '"}}'
      local twice = core.encode_uri_component(core.encode_uri_component(json))
      local cmd = assert(core.decode_cmd(twice))
      assert.are.equal(rep("%", n), cmd.params.s)
    end
  end)

  it("decode_cmd reads commands whose tree needs about the small arena", function()
    for count = 150, 350, 10 do
      local json = '{"req":"r3","api":"echo","params":[' .. rep("0,", count - 1) .. '0]}'
      local cmd = assert(core.decode_cmd(core.encode_uri_component(json)))
      assert.are.equal(count, #cmd.params)
      -- and with a lone surrogate, read a second time with it masked
      json = '{"req":"r4","api":"echo","s":"\\udc00","params":[' .. rep("0,", count - 1) .. '0]}'
      local v, _, code, refused = core.decode_cmd(core.encode_uri_component(json))
      assert.is_nil(v)
      assert.are.equal("EJSON", code)
      assert.are.equal("r4", refused.req)
      assert.are.equal(count, #refused.params)
    end
  end)

  it("decode_cmd answers a command with a lone surrogate, about 4 KB long, with its req", function()
    for _, n in ipairs({ 1000, 3000, 4000, 4090, 5000 }) do
      local json = '{"req":"r2","api":"echo","params":{"s":"' .. rep("y", n) .. '\\ud800"}}'
      local v, err, code, cmd = core.decode_cmd(core.encode_uri_component(json))
      assert.is_nil(v)
      assert.are.equal("EJSON", code)
      assert.truthy(err:find("lone surrogate", 1, true))
      assert.are.equal("r2", cmd.req)
    end
  end)

  it("encode_reply writes replies whose src is about 8 KB long", function()
    for _, n in ipairs(around(8192 - 40)) do
      local src = assert(core.encode_reply("https://h5.example.com/", { { "r1", rep("z", n) } }, 5))
      assert.are.equal("https://h5.example.com/#r1=" .. rep("z", n) .. "&v=5", src)
      local obj = assert(core.encode_reply("https://h5.example.com/", { { "r1", { s = rep("z", n) } } }, 5))
      assert.are.equal("https://h5.example.com/#r1=" .. core.encode_uri_component('{"s":"' .. rep("z", n) .. '"}') .. "&v=5", obj)
    end
  end)

  it("encode_uri_component and decode_uri_component cross their small sizes", function()
    for _, n in ipairs(around(math.floor(8192 / 3))) do
      local s = rep("\228\184\173", math.floor(n / 3)) .. rep("a", n % 3)
      local e = core.encode_uri_component(s)
      assert.are.equal(s, core.decode_uri_component(e))
    end
    for _, n in ipairs(around(8192)) do
      local s = rep("b", n)
      assert.are.equal(s, core.decode_uri_component(s))
    end
  end)
end)
