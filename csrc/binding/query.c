/* encode_query, decode_query and decode_fragment: k=v&k=v pairs (csrc/query.c)
   of queries and fragments, each side through csrc/uri.c. Pairs are read by
   one reader (read_pair: decode_query, decode_fragment) and written by one
   walk over a table (each_pair: encode_query, and encode_reply in cmd.c). */

#include "../jskeys.h"
#include "../jsonnum.h"
#include "../query.h"
#include "../uri.h"

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

/* Pushes a table { key, ... } of the string keys of the table at idx, sorted
   bytewise and without those that are keys of `skip` (may be 0). Returns the
   count, or -1 when a key is not a string. */
static long sorted_keys(lua_State *L, scratch *S, int idx, int skip) {
  size_t n = 0, i;
  int keytab;
  mph_key *ents;
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
  if (mph_buf_reserve(&S->aux, n * sizeof(mph_key))) push_error(L, MPH_ENOMEM, "");
  ents = (mph_key *)S->aux.p;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, keytab, (int)i + 1);
    ents[i].s = lua_tolstring(L, -1, &ents[i].len);
    ents[i].index = MPH_NOT_INDEX;
    ents[i].slot = (int)i + 1;
    lua_pop(L, 1); /* still anchored in keytab */
  }
  mph_keys_sort(ents, n); /* no index given: bytewise */
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, keytab, ents[i].slot);
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_remove(L, keytab);
  return (long)n;
}

/* ------------------------------------------------------- writing pairs */

/* Writes one pair whose key is at stack index k and value at v, numbered no
   from 1; returns 0, or the number of error results it pushed. */
typedef int (*pair_writer)(lua_State *L, void *ud, int k, int v, size_t no);

#define PAIRS_NOT_PAIR (-1) /* an item of a { {k, v}, ... } array is no table */
#define PAIRS_BAD_KEY (-2)  /* a key to sort is not a string */

/* Calls put for every pair of the table at t, in order: t's own order when
   t is an array of {key, value} tables; otherwise the keys the array at
   `order` names (order may be 0; a key named twice is written at its first
   place, one t lacks is skipped), then t's other keys sorted bytewise.
   Returns 0, put's non-zero return, or PAIRS_NOT_PAIR (*no is the item) or
   PAIRS_BAD_KEY. */
static int each_pair(lua_State *L, scratch *S, int t, int order, pair_writer put, void *ud,
                     size_t *no) {
  size_t n = mph_rawlen(L, t), i;
  int r, keys, skip = 0;
  long nk;
  *no = 0;
  lua_rawgeti(L, t, 1);
  if (n > 0 && lua_type(L, -1) == LUA_TTABLE) { /* { {k, v}, ... } */
    lua_pop(L, 1);
    for (i = 1; i <= n; i++) {
      *no = i;
      lua_rawgeti(L, t, (int)i);
      if (lua_type(L, -1) != LUA_TTABLE) return PAIRS_NOT_PAIR;
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      if ((r = put(L, ud, lua_gettop(L) - 1, lua_gettop(L), i)) != 0) return r;
      lua_pop(L, 3);
    }
    return 0;
  }
  lua_pop(L, 1);
  if (order) { /* explicit order first */
    size_t no_order = mph_rawlen(L, order);
    lua_newtable(L);
    skip = lua_gettop(L);
    for (i = 1; i <= no_order; i++) {
      lua_rawgeti(L, order, (int)i);
      lua_pushvalue(L, -1);
      lua_rawget(L, skip);
      if (!lua_isnil(L, -1)) { lua_pop(L, 2); continue; } /* named before: written there */
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawget(L, t);
      if (lua_isnil(L, -1)) { lua_pop(L, 2); continue; }
      if ((r = put(L, ud, lua_gettop(L) - 1, lua_gettop(L), ++*no)) != 0) return r;
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, skip);
    }
  }
  nk = sorted_keys(L, S, t, skip);
  if (nk < 0) return PAIRS_BAD_KEY;
  keys = lua_gettop(L);
  for (i = 1; i <= (size_t)nk; i++) {
    lua_rawgeti(L, keys, (int)i);
    lua_pushvalue(L, -1);
    lua_rawget(L, t);
    if ((r = put(L, ud, lua_gettop(L) - 1, lua_gettop(L), ++*no)) != 0) return r;
    lua_pop(L, 2);
  }
  return 0;
}

