/* mphybrid.core: the Lua binding. It checks arguments, calls the codecs in
   the other files of csrc/, and pushes results. Bad data returns
   nil, "ECODE: message", "ECODE"; a wrong argument type raises.

   Memory: the codecs write into buffers owned by a "scratch" userdata with a
   __gc, so nothing malloc'd is lost when a Lua call raises. A scratch is
   taken out of a one-slot pool for the length of a call and put back after,
   so that a call made from a finalizer in the middle of another one gets a
   scratch of its own. */

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "buf.h"
#include "compat.h"
#include "errors.h"
#include "jsoncheck.h"
#include "jsonnum.h"
#include "jsonstr.h"
#include "query.h"
#include "reqid.h"
#include "uri.h"
#include "url.h"

#define MPH_VERSION "0.1.0"

#define DEFAULT_MAX_SIZE (16u << 20)
#define DEFAULT_MAX_DEPTH 1000
#define CMD_MAX_SIZE (64u << 10)
#define CMD_MAX_DEPTH 100
#define MAX_SIZE_LIMIT ((size_t)1 << 40) /* the largest max_size option taken */
#define ID_MAX 128        /* request ids and api names, in bytes */
#define PREFIX_MAX 32
#define SCRATCH_KEEP (1u << 20) /* larger buffers are freed after a call */
#define STACK_KEYS 200    /* objects with more keys anchor them in a table */
/* Keys are anchored on the Lua stack only below this many slots, so that
   the deepest legal value (MPH_JSON_MAX_DEPTH levels of at most 2 slots)
   always fits in what Lua 5.1 and LuaJIT give a C function (LUAI_MAXCSTACK,
   8000 slots). */
#define KEY_SLOTS_MAX 4000
#define TWO53 9007199254740992.0

/* upvalues shared by every function of the module */
#define POOL lua_upvalueindex(1)     /* { [1] = idle scratch, [2] = its metatable } */
#define ARRAY_MT lua_upvalueindex(2)

static char empty_array_tag; /* the address behind core.empty_array */

static const char *const status_code[] = {
  "OK", "ENOMEM", "EUTF8", "EESCAPE", "EJSON", "EDEPTH", "ESIZE", "EVALUE", "ECMD", "EURL",
};

/* ---------------------------------------------------------------- errors */

/* Pushes nil, "CODE: message", "CODE"; returns 3. Raises on ENOMEM. */
static int push_error(lua_State *L, mph_status st, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  if (st == MPH_ENOMEM) {
    lua_pushliteral(L, "not enough memory");
    return lua_error(L);
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", status_code[st], msg);
  lua_pushstring(L, status_code[st]);
  return 3;
}

/* --------------------------------------------------------------- scratch */

typedef struct scratch {
  mph_buf out, tmp, aux, long_text, work; /* long_text, work: long numbers */
  mph_buf big;                            /* long containers of a JSON text */
  mph_arena arena;
} scratch;

static int scratch_gc(lua_State *L) {
  scratch *S = (scratch *)lua_touserdata(L, 1);
  mph_buf_free(&S->out);
  mph_buf_free(&S->tmp);
  mph_buf_free(&S->aux);
  mph_buf_free(&S->long_text);
  mph_buf_free(&S->work);
  mph_buf_free(&S->big);
  mph_arena_free(&S->arena);
  return 0;
}

/* Pushes a scratch (from the pool, or new) and returns it. */
static scratch *take_scratch(lua_State *L) {
  scratch *S;
  lua_rawgeti(L, POOL, 1);
  if (lua_type(L, -1) == LUA_TUSERDATA) {
    lua_pushboolean(L, 0); /* false, not nil: the slot stays in the array part */
    lua_rawseti(L, POOL, 1);
    S = (scratch *)lua_touserdata(L, -1);
  } else {
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    lua_pop(L, 1);
    S = (scratch *)lua_newuserdata(L, sizeof *S);
    mph_buf_init(&S->out, (mph_alloc_fn)f, ud);
    mph_buf_init(&S->tmp, (mph_alloc_fn)f, ud);
    mph_buf_init(&S->aux, (mph_alloc_fn)f, ud);
    mph_buf_init(&S->long_text, (mph_alloc_fn)f, ud);
    mph_buf_init(&S->work, (mph_alloc_fn)f, ud);
    mph_buf_init(&S->big, (mph_alloc_fn)f, ud);
    mph_arena_init(&S->arena, (mph_alloc_fn)f, ud);
    lua_rawgeti(L, POOL, 2);
    lua_setmetatable(L, -2);
  }
  S->out.len = S->tmp.len = S->aux.len = 0;
  return S;
}

static void shrink(mph_buf *b) {
  if (b->cap > SCRATCH_KEEP) mph_buf_free(b);
}

/* Puts the scratch at stack index idx back into the pool. */
static void give_back(lua_State *L, int idx, scratch *S) {
  shrink(&S->out);
  shrink(&S->tmp);
  shrink(&S->aux);
  mph_buf_free(&S->long_text);
  mph_buf_free(&S->work);
  mph_buf_free(&S->big);
  mph_arena_reset(&S->arena, SCRATCH_KEEP);
  lua_rawgeti(L, POOL, 1);
  if (lua_type(L, -1) != LUA_TUSERDATA) {
    lua_pushvalue(L, idx);
    lua_rawseti(L, POOL, 1);
  }
  lua_pop(L, 1);
}

/* Returns the result string in S->out (replacing the scratch on the stack). */
static int return_out(lua_State *L, int sidx, scratch *S) {
  lua_pushlstring(L, S->out.p ? S->out.p : "", S->out.len);
  give_back(L, sidx, S);
  return 1;
}

/* ---------------------------------------------------------------- options */

static size_t opt_size(lua_State *L, int opts, const char *name, size_t dflt,
                       size_t max) {
  lua_Number v;
  if (lua_isnoneornil(L, opts)) return dflt;
  luaL_checktype(L, opts, LUA_TTABLE);
  lua_getfield(L, opts, name);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return dflt; }
  if (lua_type(L, -1) != LUA_TNUMBER)
    luaL_error(L, "option '%s' must be a number", name);
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= 1) || v != floor(v) || v > (lua_Number)max)
    luaL_error(L, "option '%s' must be a whole number from 1 to %f", name, (double)max);
  return (size_t)v;
}

