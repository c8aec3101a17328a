-- mphybrid.core against Node.js, the reference for everything that claims to
-- behave like JavaScript. The cases come from a fixed seed, so every run and
-- every interpreter checks the same inputs; they go to spec/oracle/oracle.js
-- in one batch. Node.js must be installed: without it this spec fails.

local core = require "mphybrid.core"
local oracle = require "helpers.oracle"
local gen = require "helpers.gen"
local prng = require "helpers.prng"
local text = require "helpers.text"
local paths = require "helpers.paths"

local format, concat = string.format, table.concat
local show, unhex = text.show, text.unhex

local SEED = 20191024
local N = {
  euc16 = 3000, eucb = 2000, duc = 4000, num = 3000, jenc = 3000, jdec = 4000,
  sfrag = 1500, trim = 1000, equery = 1500, qparse = 1500, reply = 500,
}

local function answer_bytes(answer)
  local h = answer:match("^OK x(%x*)$")
  return h and unhex(h)
end

local function set_of(...)
  local s = {}
  for _, v in ipairs({ ... }) do s[v] = true end
  return s
end

-- Compares one result with Node's answer. A Node error must be our
-- nil, "<CODE>: ...", "<CODE>" with CODE in `codes`.
local function compare(call, answer, got, err, code, codes)
  if answer:sub(1, 4) == "ERR " then
    if got == nil and codes[code] and type(err) == "string" and err:sub(1, #code + 1) == code .. ":" then
      return nil
    end
    return format("%s\n  Node: %s (we must return nil, err with a code in {%s})\n  got: %s, %s, %s",
      call, answer, concat((function() local l = {} for k in pairs(codes) do l[#l + 1] = k end table.sort(l) return l end)(), ","),
      show(got), show(err), show(code))
  end
  local want = answer_bytes(answer)
  if want == nil then return call .. "\n  unreadable answer: " .. answer end
  if got == want then return nil end
  return format("%s\n  Node: %s\n  got:  %s%s", call, show(want), show(got),
    got == nil and format(" (%s)", show(err)) or "")
end

-- A Lua value, written as Lua, for failure messages.
local function repr(v, depth)
  depth = depth or 0
  if v == core.null then return "null" end
  if type(v) == "string" then return show(v, 120) end
  if type(v) == "number" then
    return format("%.17g", v) .. ((math.type and math.type(v) == "integer") and "i" or "")
  end
  if type(v) ~= "table" then return tostring(v) end
  if depth > 6 then return "{...}" end
  local out = {}
  if getmetatable(v) == core.array_mt or #v > 0 then
    for i = 1, #v do out[i] = repr(v[i], depth + 1) end
    return (getmetatable(v) == core.array_mt and "array{" or "{") .. concat(out, ", ") .. "}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, text.bytewise_less)
  for i, k in ipairs(keys) do out[i] = "[" .. show(k) .. "] = " .. repr(v[k], depth + 1) end
  return "{" .. concat(out, ", ") .. "}"
end

local EUTF8 = set_of("EUTF8")
local EESCAPE = set_of("EESCAPE")
local EESCAPE_OR_EUTF8 = set_of("EESCAPE", "EUTF8")
local EVALUE = set_of("EVALUE")

local batch = oracle.batch()
local r = prng.new(SEED)

-- encodeURIComponent on UTF-16 strings, lone surrogates included ------------
for _ = 1, N.euc16 do
  local units, s = gen.js_string(r, 16, true)
  batch:add("euc16", { text.units_field(units) }, function(answer)
    local got, err, code = core.encode_uri_component(s)
    return compare("encode_uri_component(" .. show(s) .. ")", answer, got, err, code, EUTF8)
  end)
end

-- encodeURIComponent on raw bytes: not UTF-8 has no JavaScript string ------
for _ = 1, N.eucb do
  local s = gen.bytes(r, 12, 0.08)
  batch:add("eucb", { text.bytes_field(s) }, function(answer)
    local got, err, code = core.encode_uri_component(s)
    return compare("encode_uri_component(" .. show(s) .. ")", answer, got, err, code, EUTF8)
  end)
end

-- decodeURIComponent, malformed escapes included -----------------------------
for i = 1, N.duc do
  local s = gen.uri_encoded(r, 10, i % 10 == 0 and 0.5 or 0)
  batch:add("duc", { text.bytes_field(s) }, function(answer)
    local got, err, code = core.decode_uri_component(s)
    local codes = answer == "ERR utf8" and EESCAPE_OR_EUTF8 or EESCAPE
    return compare("decode_uri_component(" .. show(s) .. ")", answer, got, err, code, codes)
  end)
end

-- Number::toString: JSON.stringify([n]) and String(n) -------------------------
do
  local specials = { 0 / 0, math.huge, -math.huge }
  for i = 1, N.num do
    local v
    if i <= #gen.edge_numbers then
      v = gen.edge_numbers[i]
    elseif i <= #gen.edge_numbers + #specials then
      v = specials[i - #gen.edge_numbers]
    else
      v = gen.number(r)
    end
    batch:add("num", { gen.number_field(v) }, function(answer)
      local json_hex, string_hex = answer:match("^OK x(%x*) x(%x*)$")
      if not json_hex then return "unreadable answer: " .. answer end
      local want_json, want_string = unhex(json_hex), unhex(string_hex)
      local label = repr(v)
      local got, err, code = core.encode_json(setmetatable({ v }, core.array_mt))
      if want_json == "-" then
        if got ~= nil or code ~= "EVALUE" then
          return format("encode_json({%s}): JavaScript cannot write it, expected nil, EVALUE; got %s, %s",
            label, show(got), show(err))
        end
      elseif got ~= want_json then
        return format("encode_json({%s})\n  Node: %s\n  got:  %s %s", label, show(want_json), show(got), show(err))
      end
      local want_query = "n=" .. want_string:gsub("%+", "%%2B")
      local q, qerr = core.encode_query({ { "n", v } })
      if q ~= want_query then
        return format("encode_query({{'n', %s}}) (String(n) = %s)\n  expected: %s\n  got:      %s %s",
          label, show(want_string), show(want_query), show(q), show(qerr))
      end
    end)
  end
end

-- JSON.stringify of the equivalent value ------------------------------------
for _ = 1, N.jenc do
  local v, desc = gen.json_value(r, core, 4)
  batch:add("jenc", { desc }, function(answer)
    local got, err, code = core.encode_json(v)
    return compare("encode_json(" .. repr(v) .. ")", answer, got, err, code, EVALUE)
  end)
end

-- JSON.parse, strict: the same texts accepted, the same values --------------
local function add_decode_json_case(s, group, must_parse, may_refuse)
  batch:add("jdec", { text.bytes_field(s) }, function(answer)
    local call = "decode_json(" .. show(s, 200) .. ")"
    local v, err, code = core.decode_json(s)
    if answer == "ERR non-finite" then
      -- JSON.parse gives Infinity; README: read as +-math.huge
      if v ~= nil then return nil end
      return format("%s\n  Node reads a number beyond the double range (Infinity)\n  got: nil, %s", call, show(err))
    end
    if answer:sub(1, 4) == "ERR " then
      if must_parse then return call .. "\n  Node refuses a y_ file: " .. answer end
      if v == nil and (code == "EJSON" or code == "EUTF8" or code == "EDEPTH") then return nil end
      return format("%s\n  Node: %s (must be refused)\n  got: %s, %s", call, answer, show(v), show(err))
    end
    if v == nil then
      if may_refuse then return nil end
      return format("%s\n  Node parses it: %s\n  got: nil, %s", call, show(answer_bytes(answer)), show(err))
    end
    local again, err2 = core.encode_json(v)
    return compare(call .. " re-encoded", answer, again, err2, nil, {})
  end, group)
end

for _ = 1, N.jdec do
  add_decode_json_case(gen.json_document(r, 0.35), "jdec")
end

local suite_dir = paths.shared_dir() .. "/conformance/JSONTestSuite/test_parsing"
local suite_files = paths.list_dir(suite_dir)
if suite_files then
  for _, name in ipairs(suite_files) do
    local kind = name:match("^([yni])_.*%.json$")
    if kind then
      local s = assert(paths.read_file(suite_dir .. "/" .. name))
      add_decode_json_case(s, "suite", kind == "y", kind == "i")
    end
  end
end

-- setUrlHash ------------------------------------------------------------------
local url_bodies = {
  "https://h5.example.com/p?a=1", "https://h5.example.com/p?a=1#old", "/pages/hybrid/hybrid?x=1",
  "https://h5.example.com/#/route?x=1#H5Req_1=0&v=1", "#", "##", "a#b#c", "", "x",
}
local function gen_space(g)
  local out = {}
  for i = 1, g:int(0, 3) do
    out[i] = text.utf8(g:chance(0.8) and g:pick(text.js_trimmed) or g:pick(text.js_not_trimmed))
  end
  return concat(out)
end
for _ = 1, N.sfrag do
  local url
  if r:chance(0.05) then
    url = ""
  else
    url = gen_space(r) .. r:pick(url_bodies) .. (r:chance(0.5) and gen.string(r, 6) or "") .. gen_space(r)
  end
  local hash = gen.string(r, 8)
  batch:add("sfrag", { text.bytes_field(url), text.bytes_field(hash) }, function(answer)
    local got, err, code = core.set_fragment(url, hash)
    return compare(format("set_fragment(%s, %s)", show(url), show(hash)), answer, got, err, code, {})
  end)
end

for _ = 1, N.trim do
  local s = gen_space(r) .. gen.string(r, 6) .. gen_space(r)
  batch:add("trim", { text.bytes_field(s) }, function(answer)
    return compare(format("trim(%s)", show(s)), answer, core.trim(s), nil, nil, {})
  end)
end

-- The published serialize -------------------------------------------------------
local UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"

local function gen_query_value(g)
  local c = g:int(1, 10)
  if c <= 6 then
    local s = gen.string(g, 8)
    return s, text.bytes_field(s)
  elseif c <= 9 then
    local v = c == 9 and g:chance(0.2) and g:pick({ 0 / 0, math.huge, -math.huge }) or gen.number(g)
    return v, "n" .. gen.number_field(v)
  else
    local b = g:chance(0.5)
    return b, b and "b1" or "b0"
  end
end

local function describe_pairs(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = "{" .. show(p[1]) .. ", " .. show(tostring(p[2])) .. "}" end
  return "{" .. concat(out, ", ") .. "}"
end

for i = 1, N.equery do
  local mode = i % 3
  local fields, list = {}, {}
  local t, order
  if mode == 0 then
    -- an array of {key, value} pairs, written in that order (repeats allowed)
    fields[1] = "enc"
    for j = 1, r:int(0, 6) do
      local k = (j > 1 and r:chance(0.15)) and list[1][1] or gen.key(r)
      local v, vf = gen_query_value(r)
      list[j] = { k, v }
      fields[#fields + 1] = text.bytes_field(k)
      fields[#fields + 1] = vf
    end
    t = list
  else
    -- a map: keys sorted bytewise, or an explicit order then the rest sorted
    fields[1] = mode == 1 and "pub" or "enc"
    t = {}
    local keys, vfs = {}, {}
    for _ = 1, r:int(0, 6) do
      local k
      if mode == 1 then
        local n = r:int(1, 8)
        local cs = {}
        for c = 1, n do local p = r:int(1, #UNRESERVED) cs[c] = UNRESERVED:sub(p, p) end
        k = concat(cs)
      else
        k = gen.key(r)
      end
      if t[k] == nil then
        local v, vf = gen_query_value(r)
        t[k] = v
        vfs[k] = vf
        keys[#keys + 1] = k
      end
    end
    table.sort(keys, text.bytewise_less)
    local written = keys
    if mode == 2 and #keys > 0 and r:chance(0.6) then
      order = {}
      local rest, chosen = {}, {}
      for _, k in ipairs(keys) do
        if r:chance(0.5) then
          table.insert(order, r:int(1, #order + 1), k)
          chosen[k] = true
        end
      end
      for _, k in ipairs(keys) do if not chosen[k] then rest[#rest + 1] = k end end
      written = {}
      for _, k in ipairs(order) do written[#written + 1] = k end
      for _, k in ipairs(rest) do written[#written + 1] = k end
    end
    for _, k in ipairs(written) do
      list[#list + 1] = { k, t[k] }
      fields[#fields + 1] = text.bytes_field(k)
      fields[#fields + 1] = vfs[k]
    end
  end
  batch:add("equery", fields, function(answer)
    local got, err, code = core.encode_query(t, order)
    local call = "encode_query(" .. (mode == 0 and "" or "map ") .. describe_pairs(list) ..
      (order and ", order " .. describe_pairs((function() local o = {} for j, k in ipairs(order) do o[j] = { k, "" } end return o end)()) or "") .. ")"
    return compare(call, answer, got, err, code, {})
  end)
end

-- querystring.parse -----------------------------------------------------------
local query_keys = { "a", "b", "cmd", "x", "\228\184\173", "a b", "k%", "=", "&", "+", "", "__proto__", "0", "1", "v" }

local function query_text(g, s, plus, is_key)
  local out = {}
  for i, c in ipairs(text.chars(s)) do
    local unsafe = c == "&" or c == "%" or c == "+" or (is_key and c == "=")
    if c == " " and plus and g:chance(0.5) then
      out[i] = "+"
    elseif unsafe or g:chance(0.5) then
      local lower = g:chance(0.3)
      out[i] = c:gsub(".", function(b)
        local e = format("%%%02X", b:byte())
        return lower and e:lower() or e
      end)
    else
      out[i] = c
    end
  end
  return concat(out)
end

for i = 1, N.qparse do
  local plus = i % 2 == 0
  local pairs_text = {}
  for j = 1, r:int(0, 8) do
    if r:chance(0.1) then
      pairs_text[j] = ""
    else
      local k = r:chance(0.6) and r:pick(query_keys) or gen.string(r, 5)
      local kt = query_text(r, k, plus, true)
      if r:chance(0.1) then
        pairs_text[j] = kt
      else
        pairs_text[j] = kt .. "=" .. query_text(r, gen.string(r, 8), plus, false)
      end
    end
  end
  local s = concat(pairs_text, "&")
  if s:sub(1, 1) == "?" then s = "%3F" .. s:sub(2) end
  batch:add("qparse", { text.bytes_field(s) }, function(answer)
    local call = format("decode_query(%s%s)", show(s), plus and ", {plus = true}" or "")
    local t, err = core.decode_query(s, plus and { plus = true } or nil)
    if t == nil then return call .. "\n  got nil, " .. show(err) end
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, text.bytewise_less)
    local out = {}
    for j, k in ipairs(keys) do
      local v = t[k]
      if type(v) == "table" then
        local vs = {}
        for n, x in ipairs(v) do vs[n] = text.bytes_field(x) end
        out[j] = text.bytes_field(k) .. "=A:" .. concat(vs, ",")
      else
        out[j] = text.bytes_field(k) .. "=S:" .. text.bytes_field(tostring(v))
      end
    end
    local got = #out > 0 and concat(out, "&") or "-"
    local want = answer:match("^OK (.*)$")
    if got == want then return nil end
    local function readable(c)
      return (c:gsub("x(%x*)", function(h) return show(unhex(h)) end))
    end
    return format("%s\n  Node: %s\n  got:  %s", call, readable(want or answer), readable(got))
  end)
end

-- The published reply: setUrlHash(src, req=encodeURIComponent(value)&v=stamp) --
local srcs = { "https://h5.example.com/p?a=1", "https://h5.example.com/p?a=1#H5Req_old=0&v=1",
               "https://h5.example.com/#/route", "/index.html?x=%E4%B8%AD" }
local ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
for _ = 1, N.reply do
  local src = r:pick(srcs)
  local stamp = r:int(1000000000000, 2000000000000)
  if r:chance(0.3) then stamp = stamp + 0.0 end
  local replies, fields, seen = {}, { text.bytes_field(src), format("%.0f", stamp) }, {}
  for _ = 1, r:int(1, 3) do
    local id = {}
    for c = 1, r:int(1, 16) do local p = r:int(1, #ID_CHARS) id[c] = ID_CHARS:sub(p, p) end
    local req = concat(id)
    if req ~= "v" and not seen[req] then
      seen[req] = true
      local value = gen.string(r, 12)
      replies[#replies + 1] = { req, value }
      fields[#fields + 1] = text.bytes_field(req)
      fields[#fields + 1] = text.bytes_field(value)
    end
  end
  batch:add("reply", fields, function(answer)
    local got, err, code = core.encode_reply(src, replies, stamp)
    return compare(format("encode_reply(%s, %s, %.0f)", show(src), describe_pairs(replies), stamp),
      answer, got, err, code, {})
  end)
end

describe("mphybrid.core against Node.js", function()
  it("finds Node.js (it is required: install nodejs)", function()
    local version = oracle.node_version()
    assert(version, "node --version failed: Node.js is required for this spec")
  end)

  it("sends at least 10,000 generated cases to Node.js in one batch", function()
    assert.is_true(batch:count() >= 10000)
    assert.are.equal(batch:count(), #batch:run())
  end)

  local function check(group, minimum)
    local checked, report = batch:verify(group)
    assert(checked >= minimum, format("only %d %s cases were checked", checked, group))
    assert(report == nil, report)
  end

  it("encode_uri_component is encodeURIComponent on UTF-16 strings (lone surrogates refused)", function()
    check("euc16", N.euc16)
  end)

  it("encode_uri_component refuses exactly the byte strings that are not UTF-8", function()
    check("eucb", N.eucb)
  end)

  it("decode_uri_component accepts and refuses what decodeURIComponent does", function()
    check("duc", N.duc)
  end)

  it("numbers are written as JSON.stringify and String(n) write them", function()
    check("num", N.num)
  end)

  it("encode_json writes what JSON.stringify writes", function()
    check("jenc", N.jenc)
  end)

  it("decode_json accepts what JSON.parse accepts (strictly) and reads the same values", function()
    check("jdec", N.jdec)
  end)

  it("decode_json on the JSONTestSuite files agrees with JSON.parse", function()
    if not suite_files then
      pending("JSONTestSuite not found at " .. suite_dir)
      return
    end
    check("suite", 300)
  end)

  it("set_fragment is the published setUrlHash", function()
    check("sfrag", N.sfrag)
  end)

  it("trim is String.prototype.trim", function()
    check("trim", N.trim)
  end)

  it("encode_query writes what the published serialize writes", function()
    check("equery", N.equery)
  end)

  it("decode_query reads repeated keys, bare keys and empty pairs as querystring.parse", function()
    check("qparse", N.qparse)
  end)

  it("encode_reply writes the published reply fragment", function()
    check("reply", N.reply)
  end)
end)
