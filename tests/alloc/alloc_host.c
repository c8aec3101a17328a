/* Allocation-failure sweep for mphybrid.core.

   Every Lua-facing function is called, under lua_pcall, in a Lua 5.4 state
   whose allocator fails the Nth allocation, for N = 1, 2, ... until a call
   completes without reaching N. The codecs' buffers and cJSON's parse trees
   (through mphybrid's arena) take their memory from that same allocator, so
   every allocation of a call can be made to fail. Each N runs in a fresh
   state, four ways: the function called for the first time in the state
   (cold) or once before (warm: its scratch buffers already exist), and only
   the Nth allocation failing (single: Lua's emergency collection may retry
   and succeed) or the Nth and every later one (persistent).

   Pass: every call either succeeds with exactly the result it has without
   failures, or raises a memory error ("not enough memory"); the module
   still gives the right result right after; and when the state is closed
   every byte taken from the allocator has been given back. The allocator
   also checks that every block is freed or resized with the size it has.
   Built with AddressSanitizer (and LeakSanitizer) for what the byte count
   cannot see.

   Usage: alloc_host [payloads.lua [name]]
   payloads.lua: default bench/payloads.lua; without it, a built-in order
   command of the same shape is the medium payload. name: only the calls
   whose name contains it (e.g. decode_fragment), to reproduce a failure. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_mphybrid_core(lua_State *L);

/* ------------------------------------------------------------- allocator */

#define HDR 16 /* keeps the block's size; keeps malloc's alignment */

typedef struct heap {
  size_t live_bytes, live_blocks;
  unsigned long count;   /* growing allocations since armed */
  unsigned long fail_at; /* the one that fails (0: none) */
  int persistent;        /* ... and every one after it */
  int armed;
  unsigned long injected;
  int bad_size;          /* a block was freed or resized with a wrong size */
} heap;

static void *h_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  heap *h = (heap *)ud;
  char *block = ptr ? (char *)ptr - HDR : NULL;
  size_t have = 0;
  if (block) {
    memcpy(&have, block, sizeof have);
    if (have != osize) {
      fprintf(stderr, "allocator: block of %zu bytes given back as %zu\n", have, osize);
      h->bad_size = 1;
    }
  }
  if (nsize == 0) {
    if (block) {
      h->live_bytes -= have;
      h->live_blocks--;
      free(block);
    }
    return NULL;
  }
  /* Lua requires shrinking to succeed; only allocations and growth fail */
  if (h->armed && (block == NULL || nsize > have)) {
    h->count++;
    if (h->count == h->fail_at || (h->persistent && h->fail_at && h->count > h->fail_at)) {
      h->injected++;
      return NULL;
    }
  }
  block = (char *)realloc(block, nsize + HDR);
  if (block == NULL) return NULL;
  if (ptr == NULL) h->live_blocks++;
  h->live_bytes += nsize - have;
  memcpy(block, &nsize, sizeof nsize);
  return block + HDR;
}

/* ------------------------------------------------------------- the cases */