static int opt_bool(lua_State *L, int opts, const char *name) {
  int v;
  if (lua_isnoneornil(L, opts)) return 0;
  luaL_checktype(L, opts, LUA_TTABLE);
  lua_getfield(L, opts, name);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* ------------------------------------------------------------------- URI */

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

/* ------------------------------------------------------------ JSON encode */

typedef struct key_ent {
  const char *s;
  size_t len;
  uint64_t index; /* the array index the key spells, or UINT64_MAX */
  int slot;       /* where the key string is: stack index or table slot */
} key_ent;

typedef struct enc {
  lua_State *L;
  scratch *S;
  mph_buf *out;
  size_t max_depth, max_size;
  mph_status st;
  char msg[160];
  const void *ancestors[MPH_JSON_MAX_DEPTH + 1];
} enc;

static int enc_fail(enc *e, mph_status st, const char *fmt, ...) {
  va_list ap;
  e->st = st;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return -1;
}

static int too_long(enc *e) {
  return enc_fail(e, MPH_ESIZE, "output longer than max_size (%lu bytes)",
                  (unsigned long)e->max_size);
}

/* Every write checks max_size right after it, so the output never grows
   more than one write past it: the cost of a call is bounded by max_size,
   whatever the value holds. */
static inline int enc_put(enc *e, const char *s, size_t n) {
  if (mph_buf_put(e->out, s, n)) return enc_fail(e, MPH_ENOMEM, "out of memory");
  return e->out->len > e->max_size ? too_long(e) : 0;
}

static inline int enc_char(enc *e, char c) {
  if (mph_buf_putc(e->out, c)) return enc_fail(e, MPH_ENOMEM, "out of memory");
  return e->out->len > e->max_size ? too_long(e) : 0;
}

/* Bytes still allowed (the output is never left over max_size). */
static inline size_t enc_room(const enc *e) {
  return e->max_size - e->out->len;
}

static int enc_string(enc *e, const char *s, size_t n) {
  size_t at;
  mph_status st;
  if (n >= enc_room(e) || enc_room(e) - n < 2) return too_long(e); /* before reserving */
  st = mph_json_string(e->out, s, n, &at);
  if (st == MPH_EUTF8)
    return enc_fail(e, MPH_EVALUE, "string is not valid UTF-8 at byte %lu",
                    (unsigned long)at + 1);
  if (st != MPH_OK) return enc_fail(e, st, "out of memory");
  return e->out->len > e->max_size ? too_long(e) : 0;
}

static int enc_number(enc *e, int idx) {
  char num[MPH_NUMBER_MAX];
  size_t len;
  lua_State *L = e->L;
#if MPH_HAS_INTEGERS
  if (lua_isinteger(L, idx)) {
    len = mph_js_integer(num, (int64_t)lua_tointeger(L, idx));
    return enc_put(e, num, len);
  }
#endif
  {
    double d = (double)lua_tonumber(L, idx);
    if (isnan(d)) return enc_fail(e, MPH_EVALUE, "NaN cannot be written as JSON");
    if (isinf(d))
      return enc_fail(e, MPH_EVALUE, "%sInfinity cannot be written as JSON", d < 0 ? "-" : "");
    len = mph_js_number(num, d);
  }
  return enc_put(e, num, len);
}

/* The array index a key spells ("0", "17"; not "01", "-1", "4294967295"). */
static uint64_t index_of(const char *s, size_t n) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 10 || (n > 1 && s[0] == '0')) return UINT64_MAX;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return UINT64_MAX;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  return v <= 4294967294ULL ? v : UINT64_MAX;
}

static int cmp_keys(const void *pa, const void *pb) {
  const key_ent *a = (const key_ent *)pa, *b = (const key_ent *)pb;
  size_t m;
  int c;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  m = a->len < b->len ? a->len : b->len;
  c = memcmp(a->s, b->s, m);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

static int enc_value(enc *e, int idx, size_t depth);

static int enc_array(enc *e, int idx, size_t n, size_t depth) {
  lua_State *L = e->L;
  size_t i;
  if (enc_char(e, '[')) return -1;
  for (i = 1; i <= n; i++) {
    if (i > 1 && enc_char(e, ',')) return -1;
    mph_rawget_index(L, idx, i);
    if (enc_value(e, lua_gettop(L), depth)) return -1;
    lua_pop(L, 1);
  }
  return enc_char(e, ']');
}

static void sort_keys(key_ent *ents, size_t n) {
  size_t i, j;
  if (n > 12) {
    qsort(ents, n, sizeof(key_ent), cmp_keys);
    return;
  }
  for (i = 1; i < n; i++) { /* few keys: insertion sort */
    key_ent t = ents[i];
    for (j = i; j > 0 && cmp_keys(&ents[j - 1], &t) > 0; j--) ents[j] = ents[j - 1];
    ents[j] = t;
  }
}

/* Writes the object whose count sorted keys are in aux at base. */
static int enc_object(enc *e, int idx, size_t base, size_t count, int keytab,
                      size_t depth) {
  lua_State *L = e->L;
  size_t i;
  key_ent *ents;
  if (enc_char(e, '{')) return -1;
  for (i = 0; i < count; i++) {
    ents = (key_ent *)(e->S->aux.p + base); /* aux may move as we recurse */
    if (i > 0 && enc_char(e, ',')) return -1;
    if (enc_string(e, ents[i].s, ents[i].len) || enc_char(e, ':')) return -1;
    if (keytab) lua_rawgeti(L, keytab, ents[i].slot);
    else lua_pushvalue(L, ents[i].slot);
    lua_rawget(L, idx);
    if (enc_value(e, lua_gettop(L), depth)) return -1;
    lua_pop(L, 1);
  }
  return enc_char(e, '}');
}

/* One pass over the table at idx tells an array from an object and, for an
   object, collects its keys. The keys are anchored while their bytes are
   compared: on the stack, or past STACK_KEYS keys in a table. */
static int enc_table(enc *e, int idx, size_t depth) {
  lua_State *L = e->L;
  mph_buf *aux = &e->S->aux;
  size_t nint = 0, count = 0, i, base;
  lua_Number max = 0;
  int top, keytab = 0, r, marked = 0; /* marked: has array_mt */
  const void *self = lua_topointer(L, idx);
  key_ent *ent;

  if (depth >= e->max_depth) {
    for (i = 0; i < depth; i++)
      if (e->ancestors[i] == self)
        return enc_fail(e, MPH_EDEPTH, "table contains itself (a cycle) at depth %lu",
                        (unsigned long)depth + 1);
    return enc_fail(e, MPH_EDEPTH, "nesting deeper than max_depth (%lu)",
                    (unsigned long)e->max_depth);
  }
  e->ancestors[depth] = self;
  if (!lua_checkstack(L, 6))
    return enc_fail(e, MPH_EDEPTH, "nesting too deep for the Lua stack at depth %lu",
                    (unsigned long)depth + 1);

  if (lua_getmetatable(L, idx)) {
    marked = lua_rawequal(L, -1, ARRAY_MT);
    lua_pop(L, 1);
  }

  top = lua_gettop(L);
  base = (aux->len + 15) & ~(size_t)15; /* aux: a stack of key arrays */
  if (mph_buf_reserve(aux, base - aux->len)) return enc_fail(e, MPH_ENOMEM, "out of memory");
  aux->len = base;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    lua_pop(L, 1);
    if (kt == LUA_TSTRING) {
      if (nint || marked) goto mixed;
      if (!keytab &&
          (count >= STACK_KEYS || lua_gettop(L) >= KEY_SLOTS_MAX || !lua_checkstack(L, 4))) {
        /* too many keys for the stack: move them into a table */
        lua_createtable(L, (int)count * 2, 0);
        for (i = 0; i < count; i++) {
          lua_pushvalue(L, top + 1 + (int)i);
          lua_rawseti(L, -2, (int)i + 1);
          ((key_ent *)(aux->p + base))[i].slot = (int)i + 1;
        }
        lua_insert(L, top + 1); /* keytab, anchors..., key */
        if (count > 0) {
          lua_replace(L, top + 2);
          lua_settop(L, top + 2);
        }
        keytab = top + 1;
      }
      if (mph_buf_reserve(aux, sizeof(key_ent))) {
        lua_settop(L, top);
        return enc_fail(e, MPH_ENOMEM, "out of memory");
      }
      ent = (key_ent *)(aux->p + aux->len);
      aux->len += sizeof(key_ent);
      ent->s = lua_tolstring(L, -1, &ent->len);
      ent->index = index_of(ent->s, ent->len);
      lua_pushvalue(L, -1);
      if (keytab) {
        lua_rawseti(L, keytab, (int)count + 1);
        ent->slot = (int)count + 1;
      } else {
        ent->slot = lua_gettop(L) - 1; /* the copy below stays as the anchor */
      }
      /* n members take at least 5n + 1 bytes: stop before collecting more */
      if (++count > enc_room(e) / 5) goto too_long;
    } else if (kt == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (count) goto mixed;
      if (!(k >= 1 && k <= TWO53 && k == floor(k))) {
        lua_settop(L, top);
        aux->len = base;
        return enc_fail(e, MPH_EVALUE, "table has a key that is not a string or an array index");
      }
      if (++nint > enc_room(e) / 2) goto too_long; /* n items: 2n + 1 bytes */
      if (k > max) max = k;
    } else {
      lua_settop(L, top);
      aux->len = base;
      return enc_fail(e, MPH_EVALUE, "table has a %s key", lua_typename(L, kt));
    }
  }
  if (marked) { /* an array by declaration: holes are written as null */
    lua_settop(L, top);
    aux->len = base;
    /* n items take at least 2n + 1 bytes: refuse before writing the holes */
    if (max * 2 + 1 > (lua_Number)enc_room(e)) return too_long(e);
    return enc_array(e, idx, (size_t)max, depth + 1);
  }
  if (nint) {
    lua_settop(L, top);
    aux->len = base;
    if ((lua_Number)nint != max)
      return enc_fail(e, MPH_EVALUE, "sparse array (%lu items, highest index %.0f)",
                      (unsigned long)nint, (double)max);
    return enc_array(e, idx, nint, depth + 1);
  }
  if (count == 0) {
    aux->len = base;
    return enc_put(e, "{}", 2);
  }
  sort_keys((key_ent *)(aux->p + base), count);
  r = enc_object(e, idx, base, count, keytab, depth + 1);
  lua_settop(L, top);
  aux->len = base;
  return r;

too_long:
  lua_settop(L, top);
  aux->len = base;
  return too_long(e);

mixed:
  lua_settop(L, top);
  aux->len = base;
  return enc_fail(e, MPH_EVALUE, marked ? "array (array_mt) has a string key"
                                        : "table mixes array items and object keys");
}

