/* decode_cmd and encode_reply: a whole command from its cmd value, a whole
   web-view src from a set of replies. They build on uri.c, decode_json.c,
   encode_json.c and query.c; request ids and api names keep the rule of
   reqid.h. */

#include "../reqid.h"
#include "../url.h"

#define CMD_MAX_SIZE (64u << 10)
#define CMD_MAX_DEPTH 100
#define ID_RULE "must be a string of 1 to %d bytes without control characters"

/* The version a command asks for: absent or 1 is version 1, a number of 2
   or more version 2 (answered in version 2); 0 for any other mph. */
static int cmd_version(lua_State *L, int cmd) {
  int v = 0;
  lua_getfield(L, cmd, "mph");
  if (lua_isnil(L, -1)) {
    v = 1;
  } else if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number m = lua_tonumber(L, -1);
    v = m == 1 ? 1 : m >= 2 ? 2 : 0;
  }
  lua_pop(L, 1);
  return v;
}

static void skip_json_ws(const char **s, size_t *n) {
  while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
    (*s)++;
    (*n)--;
  }
}

/* nil, "ECMD: ...", "ECMD", then what was read of the command, so that the
   caller answers whoever sent it without reading it again: the command
   table as far as it was read (its req usable or absent), its req (or nil)
   and the version to answer in (1 for an mph that is no version); for an
   array, nil and nil. The JSON error lone, when there is one, comes first
   (as EJSON). */
static int refuse_cmd(lua_State *L, int cmd, const char *lone, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  int array = lua_getmetatable(L, cmd);
  if (array) lua_pop(L, 1);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (lone) push_error(L, MPH_EJSON, "%s", lone);
  else push_error(L, MPH_ECMD, "%s", msg);
  lua_pushvalue(L, cmd);
  if (array) {
    lua_pushnil(L);
    lua_pushnil(L);
  } else {
    lua_getfield(L, cmd, "req");
    lua_pushinteger(L, cmd_version(L, cmd) == 2 ? 2 : 1);
  }
  return 6;
}

static int l_decode_cmd(lua_State *L) {
  size_t n, n0, max_depth, at = 0;
  const char *s = luaL_checklstring(L, 1, &n), *s0;
  mph_buf *from, *to;
  small_scratch ss;
  scratch *S;
  int sidx = 0, round, cmd, r, version, has_lone = 0;
  char msg[200], lone[200];
  mph_status st;
  if ((r = decode_limits(L, n, "cmd", CMD_MAX_DEPTH, CMD_MAX_SIZE, &max_depth)) != 0) return r;
  { /* trimmed first, as the published driver trims it */
    size_t a, b;
    mph_js_trim(s, n, &a, &b);
    s += a;
    n = b - a;
  }
  S = n <= SMALL_TEXT ? small(&ss) : take_scratch(L, 2, &sidx);
  if (0) {
  pooled: /* the small scratch was too small: again, on a pooled one */
    S = take_scratch(L, 2, &sidx);
    s = s0; /* the trimmed argument */
    n = n0;
  }
  s0 = s;
  n0 = n;
  from = NULL;
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
    if (out_of_room(S, st)) goto pooled;
    if (st != MPH_OK) {
      give_back(L, sidx, S);
      return decode_error(L, st, at);
    }
    from = to;
    s = to->p ? to->p : "";
    n = to->len;
  }

  st = decode_json(L, S, s, n, max_depth, msg, sizeof msg);
  if (out_of_room(S, st)) goto pooled;
  if (st == MPH_EJSON && strstr(msg, "lone surrogate") != NULL) {
    /* JSON.parse reads it, and the published library sends one for a string
       cut within a surrogate pair: the rest is read with the surrogates
       masked, so that the refusal still reaches the command's req */
    mph_buf *copy = (from == &S->out) ? &S->tmp : &S->out;
    memcpy(lone, msg, sizeof lone);
    copy->len = 0;
    if (mph_buf_put(copy, s, n)) {
      if (S->fixed) goto pooled;
      give_back(L, sidx, S);
      return push_error(L, MPH_ENOMEM, "");
    }
    mph_json_mask_lone_surrogates(copy->p, copy->len);
    st = decode_json(L, S, copy->p, copy->len, max_depth, msg, sizeof msg);
    if (out_of_room(S, st)) goto pooled;
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
      lua_setfield(L, cmd, "req");
    } else if (!mph_id_valid(req + a, b - a)) {
      lua_pushnil(L);
      lua_setfield(L, cmd, "req");
      return refuse_cmd(L, cmd, has_lone ? lone : NULL, "req " ID_RULE, MPH_ID_MAX);
    } else if (b - a != rn) { /* set again only when trimmed */
      lua_pushlstring(L, req + a, b - a);
      lua_setfield(L, cmd, "req");
    }
  } else if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == NULL) {
    lua_pushnil(L);
    lua_setfield(L, cmd, "req");
  } else if (!lua_isnil(L, -1)) {
    lua_pushnil(L);
    lua_setfield(L, cmd, "req");
    return refuse_cmd(L, cmd, has_lone ? lone : NULL, "req " ID_RULE, MPH_ID_MAX);
  }
  lua_settop(L, cmd);
  /* api: trimmed as the published driver trims it */
  lua_getfield(L, cmd, "api");
  {
    size_t an, a = 0, b = 0;
    const char *api = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &an) : NULL;
    if (api != NULL) mph_js_trim(api, an, &a, &b);
    if (api == NULL || !mph_id_valid(api + a, b - a)) {
      lua_settop(L, cmd);
      return refuse_cmd(L, cmd, has_lone ? lone : NULL, "api " ID_RULE, MPH_ID_MAX);
    }
    if (b - a != an) {
      lua_pushlstring(L, api + a, b - a);
      lua_setfield(L, cmd, "api");
    }
  }
  lua_settop(L, cmd);
  version = cmd_version(L, cmd);
  if (version == 0) return refuse_cmd(L, cmd, has_lone ? lone : NULL, "mph must be a protocol version number");
  if (has_lone) return refuse_cmd(L, cmd, lone, "%s", "");
  lua_pushinteger(L, version);
  return 2;
}