static const char SETUP[] =
  /* two instances of the module: `tools` builds the arguments, `core` is the
     one under test, so that its first call in a state is really its first */
  "local tools = require 'mphybrid.core'\n"
  "package.loaded['mphybrid.core'] = nil\n"
  "local core = require 'mphybrid.core'\n"
  "assert(core ~= tools)\n"
  "local function remark(v)\n"
  "  if type(v) == 'table' then\n"
  "    if getmetatable(v) == tools.array_mt then setmetatable(v, core.array_mt) end\n"
  "    for _, x in pairs(v) do remark(x) end\n"
  "  end\n"
  "  return v\n"
  "end\n"
  "local payloads_path = ...\n"
  "local ok, P = pcall(dofile, payloads_path)\n"
  "local medium = ok and type(P) == 'table' and P.medium\n"
  "if type(medium) ~= 'string' then\n"
  /* an order command of twelve items, CJK text, & = % / (about 1.3 KB) */
  "  local items = {}\n"
  "  for i = 1, 12 do\n"
  "    items[i] = string.format('{\"sku\":\"A%04d\",\"name\":\"有机绿茶 & 咖啡 %d%%/套 a=b\",\"qty\":%d,\"price\":%d.5,\"tags\":[\"茶/饮品\"]}', i, i, i, i * 7)\n"
  "  end\n"
  "  medium = '{\"req\":\"H5Req_m9x8c7v6b\",\"api\":\"createOrder\",\"params\":{\"shopId\":\"S-2048\",\"items\":['\n"
  "    .. table.concat(items, ',') .. '],\"remark\":\"请在 18:00 前送达 & 备注=无\",\"coupon\":\"SAVE10%\"}}'\n"
  "  PAYLOAD = 'built-in'\n"
  "else\n"
  "  PAYLOAD = payloads_path\n"
  "end\n"
  "MEDIUM_BYTES = #medium\n"
  "local enc = tools.encode_uri_component\n"
  "local T = remark(assert(tools.decode_json(medium)))\n"
  "local req = T.req\n"
  "local SRC = ' https://h5.example.com/p?a=1#old '\n"
  "local wide = {}\n"
  "for i = 1, 250 do wide['k' .. i] = i end\n"
  "local long_numbers = '{\"a\\\\u0000b\":[' .. ('1'):rep(70) .. ',-0.' .. ('0'):rep(70) .. '1,'\n"
  "  .. ('9'):rep(400) .. 'e-380],\"k\":\"x\\\\u0000\",\"m\":' .. medium .. '}'\n"
  "local query = 'cmd=' .. enc(medium) .. '&x&y=1&y=2&z=%E4%B8%AD'\n"
  "local fragment = '#' .. req .. '=' .. enc(medium) .. '&bad=%E4&v=17'\n"
  "local qmap = { cmd = medium, b = 1, c = true, d = 2.5 }\n"
  "CASES = {\n"
  "  { 'decode_json', function() return core.decode_json, medium end },\n"
  "  { 'decode_json (long numbers, NUL)', function() return core.decode_json, long_numbers end },\n"
  "  { 'encode_json', function() return core.encode_json, T end },\n"
  "  { 'encode_json (250 keys)', function() return core.encode_json, wide end },\n"
  "  { 'decode_cmd (encoded)', function() return core.decode_cmd, enc(medium) end },\n"
  "  { 'decode_cmd (decoded)', function() return core.decode_cmd, medium end },\n"
  "  { 'decode_cmd (encoded twice)', function() return core.decode_cmd, enc(enc(medium)) end },\n"
  "  { 'decode_cmd (trimmed api and req)', function() return core.decode_cmd, ' ' .. enc('{\\\"req\\\":\\\" r \\\",\\\"api\\\":\\\" x \\\"}') end },\n"
  "  { 'decode_cmd (refused shape)', function() return core.decode_cmd, enc('{\\\"req\\\":\\\" r \\\",\\\"api\\\":7}') end },\n"
  "  { 'decode_cmd (lone surrogate)', function() return core.decode_cmd, enc('{\\\"req\\\":\\\" r \\\",\\\"api\\\":\\\"x\\\",\\\"p\\\":[\\\"\\\\\\\\ud800\\\",' .. medium .. ']}') end },\n"
  "  { 'encode_reply (JSON value)', function() return core.encode_reply, SRC, { [req] = T.params }, 1700000000000 end },\n"
  "  { 'encode_reply (strings)', function() return core.encode_reply, SRC, { { req, medium }, { 'H5Req_2', '0' } }, 1 end },\n"
  "  { 'valid_id (refused)', function() return core.valid_id, ' ' .. req end },\n"
  "  { 'encode_uri_component', function() return core.encode_uri_component, medium end },\n"
  "  { 'decode_uri_component', function() return core.decode_uri_component, enc(medium) end },\n"
  "  { 'decode_query', function() return core.decode_query, query end },\n"
  "  { 'decode_query (ordered, plus)', function() return core.decode_query, query, { ordered = true, plus = true } end },\n"
  "  { 'decode_fragment', function() return core.decode_fragment, fragment end },\n"
  "  { 'encode_query (map)', function() return core.encode_query, qmap end },\n"
  "  { 'encode_query (order)', function() return core.encode_query, qmap, { 'd', 'cmd' } end },\n"
  "  { 'encode_query (pairs)', function() return core.encode_query, { { 'cmd', medium }, { 'v', '1' } } end },\n"
  "  { 'set_fragment', function() return core.set_fragment, SRC, fragment:sub(2) end },\n"
  "  { 'trim', function() return core.trim, '\\227\\128\\128 ' .. medium .. ' \\t' end },\n"
  "  { 'get_fragment', function() return core.get_fragment, SRC .. fragment end },\n"
  "  { 'new_req_id', function() return function() local id = core.new_req_id('Fz_') return #id >= 12 and id:sub(1, 3) end end },\n"
  "}\n"
  /* a canonical text of any results, for comparing outcomes */
  "local null, empty_array, array_mt = core.null, core.empty_array, core.array_mt\n"
  "local function fp(v, out)\n"
  "  local t = type(v)\n"
  "  if t == 'table' then\n"
  "    local mt = getmetatable(v)\n"
  "    out[#out + 1] = mt == nil and '{' or mt == array_mt and 'A{' or 'M{'\n"
  "    local keys = {}\n"
  "    for k in pairs(v) do keys[#keys + 1] = k end\n"
  "    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)\n"
  "    for _, k in ipairs(keys) do fp(k, out); out[#out + 1] = '='; fp(v[k], out); out[#out + 1] = ',' end\n"
  "    out[#out + 1] = '}'\n"
  "  elseif t == 'number' then out[#out + 1] = (math.type(v) or '') .. string.format('%.17g', v)\n"
  "  elseif t == 'string' then out[#out + 1] = string.format('%q', v)\n"
  "  elseif v == null then out[#out + 1] = 'null'\n"
  "  elseif v == empty_array then out[#out + 1] = '[]'\n"
  "  else out[#out + 1] = tostring(v) end\n"
  "end\n"
  "function FINGERPRINT(...)\n"
  "  local out = { tostring(select('#', ...)), ':' }\n"
  "  for i = 1, select('#', ...) do fp((select(i, ...)), out); out[#out + 1] = ';' end\n"
  "  return table.concat(out)\n"
  "end\n";