static int enc_value(enc *e, int idx, size_t depth) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return enc_put(e, "null", 4);
  case LUA_TBOOLEAN:
    return lua_toboolean(L, idx) ? enc_put(e, "true", 4) : enc_put(e, "false", 5);
  case LUA_TNUMBER:
    return enc_number(e, idx);
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return enc_string(e, s, n);
  }
  case LUA_TLIGHTUSERDATA: {
    void *p = lua_touserdata(L, idx);
    if (p == NULL) return enc_put(e, "null", 4);
    if (p == &empty_array_tag) { /* a level of nesting, as any array */
      if (depth >= e->max_depth)
        return enc_fail(e, MPH_EDEPTH, "nesting deeper than max_depth (%lu)",
                        (unsigned long)e->max_depth);
      return enc_put(e, "[]", 2);
    }
    return enc_fail(e, MPH_EVALUE, "a light userdata cannot be written as JSON");
  }
  case LUA_TTABLE:
    return enc_table(e, idx, depth);
  default:
    return enc_fail(e, MPH_EVALUE, "a %s cannot be written as JSON",
                    lua_typename(L, lua_type(L, idx)));
  }
}

/* Encodes the value at idx into out. */
static mph_status encode_json(lua_State *L, scratch *S, mph_buf *out, int idx,
                              size_t max_depth, size_t max_size, char *msg,
                              size_t msg_size) {
  enc ctx, *e = &ctx; /* on the C stack: nothing to free if Lua raises */
  mph_status st;
  int top = lua_gettop(L);
  e->L = L;
  e->S = S;
  e->out = out;
  e->max_depth = max_depth;
  e->max_size = max_size;
  e->st = MPH_OK;
  e->msg[0] = 0;
  if (enc_value(e, idx, 0) == 0) {
    st = MPH_OK;
  } else {
    st = e->st;
    snprintf(msg, msg_size, "%s", e->msg);
  }
  lua_settop(L, top);
  return st;
}

static int l_json_encode(lua_State *L) {
  size_t max_depth, max_size;
  scratch *S;
  int sidx;
  char msg[160];
  mph_status st;
  luaL_checkany(L, 1);
  max_depth = opt_size(L, 2, "max_depth", DEFAULT_MAX_DEPTH, MPH_JSON_MAX_DEPTH);
  max_size = opt_size(L, 2, "max_size", DEFAULT_MAX_SIZE, MAX_SIZE_LIMIT);
  lua_settop(L, 2);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  st = encode_json(L, S, &S->out, 1, max_depth, max_size, msg, sizeof msg);
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "%s", msg);
  }
  return return_out(L, sidx, S);
}

/* ------------------------------------------------------------ JSON decode */

#define KEY_CACHE 32 /* object keys remembered while a tree is converted */

/* A text is converted a piece at a time, so that cJSON's tree (about 64
   bytes a value: 30 times a text like [0,0,...]) never holds more than a
   piece of it. A piece is a value whose text is at most PIECE_SPAN bytes
   long: cJSON parses it and it is converted at once. A longer array or
   object is walked here, item by item, each item a piece or walked in
   turn; the check (csrc/jsoncheck.c) lists these long containers. */
#ifndef MPH_PIECE_SPAN /* the fuzzers and the allocation sweep set it small */
#define MPH_PIECE_SPAN (64u << 10)
#endif
#ifndef MPH_WALK_ARENA /* the arena is emptied past this between pieces */
#define MPH_WALK_ARENA (1u << 20)
#endif

typedef struct conv {
  lua_State *L;
  mph_arena *arena;
  const char *text;
  size_t n;
  const mph_json_big *big; /* the long containers, in document order */
  size_t big_count, big_next;
  int guard;               /* stack slot: a guard for a malloc'd tree, or nil */
  mph_buf *nul_buf;        /* the strings with \u0000 of the piece, or NULL
                              when the text has none */
  const mph_json_nul *nuls;
  size_t nul_count, nul_next, ordinal;
  /* Objects in an array tend to repeat their keys. A key seen before is
     pushed from a stack slot instead of being hashed and interned again. */
  int cache_base; /* first of KEY_CACHE stack slots */
  struct { const char *s; size_t len; } keys[KEY_CACHE];
} conv;

static size_t string_length(conv *c, const char *s) {
  size_t len;
  if (c->nul_next < c->nul_count && c->nuls[c->nul_next].ordinal == c->ordinal)
    len = c->nuls[c->nul_next++].length; /* holds a \u0000: strlen would stop there */
  else
    len = strlen(s);
  c->ordinal++;
  return len;
}

