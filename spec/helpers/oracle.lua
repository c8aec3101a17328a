-- Runs spec/oracle/oracle.js once over a batch of cases and hands back its
-- answers. Node.js is required: without it every comparison fails.

local paths = require "helpers.paths"

local oracle = {}

local batch = {}
batch.__index = batch

function oracle.batch()
  return setmetatable({ lines = {}, cases = {} }, batch)
end

-- kind: a handler name in oracle.js; fields: strings without spaces or
-- newlines; check(answer, case) -> nil when fine, or a failure message;
-- group: the name verify() selects cases by (default: kind).
function batch:add(kind, fields, check, group)
  local line = kind
  if #fields > 0 then line = line .. " " .. table.concat(fields, " ") end
  assert(not line:find("\n", 1, true), "newline in an oracle case")
  self.lines[#self.lines + 1] = line
  self.cases[#self.cases + 1] = { kind = kind, check = check, group = group or kind }
end

local function read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function node_command()
  return os.getenv("NODE") or "node"
end

function oracle.node_version()
  local p = io.popen(node_command() .. " --version 2>&1")
  local out = p and p:read("*a") or ""
  if p then p:close() end
  return out:match("^v(%d+[%d%.]*)")
end

-- Runs Node once; returns the answers, one per case, in order.
function batch:run()
  if self.answers then return self.answers end
  local version = oracle.node_version()
  if not version then
    error("Node.js is required for the oracle spec: `" .. node_command() ..
          " --version` failed (install nodejs or set NODE)", 0)
  end
  local input, output = os.tmpname(), os.tmpname()
  local f = assert(io.open(input, "wb"))
  f:write(table.concat(self.lines, "\n"), "\n")
  f:close()
  local script = paths.repo_root() .. "/spec/oracle/oracle.js"
  local p = assert(io.popen(node_command() .. " " .. script .. " " .. input .. " " .. output ..
                            " 2>&1; echo \"exit=$?\""))
  local log = p:read("*a")
  p:close()
  local status = log:match("exit=(%d+)%s*$")
  local answers_text = read_all(output)
  os.remove(input)
  os.remove(output)
  if status ~= "0" then
    error("oracle.js failed:\n" .. log, 0)
  end
  local answers = {}
  for line in answers_text:gmatch("([^\n]*)\n") do answers[#answers + 1] = line end
  if #answers ~= #self.cases then
    error(("oracle.js answered %d of %d cases"):format(#answers, #self.cases), 0)
  end
  self.answers = answers
  return answers
end

-- Checks every case of one group; returns the number checked and a report
-- of the first failures (nil when none failed).
function batch:verify(group, max_reported)
  local answers = self:run()
  local checked, failed, report = 0, 0, {}
  for i, case in ipairs(self.cases) do
    if case.group == group then
      checked = checked + 1
      local ok, msg = pcall(case.check, answers[i], case)
      if not ok then msg = "error while checking: " .. tostring(msg) end
      if msg then
        failed = failed + 1
        if #report < (max_reported or 8) then report[#report + 1] = msg end
      end
    end
  end
  if failed == 0 then return checked, nil end
  return checked, ("%d of %d %s cases disagree with Node.js; first ones:\n%s"):format(
    failed, checked, group, table.concat(report, "\n---\n"))
end

function batch:count()
  return #self.cases
end

return oracle
