-- Run by tests/rock/run.sh with LUA_PATH and LUA_CPATH naming only an
-- installed rock tree: loads every module of the rock from there and runs
-- one exchange, client -> shell -> client, then one refused call.
local tree = assert(arg[1], "usage: exchange.lua TREE")

local mphybrid = require "mphybrid"
local core = require "mphybrid.core"
local router = require "mphybrid.router"
local shell = require "mphybrid.shell"
local client = require "mphybrid.client"
local errors = require "mphybrid.errors"

-- every module comes from the tree (the paths name nothing else) and has
-- the core's version
for _, name in ipairs { "mphybrid", "mphybrid.router", "mphybrid.shell", "mphybrid.client", "mphybrid.errors" } do
  assert(package.loaded[name]._VERSION == core._VERSION, name .. " has another version")
end
assert(mphybrid.router == router and mphybrid.client == client, "require 'mphybrid' gives the Lua layer")
local found = package.path:find(tree, 1, true) and package.cpath:find(tree, 1, true)
assert(found, "LUA_PATH and LUA_CPATH must name the tree " .. tree)

local r = router.new()
assert(r:register("echo", function(params) return params end))
local s = assert(shell.new { router = r, src = "https://h5.example.com/app/index.html" })
local c
c = client.new {
  navigate = function(url)
    s:on_load({ cmd = url:match("%?cmd=(.*)$") }, function(src)
      c:receive(src)
    end)
    return true
  end,
}

local answers = {}
c:call("echo", { name = "小明", n = 3 }, function(err, result)
  answers[#answers + 1] = { err = err, result = result }
end)
c:call("missing", {}, function(err, result)
  answers[#answers + 1] = { err = err, result = result }
end)

assert(#answers == 2, "expected two answers, got " .. #answers)
local echo, missing = answers[1], answers[2]
assert(echo.err == nil and echo.result.name == "小明" and echo.result.n == 3, "echo came back changed")
assert(missing.err and missing.err.code == "ENOAPI", "an unknown api is answered ENOAPI")
assert(tostring(errors.new("EPAY", "declined")) == "EPAY: declined")

local jit = rawget(_G, "jit")
print(("mphybrid %s on %s: one exchange and one ENOAPI through %s"):format(
  core._VERSION, jit and jit.version or _VERSION, tree))
