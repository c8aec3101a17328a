/* The differences between Lua 5.1 (and LuaJIT), 5.2, 5.3 and 5.4 that the
   binding needs, in one place. */
#ifndef MPH_COMPAT_H
#define MPH_COMPAT_H

#include <limits.h>
#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM == 501
#define mph_rawlen(L, i) lua_objlen(L, (i))
#else
#define mph_rawlen(L, i) lua_rawlen(L, (i))
#endif

#if LUA_VERSION_NUM >= 503
#define MPH_HAS_INTEGERS 1
#else
#define MPH_HAS_INTEGERS 0
#endif

/* t[i] of the table at absolute index idx, for any i up to 2^53 */
static inline void mph_rawget_index(lua_State *L, int idx, size_t i) {
#if LUA_VERSION_NUM >= 503
  lua_rawgeti(L, idx, (lua_Integer)i);
#else
  if (i <= (size_t)INT_MAX) {
    lua_rawgeti(L, idx, (int)i);
  } else {
    lua_pushnumber(L, (lua_Number)i);
    lua_rawget(L, idx);
  }
#endif
}

/* luaL_setfuncs (5.2+; LuaJIT has its own), under a name of our own */
static inline void mph_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

#endif