static int src_too_long(lua_State *L, size_t max_size) {
  return push_error(L, MPH_ESIZE, "web-view src longer than max_size (%lu bytes)",
                    (unsigned long)max_size);
}

/* Appends "<req>=<value>" for the reply whose id is at k and value at v,
   the src held to max_size as it grows. */
typedef struct reply_src {
  scratch *S;
  size_t max_size;
} reply_src;

static int reply_pair(lua_State *L, void *ud, int k, int v, size_t no) {
  scratch *S = ((reply_src *)ud)->S;
  size_t max_size = ((reply_src *)ud)->max_size;
  size_t n, at;
  const char *req;
  char msg[160];
  mph_status st;
  if (lua_type(L, k) != LUA_TSTRING)
    return push_error(L, MPH_ECMD, "reply %lu: request id must be a string", (unsigned long)no);
  req = lua_tolstring(L, k, &n);
  if (!mph_id_valid(req, n) || (n == 1 && req[0] == 'v'))
    return push_error(L, MPH_ECMD, "reply %lu: bad request id", (unsigned long)no);
  if (S->out.len && S->out.p[S->out.len - 1] != '#' && mph_buf_putc(&S->out, '&'))
    return S->fixed ? SCRATCH_RETRY : push_error(L, MPH_ENOMEM, "");
  st = mph_uri_encode(&S->out, req, n, &at);
  if (st == MPH_EUTF8)
    return push_error(L, MPH_ECMD, "reply %lu: request id is not valid UTF-8", (unsigned long)no);
  if (st != MPH_OK || mph_buf_putc(&S->out, '='))
    return S->fixed ? SCRATCH_RETRY : push_error(L, MPH_ENOMEM, "");
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
    if (out_of_room(S, st)) return SCRATCH_RETRY;
    if (st != MPH_OK) return push_error(L, st, "reply %lu: %s", (unsigned long)no, msg);
    st = mph_uri_encode(&S->out, S->tmp.p, S->tmp.len, &at);
  }
  if (out_of_room(S, st)) return SCRATCH_RETRY;
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
  small_scratch ss;
  scratch *S;
  reply_src rp;
  int sidx = 0, r;
  luaL_checktype(L, 2, LUA_TTABLE);
  stamp = lua_isnoneornil(L, 3) ? now_ms() : (double)luaL_checknumber(L, 3);
  if (!isfinite(stamp)) luaL_argerror(L, 3, "stamp must be finite");
  max_size = opt_size(L, 4, "max_size", DEFAULT_MAX_SIZE, MAX_SIZE_LIMIT);
  mph_js_trim(src, n, &a, &b);
  if (a == b) return push_error(L, MPH_EURL, "web-view src is empty");
  h = mph_url_hash_at(src + a, b - a);
  if (h >= max_size) return src_too_long(L, max_size);
  /* a small scratch for a list of {req, value} pairs (a table of replies
     sorts its keys in aux, and raises when that cannot grow) */
  lua_rawgeti(L, 2, 1);
  S = lua_type(L, -1) == LUA_TTABLE ? small(&ss) : NULL;
  lua_pop(L, 1);
  if (S == NULL) {
  pooled:
    S = take_scratch(L, 4, &sidx);
  }
  if (mph_buf_put(&S->out, src + a, h) || mph_buf_putc(&S->out, '#')) {
    if (S->fixed) goto pooled;
    give_back(L, sidx, S);
    return push_error(L, MPH_ENOMEM, "");
  }
  rp.S = S;
  rp.max_size = max_size;
  r = each_pair(L, S, 2, 0, reply_pair, &rp, &i);
  if (r == SCRATCH_RETRY) goto pooled;
  if (r != 0) {
    give_back(L, sidx, S);
    if (r == PAIRS_NOT_PAIR)
      return push_error(L, MPH_ECMD, "reply %lu is not a {req, value} table", (unsigned long)i);
    if (r == PAIRS_BAD_KEY) return push_error(L, MPH_ECMD, "request ids must be strings");
    return r;
  }
  len = mph_js_number(num, stamp);
  if ((S->out.p[S->out.len - 1] != '#' && mph_buf_putc(&S->out, '&')) ||
      mph_buf_put(&S->out, "v=", 2) || mph_buf_put(&S->out, num, len)) {
    if (S->fixed) goto pooled;
    give_back(L, sidx, S);
    return push_error(L, MPH_ENOMEM, "");
  }
  if (S->out.len > max_size) {
    give_back(L, sidx, S);
    return src_too_long(L, max_size);
  }
  return return_out(L, sidx, S);
}
