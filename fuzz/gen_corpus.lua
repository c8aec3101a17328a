-- Writes the seed corpora of the fuzz targets, fuzz/corpus/<target>/, from
-- the examples the project already has: the string literals of the specs
-- and of the README's Lua examples, the benchmark payloads, and a few edge
-- cases per codec. Pure Lua 5.4 (nothing to build first); run from the
-- repository root:  lua5.4 fuzz/gen_corpus.lua
--
-- Each seed is a file named by a 64-bit FNV-1a hash of its bytes, so that
-- running this again adds nothing that is already there. Old seeds are
-- removed first: the corpus is exactly what this script writes.

local MAX_SEED = 8192        -- bytes; the targets run with -max_len 8192
local MAX_PER_TARGET = 600

------------------------------------------------------------------ helpers

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function list(dir, suffix)
  local names = {}
  local p = io.popen('ls -1 "' .. dir .. '" 2>/dev/null')
  for name in p:lines() do
    if name:sub(-#suffix) == suffix then names[#names + 1] = dir .. "/" .. name end
  end
  p:close()
  table.sort(names)
  return names
end

local function fnv1a(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = h ~ s:byte(i)
    h = h * 1099511628211
  end
  return string.format("%016x", h)
end

-- encodeURIComponent's bytes (for seeds only: no UTF-8 check)
local function enc(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- Lua string literals ('...', "...", [[...]], [=[...]=]) of a source text,
-- evaluated; comments skipped.
local function literals(src)
  local out, i, n = {}, 1, #src
  local function add(lit)
    local f = load("return " .. lit, "=literal", "t", {})
    if f then
      local ok, v = pcall(f)
      if ok and type(v) == "string" then out[#out + 1] = v end
    end
  end
  while i <= n do
    local c = src:sub(i, i)
    if src:sub(i, i + 1) == "--" then
      local eq = src:match("^%-%-%[(=*)%[", i)
      if eq then
        local close = src:find("]" .. eq .. "]", i, true)
        i = (close or n) + #eq + 2
      else
        i = (src:find("\n", i, true) or n) + 1
      end
    elseif c == "'" or c == '"' then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      if src:sub(j, j) == c then add(src:sub(i, j)) end
      i = j + 1
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local close = src:find("]" .. eq .. "]", i, true)
      if close then add(src:sub(i, close + #eq + 1)) end
      i = (close or n) + #eq + 2
    else
      i = i + 1
    end
  end
  return out
end

------------------------------------------------------------------ sources

local lits = {}
for _, path in ipairs(list("spec", "_spec.lua")) do
  for _, s in ipairs(literals(read(path))) do lits[#lits + 1] = s end
end
local readme = read("README.md") or ""
for block in readme:gmatch("```lua\n(.-)```") do
  for _, s in ipairs(literals(block)) do lits[#lits + 1] = s end
end

local payloads = {}
do
  local f = loadfile("bench/payloads.lua")
  local ok, p = pcall(f or error)
  if ok and type(p) == "table" then
    for _, k in ipairs({ "small", "medium" }) do
      if type(p[k]) == "string" then payloads[#payloads + 1] = p[k] end
    end
  end
end

local function is_json(s)
  return s:find("^%s*[%[{\"%-%d]") ~= nil or s == "true" or s == "false" or s == "null"
end
local function is_object(s) return s:find("^%s*{") ~= nil end

-- edge cases, per codec
local uri_edges = {
  "", "%", "%2", "%25", "%2B", "+", "a+b%20c", "100%", "%E4", "%E4%B8", "%E4%B8%AD",
  "%C0%80", "%C2%80", "%ED%9F%BF", "%ED%A0%80", "%EF%BF%BF", "%F0%90%80%80",
  "%F4%8F%BF%BF", "%F4%90%80%80", "%F5%80%80%80", "%FF", "%e4%b8%ad", "%zz",
  "\xE4\xB8\xAD", "\xED\xA0\x80", "\xC0\x80", "\xF0\x9F\x98\x80", "\xFF",
  "A-Z_a.z!~*'()", "%00", "a\0b",
}
local query_edges = {
  "", "?", "#", "&", "&&", "=", "==", "a", "a=", "=b", "a=b=c", "a=1&a=2&a=3",
  "?cmd=%7B%7D&x&y=1&y=2", "#H5Req_ab=0&bad=%E4&v=17", "a+b=c+d", "%=%", "k=%E4&k2=v",
  "#miniProgramResult=0&v=1700000000000", "a=%25&b=%2B&c=%26%3D",
}
local json_edges = {
  "", " ", "0", "-0", "1", "-", "01", "1.", ".5", "1e", "1e+", "1E-7", "1e21", "1e400",
  "-1e400", "123456789012345678901234567890123456789012345678901234567890123456789",
  "0." .. ("0"):rep(70) .. "1", "9007199254740993", "true", "false", "null", "nul",
  '""', '"\\u0000"', '"a\\u0000b"', '{"\\u0000":"\\u0000"}', '"\\ud800"', '"\\udc00"',
  '"\\ud83d\\ude00"', '"\\ud800\\u0041"', '"\\x"', '"\t"', '"\xFF"', "\xEF\xBB\xBF{}",
  "[]", "{}", "[[]]", '{"a":{}}', "[1,]", '{"a":1,}', '{"a" 1}', '{"a":1 "b":2}',
  '{"a":1,"a":2}', "[1 2]", ("["):rep(100) .. ("]"):rep(100),
  ("["):rep(1000) .. ("]"):rep(1000), ("["):rep(1001) .. ("]"):rep(1001),
  '{"a":' .. ("["):rep(99) .. ("]"):rep(99) .. "}", "[1,2.5,null,true,false,\"x\"]",
  '{"0":1,"7":2,"a":3,"10":4}', ' \t\n\r[ 1 , 2 ] \n',
}
local cmd_edges = {
  '{"req":"H5Req_1","api":"ping"}', '{"api":"x"}', '{"api":""}', '{"api":1}',
  '{"api":"x","req":null}', '{"api":"x","req":""}', '{"api":"x","req":"a\\nb"}',
  '{"api":"' .. ("a"):rep(128) .. '"}', '{"api":"' .. ("a"):rep(129) .. '"}',
  '[{"api":"x"}]', '"x"', "null", ' {"api":"x"}',
  '{"api":"pay","params":{"discount":"100%","code":"%25","q":"a=1&b=2/3"}}',
  '{"api":"x","params":' .. ("["):rep(100) .. ("]"):rep(100) .. "}",
  '{"api":"x","params":' .. ("["):rep(99) .. ("]"):rep(99) .. "}",
}

------------------------------------------------------------------ corpora

local corpora = { uri = {}, query = {}, json = {}, cmd = {}, roundtrip = {}, shell = {} }
local function add(target, s)
  if #s <= MAX_SEED then corpora[target][#corpora[target] + 1] = s end
end

for _, s in ipairs(uri_edges) do add("uri", s); add("roundtrip", s) end
for _, s in ipairs(query_edges) do add("query", s); add("roundtrip", s) end
for _, s in ipairs(json_edges) do add("json", s); add("roundtrip", s) end
for _, s in ipairs(cmd_edges) do
  add("cmd", s); add("cmd", enc(s)); add("cmd", enc(enc(s)))
  add("json", s)
end
for _, s in ipairs(payloads) do
  add("json", s); add("roundtrip", s)
  add("cmd", s); add("cmd", enc(s)); add("cmd", enc(enc(s)))
  add("uri", s); add("uri", enc(s))
  add("query", "cmd=" .. enc(s)); add("query", "#H5Req_k3j2h1g0a=" .. enc(s) .. "&v=1700000000000")
  add("roundtrip", "H5Req_m9x8c7v6b\n" .. s)
end
-- the Lua layer: lines of commands (as onLoad gets them) and fragments (as
-- the page sees them), one per line
local v2 = '{"req":"H5Req_1","api":"ping","params":{"a":"%25 & = /"},"mph":2,"hash":"/cart"}'
local shell_seqs = {
  { v2, v2 },
  { v2, '{"req":"H5Req_2","api":"async","params":[1,2],"mph":2,"ack":["H5Req_1"]}' },
  { '{"req":"H5Req_1","api":"ping","mph":2}', '{"req":"H5Req_1","api":"boom","mph":2}' },
  { '{"req":"mph","api":"ping","mph":2}', '{"req":"H5Req_3","api":"fail","mph":3,"ack":"x"}' },
  { '{"req":"H5Req_4","api":"checked","params":{"n":1.5}}', '{"api":"none"}', '{"api":"toString"}' },
  { "#H5Req_a=0&v=1", "#mph=2&H5Req_b=%7B%22result%22%3A1%7D&H5Req_c=%E4&v=2", "#H5Req_a", "#/orders/42" },
  { "https://h5.example.com/p#mph=2&H5Req_a=%7B%22error%22%3A%7B%22code%22%3A%22EPAY%22%2C%22message%22%3A%22x%22%7D%7D&hash=%2Fcart&v=3" },
}
for _, seq in ipairs(shell_seqs) do
  add("shell", table.concat(seq, "\n"))
  local encoded = {}
  for i, line in ipairs(seq) do encoded[i] = line:sub(1, 1) == "{" and enc(line) or line end
  add("shell", table.concat(encoded, "\n"))
end
for _, s in ipairs(cmd_edges) do add("shell", s); add("shell", enc(s)) end
for _, s in ipairs(payloads) do add("shell", enc(s)); add("shell", enc(enc(s))) end
for _, s in ipairs(query_edges) do add("shell", s) end

for _, s in ipairs(lits) do
  if is_json(s) then
    add("json", s); add("roundtrip", s)
    if is_object(s) then add("cmd", s); add("cmd", enc(s)); add("shell", enc(s)) end
  end
  if s:find("%%%x%x") or s:find("[\128-\255]") or s:find("%%") then
    add("uri", s); add("roundtrip", s)
    if s:find("%%7B") then add("cmd", s) end
  end
  if s:find("[=&]") or s:find("^[#?]") then add("query", s) end
end

for target, seeds in pairs(corpora) do
  local dir = "fuzz/corpus/" .. target
  os.execute('rm -rf "' .. dir .. '" && mkdir -p "' .. dir .. '"')
  local seen, count = {}, 0
  for _, s in ipairs(seeds) do
    local name = fnv1a(s)
    if not seen[name] and count < MAX_PER_TARGET then
      seen[name] = true
      count = count + 1
      local f = assert(io.open(dir .. "/" .. name, "wb"))
      f:write(s)
      f:close()
    end
  end
  print(string.format("%-10s %4d seeds", target, count))
end
