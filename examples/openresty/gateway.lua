-- The gateway of examples/openresty/nginx.conf, made once per nginx
-- configuration (init_by_lua) and served by every worker:
--   init_by_lua_block    { require "gateway" }
--   content_by_lua_block { require("gateway"):serve() }
-- The handler table: $MPHYBRID_HANDLERS (a Lua file returning it), or
-- handlers.lua beside this file. The store: $MPHYBRID_STORE
-- (redis://host:port/db), or the lua_shared_dict zones of nginx.conf.

local router = require "mphybrid.router"
local resty = require "mphybrid.resty"

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local handlers = os.getenv("MPHYBRID_HANDLERS")
if handlers == nil or handlers == "" then
  handlers = here .. "handlers.lua"
end

local r = router.new()
local ok, err = r:load(handlers)
if not ok then
  error("HANDLERS=" .. handlers .. ": " .. err, 0)
end

local store
local url = os.getenv("MPHYBRID_STORE")
if url ~= nil and url ~= "" then
  local loaded, redis = pcall(require, "mphybrid.store.redis")
  if not loaded then
    error("STORE=" .. url .. ": mphybrid.store.redis cannot be loaded: " .. tostring(redis), 0)
  end
  store = redis.new({ url = url, claim_ttl = resty.defaults.handler_timeout + 5000 })
end

return resty.new({ router = r, store = store })
