-- luacheck (make lint). The library runs on Lua 5.1, Lua 5.4 and LuaJIT, so
-- its standard is "min": only the globals all of them share (a global one Lua
-- lacks, e.g. unpack or table.unpack, is read through a local with a fallback
-- and named below). Specs add busted's globals; code that runs inside nginx
-- adds ngx (std "ngx_lua" is LuaJIT plus ngx).
std = "min"
max_line_length = 160
-- make lint checks every Lua file of the tree but what is built or installed
exclude_files = { "build/**", "**/node_modules/**", "mphybrid/**" }

files["spec"] = {
  std = "min+busted",
  -- read only behind a check that they exist: the integers of Lua 5.3+,
  -- and unpack under its two names
  read_globals = {
    "unpack",
    math = { fields = { "type", "tointeger", "maxinteger", "mininteger" } },
    table = { fields = { "unpack" } },
  },
}
-- the benchmarks name the running Lua (jit) and sandbox a wrk script
-- (setfenv): each read only when it is there
files["bench"] = { read_globals = { "jit", "setfenv" } }
-- the OpenResty gateway (module mphybrid.resty) and its example
files["lua/mphybrid/resty.lua"] = { std = "ngx_lua" }
files["lua/mphybrid/resty"] = { std = "ngx_lua" }
files["examples/openresty"] = { std = "ngx_lua" }