static const char *payloads_path = "bench/payloads.lua";
static const char *only = NULL;

typedef struct outcome {
  int status;
  char *text; /* fingerprint of the results, or the error message */
} outcome;

static lua_State *new_state(heap *h) {
  lua_State *L = lua_newstate(h_alloc, h);
  if (L == NULL) { fprintf(stderr, "lua_newstate failed\n"); exit(2); }
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_mphybrid_core);
  lua_setfield(L, -2, "mphybrid.core");
  lua_pop(L, 2);
  if (luaL_loadbuffer(L, SETUP, sizeof SETUP - 1, "=setup") != LUA_OK) {
    fprintf(stderr, "setup: %s\n", lua_tostring(L, -1));
    exit(2);
  }
  lua_pushstring(L, payloads_path);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "setup: %s\n", lua_tostring(L, -1));
    exit(2);
  }
  return L;
}

/* Pushes the function of case i and its arguments; returns the count. */
static int push_call(lua_State *L, int i) {
  int top = lua_gettop(L);
  lua_getglobal(L, "CASES");
  lua_rawgeti(L, -1, i);
  lua_rawgeti(L, -1, 2);
  lua_remove(L, -2);
  lua_remove(L, -2);
  if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    fprintf(stderr, "case %d: %s\n", i, lua_tostring(L, -1));
    exit(2);
  }
  return lua_gettop(L) - top - 1;
}

/* Calls the function and arguments above `base` and records the outcome. */
static void run_call(lua_State *L, heap *h, int nargs, int arm, outcome *o) {
  int base = lua_gettop(L) - nargs - 1, nres;
  if (arm) {
    h->count = 0;
    h->armed = 1;
  }
  o->status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  h->armed = 0;
  if (o->status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    o->text = strdup(msg ? msg : "(no message)");
    lua_settop(L, base);
    return;
  }
  nres = lua_gettop(L) - base;
  lua_getglobal(L, "FINGERPRINT");
  lua_insert(L, base + 1);
  if (lua_pcall(L, nres, 1, 0) != LUA_OK) {
    fprintf(stderr, "fingerprint: %s\n", lua_tostring(L, -1));
    exit(2);
  }
  o->text = strdup(lua_tostring(L, -1));
  lua_settop(L, base);
}

static int is_memory_error(const outcome *o) {
  return o->status == LUA_ERRMEM ||
         (o->status == LUA_ERRRUN && strstr(o->text, "not enough memory") != NULL);
}

typedef struct tally {
  unsigned long runs, injected_runs, raised, recovered, wrong;
} tally;

static const char *mode_name[4] = { "cold single", "cold persistent", "warm single",
                                    "warm persistent" };

