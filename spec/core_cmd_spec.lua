local core = require "mphybrid.core"
local expect = require "helpers.expect"
local prng = require "helpers.prng"
local gen = require "helpers.gen"

local decode_cmd, encode_reply, new_req_id = core.decode_cmd, core.encode_reply, core.new_req_id
local enc = core.encode_uri_component

describe("decode_cmd", function()
  local json = '{"req":"H5Req_1","api":"ping"}'

  it("reads the README example", function()
    assert.are.same({ req = "H5Req_1", api = "ping" },
      decode_cmd("%7B%22req%22%3A%22H5Req_1%22%2C%22api%22%3A%22ping%22%7D"))
  end)

  it("reads a value the platform already decoded", function()
    assert.are.same({ req = "H5Req_1", api = "ping" }, decode_cmd(json))
  end)

  it("reads a value encoded twice", function()
    assert.are.same({ req = "H5Req_1", api = "ping" }, decode_cmd(enc(enc(json))))
  end)

  it("decodes at most twice", function()
    local v, err, code = decode_cmd(enc(enc(enc(json))))
    expect.failure({ "EJSON", "ECMD" }, v, err, code)
  end)

  it("keeps a literal % in params, whether or not the value was decoded", function()
    local cmd = '{"api":"pay","params":{"discount":"100%","code":"%25","q":"a=1&b=2/3"}}'
    local want = { api = "pay", params = { discount = "100%", code = "%25", q = "a=1&b=2/3" } }
    assert.are.same(want, decode_cmd(enc(cmd)))
    assert.are.same(want, decode_cmd(cmd))
  end)

  it("passes params and other fields through, arrays marked", function()
    local cmd = decode_cmd(enc('{"api":"x","params":{"items":[1,"中",null,[]],"ok":true},"extra":{"a":1.5}}'))
    assert.are.same({ api = "x", params = { items = { 1, "中", core.null, {} }, ok = true }, extra = { a = 1.5 } }, cmd)
    assert.are.equal(core.array_mt, getmetatable(cmd.params.items))
    assert.are.equal(core.array_mt, getmetatable(cmd.params.items[4]))
  end)

  it("accepts params of any JSON type", function()
    assert.are.equal(core.null, decode_cmd('{"api":"x","params":null}').params)
    assert.are.equal("s", decode_cmd('{"api":"x","params":"s"}').params)
    assert.are.equal(3, decode_cmd('{"api":"x","params":3}').params)
  end)

  it("accepts an api of any non-control characters", function()
    for _, api in ipairs({ "a b", "\\u4e2d", "get.user-info/v2", "a&b=c%d" }) do
      local cmd, err = decode_cmd(enc('{"api":"' .. api .. '"}'))
      assert.is_table(cmd, err)
    end
  end)

  it("reads a null req as no request id: the field is left out", function()
    local cmd, err = decode_cmd(enc('{"api":"x","req":null}'))
    assert.is_table(cmd, err)
    assert.are.same({ api = "x" }, cmd)
    assert.is_nil(rawget(cmd, "req"))
  end)

  it("trims api and req as the published driver trims them (JavaScript's trim)", function()
    local cmd, err = decode_cmd(enc('{"api":" \\techo\\n\\u3000","req":"\\u00a0H5Req_1 "}'))
    assert.is_table(cmd, err)
    assert.are.same({ api = "echo", req = "H5Req_1" }, cmd)
  end)

  it("reads an empty or blank req as no request id, as the published driver does", function()
    for _, req in ipairs({ '""', '" "', '"\\t\\r\\n"', '"\\ufeff"' }) do
      local cmd, err = decode_cmd(enc('{"api":"x","req":' .. req .. '}'))
      assert.is_table(cmd, err)
      assert.are.same({ api = "x" }, cmd)
    end
  end)

  it("hands back the command as far as it was read when it refuses its shape", function()
    local cmd, err, code, read = decode_cmd(enc('{"req":" H5Req_1 ","api":7,"mph":2}'))
    assert.is_nil(cmd)
    assert.are.equal("ECMD", code, err)
    assert.are.same({ req = "H5Req_1", api = 7, mph = 2 }, read)
    -- a req that cannot be used is left out of it
    cmd, err, code, read = decode_cmd(enc('{"req":7,"api":"x"}'))
    assert.is_nil(cmd)
    assert.are.equal("ECMD", code, err)
    assert.are.same({ api = "x" }, read)
    -- nothing when no JSON object could be read
    assert.are.equal(3, select("#", decode_cmd(enc('{"api":'))))
    assert.are.equal(3, select("#", decode_cmd(enc('[{"api":"x"}]'))))
  end)

  it("accepts api and req of 128 bytes", function()
    local long = ("a"):rep(128)
    assert.are.same({ api = long, req = long }, decode_cmd('{"api":"' .. long .. '","req":"' .. long .. '"}'))
  end)

  local bad_shapes = {
    { "no api", '{"req":"r"}' },
    { "an empty api", '{"api":""}' },
    { "an api of 129 bytes", '{"api":"' .. ("a"):rep(129) .. '"}' },
    { "a numeric api", '{"api":1}' },
    { "a null api", '{"api":null}' },
    { "an api with a tab", '{"api":"a\\tb"}' },
    { "an api with a newline", '{"api":"a\\nb"}' },
    { "an api with U+0001", '{"api":"\\u0001"}' },
    { "an api with NUL", '{"api":"a\\u0000b"}' },
    { "an api with DEL", '{"api":"a\\u007fb"}' },
    { "a req of 129 bytes", '{"api":"x","req":"' .. ("r"):rep(129) .. '"}' },
    { "a numeric req", '{"api":"x","req":1}' },
    { "a req with a newline", '{"api":"x","req":"a\\nb"}' },
    { "a req with NUL", '{"api":"x","req":"a\\u0000b"}' },
    { "a req with DEL", '{"api":"x","req":"a\\u007fb"}' },
    { "an array", '[{"api":"x"}]' },
    { "a string", '"x"' },
    { "null", "null" },
  }
  for _, case in ipairs(bad_shapes) do
    it("refuses " .. case[1] .. " with ECMD", function()
      expect.failure("ECMD", decode_cmd(enc(case[2])))
    end)
  end

  it("refuses a malformed escape with EESCAPE", function()
    expect.failure("EESCAPE", decode_cmd("%7B%22api%22%3A%22x%22%7"))
    expect.failure("EESCAPE", decode_cmd("%7B%22api%22%3A%22%E4%22%7D"))
  end)

  it("refuses bytes that are not UTF-8", function()
    expect.failure({ "EUTF8", "EJSON", "EESCAPE" }, decode_cmd('{"api":"\255"}'))
    expect.failure({ "EUTF8", "EESCAPE" }, decode_cmd("%7B%22api%22%3A%22\255%22%7D"))
  end)

  it("refuses JSON syntax errors with EJSON", function()
    expect.failure("EJSON", decode_cmd(enc('{"api":"x",}')))
    expect.failure("EJSON", decode_cmd('{"api":"x"} trailing'))
    expect.failure("EJSON", decode_cmd(enc('{"api":"x","params":"\\ud800"}')))
  end)

  it("refuses nesting deeper than the default depth with EDEPTH", function()
    local deep = '{"api":"x","params":' .. ("["):rep(1000) .. ("]"):rep(1000) .. "}"
    expect.failure("EDEPTH", decode_cmd(enc(deep)))
  end)

  it("refuses a value longer than 64 KiB with ESIZE, or than opts.max_size", function()
    local head, tail = '{"api":"x","params":"', '"}'
    local fits = head .. ("a"):rep(64 * 1024 - #head - #tail) .. tail
    assert.are.equal(64 * 1024, #fits)
    assert.is_table(decode_cmd(fits))
    expect.failure("ESIZE", decode_cmd(head .. ("a"):rep(64 * 1024 - #head - #tail + 1) .. tail))
    expect.failure("ESIZE", decode_cmd(enc(json), { max_size = 10 }))
    assert.is_table(decode_cmd(json, { max_size = #json }))
  end)

  it("raises on a wrong argument type", function()
    expect.raises(decode_cmd)
    expect.raises(decode_cmd, {})
  end)

  it("reads back 2,000 random commands as the H5 side writes them", function()
    local r = prng.new(5)
    for _ = 1, 2000 do
      local params = gen.json_value(r, core, 3)
      -- x on both sides: an api the driver's trim leaves as it is
      local api = "x" .. gen.string(r, 10):gsub("[%c]", "") .. "x"
      local cmd = { req = new_req_id(), api = api, params = params }
      local value = enc(assert(core.encode_json(cmd)))
      local got, err = decode_cmd(value)
      assert.is_table(got, err)
      assert.are.equal(core.encode_json(cmd), core.encode_json(got))
    end
  end)
end)

describe("encode_reply", function()
  it("writes the README example", function()
    assert.are.equal("https://h5.example.com/p#H5Req_ab=0&v=1700000000000",
      encode_reply("https://h5.example.com/p#old", { H5Req_ab = "0" }, 1700000000000))
  end)

  it("writes a src that has no fragment", function()
    assert.are.equal("https://h5.example.com/p?a=1#r=0&v=1",
      encode_reply("https://h5.example.com/p?a=1", { r = "0" }, 1))
  end)

  it("percent-encodes the values", function()
    assert.are.equal("u#r=%E4%B8%AD%20%26%3D%23%2B%25&v=5", encode_reply("u", { r = "中 &=#+%" }, 5))
  end)

  it("writes several replies of a map sorted, of an array in order", function()
    assert.are.equal("u#a=2&b=1&v=5", encode_reply("u", { b = "1", a = "2" }, 5))
    assert.are.equal("u#b=1&a=2&v=5", encode_reply("u", { { "b", "1" }, { "a", "2" } }, 5))
  end)

  it("writes values that are not strings as JSON", function()
    assert.are.equal("u#r=0&v=5", encode_reply("u", { r = 0 }, 5))
    assert.are.equal("u#r=true&v=5", encode_reply("u", { r = true }, 5))
    assert.are.equal("u#r=null&v=5", encode_reply("u", { r = core.null }, 5))
    assert.are.equal("u#r=1e%2B21&v=5", encode_reply("u", { r = 1e21 }, 5))
    assert.are.equal("u#r=%7B%22code%22%3A0%2C%22list%22%3A%5B1%2C%22x%22%5D%7D&v=5",
      encode_reply("u", { r = { code = 0, list = { 1, "x" } } }, 5))
  end)

  it("writes the stamp as an integer", function()
    assert.are.equal("u#r=0&v=1700000000000", encode_reply("u", { r = "0" }, 1700000000000.0))
    assert.are.equal("u#r=0&v=0", encode_reply("u", { r = "0" }, 0))
  end)

  it("stamps the current time in milliseconds by default", function()
    local before = os.time()
    local src = encode_reply("u", { r = "0" })
    local after = os.time()
    local stamp = tonumber(src:match("^u#r=0&v=(%d+)$"))
    assert.is_number(stamp, src)
    assert.is_true(stamp >= (before - 1) * 1000 and stamp <= (after + 1) * 1000, src)
  end)

  it("refuses an empty src with EURL", function()
    expect.failure("EURL", encode_reply("", { r = "0" }, 1))
  end)

  it("refuses the request id v and an empty one with ECMD", function()
    expect.failure("ECMD", encode_reply("u", { v = "0" }, 1))
    expect.failure("ECMD", encode_reply("u", { { "v", "0" } }, 1))
    expect.failure("ECMD", encode_reply("u", { [""] = "0" }, 1))
    expect.failure("ECMD", encode_reply("u", { ["a\nb"] = "0" }, 1))
  end)

  it("writes a number or boolean value as String(value), NaN and Infinity too", function()
    assert.are.equal("u#r=NaN&v=1", encode_reply("u", { r = 0 / 0 }, 1))
    assert.are.equal("u#a=Infinity&b=-Infinity&c=1e%2B21&d=0&e=true&v=1",
      encode_reply("u", { { "a", math.huge }, { "b", -math.huge }, { "c", 1e21 }, { "d", -0.0 }, { "e", true } }, 1))
  end)

  it("passes on the errors of encode_json", function()
    expect.failure("EVALUE", encode_reply("u", { r = function() end }, 1))
    expect.failure({ "EUTF8", "EVALUE" }, encode_reply("u", { r = "\255" }, 1))
  end)

  it("writes only fragments that decode_fragment reads back", function()
    local ids = { "H5Req_ab", "a&b", "a=b", "a#b", "a b", "%41", "中", "a+b", "x%", "a.b~c-d_e" }
    for _, req in ipairs(ids) do
      local src = encode_reply("https://h5.example.com/p", { { req, "v&=%" } }, 7)
      if src ~= nil then
        local t, bad = core.decode_fragment(core.get_fragment(src))
        assert.is_nil(bad, src)
        assert.are.equal("v&=%", t[req], "request id " .. req .. " written as " .. src)
        assert.are.equal("7", t.v)
      end
    end
  end)

  it("raises on a wrong argument type", function()
    expect.raises(encode_reply, "u", "r=0", 1)
    expect.raises(encode_reply, {}, { r = "0" }, 1)
  end)
end)

describe("new_req_id", function()
  it("has the published shape: H5Req_, 8 of [0-9a-z], a tail of 1-2 of [0-9a-z]", function()
    for _ = 1, 1000 do
      local id = new_req_id()
      assert.is_truthy(id:match("^H5Req_[0-9a-z]+$") and (#id == 15 or #id == 16), id)
    end
  end)

  it("takes a prefix of 0 to 32 characters of [A-Za-z0-9_.~-]", function()
    assert.is_truthy(new_req_id(""):match("^[0-9a-z]+$"))
    assert.is_true(#new_req_id("") == 9 or #new_req_id("") == 10)
    local p = "Ab9_.~-" .. ("x"):rep(25)
    assert.are.equal(32, #p)
    local id = new_req_id(p)
    assert.are.equal(p, id:sub(1, 32))
    assert.is_truthy(id:sub(33):match("^[0-9a-z]+$") and (#id == 41 or #id == 42), id)
  end)

  it("does not write an id with a bad prefix", function()
    for _, p in ipairs({ ("x"):rep(33), "a b", "a&b", "a=b", "a#b", "中", "a\0b", "a%b" }) do
      local ok, id = pcall(new_req_id, p)
      assert.is_false(ok and type(id) == "string", "wrote " .. tostring(id))
    end
  end)

  it("never repeats in 1,000,000 calls", function()
    local seen = {}
    for i = 1, 1000000 do
      local id = new_req_id()
      if seen[id] then
        error(("call %d repeated the id %s of call %d"):format(i, id, seen[id]))
      end
      seen[id] = i
    end
  end)

  it("varies all 8 random characters from one call to the next (not a plain counter)", function()
    local per_position = {}
    for p = 1, 8 do per_position[p] = {} end
    for _ = 1, 5000 do
      local body = new_req_id(""):sub(1, 8)
      for p = 1, 8 do per_position[p][body:sub(p, p)] = true end
    end
    for p = 1, 8 do
      local n = 0
      for _ in pairs(per_position[p]) do n = n + 1 end
      assert.is_true(n >= 10, ("position %d took only %d values"):format(p, n))
    end
    for p = 2, 8 do
      local n = 0
      for _ in pairs(per_position[p]) do n = n + 1 end
      assert.are.equal(36, n, "position " .. p)
    end
  end)

  it("gives decode_cmd ids it accepts", function()
    local id = new_req_id()
    assert.are.equal(id, decode_cmd(enc('{"api":"x","req":"' .. id .. '"}')).req)
  end)
end)
