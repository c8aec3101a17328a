/* The binding's shared machinery: the limits its options are checked
   against, result codes turned into nil, "ECODE: message", "ECODE", the
   scratch buffers every call writes into, and option reading. Included by
   csrc/mphybrid.c before the other binding files.

   Memory: the codecs write into buffers owned by a "scratch" userdata with a
   __gc, so nothing malloc'd is lost when a Lua call raises. A scratch is
   taken out of a one-slot pool for the length of a call and put back after,
   so that a call made from a finalizer in the middle of another one gets a
   scratch of its own.

   A small call needs no pool: it runs on a "small" scratch whose buffers
   are fixed arrays on the C stack. When these prove too short, the call
   sees MPH_ENOMEM before it has pushed anything, answers SCRATCH_RETRY,
   and is run again on a scratch from the pool. */

#include "../arena.h"
#include "../buf.h"
#include "../compat.h"
#include "../errors.h"

#define DEFAULT_MAX_SIZE (16u << 20)
#define DEFAULT_MAX_DEPTH 1000
#define MAX_SIZE_LIMIT ((size_t)1 << 40) /* the largest max_size option taken */
#define SCRATCH_KEEP (1u << 20) /* larger buffers are freed after a call */
#define TWO53 9007199254740992.0

/* upvalues shared by every function of the module */
#define POOL lua_upvalueindex(1)     /* { [1] = idle scratch, [2] = its metatable } */
#define ARRAY_MT lua_upvalueindex(2)

static char empty_array_tag; /* the address behind core.empty_array */

static const char *const status_code[] = {
#define STATUS_NAME(name, returned, meaning) #name,
  MPH_STATUS_LIST(STATUS_NAME)
#undef STATUS_NAME
};

/* Pushes core.codes: { ECODE = meaning } for every code the core returns. */
static void push_codes(lua_State *L) {
  lua_newtable(L);
#define STATUS_ENTRY(name, returned, meaning) \
  if (returned) {                             \
    lua_pushliteral(L, meaning);              \
    lua_setfield(L, -2, #name);               \
  }
  MPH_STATUS_LIST(STATUS_ENTRY)
#undef STATUS_ENTRY
}

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
  int fixed; /* a small scratch: its buffers never grow */
} scratch;

/* what a call on a small scratch answers when it needs a pooled one */
#define SCRATCH_RETRY (-100)

#define SMALL_OUT 8192
#define SMALL_TMP 4096
#define SMALL_AUX 4096
#define SMALL_ARENA 16384

typedef struct small_scratch {
  scratch S;
  char out[SMALL_OUT], tmp[SMALL_TMP];
  char aux[SMALL_AUX] __attribute__((aligned(16)));
  char arena[SMALL_ARENA] __attribute__((aligned(16)));
} small_scratch;

static inline scratch *small(small_scratch *ss) {
  scratch *S = &ss->S;
  mph_buf_init_fixed(&S->out, ss->out, SMALL_OUT);
  mph_buf_init_fixed(&S->tmp, ss->tmp, SMALL_TMP);
  mph_buf_init_fixed(&S->aux, ss->aux, SMALL_AUX);
  mph_buf_init_fixed(&S->long_text, ss->aux, 0);
  mph_buf_init_fixed(&S->work, ss->aux, 0);
  mph_buf_init_fixed(&S->big, ss->aux, 0);
  mph_arena_init_fixed(&S->arena, ss->arena, SMALL_ARENA);
  S->fixed = 1;
  return S;
}

/* 1 when status st, met on scratch S, means: run again on a pooled one */
static inline int out_of_room(const scratch *S, mph_status st) {
  return st == MPH_ENOMEM && S->fixed;
}

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

/* Leaves the call's nargs arguments on the stack, pushes a scratch (from
   the pool, or new) above them and returns it; *sidx is its stack index. */
static scratch *take_scratch(lua_State *L, int nargs, int *sidx) {
  scratch *S;
  lua_settop(L, nargs);
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
    S->fixed = 0;
    lua_rawgeti(L, POOL, 2);
    lua_setmetatable(L, -2);
  }
  S->out.len = S->tmp.len = S->aux.len = 0;
  *sidx = lua_gettop(L);
  return S;
}

static void shrink(mph_buf *b) {
  if (b->cap > SCRATCH_KEEP) mph_buf_free(b);
}

/* Puts the scratch at stack index idx back into the pool. */
static void give_back(lua_State *L, int idx, scratch *S) {
  if (S->fixed) return; /* on the C stack */
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