/* One case in one mode, for every N. Returns the number of wrong outcomes. */
static unsigned long sweep(int i, const char *name, const outcome *want, int mode, tally *all) {
  int warm = mode >= 2, persistent = mode & 1;
  unsigned long n, wrong = 0, raised = 0, recovered = 0, injected_runs = 0;
  for (n = 1;; n++) {
    heap h;
    lua_State *L;
    outcome got, after;
    int nargs, reached;
    memset(&h, 0, sizeof h);
    L = new_state(&h);
    if (warm) {
      nargs = push_call(L, i);
      run_call(L, &h, nargs, 0, &got);
      free(got.text);
    }
    nargs = push_call(L, i);
    h.fail_at = n;
    h.persistent = persistent;
    h.injected = 0;
    run_call(L, &h, nargs, 1, &got);
    reached = h.injected > 0;
    h.fail_at = 0;
    if (reached) injected_runs++;

    if (got.status == LUA_OK && strcmp(got.text, want->text) == 0) {
      if (reached) recovered++;
    } else if (reached && is_memory_error(&got)) {
      raised++;
    } else {
      wrong++;
      printf("WRONG %s, %s, N=%lu: status %d: %.300s\n", name, mode_name[mode], n,
              got.status, got.text);
    }
    free(got.text);

    /* the module still answers right after the failure */
    lua_gc(L, LUA_GCCOLLECT, 0);
    nargs = push_call(L, i);
    run_call(L, &h, nargs, 0, &after);
    if (after.status != LUA_OK || strcmp(after.text, want->text) != 0) {
      wrong++;
      printf("WRONG %s, %s, N=%lu: the next call gives status %d: %.300s\n", name,
              mode_name[mode], n, after.status, after.text);
    }
    free(after.text);

    lua_close(L);
    if (h.live_bytes != 0 || h.live_blocks != 0 || h.bad_size) {
      wrong++;
      printf("LEAK %s, %s, N=%lu: %zu bytes in %zu blocks not given back%s\n", name,
              mode_name[mode], n, h.live_bytes, h.live_blocks,
              h.bad_size ? " (and a block given back with the wrong size)" : "");
    }
    if (!reached) break; /* the call needs fewer than n allocations */
  }
  printf("  %-34s %-15s N=1..%-5lu %5lu failed: %5lu raised a memory error, %4lu recovered, %lu wrong\n",
         name, mode_name[mode], n, injected_runs, raised, recovered, wrong);
  all->runs += n;
  all->injected_runs += injected_runs;
  all->raised += raised;
  all->recovered += recovered;
  all->wrong += wrong;
  return wrong;
}

int main(int argc, char **argv) {
  heap h;
  lua_State *L;
  int ncases, i, mode;
  tally all;
  memset(&all, 0, sizeof all);
  if (argc > 1) payloads_path = argv[1];
  if (argc > 2) only = argv[2];

  memset(&h, 0, sizeof h);
  L = new_state(&h);
  lua_getglobal(L, "CASES");
  ncases = (int)lua_rawlen(L, -1);
  lua_pop(L, 1);
  lua_getglobal(L, "PAYLOAD");
  lua_getglobal(L, "MEDIUM_BYTES");
  printf("allocation-failure sweep of mphybrid.core: %d calls, medium payload from %s (%d bytes)\n",
         ncases, lua_tostring(L, -2), (int)lua_tointeger(L, -1));
  lua_close(L);

  for (i = 1; i <= ncases; i++) {
    outcome want;
    const char *name;
    int nargs;
    memset(&h, 0, sizeof h);
    L = new_state(&h);
    lua_getglobal(L, "CASES");
    lua_rawgeti(L, -1, i);
    lua_rawgeti(L, -1, 1);
    name = strdup(lua_tostring(L, -1));
    lua_settop(L, 0);
    nargs = push_call(L, i);
    run_call(L, &h, nargs, 0, &want);
    lua_close(L);
    if (only && strstr(name, only) == NULL) {
      free(want.text);
      free((void *)name);
      continue;
    }
    if (want.status != LUA_OK) {
      fprintf(stderr, "%s fails without any allocation failure: %s\n", name, want.text);
      return 2;
    }
    for (mode = 0; mode < 4; mode++) sweep(i, name, &want, mode, &all);
    free(want.text);
    free((void *)name);
  }
  printf("total: %lu runs, %lu with an allocation failure injected: %lu raised a memory error, "
         "%lu recovered with the right result, %lu wrong outcomes or leaks\n",
         all.runs, all.injected_runs, all.raised, all.recovered, all.wrong);
  return all.wrong ? 1 : 0;
}
