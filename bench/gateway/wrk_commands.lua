-- wrk script of the gateway bench: every request a GET of the echo command
-- with its own request id, as the mini-program page forwards it:
-- ?cmd=<encodeURIComponent(options.cmd)>&src=<web-view src>&session=<id>.
--
--   BENCH_MODE=v1    {"req":...,"api":"echo","params":{...}}, in one of 64
--                    sessions, round robin
--   BENCH_MODE=v2    the same with "mph":2 and the ack of the previous
--                    request id of its session (one of 64 sessions, round
--                    robin), so that outboxes stay small as on a real page
--   BENCH_PATH       the location (default /mphybrid)

-- luacheck: globals request, read globals wrk
local mode = os.getenv("BENCH_MODE") or "v1"
local path = os.getenv("BENCH_PATH") or "/mphybrid"
local SESSIONS = 64

local function enc(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- the command is percent-encoded twice: once as the page's options.cmd,
-- once as a query value; request ids ([0-9a-z_]) read the same either way
local function twice(s)
  return enc(enc(s))
end

local SRC = enc("https://h5.example.com/app/index.html#/cart")
local PARAMS = '"params":{"qty":2}'
local v1_head = path .. "?cmd=" .. twice('{"req":"')
local v1_tail = twice('","api":"echo",' .. PARAMS .. "}") .. "&src=" .. SRC .. "&session="
local v2_head = path .. "?cmd=" .. twice('{"mph":2,"req":"')
local v2_mid = twice('","api":"echo",' .. PARAMS .. ',"ack":["')
local v2_tail = twice('"]}') .. "&src=" .. SRC .. "&session="

local thread_tag = string.format("%04x", math.random(0, 65535))
local session_head = "bench-session-" .. thread_tag .. "-"
local n = 0
local last = {}

request = function()
  n = n + 1
  local req = "H5Req_" .. thread_tag .. n
  if mode == "v2" then
    local s = n % SESSIONS
    local prev = last[s] or "H5Req_none"
    last[s] = req
    return wrk.format("GET", v2_head .. req .. v2_mid .. prev .. v2_tail .. session_head .. s)
  end
  return wrk.format("GET", v1_head .. req .. v1_tail .. session_head .. n % SESSIONS)
end
