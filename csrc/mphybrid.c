/* mphybrid.core: the Lua binding. It checks arguments, calls the codecs in
   the other files of csrc/, and pushes results. Bad data returns
   nil, "ECODE: message", "ECODE"; a wrong argument type raises.

   The binding is one translation unit, as luv's: this file includes one file
   of csrc/binding/ per concern, in the order they build on each other, and
   registers their functions in one table grouped by file. */

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "compat.h"
#include "errors.h"
#include "version.h"

#include "binding/shared.c"      /* limits, errors, scratch buffers, options */
#include "binding/uri.c"         /* encode_uri_component, decode_uri_component */
#include "binding/encode_json.c" /* encode_json */
#include "binding/decode_json.c" /* decode_json */
#include "binding/query.c"       /* encode_query, decode_query, decode_fragment */
#include "binding/url.c"         /* trim, set_fragment, get_fragment */
#include "binding/cmd.c"         /* decode_cmd, encode_reply */
#include "binding/reqid.c"       /* new_req_id, valid_id */
#include "binding/ffi.c"         /* the FFI path on LuaJIT */

/* ------------------------------------------------------------------ open */

static const luaL_Reg functions[] = {
  /* binding/uri.c */
  { "encode_uri_component", l_encode_uri_component },
  { "decode_uri_component", l_decode_uri_component },
  /* binding/encode_json.c */
  { "encode_json", l_encode_json },
  /* binding/decode_json.c */
  { "decode_json", l_decode_json },
  /* binding/query.c */
  { "encode_query", l_encode_query },
  { "decode_query", l_decode_query },
  { "decode_fragment", l_decode_fragment },
  /* binding/url.c */
  { "trim", l_trim },
  { "set_fragment", l_set_fragment },
  { "get_fragment", l_get_fragment },
  /* binding/cmd.c */
  { "decode_cmd", l_decode_cmd },
  { "encode_reply", l_encode_reply },
  /* binding/reqid.c */
  { "new_req_id", l_new_req_id },
  { "valid_id", l_valid_id },
  { NULL, NULL },
};

__attribute__((visibility("default"))) int luaopen_mphybrid_core(lua_State *L) {
  mph_arena_hook_cjson();
  lua_createtable(L, 0, 20); /* the module */

  lua_createtable(L, 3, 0); /* the pool */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__gc");
  lua_rawseti(L, -2, 2);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, tree_guard_gc);
  lua_setfield(L, -2, "__gc");
  lua_rawseti(L, -2, 3);
  lua_pushboolean(L, 0); /* keeps slot 1 in the array part */
  lua_rawseti(L, -2, 1);

  lua_createtable(L, 0, 1); /* array_mt */
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_pushvalue(L, -1);
  lua_setfield(L, -4, "array_mt");

  mph_setfuncs(L, functions, 2);

  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushlightuserdata(L, &empty_array_tag);
  lua_setfield(L, -2, "empty_array");
  lua_pushliteral(L, MPH_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, MPH_REQID_PREFIX);
  lua_setfield(L, -2, "req_id_prefix");

  /* the bounds the options are checked against, for the Lua layer to check
     its own options by: max_size and max_depth are whole numbers from 1;
     and the limits of commands both ends keep: max_id (bytes of a request
     id or an api name), max_cmd and max_cmd_depth (decode_cmd's defaults) */
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, (lua_Number)MAX_SIZE_LIMIT);
  lua_setfield(L, -2, "max_size");
  lua_pushinteger(L, MPH_JSON_MAX_DEPTH);
  lua_setfield(L, -2, "max_depth");
  lua_pushinteger(L, MPH_ID_MAX);
  lua_setfield(L, -2, "max_id");
  lua_pushinteger(L, CMD_MAX_SIZE);
  lua_setfield(L, -2, "max_cmd");
  lua_pushinteger(L, CMD_MAX_DEPTH);
  lua_setfield(L, -2, "max_cmd_depth");
  lua_setfield(L, -2, "limits");

  push_codes(L);
  lua_setfield(L, -2, "codes");
  open_ffi(L);
  return 1;
}
