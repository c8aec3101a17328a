/* encode_json: walks a Lua value and writes what JSON.stringify writes,
   through csrc/jsonstr.c (strings) and csrc/jsonnum.c (numbers). Also used
   by encode_reply (cmd.c) for replies that are tables. */

#include "../jsoncheck.h"
#include "../jskeys.h"
#include "../jsonnum.h"
#include "../jsonstr.h"

#define STACK_KEYS 200    /* objects with more keys anchor them in a table */
/* Keys are anchored on the Lua stack only below this many slots, so that
   the deepest legal value (MPH_JSON_MAX_DEPTH levels of at most 2 slots)
   always fits in what Lua 5.1 and LuaJIT give a C function (LUAI_MAXCSTACK,
   8000 slots). */
#define KEY_SLOTS_MAX 4000

typedef struct enc {
  lua_State *L;
  scratch *S;
  mph_buf *out;
  size_t max_depth, max_size;
  mph_status st;
  char msg[160];
  int ancestors[MPH_JSON_MAX_DEPTH + 1]; /* stack indices of the tables being written */
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

static int enc_value(enc *e, int idx, size_t depth);

static int enc_array(enc *e, int idx, size_t n, size_t depth) {
  lua_State *L = e->L;
  size_t i;
  int item = lua_gettop(L) + 1; /* where each item is pushed */
  if (enc_char(e, '[')) return -1;
  for (i = 1; i <= n; i++) {
    if (i > 1 && enc_char(e, ',')) return -1;
    mph_rawget_index(L, idx, i);
    if (enc_value(e, item, depth)) return -1;
    lua_pop(L, 1);
  }
  return enc_char(e, ']');
}

/* Writes the object whose count sorted keys are in aux at base: each
   entry's slot is its value's stack index, or (keytab) its key's index in
   the table keytab. */
static int enc_object(enc *e, int idx, size_t base, size_t count, int keytab,
                      size_t depth) {
  lua_State *L = e->L;
  size_t i;
  mph_key *ents;
  if (enc_char(e, '{')) return -1;
  for (i = 0; i < count; i++) {
    ents = (mph_key *)(e->S->aux.p + base); /* aux may move as we recurse */
    if (i > 0 && enc_char(e, ',')) return -1;
    if (enc_string(e, ents[i].s, ents[i].len) || enc_char(e, ':')) return -1;
    if (!keytab) { /* the value lua_next gave, still on the stack */
      if (enc_value(e, ents[i].slot, depth)) return -1;
      continue;
    }
    lua_rawgeti(L, keytab, ents[i].slot);
    lua_rawget(L, idx);
    if (enc_value(e, lua_gettop(L), depth)) return -1;
    lua_pop(L, 1);
  }
  return enc_char(e, '}');
}

/* One pass over the table at idx tells an array from an object and, for an
   object, collects its keys. The keys are anchored while their bytes are
   compared: on the stack with their values, or past STACK_KEYS keys in a
   table. */
static int enc_table(enc *e, int idx, size_t depth) {
  lua_State *L = e->L;
  mph_buf *aux = &e->S->aux;
  size_t nint = 0, count = 0, i, base;
  lua_Number max = 0;
  int top, keytab = 0, r, marked = 0; /* marked: has array_mt */
  size_t max_members, max_items, stack_keys;
  mph_key *ent;

  if (depth >= e->max_depth) {
    for (i = 0; i < depth; i++)
      if (lua_rawequal(L, e->ancestors[i], idx))
        return enc_fail(e, MPH_EDEPTH, "table contains itself (a cycle) at depth %lu",
                        (unsigned long)depth + 1);
    return enc_fail(e, MPH_EDEPTH, "nesting deeper than max_depth (%lu)",
                    (unsigned long)e->max_depth);
  }
  e->ancestors[depth] = idx;
  top = lua_gettop(L);
  /* keys (with their values) kept on the stack: room made once, here */
  stack_keys = top < KEY_SLOTS_MAX - 2 * STACK_KEYS - 4 && lua_checkstack(L, 2 * STACK_KEYS + 4)
               ? STACK_KEYS : 0;
  if (stack_keys == 0 && !lua_checkstack(L, 6))
    return enc_fail(e, MPH_EDEPTH, "nesting too deep for the Lua stack at depth %lu",
                    (unsigned long)depth + 1);

  if (lua_getmetatable(L, idx)) {
    marked = lua_rawequal(L, -1, ARRAY_MT);
    lua_pop(L, 1);
  }

  /* n members take at least 5n + 1 bytes, n items 2n + 1: no more are
     collected than the room left could hold */
  max_members = enc_room(e) / 5;
  max_items = enc_room(e) / 2;
  base = (aux->len + 15) & ~(size_t)15; /* aux: a stack of key arrays */
  if (mph_buf_reserve(aux, base - aux->len)) return enc_fail(e, MPH_ENOMEM, "out of memory");
  aux->len = base;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    if (kt == LUA_TSTRING) {
      if (nint || marked) goto mixed;
      if (!keytab && count >= stack_keys) {
        /* too many keys for the stack: move them into a table */
        lua_pop(L, 1); /* the value */
        lua_createtable(L, (int)count * 2, 0);
        for (i = 0; i < count; i++) {
          lua_pushvalue(L, top + 1 + 2 * (int)i);
          lua_rawseti(L, -2, (int)i + 1);
          ((mph_key *)(aux->p + base))[i].slot = (int)i + 1;
        }
        lua_insert(L, top + 1); /* keytab, key, value, ..., key */
        if (count > 0) {
          lua_replace(L, top + 2);
          lua_settop(L, top + 2);
        }
        keytab = top + 1;
        lua_pushnil(L); /* in the value's place, popped below */
      }
      if (mph_buf_reserve(aux, sizeof(mph_key))) {
        lua_settop(L, top);
        return enc_fail(e, MPH_ENOMEM, "out of memory");
      }
      ent = (mph_key *)(aux->p + aux->len);
      aux->len += sizeof(mph_key);
      ent->s = lua_tolstring(L, -2, &ent->len);
      ent->index = mph_key_index(ent->s, ent->len);
      if (keytab) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keytab, (int)count + 1);
        ent->slot = (int)count + 1;
      } else {
        ent->slot = lua_gettop(L); /* key and value stay as they are */
        lua_pushvalue(L, -2);      /* the key lua_next goes on from */
      }
      if (++count > max_members) goto too_long;
    } else if (kt == LUA_TNUMBER) {
      lua_Number k;
      lua_pop(L, 1);
      k = lua_tonumber(L, -1);
      if (count) goto mixed;
      if (!(k >= 1 && k <= TWO53 && k == (lua_Number)(int64_t)k)) {
        lua_settop(L, top);
        aux->len = base;
        return enc_fail(e, MPH_EVALUE, "table has a key that is not a string or an array index");
      }
      if (++nint > max_items) goto too_long;
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
  mph_keys_sort((mph_key *)(aux->p + base), count);
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

static int l_encode_json(lua_State *L) {
  size_t max_depth, max_size;
  small_scratch ss;
  scratch *S;
  int sidx = 0;
  char msg[160];
  mph_status st;
  luaL_checkany(L, 1);
  max_depth = opt_size(L, 2, "max_depth", DEFAULT_MAX_DEPTH, MPH_JSON_MAX_DEPTH);
  max_size = opt_size(L, 2, "max_size", DEFAULT_MAX_SIZE, MAX_SIZE_LIMIT);
  S = small(&ss);
  st = encode_json(L, S, &S->out, 1, max_depth, max_size, msg, sizeof msg);
  if (out_of_room(S, st)) {
    S = take_scratch(L, 2, &sidx);
    st = encode_json(L, S, &S->out, 1, max_depth, max_size, msg, sizeof msg);
  }
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "%s", msg);
  }
  return return_out(L, sidx, S);
}