static int query_pair(lua_State *L, void *ud, int k, int v, size_t pair_no) {
  mph_buf *out = (mph_buf *)ud;
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

static int l_encode_query(lua_State *L) {
  scratch *S;
  int sidx, r;
  size_t no;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  S = take_scratch(L, 2, &sidx);
  r = each_pair(L, S, 1, lua_isnil(L, 2) ? 0 : 2, query_pair, &S->out, &no);
  if (r == 0) return return_out(L, sidx, S);
  give_back(L, sidx, S);
  if (r == PAIRS_NOT_PAIR)
    return push_error(L, MPH_EVALUE, "pair %lu is not a {key, value} table", (unsigned long)no);
  if (r == PAIRS_BAD_KEY) return push_error(L, MPH_EVALUE, "query keys must be strings");
  return r;
}

/* ------------------------------------------------------- reading pairs */

typedef struct pair_reader {
  mph_pairs it;
  const char *s;   /* the text, offsets count from it */
  int plus;        /* '+' reads as a space */
  size_t no;       /* the pair's number, from 1 */
  mph_pair p;      /* the pair's raw spans */
  mph_status st;   /* for a pair that does not decode: why, */
  size_t at;       /* and at which offset */
} pair_reader;

static void open_pairs(pair_reader *r, const char *s, size_t n, int plus) {
  mph_pairs_init(&r->it, s, n);
  r->s = s;
  r->plus = plus;
  r->no = 0;
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

/* The next non-empty pair: 1 with its key and value decoded and pushed, 0 at
   the end, or -1 when it does not decode (r->st and r->at tell why and
   where; nothing is pushed). */
static int read_pair(lua_State *L, mph_buf *buf, pair_reader *r) {
  mph_pair *p = &r->p;
  size_t at = 0;
  if (!mph_pairs_next(&r->it, p)) return 0;
  r->no++;
  r->st = push_decoded(L, buf, p->key, p->key_len, r->plus, &at);
  if (r->st != MPH_OK) {
    r->at = at + (size_t)(p->key - r->s);
    return -1;
  }
  r->st = push_decoded(L, buf, p->value, p->value_len, r->plus, &at);
  if (r->st != MPH_OK) {
    lua_pop(L, 1);
    r->at = at + (size_t)(p->value - r->s);
    return -1;
  }
  return 1;
}

static int l_decode_query(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int ordered = opt_bool(L, 2, "ordered"), plus = opt_bool(L, 2, "plus");
  int sidx, result, got;
  pair_reader r;
  scratch *S;
  S = take_scratch(L, 2, &sidx);
  lua_newtable(L);
  result = lua_gettop(L);
  if (n > 0 && s[0] == '?') { s++; n--; }
  open_pairs(&r, s, n, plus);
  while ((got = read_pair(L, &S->out, &r)) != 0) {
    if (got < 0) {
      give_back(L, sidx, S);
      if (r.st == MPH_EESCAPE)
        return push_error(L, r.st, "malformed escape at byte %lu in pair %lu",
                          (unsigned long)r.at + 1, (unsigned long)r.no);
      return push_error(L, r.st, "invalid UTF-8 at byte %lu in pair %lu",
                        (unsigned long)r.at + 1, (unsigned long)r.no);
    }
    if (ordered) {
      lua_createtable(L, 2, 0);
      lua_insert(L, -3);
      lua_rawseti(L, -3, 2);
      lua_rawseti(L, -2, 1);
      lua_rawseti(L, result, (int)r.no);
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

static int l_decode_fragment(lua_State *L) {
  size_t n, nerr = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  int sidx, result, errs = 0, got;
  pair_reader r;
  scratch *S;
  S = take_scratch(L, 1, &sidx);
  lua_newtable(L);
  result = lua_gettop(L);
  if (n > 0 && s[0] == '#') { s++; n--; }
  open_pairs(&r, s, n, 0);
  while ((got = read_pair(L, &S->out, &r)) != 0) {
    if (got > 0) {
      lua_rawset(L, result); /* a repeated key keeps its last value */
      continue;
    }
    if (r.st == MPH_ENOMEM) {
      give_back(L, sidx, S);
      return push_error(L, r.st, "");
    }
    if (!errs) {
      lua_newtable(L);
      errs = lua_gettop(L);
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)r.no);
    lua_setfield(L, -2, "index");
    lua_pushlstring(L, r.p.raw, r.p.raw_len);
    lua_setfield(L, -2, "pair");
    lua_pushfstring(L, "%s: %s at byte %d", status_code[r.st],
                    r.st == MPH_EESCAPE ? "malformed escape" : "invalid UTF-8", (int)(r.at + 1));
    lua_setfield(L, -2, "err");
    lua_rawseti(L, errs, (int)++nerr);
  }
  give_back(L, sidx, S);
  lua_pushvalue(L, result);
  if (errs) lua_pushvalue(L, errs);
  else lua_pushnil(L);
  return 2;
}
