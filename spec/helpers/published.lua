-- Runs the published WxMiniProgramHybrid code (../shared/conformance/
-- WxMiniProgramHybrid, read where it lies, never copied) through
-- spec/oracle/published.js: one Node.js process for a whole batch of cases,
-- in two phases (what the published H5 library sends and the published page
-- writes; then what the published listener hands its callback for the srcs
-- the caller chose).

local core = require "mphybrid.core"
local paths = require "helpers.paths"

local published = {}

local FILES = {
  "h5/miniProgramHybrid.js",
  "miniprogram/pages/hybrid-page/hybrid.js",
  "miniprogram/pages/hybrid-lib/driver.js",
  "miniprogram/pages/hybrid-lib/handler.js",
}

function published.dir()
  return paths.shared_dir() .. "/conformance/WxMiniProgramHybrid"
end

-- nil when the published files are all there, or why they are not
function published.missing()
  for _, name in ipairs(FILES) do
    local path = published.dir() .. "/" .. name
    if not paths.read_file(path) then
      return path .. " is absent (the published code is read from ../shared, beside the repository)"
    end
  end
  return nil
end

local function node_command()
  return os.getenv("NODE") or "node"
end

local shell_quote = paths.shell_quote
local write_file = paths.write_file

local function json(v)
  return assert(core.encode_json(v))
end

-- cases: an array of case tables (see published.js); deliver(answers) ->
-- an array of { req =, src = } for the listener. Returns the answers of
-- phase 1 and of phase 2.
function published.run(cases, deliver)
  local base = os.tmpname()
  local input, fifo, second, log = base .. ".cases", base .. ".fifo", base .. ".second", base .. ".log"
  local function cleanup()
    for _, path in ipairs({ base, input, fifo, second, log }) do
      os.remove(path)
    end
  end
  write_file(input, json(setmetatable(cases, core.array_mt)))
  os.execute("mkfifo " .. shell_quote(fifo))
  local script = paths.repo_root() .. "/spec/oracle/published.js"
  local p = assert(io.popen(node_command() .. " " .. shell_quote(script) .. " " .. shell_quote(published.dir())
    .. " " .. shell_quote(input) .. " " .. shell_quote(fifo) .. " 2>" .. shell_quote(log)))
  local first = p:read("*l")
  if not first then
    p:close()
    local why = paths.read_file(log) or ""
    cleanup()
    error("published.js failed (Node.js is needed for the published code): " .. why, 0)
  end
  local answers = assert(core.decode_json(first))
  local ok, deliveries = pcall(deliver, answers)
  write_file(second, ok and json(setmetatable(deliveries, core.array_mt)) or "[]")
  -- the fifo is opened only while node waits on it; a node that died
  -- leaves the writer to the timeout
  os.execute("timeout 60 sh -c " .. shell_quote("cat " .. shell_quote(second) .. " > " .. shell_quote(fifo)))
  local rest = p:read("*l")
  p:close()
  local why = paths.read_file(log) or ""
  cleanup()
  if not ok then
    error(deliveries, 0)
  end
  if not rest then
    error("published.js failed in its second phase: " .. why, 0)
  end
  return answers, assert(core.decode_json(rest))
end

return published