static void push_string(conv *c, const char *s) {
  size_t len = string_length(c, s);
  lua_pushlstring(c->L, s, len);
}

static void push_key(conv *c, const char *s) {
  size_t len = string_length(c, s);
  unsigned h;
  if (len == 0 || len > 40) { /* only short keys are worth it */
    lua_pushlstring(c->L, s, len);
    return;
  }
  h = ((unsigned)len * 31u + (unsigned char)s[0] * 7u + (unsigned char)s[len - 1]) % KEY_CACHE;
  if (c->keys[h].len == len && memcmp(c->keys[h].s, s, len) == 0) {
    lua_pushvalue(c->L, c->cache_base + (int)h);
    return;
  }
  lua_pushlstring(c->L, s, len);
  lua_pushvalue(c->L, -1);
  lua_replace(c->L, c->cache_base + (int)h);
  c->keys[h].s = s;
  c->keys[h].len = len;
}

/* The cached keys point into cJSON's strings: forgotten when these go. */
static void forget_keys(conv *c) {
  memset(c->keys, 0, sizeof c->keys);
}

static void push_number(lua_State *L, double d) {
#if MPH_HAS_INTEGERS
  if (d == floor(d) && fabs(d) <= TWO53 && !(d == 0 && signbit(d))) {
    lua_pushinteger(L, (lua_Integer)d);
    return;
  }
#endif
  lua_pushnumber(L, (lua_Number)d);
}

/* Pushes the value of a cJSON node; MPH_EDEPTH when the Lua stack is full. */
static mph_status push_node(conv *c, const cJSON *item) {
  lua_State *L = c->L;
  const cJSON *child;
  int n = 0;
  switch (item->type & 0xFF) {
  case cJSON_NULL: lua_pushlightuserdata(L, NULL); break;
  case cJSON_False: lua_pushboolean(L, 0); break;
  case cJSON_True: lua_pushboolean(L, 1); break;
  case cJSON_Number: push_number(L, item->valuedouble); break;
  case cJSON_String: push_string(c, item->valuestring); break;
  case cJSON_Array:
    if (!lua_checkstack(L, 4)) return MPH_EDEPTH;
    for (child = item->child; child; child = child->next) n++;
    lua_createtable(L, n, 0);
    n = 0;
    for (child = item->child; child; child = child->next) {
      if (push_node(c, child) != MPH_OK) return MPH_EDEPTH;
      lua_rawseti(L, -2, ++n);
    }
    lua_pushvalue(L, ARRAY_MT);
    lua_setmetatable(L, -2);
    break;
  case cJSON_Object:
    if (!lua_checkstack(L, 4)) return MPH_EDEPTH;
    for (child = item->child; child; child = child->next) n++;
    lua_createtable(L, 0, n);
    for (child = item->child; child; child = child->next) {
      push_key(c, child->string);
      if (push_node(c, child) != MPH_OK) return MPH_EDEPTH;
      lua_rawset(L, -3);
    }
    break;
  default:
    lua_pushnil(L); /* cJSON_Raw and cJSON_Invalid never come out of a parse */
  }
  return MPH_OK;
}

static size_t skip_ws_at(const char *s, size_t n, size_t i) {
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  return i;
}

/* cJSON parses the value at text[*pos] (an object key when key is set),
   which is pushed; *pos moves past it. */
static mph_status convert_piece(conv *c, size_t *pos, int key) {
  lua_State *L = c->L;
  const char *start = c->text + *pos, *end = NULL;
  cJSON *root, **guard = NULL;
  mph_status st = MPH_OK;
  mph_arena_use(c->arena);
  root = cJSON_ParseWithLengthOpts(start, c->n - *pos, &end, 0);
  mph_arena_use(NULL);
  if (root == NULL) return MPH_ENOMEM; /* the text was checked: only memory can fail */
  if (!mph_arena_owns(c->arena, root)) {
    /* cJSON's hooks were replaced by someone else: the tree is malloc'd.
       Convert it under a guard so that it is freed even if Lua raises. */
    if (lua_isnil(L, c->guard)) {
      guard = (cJSON **)lua_newuserdata(L, sizeof(cJSON *));
      *guard = NULL;
      lua_rawgeti(L, POOL, 3);
      lua_setmetatable(L, -2);
      lua_replace(L, c->guard);
    }
    guard = (cJSON **)lua_touserdata(L, c->guard);
    *guard = root;
  }
  c->ordinal = c->nul_next = c->nul_count = 0;
  if (c->nul_buf) { /* the lengths of its strings with \u0000, which strlen cuts */
    c->nul_buf->len = 0;
    st = mph_json_find_nuls(start, (size_t)(end - start), c->nul_buf);
    c->nuls = (const mph_json_nul *)c->nul_buf->p;
    c->nul_count = c->nul_buf->len / sizeof(mph_json_nul);
  }
  if (st == MPH_OK) {
    if (key) push_key(c, root->valuestring);
    else st = push_node(c, root);
  }
  *pos = (size_t)(end - c->text);
  if (guard) {
    cJSON_Delete(root);
    *guard = NULL;
    forget_keys(c);
  } else if (c->big_count && mph_arena_used(c->arena) > MPH_WALK_ARENA) {
    mph_arena_reset(c->arena, (size_t)-1);
    forget_keys(c);
  }
  return st;
}

/* Pushes the value at text[*pos]: a piece, or a long container walked. */
static mph_status walk(conv *c, size_t *pos) {
  lua_State *L = c->L;
  const char *t = c->text;
  size_t i = skip_ws_at(t, c->n, *pos), count, k = 0;
  mph_status st;
  if (c->big_next >= c->big_count || c->big[c->big_next].start != i) {
    *pos = i;
    return convert_piece(c, pos, 0);
  }
  count = c->big[c->big_next++].count;
  if (count > INT_MAX) count = 0; /* a size hint only */
  if (!lua_checkstack(L, 4)) return MPH_EDEPTH;
  if (t[i] == '[') {
    lua_createtable(L, (int)count, 0);
    i = skip_ws_at(t, c->n, i + 1);
    while (t[i] != ']') {
      if ((st = walk(c, &i)) != MPH_OK) return st;
      lua_rawseti(L, -2, (int)++k);
      i = skip_ws_at(t, c->n, i);
      if (t[i] == ',') i++;
    }
    lua_pushvalue(L, ARRAY_MT);
    lua_setmetatable(L, -2);
  } else {
    lua_createtable(L, 0, (int)count);
    i = skip_ws_at(t, c->n, i + 1);
    while (t[i] != '}') {
      if ((st = convert_piece(c, &i, 1)) != MPH_OK) return st;
      i = skip_ws_at(t, c->n, i) + 1; /* the ':' */
      if ((st = walk(c, &i)) != MPH_OK) return st;
      lua_rawset(L, -3);
      i = skip_ws_at(t, c->n, i);
      if (t[i] == ',') i = skip_ws_at(t, c->n, i + 1);
    }
  }
  *pos = i + 1; /* past the closing bracket */
  return MPH_OK;
}

