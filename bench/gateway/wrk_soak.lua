-- wrk script of make soak-gateway: a mix of valid, invalid and oversized
-- commands, by POST and GET, against the gateway location (SOAK_PATH,
-- default /mphybrid). Every answer is counted by its status class; a 200
-- must be the JSON answer {"src": ...}, a 4xx the JSON {"error": ...}.
-- done() prints one line the soak driver reads:
--   soak-counts 2xx=N 4xx=N 5xx=N other=N badbody=N

-- luacheck: globals request response setup done c2xx c4xx c5xx cother cbad, read globals wrk
local path = os.getenv("SOAK_PATH") or "/mphybrid"

local function enc(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local SRC = "https://h5.example.com/app/index.html#/cart"
local tag = string.format("%04x", math.random(0, 65535))
local SESSION = "soak-session-" .. tag
local n = 0
local last_v2 = "H5Req_none"  -- acknowledged by the next version 2 command

local function post(fields)
  local parts = {}
  for k, v in pairs(fields) do
    parts[#parts + 1] = json_string(k) .. ":" .. (type(v) == "string" and json_string(v) or tostring(v))
  end
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
    "{" .. table.concat(parts, ",") .. "}")
end

local function get(cmd)
  return wrk.format("GET", path .. "?cmd=" .. enc(cmd) .. "&src=" .. enc(SRC) .. "&session=" .. SESSION)
end

local BIG = string.rep("x", 300 * 1024)
local deep = string.rep("[", 300) .. string.rep("]", 300)

-- each kind of request, in turn
local kinds = {
  -- valid, version 1, by GET and POST
  function(id) return get(enc('{"req":"' .. id .. '","api":"echo","params":{"n":1}}')) end,
  function(id) return post({ cmd = enc('{"req":"' .. id .. '","api":"echo","params":[1,2]}'), src = SRC, session = SESSION }) end,
  -- valid, version 2, a session per thread, then the same command replayed
  function(id)
    local ack = last_v2
    last_v2 = id
    return post({ cmd = '{"mph":2,"req":"' .. id .. '","api":"echo","params":{"a":"b"},"ack":["' .. ack .. '"]}',
      src = SRC, session = SESSION })
  end,
  function() return post({ cmd = '{"mph":2,"req":"H5Req_replayed","api":"echo","params":1}', src = SRC, session = SESSION }) end,
  -- command-level errors: unknown api, bad JSON, bad escape, bad UTF-8, too deep
  function(id) return get(enc('{"req":"' .. id .. '","api":"noSuchApi"}')) end,
  function() return get('{"req":"H5Req_x","api":"echo",') end,
  function() return post({ cmd = "%7B%zz%22", src = SRC, session = SESSION }) end,
  function() return get("%7B%22req%22%3A%22%FF%FE%22%7D") end,
  function() return post({ cmd = deep, src = SRC, session = SESSION }) end,
  -- transport faults: not JSON, a field missing or of the wrong type, a bad session, a wrong method
  function() return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, "{not json") end,
  function() return post({ src = SRC, session = SESSION }) end,
  function() return post({ cmd = 42, src = SRC, session = SESSION }) end,
  function(id) return post({ cmd = '{"req":"' .. id .. '","api":"echo"}', src = SRC, session = "bad session\1" }) end,
  function() return wrk.format("PUT", path, nil, "{}") end,
  -- oversized: a cmd over max_cmd inside a body over the body limit, a long query
  function() return post({ cmd = BIG, src = SRC, session = SESSION }) end,
  function() return get(enc('{"req":"H5Req_long","api":"echo","params":"' .. string.rep("y", 20000) .. '"}')) end,
  -- a reply too long for the web-view src
  function(id) return post({ cmd = '{"req":"' .. id .. '","api":"echo","params":"' .. string.rep("z", 40000) .. '"}', src = SRC, session = SESSION }) end,
}

request = function()
  n = n + 1
  return kinds[n % #kinds + 1]("H5Req_" .. tag .. n)
end

c2xx, c4xx, c5xx, cother, cbad = 0, 0, 0, 0, 0

response = function(status, _, body)
  if status >= 200 and status < 300 then
    c2xx = c2xx + 1
    if not body:find('^%s*{.*"src"%s*:') then
      cbad = cbad + 1
    end
  elseif status >= 400 and status < 500 then
    c4xx = c4xx + 1
    -- nginx itself answers a request line over its buffers (414) in HTML
    if status ~= 414 and status ~= 413 and not body:find('^%s*{.*"error"%s*:') then
      cbad = cbad + 1
    end
  elseif status >= 500 then
    c5xx = c5xx + 1
  else
    cother = cother + 1
  end
end

local threads = {}

setup = function(thread)
  threads[#threads + 1] = thread
end

done = function()
  local t = { c2xx = 0, c4xx = 0, c5xx = 0, cother = 0, cbad = 0 }
  for _, thread in ipairs(threads) do
    for k in pairs(t) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
  end
  io.write(string.format("soak-counts 2xx=%d 4xx=%d 5xx=%d other=%d badbody=%d\n",
    t.c2xx, t.c4xx, t.c5xx, t.cother, t.cbad))
end
