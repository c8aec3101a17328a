/* decode_json: turns a checked JSON text (csrc/jsoncheck.c) parsed by cJSON
   into Lua values, a piece at a time for long texts. Also used by
   decode_cmd (cmd.c). */

#include <cjson/cJSON.h>

#include "../arena.h"
#include "../jsoncheck.h"

#define KEY_CACHE 32 /* object keys remembered while a tree is converted */
/* texts up to this long are first tried on a small scratch (shared.c) */
#define SMALL_TEXT 4096

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
  /* Objects in an array tend to repeat their keys. A key seen twice is
     kept in a stack slot, and pushed from there from then on instead of
     being hashed and interned again. */
  int cache_base; /* first of KEY_CACHE stack slots */
  struct { const char *s; size_t len; int kept; } keys[KEY_CACHE];
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
    if (c->keys[h].kept) {
      lua_pushvalue(c->L, c->cache_base + (int)h);
      return;
    }
    lua_pushlstring(c->L, s, len); /* seen twice: kept from now on */
    lua_pushvalue(c->L, -1);
    lua_replace(c->L, c->cache_base + (int)h);
    c->keys[h].kept = 1;
    return;
  }
  lua_pushlstring(c->L, s, len); /* seen once: only remembered */
  c->keys[h].s = s;
  c->keys[h].len = len;
  c->keys[h].kept = 0;
}

/* The cached keys point into cJSON's strings: forgotten when these go. */
static void forget_keys(conv *c) {
  memset(c->keys, 0, sizeof c->keys);
}

static void push_number(lua_State *L, double d) {
#if MPH_HAS_INTEGERS
  if (fabs(d) <= TWO53 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
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

/* Reads the options (argument 2) of a call that decodes n bytes of `what`:
   *max_depth, and max_size, which n must not pass. Returns 0, or the
   results of an ESIZE error it pushed. */
static int decode_limits(lua_State *L, size_t n, const char *what, size_t depth_default,
                         size_t size_default, size_t *max_depth) {
  size_t max_size;
  *max_depth = opt_size(L, 2, "max_depth", depth_default, MPH_JSON_MAX_DEPTH);
  max_size = opt_size(L, 2, "max_size", size_default, MAX_SIZE_LIMIT);
  if (n > max_size)
    return push_error(L, MPH_ESIZE, "%s of %lu bytes is longer than max_size (%lu)", what,
                      (unsigned long)n, (unsigned long)max_size);
  return 0;
}

static int l_decode_json(lua_State *L) {
  size_t n, max_depth;
  const char *s = luaL_checklstring(L, 1, &n);
  small_scratch ss;
  scratch *S;
  int sidx = 0, r;
  char msg[200];
  mph_status st;
  if ((r = decode_limits(L, n, "text", DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE, &max_depth)) != 0)
    return r;
  S = n <= SMALL_TEXT ? small(&ss) : take_scratch(L, 2, &sidx);
  st = decode_json(L, S, s, n, max_depth, msg, sizeof msg);
  if (out_of_room(S, st)) {
    S = take_scratch(L, 2, &sidx);
    st = decode_json(L, S, s, n, max_depth, msg, sizeof msg);
  }
  if (st != MPH_OK) {
    give_back(L, sidx, S);
    return push_error(L, st, "%s", msg);
  }
  give_back(L, sidx, S);
  return 1;
}