static mph_status check_json(scratch *S, const char *text, size_t n, mph_json_check *chk) {
  S->big.len = 0;
  chk->nuls = NULL; /* found piece by piece: a list for the whole text could
                       take twice its length ("\u0000", 16 bytes each) */
  chk->big = &S->big;
  chk->big_span = MPH_PIECE_SPAN;
  return mph_json_check_text(text, n, chk);
}

/* Checks and parses text; pushes the value, or returns an error (and pushes
   nothing). msg receives the message. */
static mph_status decode_json(lua_State *L, scratch *S, const char *text, size_t n,
                              size_t max_depth, char *msg, size_t msg_size) {
  mph_json_check chk;
  mph_status st;
  conv c;
  size_t pos = 0;
  int top = lua_gettop(L);

  chk.max_depth = max_depth;
  st = check_json(S, text, n, &chk);
  if (st == MPH_EJSON || st == MPH_EDEPTH) {
    if (st == MPH_EDEPTH)
      snprintf(msg, msg_size, "%s (%lu) at byte %lu", chk.err_msg,
               (unsigned long)max_depth, (unsigned long)chk.err_at + 1);
    else
      snprintf(msg, msg_size, "%s at byte %lu", chk.err_msg, (unsigned long)chk.err_at + 1);
    return st;
  }
  if (st != MPH_OK) return st;
  if (chk.long_numbers) {
    /* numbers cJSON would cut at 63 bytes: parse an equivalent text */
    st = mph_json_shorten_numbers(text, n, &S->long_text, &S->work);
    if (st != MPH_OK) return st;
    text = S->long_text.p;
    n = S->long_text.len;
    /* the long containers moved: list them again */
    if (S->big.len && (st = check_json(S, text, n, &chk)) != MPH_OK) return st;
  }

  c.L = L;
  c.arena = &S->arena;
  c.text = text;
  c.n = n;
  c.big = (const mph_json_big *)S->big.p;
  c.big_count = S->big.len / sizeof(mph_json_big);
  c.big_next = 0;
  c.nul_buf = chk.nul_strings ? &S->aux : NULL;
  c.nuls = NULL;
  forget_keys(&c);
  /* one piece: size the arena for the whole tree (nodes, strings, alignment) */
  if (c.big_count == 0 &&
      mph_arena_reserve(&S->arena, chk.values * (sizeof(cJSON) + 16) + chk.string_bytes + 64))
    return MPH_ENOMEM;
  mph_arena_hook_cjson();
  if (!lua_checkstack(L, KEY_CACHE + 8)) {
    snprintf(msg, msg_size, "no room on the Lua stack");
    return MPH_EDEPTH;
  }
  lua_pushnil(L);
  c.guard = lua_gettop(L);
  c.cache_base = c.guard + 1;
  lua_settop(L, c.cache_base + KEY_CACHE - 1);
  st = walk(&c, &pos);
  if (!lua_isnil(L, c.guard)) { /* a malloc'd tree left by an error */
    cJSON **guard = (cJSON **)lua_touserdata(L, c.guard);
    if (*guard) cJSON_Delete(*guard);
    *guard = NULL;
  }
  mph_arena_reset(&S->arena, (size_t)-1);
  if (st != MPH_OK) {
    lua_settop(L, top);
    if (st == MPH_EDEPTH) snprintf(msg, msg_size, "nesting too deep for the Lua stack");
    return st;
  }
  lua_replace(L, c.guard); /* the value takes the place of the guard */
  lua_settop(L, c.guard);
  return MPH_OK;
}

static int tree_guard_gc(lua_State *L) {
  cJSON **guard = (cJSON **)lua_touserdata(L, 1);
  if (*guard) cJSON_Delete(*guard);
  *guard = NULL;
  return 0;
}

static int l_json_decode(lua_State *L) {
  size_t n, max_depth, max_size;
  const char *s = luaL_checklstring(L, 1, &n);
  scratch *S;
  int sidx;
  char msg[200];
  mph_status st;
  max_depth = opt_size(L, 2, "max_depth", DEFAULT_MAX_DEPTH, MPH_JSON_MAX_DEPTH);
  max_size = opt_size(L, 2, "max_size", DEFAULT_MAX_SIZE, MAX_SIZE_LIMIT);
  if (n > max_size)
    return push_error(L, MPH_ESIZE, "text of %lu bytes is longer than max_size (%lu)",
                      (unsigned long)n, (unsigned long)max_size);
  lua_settop(L, 2);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  st = decode_json(L, S, s, n, max_depth, msg, sizeof msg);
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "%s", msg);
  }
  give_back(L, sidx, S);
  return 1;
}

/* ---------------------------------------------------------- query strings */

/* Appends s (a string, number or boolean at idx) through encodeURIComponent. */
static mph_status put_component(lua_State *L, mph_buf *out, int idx, size_t *at) {
  size_t n;
  const char *s;
  char num[MPH_NUMBER_MAX];
  switch (lua_type(L, idx)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &n);
    return mph_uri_encode(out, s, n, at);
  case LUA_TBOOLEAN:
    s = lua_toboolean(L, idx) ? "true" : "false";
    return mph_uri_encode(out, s, strlen(s), at);
  case LUA_TNUMBER: {
    double d;
#if MPH_HAS_INTEGERS
    if (lua_isinteger(L, idx)) {
      n = mph_js_integer(num, (int64_t)lua_tointeger(L, idx));
      return mph_uri_encode(out, num, n, at);
    }
#endif
    d = (double)lua_tonumber(L, idx);
    if (isnan(d)) { s = "NaN"; n = 3; }
    else if (isinf(d)) { s = d < 0 ? "-Infinity" : "Infinity"; n = strlen(s); }
    else { n = mph_js_number(num, d); s = num; }
    return mph_uri_encode(out, s, n, at);
  }
  default:
    return MPH_EVALUE;
  }
}

static int query_pair(lua_State *L, mph_buf *out, int k, int v, size_t pair_no) {
  size_t at = 0;
  mph_status st;
  if (lua_type(L, k) != LUA_TSTRING && lua_type(L, k) != LUA_TNUMBER)
    return push_error(L, MPH_EVALUE, "pair %lu: key must be a string", (unsigned long)pair_no);
  if (out->len && mph_buf_putc(out, '&')) return push_error(L, MPH_ENOMEM, "");
  st = put_component(L, out, k, &at);
  if (st == MPH_OK) {
    if (mph_buf_putc(out, '=')) return push_error(L, MPH_ENOMEM, "");
    st = put_component(L, out, v, &at);
    if (st == MPH_EVALUE)
      return push_error(L, st, "pair %lu: value must be a string, number or boolean, not %s",
                        (unsigned long)pair_no, luaL_typename(L, v));
  }
  if (st == MPH_EUTF8)
    return push_error(L, st, "pair %lu: invalid UTF-8 at byte %lu", (unsigned long)pair_no,
                      (unsigned long)at + 1);
  if (st != MPH_OK) return push_error(L, st, "pair %lu", (unsigned long)pair_no);
  return 0;
}

static int cmp_strings(const void *pa, const void *pb) {
  const key_ent *a = (const key_ent *)pa, *b = (const key_ent *)pb;
  size_t m = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, m);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

