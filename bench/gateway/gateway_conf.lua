-- The nginx.conf lines (http and server levels) of the gateway location
-- /mphybrid that bench and soak add to nginx.conf: the zones of the
-- default lua_shared_dict store and of the metrics, and gw:serve().
return {
  http = [[
    lua_shared_dict mphybrid 32m;
    lua_shared_dict mphybrid_claims 8m;
    lua_shared_dict mphybrid_metrics 1m;
    init_by_lua_block { require("mphybrid.resty") }]],
  server = [[
        location = /mphybrid {
            content_by_lua_block { require("app").serve() }
        }]],
}
