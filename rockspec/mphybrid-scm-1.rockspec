package = "mphybrid"
version = "scm-1"

source = {
    url = "git+file://.",
}

description = {
    summary = "H5 <-> WeChat mini-program messaging: exact codecs in C, both ends in Lua",
    detailed = [[
mphybrid implements the navigateTo / URL-fragment channel between an H5 page
in a mini-program web-view and the mini-program around it. Its C core,
mphybrid.core, has byte-exact encodeURIComponent/decodeURIComponent, query
strings, URL fragments, strict JSON matching JSON.stringify (on cJSON), and
whole commands and replies in one call.
]],
    license = "MIT",
}

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
        ["mphybrid"] = "lua/mphybrid/init.lua",
        ["mphybrid.router"] = "lua/mphybrid/router.lua",
        ["mphybrid.shell"] = "lua/mphybrid/shell.lua",
        ["mphybrid.batch"] = "lua/mphybrid/batch.lua",
        ["mphybrid.client"] = "lua/mphybrid/client.lua",
        ["mphybrid.errors"] = "lua/mphybrid/errors.lua",
        ["mphybrid.options"] = "lua/mphybrid/options.lua",
        ["mphybrid.store"] = "lua/mphybrid/store/init.lua",
        ["mphybrid.store.memory"] = "lua/mphybrid/store/memory.lua",
        ["mphybrid.store.shdict"] = "lua/mphybrid/store/shdict.lua",
        ["mphybrid.resty"] = "lua/mphybrid/resty.lua",
        ["mphybrid.resty.metrics"] = "lua/mphybrid/resty/metrics.lua",
        ["mphybrid.loopback"] = "lua/mphybrid/loopback.lua",
    },
}