/* Pushes a table { key, ... } of the string keys of the table at idx, sorted
   bytewise and without those that are keys of `skip` (may be 0). Returns the
   count, or -1 when a key is not a string. */
static long sorted_keys(lua_State *L, scratch *S, int idx, int skip) {
  size_t n = 0, i;
  int keytab;
  key_ent *ents;
  lua_newtable(L);
  keytab = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); return -1; }
    if (skip) {
      int skipped;
      lua_pushvalue(L, -1);
      lua_rawget(L, skip);
      skipped = !lua_isnil(L, -1);
      lua_pop(L, 1);
      if (skipped) continue;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, keytab, (int)++n);
  }
  S->aux.len = 0;
  if (mph_buf_reserve(&S->aux, n * sizeof(key_ent))) push_error(L, MPH_ENOMEM, "");
  ents = (key_ent *)S->aux.p;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, keytab, (int)i + 1);
    ents[i].s = lua_tolstring(L, -1, &ents[i].len);
    ents[i].slot = (int)i + 1;
    lua_pop(L, 1); /* still anchored in keytab */
  }
  qsort(ents, n, sizeof(key_ent), cmp_strings);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, keytab, ents[i].slot);
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_remove(L, keytab);
  return (long)n;
}

static int l_encode_query(lua_State *L) {
  scratch *S;
  int sidx, r, keys, skip = 0;
  size_t n, i, pair_no = 0;
  long nk;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  n = mph_rawlen(L, 1);
  lua_rawgeti(L, 1, 1);
  if (n > 0 && lua_type(L, -1) == LUA_TTABLE) { /* { {k, v}, ... } */
    lua_pop(L, 1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 1, (int)i);
      if (lua_type(L, -1) != LUA_TTABLE) {
        give_back(L, sidx, S);
        return push_error(L, MPH_EVALUE, "pair %lu is not a {key, value} table", (unsigned long)i);
      }
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if ((r = query_pair(L, &S->out, -2, -1, i)) != 0) {
        give_back(L, sidx, S);
        return r;
      }
      lua_pop(L, 3);
    }
    return return_out(L, sidx, S);
  }
  lua_pop(L, 1);
  if (!lua_isnil(L, 2)) { /* explicit order first */
    size_t no = mph_rawlen(L, 2);
    lua_newtable(L);
    skip = lua_gettop(L);
    for (i = 1; i <= no; i++) {
      lua_rawgeti(L, 2, (int)i);
      lua_pushvalue(L, -1);
      lua_rawget(L, skip);
      if (!lua_isnil(L, -1)) { lua_pop(L, 2); continue; } /* named before: written there */
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawget(L, 1);
      if (lua_isnil(L, -1)) { lua_pop(L, 2); continue; }
      if ((r = query_pair(L, &S->out, -2, -1, ++pair_no)) != 0) {
        give_back(L, sidx, S);
        return r;
      }
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, skip);
    }
  }
  nk = sorted_keys(L, S, 1, skip);
  if (nk < 0) {
    give_back(L, sidx, S);
    return push_error(L, MPH_EVALUE, "query keys must be strings");
  }
  keys = lua_gettop(L);
  for (i = 1; i <= (size_t)nk; i++) {
    lua_rawgeti(L, keys, (int)i);
    lua_pushvalue(L, -1);
    lua_rawget(L, 1);
    if ((r = query_pair(L, &S->out, -2, -1, ++pair_no)) != 0) {
      give_back(L, sidx, S);
      return r;
    }
    lua_pop(L, 2);
  }
  return return_out(L, sidx, S);
}

/* Decodes a raw span into buf (emptied first) and pushes it. */
static mph_status push_decoded(lua_State *L, mph_buf *buf, const char *s, size_t n,
                               int plus, size_t *at) {
  mph_status st;
  buf->len = 0;
  st = mph_uri_decode(buf, s, n, plus, at);
  if (st == MPH_OK) lua_pushlstring(L, buf->p ? buf->p : "", buf->len);
  return st;
}

static int l_decode_query(lua_State *L) {
  size_t n, at = 0, pair_no = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  int ordered = opt_bool(L, 2, "ordered"), plus = opt_bool(L, 2, "plus");
  int sidx, result;
  mph_pairs it;
  mph_pair p;
  mph_status st;
  scratch *S;
  lua_settop(L, 2);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  lua_newtable(L);
  result = lua_gettop(L);
  if (n > 0 && s[0] == '?') { s++; n--; }
  mph_pairs_init(&it, s, n);
  while (mph_pairs_next(&it, &p)) {
    pair_no++;
    st = push_decoded(L, &S->out, p.key, p.key_len, plus, &at);
    if (st == MPH_OK) {
      st = push_decoded(L, &S->out, p.value, p.value_len, plus, &at);
      if (st != MPH_OK) { lua_pop(L, 1); at += (size_t)(p.value - s); }
    } else {
      at += (size_t)(p.key - s);
    }
    if (st != MPH_OK) {
      give_back(L, sidx, S);
      if (st == MPH_EESCAPE)
        return push_error(L, st, "malformed escape at byte %lu in pair %lu",
                          (unsigned long)at + 1, (unsigned long)pair_no);
      return push_error(L, st, "invalid UTF-8 at byte %lu in pair %lu",
                        (unsigned long)at + 1, (unsigned long)pair_no);
    }
    if (ordered) {
      lua_createtable(L, 2, 0);
      lua_insert(L, -3);
      lua_rawseti(L, -3, 2);
      lua_rawseti(L, -2, 1);
      lua_rawseti(L, result, (int)pair_no);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_rawget(L, result);
    switch (lua_type(L, -1)) {
    case LUA_TNIL: /* first time: key = value */
      lua_pop(L, 1);
      lua_rawset(L, result);
      break;
    case LUA_TSTRING: /* second time: key = { first, second } */
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 2);
      lua_rawset(L, result);
      break;
    default: /* later: append */
      lua_insert(L, -2);
      lua_rawseti(L, -2, (int)mph_rawlen(L, -2) + 1);
      lua_pop(L, 2);
    }
  }
  give_back(L, sidx, S);
  lua_pushvalue(L, result);
  return 1;
}

/* ------------------------------------------------------------- fragments */

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
  lua_settop(L, 2);
  mph_js_trim(url, n, &a, &b);
  if (a == b) { lua_pushliteral(L, ""); return 1; } /* blank: the trimmed url, as setUrlHash */
  h = mph_url_hash_at(url + a, b - a);
  S = take_scratch(L);
  sidx = lua_gettop(L);
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

