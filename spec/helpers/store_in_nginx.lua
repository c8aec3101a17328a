-- The store contract (spec/helpers/store_contract.lua) for a store that only
-- works inside nginx (cosockets, shared dicts): an nginx on a free loopback
-- port runs each case of the contract in a request, and the busted spec sees
-- one `it` per case. The cases assert with luassert.
--
--   local runner = require("helpers.store_in_nginx").new({
--     name = "store-redis",  -- the folder under build/nginx-spec/
--     new_store = "...",  -- Lua text: a function body given the limits and a
--                         -- fresh key prefix as ...; returns a new empty store
--     http = "",          -- more lines for the http block
--     cases = "helpers.store_contract",  -- a module of cases of the same form
--   })
--   runner.declare(it, pending, assert)

local nginx = require "helpers.nginx"

local _M = {}

-- the names of the cases of the module `cases` (default the contract), in order
function _M.case_names(cases)
  local contract = require(cases or "helpers.store_contract")
  local names = {}
  contract(function(name) names[#names + 1] = name end, function() end)
  return names
end

-- the content handler that runs case ?case=N: "ok" or the failure. Each
-- store it makes has a key prefix of its own (the request id nginx draws)
local RUNNER = [[
local cases = {}
local contract = require(ngx.var.arg_cases)
local made = 0
local new_store = function(lim)
  made = made + 1
  return (function(...) %s end)(lim, "spec:" .. ngx.var.request_id .. ":" .. made .. ":")
end
contract(function(name, fn) cases[#cases + 1] = { name, fn } end, new_store)
local case = cases[tonumber(ngx.var.arg_case)]
if not case then
  ngx.say("no such case")
  return
end
local ok, err = xpcall(case[2], debug.traceback)
ngx.say(ok and "ok" or tostring(err))
]]

--- new(opts) -> runner; runner.declare(it, pending, assert) declares one it()
-- per case of the contract (busted's own it, pending and assert). opts.missing,
-- when set, is why the cases cannot run: they are declared pending. Call
-- runner.start() in setup (after setting opts.new_store) and runner.stop()
-- in teardown.
function _M.new(opts)
  local self = { opts = opts }

  function self.start()
    self.nginx = assert(nginx.start({
      name = opts.name,
      workers = 1,
      http = opts.http,
      server = "location = /__ping { return 200 'pong'; }\n"
        .. "location = /case { content_by_lua_block {\n" .. RUNNER:format(opts.new_store) .. "\n} }\n",
    }))
  end

  function self.stop()
    if self.nginx then
      self.nginx:stop()
      self.nginx = nil
    end
  end

  function self.declare(it, pending, assert)
    local cases = opts.cases or "helpers.store_contract"
    for i, name in ipairs(_M.case_names(cases)) do
      if opts.missing then
        pending(name .. " (" .. opts.missing .. ")")
      else
        it(name, function()
          local status, out = self.nginx:request("GET", "/case?cases=" .. cases .. "&case=" .. i)
          assert.are.equal("ok\n", out, out)
          assert.are.equal(200, status)
        end)
      end
    end
  end

  return self
end

return _M
