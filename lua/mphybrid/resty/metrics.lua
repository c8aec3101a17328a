-- mphybrid.resty.metrics: the gateway's counters in a lua_shared_dict
-- (shared by every worker), written out in the Prometheus text format.
--
-- Keys: "c\t<api>\t<outcome>" commands, "b\t<i>" latency buckets (not
-- cumulative: summed when written out), "s" latency sum, "t\t<code>"
-- transport errors, "o\t<i>" outbox size buckets, "e" store errors.
-- Every key is bounded: api is a registered api or "other", outcome an
-- error code a handler or the gateway gives, or ok/replay/running/deferred.

local type = type
local tonumber = tonumber
local setmetatable = setmetatable
local str_format = string.format
local str_find = string.find
local str_sub = string.sub
local concat = table.concat
local sort = table.sort

local _M = { _VERSION = require("mphybrid.core")._VERSION }
local mt = { __index = _M }

-- latency buckets, seconds
local LATENCY = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 }
-- replies written in one version 2 answer
local OUTBOX = { 0, 1, 2, 4, 8, 16, 32 }

--- metrics.new(dict_name) -> metrics; raises when the zone is not declared
-- (a constructor: README.md, "Errors")
function _M.new(name)
  local ngx = rawget(_G, "ngx")
  local dict = ngx and ngx.shared and ngx.shared[name]
  if dict == nil then
    error("metrics.new: lua_shared_dict " .. tostring(name) .. " is not declared", 2)
  end
  return setmetatable({ dict = dict, name = name }, mt)
end

local function bucket(bounds, v)
  for i = 1, #bounds do
    if v <= bounds[i] then
      return i
    end
  end
  return #bounds + 1
end

--- m:command(api, outcome, seconds): one command answered
function _M.command(self, api, outcome, seconds)
  local dict = self.dict
  dict:incr("c\t" .. api .. "\t" .. outcome, 1, 0)
  dict:incr("b\t" .. bucket(LATENCY, seconds), 1, 0)
  dict:incr("s", seconds, 0)
end

--- m:transport(code): one request refused before it reached the shell
function _M.transport(self, code)
  self.dict:incr("t\t" .. code, 1, 0)
end

--- m:outbox(n): a version 2 answer carried n replies
function _M.outbox(self, n)
  self.dict:incr("o\t" .. bucket(OUTBOX, n), 1, 0)
end

--- m:store_error(): a store method failed
function _M.store_error(self)
  self.dict:incr("e", 1, 0)
end

local function label(v)
  -- api names are 1-128 bytes of anything: escape as Prometheus asks
  return (v:gsub("[\\\"\n]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function histogram(out, name, help, bounds, counts, sum)
  out[#out + 1] = "# HELP " .. name .. " " .. help
  out[#out + 1] = "# TYPE " .. name .. " histogram"
  local total = 0
  for i = 1, #bounds + 1 do
    total = total + (counts[i] or 0)
    local le = bounds[i] and str_format("%g", bounds[i]) or "+Inf"
    out[#out + 1] = str_format('%s_bucket{le="%s"} %d', name, le, total)
  end
  if sum then
    out[#out + 1] = str_format("%s_sum %.6f", name, sum)
  end
  out[#out + 1] = str_format("%s_count %d", name, total)
end

--- m:render() -> the metrics in the Prometheus text format (version 0.0.4)
function _M.render(self)
  local dict = self.dict
  local keys = dict:get_keys(0)
  sort(keys)
  local commands, transport, latency, outbox = {}, {}, {}, {}
  local replays = 0
  for i = 1, #keys do
    local k = keys[i]
    local v = dict:get(k)
    if type(v) == "number" then
      local kind = str_sub(k, 1, 1)
      if kind == "c" then
        local tab = str_find(k, "\t", 3, true)
        local api, outcome = str_sub(k, 3, tab - 1), str_sub(k, tab + 1)
        commands[#commands + 1] = str_format('mphybrid_commands_total{api="%s",outcome="%s"} %d',
          label(api), label(outcome), v)
        if outcome == "replay" then
          replays = replays + v
        end
      elseif kind == "t" then
        transport[#transport + 1] = str_format('mphybrid_refused_total{code="%s"} %d',
          label(str_sub(k, 3)), v)
      elseif kind == "b" then
        latency[tonumber(str_sub(k, 3))] = v
      elseif kind == "o" then
        outbox[tonumber(str_sub(k, 3))] = v
      end
    end
  end
  local out = {
    "# HELP mphybrid_commands_total Commands answered, by api and outcome.",
    "# TYPE mphybrid_commands_total counter",
  }
  for i = 1, #commands do
    out[#out + 1] = commands[i]
  end
  out[#out + 1] = "# HELP mphybrid_refused_total Requests refused before the shell, by error code."
  out[#out + 1] = "# TYPE mphybrid_refused_total counter"
  for i = 1, #transport do
    out[#out + 1] = transport[i]
  end
  out[#out + 1] = "# HELP mphybrid_replays_total Version 2 commands answered from the replay store."
  out[#out + 1] = "# TYPE mphybrid_replays_total counter"
  out[#out + 1] = str_format("mphybrid_replays_total %d", replays)
  out[#out + 1] = "# HELP mphybrid_store_errors_total Store methods that failed (ESTORE)."
  out[#out + 1] = "# TYPE mphybrid_store_errors_total counter"
  out[#out + 1] = str_format("mphybrid_store_errors_total %d", dict:get("e") or 0)
  histogram(out, "mphybrid_command_seconds", "Time from request to answer.",
    LATENCY, latency, dict:get("s") or 0)
  histogram(out, "mphybrid_outbox_replies", "Replies carried by one version 2 answer.",
    OUTBOX, outbox)
  out[#out + 1] = ""
  return concat(out, "\n")
end

return _M
