/* new_req_id over csrc/reqid.c. */

#include "../reqid.h"

#define PREFIX_MAX 32

static int l_new_req_id(lua_State *L) {
  size_t pn = 0, i, bn;
  const char *prefix = lua_isnoneornil(L, 1) ? "H5Req_" : luaL_checklstring(L, 1, &pn);
  char out[PREFIX_MAX + MPH_REQID_BODY];
  if (lua_isnoneornil(L, 1)) pn = 6;
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