static int l_decode_fragment(lua_State *L) {
  size_t n, at = 0, pair_no = 0, nerr = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  int sidx, result, errs = 0;
  mph_pairs it;
  mph_pair p;
  mph_status st;
  scratch *S;
  lua_settop(L, 1);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  lua_newtable(L);
  result = lua_gettop(L);
  if (n > 0 && s[0] == '#') { s++; n--; }
  mph_pairs_init(&it, s, n);
  while (mph_pairs_next(&it, &p)) {
    pair_no++;
    st = push_decoded(L, &S->out, p.key, p.key_len, 0, &at);
    if (st == MPH_OK) {
      st = push_decoded(L, &S->out, p.value, p.value_len, 0, &at);
      if (st == MPH_OK) {
        lua_rawset(L, result); /* a repeated key keeps its last value */
        continue;
      }
      lua_pop(L, 1);
      at += (size_t)(p.value - s);
    } else {
      at += (size_t)(p.key - s);
    }
    if (st == MPH_ENOMEM) {
      give_back(L, sidx, S);
      return push_error(L, st, "");
    }
    if (!errs) {
      lua_newtable(L);
      errs = lua_gettop(L);
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)pair_no);
    lua_setfield(L, -2, "index");
    lua_pushlstring(L, p.raw, p.raw_len);
    lua_setfield(L, -2, "pair");
    lua_pushfstring(L, "%s: %s at byte %d", status_code[st],
                    st == MPH_EESCAPE ? "malformed escape" : "invalid UTF-8", (int)(at + 1));
    lua_setfield(L, -2, "err");
    lua_rawseti(L, errs, (int)++nerr);
  }
  give_back(L, sidx, S);
  lua_pushvalue(L, result);
  if (errs) lua_pushvalue(L, errs);
  else lua_pushnil(L);
  return 2;
}

/* ----------------------------------------------------- commands, replies */

static int bad_id(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > ID_MAX) return 1;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return 1;
  return 0;
}

static void skip_json_ws(const char **s, size_t *n) {
  while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
    (*s)++;
    (*n)--;
  }
}

/* nil, "ECMD: ...", "ECMD", and the command as far as it was read (its req
   usable or absent), so that the caller can answer whoever sent it; the
   JSON error lone, when there is one, comes first (as EJSON). */
static int refuse_cmd(lua_State *L, int cmd, const char *lone, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (lone) push_error(L, MPH_EJSON, "%s", lone);
  else push_error(L, MPH_ECMD, "%s", msg);
  lua_pushvalue(L, cmd);
  return 4;
}

static int l_decode_cmd(lua_State *L) {
  size_t n, max_size, max_depth, at = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  mph_buf *from = NULL, *to;
  scratch *S;
  int sidx, round, cmd, has_lone = 0;
  char msg[200], lone[200];
  mph_status st;
  max_size = opt_size(L, 2, "max_size", CMD_MAX_SIZE, MAX_SIZE_LIMIT);
  max_depth = opt_size(L, 2, "max_depth", CMD_MAX_DEPTH, MPH_JSON_MAX_DEPTH);
  if (n > max_size)
    return push_error(L, MPH_ESIZE, "cmd of %lu bytes is longer than max_size (%lu)",
                      (unsigned long)n, (unsigned long)max_size);
  lua_settop(L, 2);
  S = take_scratch(L);
  sidx = lua_gettop(L);

  { /* trimmed first, as the published driver trims it */
    size_t a, b;
    mph_js_trim(s, n, &a, &b);
    s += a;
    n = b - a;
  }
  /* percent-decoded until it starts with '{': the platform may have decoded
     it once already, and decoding it again would break a literal '%' */
  for (round = 0;; round++) {
    const char *t = s;
    size_t tn = n;
    skip_json_ws(&t, &tn);
    if (tn > 0 && t[0] == '{') break;
    if (round == 2 || memchr(s, '%', n) == NULL) {
      give_back(L, sidx, S);
      return push_error(L, MPH_ECMD, "cmd is not a JSON object");
    }
    to = (from == &S->out) ? &S->tmp : &S->out;
    to->len = 0;
    st = mph_uri_decode(to, s, n, 0, &at);
    if (st != MPH_OK) {
      give_back(L, sidx, S);
      return decode_error(L, st, at);
    }
    from = to;
    s = to->p ? to->p : "";
    n = to->len;
  }

  st = decode_json(L, S, s, n, max_depth, msg, sizeof msg);
  if (st == MPH_EJSON && strstr(msg, "lone surrogate") != NULL) {
    /* JSON.parse reads it, and the published library sends one for a string
       cut within a surrogate pair: the rest is read with the surrogates
       masked, so that the refusal still reaches the command's req */
    mph_buf *copy = (from == &S->out) ? &S->tmp : &S->out;
    memcpy(lone, msg, sizeof lone);
    copy->len = 0;
    if (mph_buf_put(copy, s, n)) {
      give_back(L, sidx, S);
      return push_error(L, MPH_ENOMEM, "");
    }
    mph_json_mask_lone_surrogates(copy->p, copy->len);
    st = decode_json(L, S, copy->p, copy->len, max_depth, msg, sizeof msg);
    if (st == MPH_OK) {
      has_lone = 1;
    } else if (st == MPH_EJSON || st == MPH_EDEPTH) {
      memcpy(msg, lone, sizeof lone);
      st = MPH_EJSON;
    }
  }
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "%s", msg);
  }
  cmd = lua_gettop(L);
  give_back(L, sidx, S);
  if (lua_getmetatable(L, cmd)) { /* an array */
    lua_settop(L, cmd);
    return refuse_cmd(L, cmd, has_lone ? lone : NULL, "cmd is not a JSON object");
  }
  /* req first, so that a command refused for its api still names its
     caller: trimmed as the published driver trims it; null, absent or
     blank is no request id (the field is left out) */
  lua_getfield(L, cmd, "req");
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t rn, a, b;
    const char *req = lua_tolstring(L, -1, &rn);
    mph_js_trim(req, rn, &a, &b);
    if (a == b) {
      lua_pushnil(L);
    } else if (bad_id(req + a, b - a)) {
      lua_pushnil(L);
      lua_setfield(L, cmd, "req");
      return refuse_cmd(L, cmd, has_lone ? lone : NULL, "req must be a string of 1 to %d bytes without control characters",
                        ID_MAX);
    } else {
      lua_pushlstring(L, req + a, b - a);
    }
    lua_setfield(L, cmd, "req");
  } else if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) {
    lua_pushnil(L);
    lua_setfield(L, cmd, "req");
  } else if (!lua_isnil(L, -1)) {
    lua_pushnil(L);
    lua_setfield(L, cmd, "req");
    return refuse_cmd(L, cmd, has_lone ? lone : NULL, "req must be a string of 1 to %d bytes without control characters",
                      ID_MAX);
  }
  lua_settop(L, cmd);
  /* api: trimmed as the published driver trims it */
  lua_getfield(L, cmd, "api");
  {
    size_t an, a = 0, b = 0;
    const char *api = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &an) : NULL;
    if (api != NULL) mph_js_trim(api, an, &a, &b);
    if (api == NULL || bad_id(api + a, b - a)) {
      lua_settop(L, cmd);
      return refuse_cmd(L, cmd, has_lone ? lone : NULL, "api must be a string of 1 to %d bytes without control characters",
                        ID_MAX);
    }
    if (b - a != an) {
      lua_pushlstring(L, api + a, b - a);
      lua_setfield(L, cmd, "api");
    }
  }
  lua_settop(L, cmd);
  if (has_lone) return refuse_cmd(L, cmd, lone, "%s", "");
  return 1;
}

static int src_too_long(lua_State *L, size_t max_size) {
  return push_error(L, MPH_ESIZE, "web-view src longer than max_size (%lu bytes)",
                    (unsigned long)max_size);
}

