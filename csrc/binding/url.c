/* trim, set_fragment and get_fragment over csrc/url.c: the web-view src as
   the published driver handles it. */

#include "../url.h"

/* String.prototype.trim: what the published driver does to cmd, api, req
   and the web-view src */
static int l_trim(lua_State *L) {
  size_t n, a, b;
  const char *s = luaL_checklstring(L, 1, &n);
  mph_js_trim(s, n, &a, &b);
  lua_pushlstring(L, s + a, b - a);
  return 1;
}

static int l_set_fragment(lua_State *L) {
  size_t n, fn, a, b, h;
  const char *url, *frag;
  scratch *S;
  int sidx;
  if (lua_isnoneornil(L, 1)) { lua_settop(L, 1); return 1; }
  url = luaL_checklstring(L, 1, &n);
  frag = luaL_checklstring(L, 2, &fn);
  if (n == 0) { lua_settop(L, 1); return 1; }
  mph_js_trim(url, n, &a, &b);
  if (a == b) { lua_pushliteral(L, ""); return 1; } /* blank: the trimmed url, as setUrlHash */
  h = mph_url_hash_at(url + a, b - a);
  S = take_scratch(L, 2, &sidx);
  if (mph_buf_put(&S->out, url + a, h) || mph_buf_putc(&S->out, '#') ||
      mph_buf_put(&S->out, frag, fn)) {
    give_back(L, sidx, S);
    return push_error(L, MPH_ENOMEM, "");
  }
  return return_out(L, sidx, S);
}

static int l_get_fragment(lua_State *L) {
  size_t n, h;
  const char *url = luaL_checklstring(L, 1, &n);
  h = mph_url_hash_at(url, n);
  if (h == n) lua_pushnil(L);
  else lua_pushlstring(L, url + h + 1, n - h - 1);
  return 1;
}
