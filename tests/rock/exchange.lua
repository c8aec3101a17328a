-- Run by tests/rock/run.sh with LUA_PATH and LUA_CPATH naming only an
-- installed rock tree: loads every module of the rock from there and runs
-- one exchange, client -> shell -> client (through mphybrid.loopback, which
-- wires the installed router, shell and client), then one refused call.
local tree = assert(arg[1], "usage: exchange.lua TREE")

local mphybrid = require "mphybrid"
local core = require "mphybrid.core"
local router = require "mphybrid.router"
local loopback = require "mphybrid.loopback"
local errors = require "mphybrid.errors"

local found = package.path:find(tree, 1, true) and package.cpath:find(tree, 1, true)
assert(found, "LUA_PATH and LUA_CPATH must name the tree " .. tree)
-- every module has the core's version
for _, name in ipairs { "mphybrid", "mphybrid.router", "mphybrid.shell", "mphybrid.client",
                        "mphybrid.errors", "mphybrid.loopback" } do
  assert(require(name)._VERSION == core._VERSION, name .. " has another version")
end
assert(mphybrid.router == router, "require 'mphybrid' gives the Lua layer")

local r = router.new()
assert(r:register("echo", function(params) return params end))
local lb = loopback.new { router = r }

local echo = lb:call("echo", { name = "小明", n = 3 })
assert(echo.calls == 1 and echo.err == nil, "echo answered once, without an error")
assert(echo.result.name == "小明" and echo.result.n == 3, "echo came back changed")
local missing = lb:call("missing", {})
assert(missing.calls == 1 and missing.err.code == "ENOAPI", "an unknown api is answered ENOAPI")
assert(#lb.wire >= 4, "the messages went over the wire")
assert(tostring(errors.new("EPAY", "declined")) == "EPAY: declined")

local jit = rawget(_G, "jit")
print(("mphybrid %s on %s: one exchange and one ENOAPI through %s"):format(
  core._VERSION, jit and jit.version or _VERSION, tree))