/* Appends "<req>=<value>" for the reply whose id is at k and value at v,
   the src held to max_size as it grows. */
static int reply_pair(lua_State *L, scratch *S, int k, int v, size_t no, size_t max_size) {
  size_t n, at;
  const char *req;
  char msg[160];
  mph_status st;
  if (lua_type(L, k) != LUA_TSTRING)
    return push_error(L, MPH_ECMD, "reply %lu: request id must be a string", (unsigned long)no);
  req = lua_tolstring(L, k, &n);
  if (bad_id(req, n) || (n == 1 && req[0] == 'v'))
    return push_error(L, MPH_ECMD, "reply %lu: bad request id", (unsigned long)no);
  if (S->out.len && S->out.p[S->out.len - 1] != '#' && mph_buf_putc(&S->out, '&'))
    return push_error(L, MPH_ENOMEM, "");
  st = mph_uri_encode(&S->out, req, n, &at);
  if (st == MPH_EUTF8)
    return push_error(L, MPH_ECMD, "reply %lu: request id is not valid UTF-8", (unsigned long)no);
  if (st != MPH_OK || mph_buf_putc(&S->out, '=')) return push_error(L, MPH_ENOMEM, "");
  if (S->out.len > max_size) return src_too_long(L, max_size);
  if (lua_type(L, v) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, v, &n);
    /* encoded, it takes at least n bytes: refused before it is written */
    if (n > max_size - S->out.len) return src_too_long(L, max_size);
    st = mph_uri_encode(&S->out, s, n, &at);
    if (st == MPH_EUTF8)
      return push_error(L, MPH_EUTF8, "reply %lu: invalid UTF-8 at byte %lu", (unsigned long)no,
                        (unsigned long)at + 1);
  } else if (lua_type(L, v) == LUA_TNUMBER || lua_type(L, v) == LUA_TBOOLEAN) {
    st = put_component(L, &S->out, v, &at); /* String(value): NaN, Infinity too */
  } else {
    S->tmp.len = 0;
    if (S->out.len == max_size) return src_too_long(L, max_size);
    st = encode_json(L, S, &S->tmp, v, DEFAULT_MAX_DEPTH,
                     max_size - S->out.len, msg, sizeof msg);
    if (st == MPH_ESIZE) return src_too_long(L, max_size);
    if (st != MPH_OK) return push_error(L, st, "reply %lu: %s", (unsigned long)no, msg);
    st = mph_uri_encode(&S->out, S->tmp.p, S->tmp.len, &at);
  }
  if (st != MPH_OK) return push_error(L, st, "reply %lu", (unsigned long)no);
  if (S->out.len > max_size) return src_too_long(L, max_size);
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

static int l_encode_reply(lua_State *L) {
  size_t n, a, b, h, i, len, max_size;
  const char *src = luaL_checklstring(L, 1, &n);
  double stamp;
  char num[MPH_NUMBER_MAX];
  scratch *S;
  int sidx, r;
  luaL_checktype(L, 2, LUA_TTABLE);
  stamp = lua_isnoneornil(L, 3) ? now_ms() : (double)luaL_checknumber(L, 3);
  if (!isfinite(stamp)) luaL_argerror(L, 3, "stamp must be finite");
  max_size = opt_size(L, 4, "max_size", DEFAULT_MAX_SIZE, (size_t)1 << 40);
  lua_settop(L, 4);
  mph_js_trim(src, n, &a, &b);
  if (a == b) return push_error(L, MPH_EURL, "web-view src is empty");
  h = mph_url_hash_at(src + a, b - a);
  if (h >= max_size) return src_too_long(L, max_size);
  S = take_scratch(L);
  sidx = lua_gettop(L);
  if (mph_buf_put(&S->out, src + a, h) || mph_buf_putc(&S->out, '#')) {
    give_back(L, sidx, S);
    return push_error(L, MPH_ENOMEM, "");
  }
  n = mph_rawlen(L, 2);
  lua_rawgeti(L, 2, 1);
  if (n > 0 && lua_type(L, -1) == LUA_TTABLE) { /* { {req, value}, ... } */
    lua_pop(L, 1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 2, (int)i);
      if (lua_type(L, -1) != LUA_TTABLE) {
        give_back(L, sidx, S);
        return push_error(L, MPH_ECMD, "reply %lu is not a {req, value} table", (unsigned long)i);
      }
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if ((r = reply_pair(L, S, lua_gettop(L) - 1, lua_gettop(L), i, max_size)) != 0) {
        give_back(L, sidx, S);
        return r;
      }
      lua_pop(L, 3);
    }
  } else {
    long nk;
    int keys;
    lua_pop(L, 1);
    nk = sorted_keys(L, S, 2, 0);
    if (nk < 0) {
      give_back(L, sidx, S);
      return push_error(L, MPH_ECMD, "request ids must be strings");
    }
    keys = lua_gettop(L);
    for (i = 1; i <= (size_t)nk; i++) {
      lua_rawgeti(L, keys, (int)i);
      lua_pushvalue(L, -1);
      lua_rawget(L, 2);
      if ((r = reply_pair(L, S, lua_gettop(L) - 1, lua_gettop(L), i, max_size)) != 0) {
        give_back(L, sidx, S);
        return r;
      }
      lua_pop(L, 2);
    }
  }
  len = mph_js_number(num, stamp);
  if ((S->out.p[S->out.len - 1] != '#' && mph_buf_putc(&S->out, '&')) ||
      mph_buf_put(&S->out, "v=", 2) || mph_buf_put(&S->out, num, len)) {
    give_back(L, sidx, S);
    return push_error(L, MPH_ENOMEM, "");
  }
  if (S->out.len > max_size) {
    give_back(L, sidx, S);
    return src_too_long(L, max_size);
  }
  return return_out(L, sidx, S);
}

/* ------------------------------------------------------------ request ids */

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

/* ------------------------------------------------------------------ open */

static const luaL_Reg functions[] = {
  { "encode_uri_component", l_encode_uri_component },
  { "decode_uri_component", l_decode_uri_component },
  { "encode_query", l_encode_query },
  { "decode_query", l_decode_query },
  { "trim", l_trim },
  { "set_fragment", l_set_fragment },
  { "get_fragment", l_get_fragment },
  { "decode_fragment", l_decode_fragment },
  { "json_decode", l_json_decode },
  { "json_encode", l_json_encode },
  { "decode_cmd", l_decode_cmd },
  { "encode_reply", l_encode_reply },
  { "new_req_id", l_new_req_id },
  { NULL, NULL },
};

int luaopen_mphybrid_core(lua_State *L) {
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

  /* the bounds the options are checked against, for the Lua layer to check
     its own options by: max_size and max_depth are whole numbers from 1 */
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, (lua_Number)MAX_SIZE_LIMIT);
  lua_setfield(L, -2, "max_size");
  lua_pushinteger(L, MPH_JSON_MAX_DEPTH);
  lua_setfield(L, -2, "max_depth");
  lua_pushinteger(L, ID_MAX);
  lua_setfield(L, -2, "max_id");
  lua_setfield(L, -2, "limits");
  return 1;
}
