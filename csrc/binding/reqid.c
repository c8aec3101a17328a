/* new_req_id and valid_id over csrc/reqid.c. */

#include "../reqid.h"

#define PREFIX_MAX 32

static int l_new_req_id(lua_State *L) {
  size_t pn = 0, i, bn;
  const char *prefix = lua_isnoneornil(L, 1) ? MPH_REQID_PREFIX : luaL_checklstring(L, 1, &pn);
  char out[PREFIX_MAX + MPH_REQID_BODY];
  if (lua_isnoneornil(L, 1)) pn = sizeof MPH_REQID_PREFIX - 1;
  if (pn > PREFIX_MAX) luaL_argerror(L, 1, "prefix longer than 32 characters");
  for (i = 0; i < pn; i++) {
    char c = prefix[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == '~' || c == '-'))
      luaL_argerror(L, 1, "prefix characters must be of [A-Za-z0-9_.~-]");
  }
  memcpy(out, prefix, pn);
  bn = mph_reqid_next(out + pn);
  lua_pushlstring(L, out, pn + bn);
  return 1;
}

/* valid_id(v) -> true | nil, "ECMD: ...", "ECMD": v is a request id or an
   api name by the rule of csrc/reqid.h (any value may be asked about) */
static int l_valid_id(lua_State *L) {
  size_t n;
  const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
  if (s != NULL && mph_id_valid(s, n)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  return push_error(L, MPH_ECMD, "a request id or an api name " ID_RULE " or spaces around it", MPH_ID_MAX);
}
