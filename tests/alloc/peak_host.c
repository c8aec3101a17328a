/* Peak memory of decode_json, measured by the Lua state's allocator.

   Every byte mphybrid.core uses (Lua's own objects, the codecs' buffers,
   cJSON's parse tree in the arena) comes from the lua_Alloc of the state,
   so a counting allocator sees all of it. For each text, in a fresh state:

     peak      the most bytes live at once during the call, above what was
               live before it (the text itself is already there);
     result    the bytes the decoded value still holds after the call (Lua's
               own tables and strings: what any Lua JSON decoder must build);
     ours      peak - result: what the call needed on top of its result.

   Each is printed as a multiple of the text's length. The run fails when
   `ours` is more than MAX_OURS times the text (plus 4 MiB of fixed cost):
   the cost of decoding a text must be bounded by the text, not by the number
   of values it spells.

   Usage: peak_host [MiB]   (default 16: texts of about 16 MiB each) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_mphybrid_core(lua_State *L);

#define HDR 16
#define MAX_OURS 1.0
#define FIXED (4u << 20)

typedef struct heap {
  size_t live, peak;
} heap;

static void *h_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  heap *h = (heap *)ud;
  char *block = ptr ? (char *)ptr - HDR : NULL;
  size_t have = 0;
  if (block) memcpy(&have, block, sizeof have);
  if (nsize == 0) {
    if (block) {
      h->live -= have;
      free(block);
    }
    return NULL;
  }
  block = (char *)realloc(block, nsize + HDR);
  if (block == NULL) return NULL;
  h->live += nsize - have;
  if (h->live > h->peak) h->peak = h->live;
  memcpy(block, &nsize, sizeof nsize);
  (void)osize;
  return block + HDR;
}

/* Each case builds a text of about `size` bytes. */
static const char CASES[] =
  "local size = ...\n"
  "local function rep(item, open, close)\n"
  "  local n = math.floor((size - #open - #close) / (#item + 1))\n"
  "  return open .. (item .. ','):rep(n - 1) .. item .. close\n"
  "end\n"
  "return {\n"
  "  { '[0,0,...]', rep('0', '[', ']') },\n"
  "  { '[{},{},...]', rep('{}', '[', ']') },\n"
  "  { '[[],[],...]', rep('[]', '[', ']') },\n"
  "  { '[\"\",\"\",...]', rep('\"\"', '[', ']') },\n"
  "  { '[\"\\\\u0000\",...]', rep('\"\\\\u0000\"', '[', ']') },\n"
  "  { 'records', rep('{\"id\":12345,\"name\":\"item\",\"tags\":[\"a\",\"b\"],\"ok\":true}', '[', ']') },\n"
  "  { 'one object', '{' .. (function()\n"
  "      local t, n = {}, math.floor(size / 12)\n"
  "      for i = 1, n do t[i] = string.format('\"k%07d\":0', i) end\n"
  "      return table.concat(t, ',') end)() .. '}' },\n"
  "  { '[[0,...],[0,...],...]', rep('[' .. ('0,'):rep(1999) .. '0]', '[', ']') },\n"
  "  { 'one string', '\"' .. ('x'):rep(size - 2) .. '\"' },\n"
  "}\n";

int main(int argc, char **argv) {
  double mib = argc > 1 ? atof(argv[1]) : 16;
  size_t size = (size_t)(mib * 1048576.0);
  int i, ncases, failed = 0;
  heap h;
  lua_State *L;

  memset(&h, 0, sizeof h);
  L = lua_newstate(h_alloc, &h);
  luaL_openlibs(L);
  if (luaL_loadbuffer(L, CASES, sizeof CASES - 1, "=cases") != LUA_OK) return 2;
  lua_pushinteger(L, (lua_Integer)size);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "cases: %s\n", lua_tostring(L, -1));
    return 2;
  }
  ncases = (int)lua_rawlen(L, -1);
  printf("decode_json peak memory, as multiples of the text's length (Lua %s)\n",
         LUA_VERSION_MAJOR "." LUA_VERSION_MINOR);
  printf("  %-24s %10s %8s %8s %8s\n", "text", "bytes", "peak", "result", "ours");
  for (i = 1; i <= ncases; i++) {
    heap hh;
    lua_State *S;
    const char *name, *text;
    size_t n, before;
    double peak, result, ours;
    lua_rawgeti(L, -1, i);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    name = lua_tostring(L, -2);
    text = lua_tolstring(L, -1, &n);

    memset(&hh, 0, sizeof hh);
    S = lua_newstate(h_alloc, &hh);
    luaL_openlibs(S);
    luaL_requiref(S, "mphybrid.core", luaopen_mphybrid_core, 0);
    lua_pushlstring(S, text, n); /* kept: it is not part of the cost */
    lua_getfield(S, -2, "decode_json");
    lua_pushvalue(S, -2);
    lua_createtable(S, 0, 1);
    lua_pushinteger(S, (lua_Integer)n);
    lua_setfield(S, -2, "max_size");
    lua_gc(S, LUA_GCCOLLECT, 0);
    lua_gc(S, LUA_GCSTOP, 0); /* what the call allocates, not when Lua collects */
    before = hh.live;
    hh.peak = hh.live;
    if (lua_pcall(S, 2, 2, 0) != LUA_OK || lua_isnil(S, -2)) {
      printf("  %-24s failed: %s\n", name, lua_tostring(S, -1));
      failed = 1;
      lua_close(S);
      lua_pop(L, 3);
      continue;
    }
    peak = (double)(hh.peak - before);
    lua_settop(S, 3); /* the module, the text and the value */
    lua_gc(S, LUA_GCRESTART, 0);
    lua_gc(S, LUA_GCCOLLECT, 0);
    result = (double)hh.live - (double)before;
    ours = peak - result;
    printf("  %-24s %10zu %7.2fx %7.2fx %7.2fx\n", name, n, peak / n, result / n, ours / n);
    if (ours > MAX_OURS * (double)n + FIXED) {
      printf("    over the bound: %.0f bytes on top of the result, more than %.1f times the text + %u\n",
             ours, MAX_OURS, FIXED);
      failed = 1;
    }
    lua_close(S);
    lua_pop(L, 3);
  }
  lua_close(L);
  printf("%s\n", failed ? "FAILED" : "ok: every decode within the bound");
  return failed;
}
