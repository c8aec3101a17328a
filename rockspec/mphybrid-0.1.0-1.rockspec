-- The rock of mphybrid 0.1.0. Its source is the release tarball that
-- `make dist` makes (git archive --prefix=mphybrid-0.1.0/ of the tag);
-- `make rock` packs it with this rockspec into a .src.rock. From a checkout:
--   luarocks make rockspec/mphybrid-0.1.0-1.rockspec
-- The version is csrc/version.h's: spec/version_spec.lua checks that this
-- file agrees with it and builds every C file and every Lua module.
rockspec_format = "3.0"
package = "mphybrid"
version = "0.1.0-1"

source = {
  url = "https://github.com/mphybrid/mphybrid/releases/download/v0.1.0/mphybrid-0.1.0.tar.gz",
  dir = "mphybrid-0.1.0",
}

description = {
  summary = "H5 <-> WeChat mini-program messaging: exact codecs in C, both ends in Lua",
  detailed = [[
mphybrid implements the navigateTo / URL-fragment channel between an H5 page
in a mini-program web-view and the mini-program around it. Its C core,
mphybrid.core, has byte-exact encodeURIComponent/decodeURIComponent, query
strings, URL fragments, strict JSON matching JSON.stringify (on cJSON), and
whole commands and replies in one call. On top of it, mphybrid.router,
mphybrid.shell and mphybrid.client play both ends of the wire.
]],
  homepage = "https://github.com/mphybrid/mphybrid",
  issues_url = "https://github.com/mphybrid/mphybrid/issues",
  license = "MIT",
  labels = { "wechat", "mini-program", "json", "uri" },
}

supported_platforms = { "unix" }

dependencies = {
  "lua >= 5.1, < 5.5",
}

external_dependencies = {
  CJSON = {
    header = "cjson/cJSON.h",
    library = "cjson",
  },
}

build = {
  type = "builtin",
  modules = {
    ["mphybrid.core"] = {
      sources = {
        "csrc/arena.c", "csrc/buf.c", "csrc/hex.c", "csrc/jskeys.c", "csrc/jsoncheck.c",
        "csrc/jsonnum.c", "csrc/jsonstr.c", "csrc/mphybrid.c", "csrc/query.c",
        "csrc/reqid.c", "csrc/uri.c", "csrc/url.c", "csrc/utf8.c",
      },
      incdirs = { "$(CJSON_INCDIR)" },
      libdirs = { "$(CJSON_LIBDIR)" },
      libraries = { "cjson", "pthread", "m" },
    },
    -- the public modules, and mphybrid.options and mphybrid.protocol, which
    -- client and shell load
    ["mphybrid"] = "lua/mphybrid/init.lua",
    ["mphybrid.router"] = "lua/mphybrid/router.lua",
    ["mphybrid.shell"] = "lua/mphybrid/shell.lua",
    ["mphybrid.batch"] = "lua/mphybrid/batch.lua",
    ["mphybrid.client"] = "lua/mphybrid/client.lua",
    ["mphybrid.errors"] = "lua/mphybrid/errors.lua",
    ["mphybrid.options"] = "lua/mphybrid/options.lua",
    ["mphybrid.protocol"] = "lua/mphybrid/protocol.lua",
    ["mphybrid.loopback"] = "lua/mphybrid/loopback.lua",
    -- the OpenResty gateway and its stores (docs/GATEWAY.md)
    ["mphybrid.store"] = "lua/mphybrid/store/init.lua",
    ["mphybrid.store.memory"] = "lua/mphybrid/store/memory.lua",
    ["mphybrid.store.shdict"] = "lua/mphybrid/store/shdict.lua",
    ["mphybrid.store.redis"] = "lua/mphybrid/store/redis.lua",
    ["mphybrid.resty"] = "lua/mphybrid/resty.lua",
    ["mphybrid.resty.metrics"] = "lua/mphybrid/resty/metrics.lua",
  },
  -- installed as the rock's documentation (luarocks doc mphybrid)
  copy_directories = { "docs" },
}
