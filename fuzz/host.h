/* Shared by the fuzz targets: an allocator for the pure codecs, and a Lua 5.4
   state with mphybrid.core (linked in, built with the same sanitizers) in
   which a target runs a checker written in Lua.

   A checker is a chunk that receives the module and returns a function; the
   function is called with the input as a Lua string and raises on any broken
   property. Raising, or mphybrid.core raising where it must return nil, err,
   aborts the process, which libFuzzer records as a crash with the input. */
#ifndef MPH_FUZZ_HOST_H
#define MPH_FUZZ_HOST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "../csrc/buf.h"

int luaopen_mphybrid_core(lua_State *L);

/* Undefined behaviour is a finding: report it with a stack and stop. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) {
  return "halt_on_error=1:print_stacktrace=1";
}

/* mph_alloc_fn over malloc, for the codecs used directly */
static inline void *fz_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(p);
    return NULL;
  }
  return realloc(p, nsize);
}

/* Stops the run with a message; libFuzzer saves the input. */
#define FZ_ASSERT(cond, ...)                                        \
  do {                                                              \
    if (!(cond)) {                                                  \
      fprintf(stderr, "\n== broken property (%s:%d): ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                                 \
      fprintf(stderr, "\n");                                        \
      abort();                                                      \
    }                                                               \
  } while (0)

static lua_State *fz_L;
static int fz_checker_ref = LUA_NOREF;
static unsigned long fz_calls;

/* Creates the state and the checker from Lua source (once per process). */
static inline lua_State *fz_lua_open(const char *name, const char *checker_src) {
  lua_State *L;
  if (fz_L) return fz_L;
  L = luaL_newstate();
  FZ_ASSERT(L != NULL, "luaL_newstate failed");
  luaL_openlibs(L);
  luaL_requiref(L, "mphybrid.core", luaopen_mphybrid_core, 0);
  if (luaL_loadbuffer(L, checker_src, strlen(checker_src), name) != LUA_OK) {
    fprintf(stderr, "checker %s does not load: %s\n", name, lua_tostring(L, -1));
    abort();
  }
  lua_insert(L, -2); /* chunk, core */
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isfunction(L, -1)) {
    fprintf(stderr, "checker %s does not start: %s\n", name, lua_tostring(L, -1));
    abort();
  }
  fz_checker_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  fz_L = L;
  return L;
}

static int fz_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

/* Runs the checker on data[0..size), then on the strings of extra (a NULL
   terminated array, or NULL) as further arguments. */
static inline void fz_lua_check(const uint8_t *data, size_t size, const char *const *extra) {
  lua_State *L = fz_L;
  int top = lua_gettop(L), st, nargs = 1;
  lua_pushcfunction(L, fz_traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fz_checker_ref);
  lua_pushlstring(L, (const char *)data, size);
  for (; extra && *extra; extra++, nargs++) lua_pushstring(L, *extra);
  st = lua_pcall(L, nargs, 0, top + 1);
  if (st != LUA_OK) {
    fprintf(stderr, "\n== broken property: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, top);
  /* a full collection now and then keeps the heap, and so the speed, even */
  if (++fz_calls % 4096 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
}

/* Lua helpers shared by the checkers, prepended to each checker's source. */
#define FZ_LUA_PRELUDE                                                          \
  "local core = ...\n"                                                          \
  "local type, pairs, getmetatable, error = type, pairs, getmetatable, error\n" \
  "local mtype, huge = math.type, math.huge\n"                                  \
  "local CODES = { EUTF8 = true, EESCAPE = true, EJSON = true, EDEPTH = true,\n" \
  "  ESIZE = true, EVALUE = true, ECMD = true, EURL = true }\n"                 \
  "local function q(v) return type(v) == 'string' and string.format('%q', v) or tostring(v) end\n" \
  /* nil, 'CODE: ...', 'CODE' with CODE among `allowed` (a set) or any */     \
  "local function failure(what, allowed, v, msg, code)\n"                       \
  "  if v ~= nil then error(what .. ': expected nil, got ' .. q(v), 2) end\n"   \
  "  if type(code) ~= 'string' or not CODES[code] or (allowed and not allowed[code]) then\n" \
  "    error(what .. ': bad error code ' .. q(code) .. ' (' .. q(msg) .. ')', 2) end\n" \
  "  if type(msg) ~= 'string' or msg:sub(1, #code + 2) ~= code .. ': ' then\n"  \
  "    error(what .. ': message does not start with the code: ' .. q(msg), 2) end\n" \
  "  return code\n"                                                             \
  "end\n"                                                                       \
  /* deep equality: types (integer vs float included), array marks, values */ \
  "local function same(a, b, depth)\n"                                          \
  "  depth = depth or 0\n"                                                      \
  "  if type(a) ~= type(b) then return false end\n"                             \
  "  if type(a) == 'number' then\n"                                             \
  "    if a ~= b then return false end\n"                                       \
  "    if mtype(a) ~= mtype(b) and not (a == 0) then return false end\n"        \
  "    return true\n"                                                           \
  "  end\n"                                                                     \
  "  if type(a) ~= 'table' then return a == b end\n"                            \
  "  if getmetatable(a) ~= getmetatable(b) then return false end\n"             \
  "  if depth > 1100 then error('same: too deep') end\n"                        \
  "  for k, v in pairs(a) do if not same(v, b[k], depth + 1) then return false end end\n" \
  "  for k in pairs(b) do if a[k] == nil then return false end end\n"           \
  "  return true\n"                                                             \
  "end\n"                                                                       \
  "local function valid_utf8(s) return utf8.len(s) ~= nil end\n"

#endif
