/* encode_uri_component and decode_uri_component over csrc/uri.c. */

#include "../uri.h"

static int decode_error(lua_State *L, mph_status st, size_t at) {
  if (st == MPH_EESCAPE)
    return push_error(L, st, "malformed escape at byte %lu", (unsigned long)at + 1);
  return push_error(L, st, "invalid UTF-8 at byte %lu", (unsigned long)at + 1);
}

/* encodeURIComponent (decode = 0) or decodeURIComponent (decode = 1) of
   the string argument */
static int uri_component(lua_State *L, int decode) {
  size_t n, at;
  const char *s = luaL_checklstring(L, 1, &n);
  int sidx = 0;
  small_scratch ss;
  /* the output takes at most n bytes decoded, 3n encoded */
  scratch *S = n <= (decode ? SMALL_OUT : SMALL_OUT / 3) ? small(&ss) : take_scratch(L, 1, &sidx);
  mph_status st = decode ? mph_uri_decode(&S->out, s, n, 0, &at)
                         : mph_uri_encode(&S->out, s, n, &at);
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return decode_error(L, st, at);
  }
  return return_out(L, sidx, S);
}

static int l_encode_uri_component(lua_State *L) {
  return uri_component(L, 0);
}

static int l_decode_uri_component(lua_State *L) {
  return uri_component(L, 1);
}
