-- The nginx.conf lines (http and server levels) of the bench and the soak:
-- the peers of the bench, the gateway location /mphybrid (the zones of the
-- default lua_shared_dict store and of the metrics, and gw:serve()), and
-- what helpers.nginx needs (/__ping). No access log: it would be measured.
return {
  http = [[
    lua_shared_dict mphybrid 32m;
    lua_shared_dict mphybrid_claims 8m;
    lua_shared_dict mphybrid_metrics 1m;
    keepalive_requests 1000000;
]],
  server = [[
        access_log off;
        location = /__ping { return 200 "pong"; }
        # peer (a): the cheapest answer a Lua location can give
        location = /ok {
            content_by_lua_block { ngx.say("ok") }
        }
        # peer (b): the dispatch on OpenResty's built-ins
        location = /builtin {
            content_by_lua_block { require("peers").builtin() }
        }
        # the dispatch on mphybrid.core alone
        location = /core {
            content_by_lua_block { require("peers").core() }
        }
        # the gateway
        location = /mphybrid {
            content_by_lua_block { require("app").serve() }
        }
        # the gateway on Redis (only when BENCH_REDIS is set)
        location = /mphybrid-redis {
            content_by_lua_block { require("app").serve_redis() }
        }
]],
}
