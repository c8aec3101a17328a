/* encode_uri_component and decode_uri_component over csrc/uri.c. */

#include "../uri.h"

static int l_encode_uri_component(lua_State *L) {
  size_t n, at;
  const char *s = luaL_checklstring(L, 1, &n);
  int sidx;
  scratch *S;
  mph_status st;
  lua_settop(L, 1);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  st = mph_uri_encode(&S->out, s, n, &at);
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "invalid UTF-8 at byte %lu", (unsigned long)at + 1);
  }
  return return_out(L, sidx, S);
}

static int decode_error(lua_State *L, mph_status st, size_t at) {
  if (st == MPH_EESCAPE)
    return push_error(L, st, "malformed escape at byte %lu", (unsigned long)at + 1);
  return push_error(L, st, "invalid UTF-8 at byte %lu", (unsigned long)at + 1);
}

static int l_decode_uri_component(lua_State *L) {
  size_t n, at;
  const char *s = luaL_checklstring(L, 1, &n);
  int sidx;
  scratch *S;
  mph_status st;
  lua_settop(L, 1);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  st = mph_uri_decode(&S->out, s, n, 0, &at);
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return decode_error(L, st, at);
  }
  return return_out(L, sidx, S);
}
