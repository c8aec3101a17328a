/* JSON decoding, the way the binding does it: the strict check of
   csrc/jsoncheck.c in front of cJSON, then the Lua values.

   - mph_json_check_text against a reference recursive-descent validator
     written from RFC 8259 (same verdict: OK, EJSON or EDEPTH, for the
     default depth limit and for a small one taken from the input), and, on
     success, the same value count, string bytes and list of strings that
     hold \u0000 with their decoded lengths (the binding trusts all three);
   - core.decode_json through a Lua state gives the same verdict as the check
     and never raises; what it accepts, lua-cjson also reads, to the same
     values (numbers compared as numbers, arrays whatever their marks);
   - with a smaller max_depth, the same value or EDEPTH, as the check says. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/jsoncheck.h"
#include "host.h"

/* ------------------------------------------------------------- reference */

typedef struct ref {
  const unsigned char *s;
  size_t n, i, max_depth;
  size_t values, string_bytes, strings;
  mph_buf nuls; /* mph_json_nul records */
} ref;

static void ref_ws(ref *r) {
  while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' ||
                         r->s[r->i] == '\r'))
    r->i++;
}

static int ref_hex4(ref *r, size_t at, uint32_t *v) {
  size_t k;
  *v = 0;
  if (at + 4 > r->n) return 0;
  for (k = 0; k < 4; k++) {
    unsigned char c = r->s[at + k];
    int h = (c >= '0' && c <= '9') ? c - '0'
          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (h < 0) return 0;
    *v = *v * 16 + (uint32_t)h;
  }
  return 1;
}

/* one UTF-8 sequence of 2 to 4 bytes at s[i] (RFC 3629), its length or 0 */
static size_t ref_utf8(ref *r) {
  const unsigned char *s = r->s + r->i;
  size_t left = r->n - r->i, k, j;
  uint32_t cp;
  if ((s[0] & 0xE0) == 0xC0) { k = 2; cp = s[0] & 0x1F; }
  else if ((s[0] & 0xF0) == 0xE0) { k = 3; cp = s[0] & 0x0F; }
  else if ((s[0] & 0xF8) == 0xF0) { k = 4; cp = s[0] & 0x07; }
  else return 0;
  if (left < k) return 0;
  for (j = 1; j < k; j++) {
    if ((s[j] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[j] & 0x3F);
  }
  if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return k;
}

static mph_status ref_string(ref *r) {
  size_t start = r->i, decoded = 0, k;
  int nul = 0;
  r->i++;
  for (;;) {
    unsigned char c;
    if (r->i >= r->n) return MPH_EJSON;
    c = r->s[r->i];
    if (c == '"') break;
    if (c < 0x20) return MPH_EJSON;
    if (c == '\\') {
      uint32_t u, lo;
      if (r->i + 1 >= r->n) return MPH_EJSON;
      c = r->s[r->i + 1];
      if (c == 'u') {
        if (!ref_hex4(r, r->i + 2, &u)) return MPH_EJSON;
        if (u >= 0xDC00 && u <= 0xDFFF) return MPH_EJSON;
        if (u >= 0xD800 && u <= 0xDBFF) {
          if (r->i + 8 > r->n || r->s[r->i + 6] != '\\' || r->s[r->i + 7] != 'u' ||
              !ref_hex4(r, r->i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return MPH_EJSON;
          decoded += 4;
          r->i += 12;
          continue;
        }
        if (u == 0) nul = 1;
        decoded += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
        r->i += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", c) || c == 0) return MPH_EJSON;
      decoded++;
      r->i += 2;
      continue;
    }
    if (c < 0x80) {
      decoded++;
      r->i++;
      continue;
    }
    if ((k = ref_utf8(r)) == 0) return MPH_EJSON;
    decoded += k;
    r->i += k;
  }
  r->i++;
  r->string_bytes += r->i - start;
  if (nul) {
    mph_json_nul rec;
    rec.ordinal = r->strings;
    rec.length = decoded;
    FZ_ASSERT(mph_buf_put(&r->nuls, &rec, sizeof rec) == 0, "out of memory");
  }
  r->strings++;
  return MPH_OK;
}

#define DIGIT(c) ((c) >= '0' && (c) <= '9')

static mph_status ref_number(ref *r) {
  const unsigned char *s = r->s;
  if (s[r->i] == '-') r->i++;
  if (r->i >= r->n || !DIGIT(s[r->i])) return MPH_EJSON;
  if (s[r->i] == '0') r->i++;
  else while (r->i < r->n && DIGIT(s[r->i])) r->i++;
  if (r->i < r->n && s[r->i] == '.') {
    r->i++;
    if (r->i >= r->n || !DIGIT(s[r->i])) return MPH_EJSON;
    while (r->i < r->n && DIGIT(s[r->i])) r->i++;
  }
  if (r->i < r->n && (s[r->i] == 'e' || s[r->i] == 'E')) {
    r->i++;
    if (r->i < r->n && (s[r->i] == '+' || s[r->i] == '-')) r->i++;
    if (r->i >= r->n || !DIGIT(s[r->i])) return MPH_EJSON;
    while (r->i < r->n && DIGIT(s[r->i])) r->i++;
  }
  return MPH_OK;
}

static mph_status ref_value(ref *r, size_t depth) {
  mph_status st;
  unsigned char c;
  ref_ws(r);
  if (r->i >= r->n) return MPH_EJSON;
  r->values++;
  c = r->s[r->i];
  if (c == '[' || c == '{') {
    unsigned char close = c == '[' ? ']' : '}';
    if (depth >= r->max_depth) return MPH_EDEPTH;
    r->i++;
    ref_ws(r);
    if (r->i < r->n && r->s[r->i] == close) {
      r->i++;
      return MPH_OK;
    }
    for (;;) {
      if (c == '{') {
        ref_ws(r);
        if (r->i >= r->n || r->s[r->i] != '"') return MPH_EJSON;
        if ((st = ref_string(r)) != MPH_OK) return st;
        ref_ws(r);
        if (r->i >= r->n || r->s[r->i] != ':') return MPH_EJSON;
        r->i++;
      }
      if ((st = ref_value(r, depth + 1)) != MPH_OK) return st;
      ref_ws(r);
      if (r->i >= r->n) return MPH_EJSON;
      if (r->s[r->i] == ',') { r->i++; continue; }
      if (r->s[r->i] == close) { r->i++; return MPH_OK; }
      return MPH_EJSON;
    }
  }
  if (c == '"') return ref_string(r);
  if (c == '-' || DIGIT(c)) return ref_number(r);
  if (c == 't' && r->n - r->i >= 4 && memcmp(r->s + r->i, "true", 4) == 0) { r->i += 4; return MPH_OK; }
  if (c == 'f' && r->n - r->i >= 5 && memcmp(r->s + r->i, "false", 5) == 0) { r->i += 5; return MPH_OK; }
  if (c == 'n' && r->n - r->i >= 4 && memcmp(r->s + r->i, "null", 4) == 0) { r->i += 4; return MPH_OK; }
  return MPH_EJSON;
}

static mph_status ref_check(ref *r, const uint8_t *data, size_t size, size_t max_depth) {
  mph_status st;
  r->s = data;
  r->n = size;
  r->i = 0;
  r->max_depth = max_depth;
  r->values = r->string_bytes = r->strings = 0;
  r->nuls.len = 0;
  if ((st = ref_value(r, 0)) != MPH_OK) return st;
  ref_ws(r);
  return r->i == r->n ? MPH_OK : MPH_EJSON;
}

/* ----------------------------------------------------------------- target */

static const char *const names[] = { "OK", "ENOMEM", "EUTF8", "EESCAPE", "EJSON", "EDEPTH" };

static const char CHECKER[] = FZ_LUA_PRELUDE
  "local decode_json = core.decode_json\n"
  "local cjson_decode = require('cjson').decode\n"
  "local tonumber, pcall = tonumber, pcall\n"
  /* ours against lua-cjson's: numbers as numbers, arrays whatever their marks */
  "local function same_json(a, b)\n"
  "  if type(a) ~= type(b) then return false end\n"
  "  if type(a) ~= 'table' then return a == b end\n"
  "  for k, v in pairs(a) do if not same_json(v, b[k]) then return false end end\n"
  "  for k in pairs(b) do if a[k] == nil then return false end end\n"
  "  return true\n"
  "end\n"
  "return function(s, want, depth, want_at_depth)\n"
  "  local v, msg, code = decode_json(s)\n"
  "  if want == 'OK' then\n"
  "    if v == nil then error('decode_json refuses what the check accepts: ' .. q(msg)) end\n"
  "    local ok, cv = pcall(cjson_decode, s)\n"
  "    if not ok then error('lua-cjson refuses what decode_json accepts: ' .. q(cv)) end\n"
  "    if not same_json(v, cv) then error('decode_json and lua-cjson read different values') end\n"
  "  else\n"
  "    failure('decode_json', { [want] = true }, v, msg, code)\n"
  "  end\n"
  "  local v2, msg2, code2 = decode_json(s, { max_depth = tonumber(depth) })\n"
  "  if want_at_depth == 'OK' then\n"
  "    if v2 == nil then error('decode_json with max_depth ' .. depth .. ': ' .. q(msg2)) end\n"
  "    if want == 'OK' and not same(v, v2) then error('max_depth changed the value') end\n"
  "  else\n"
  "    failure('decode_json with max_depth', { [want_at_depth] = true }, v2, msg2, code2)\n"
  "  end\n"
  "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_lua_open("json", CHECKER);
  return 0;
}

static mph_status check(const uint8_t *data, size_t size, size_t max_depth, ref *r,
                        mph_json_check *chk, mph_buf *nuls) {
  mph_status st, want;
  nuls->len = 0;
  chk->max_depth = max_depth;
  chk->nuls = nuls;
  chk->big = NULL;
  chk->big_span = 0;
  st = mph_json_check_text((const char *)data, size, chk);
  want = ref_check(r, data, size, max_depth);
  FZ_ASSERT(st == want, "check (max_depth %zu): %s, reference %s", max_depth, names[st],
            names[want]);
  if (st != MPH_OK) {
    FZ_ASSERT(chk->err_msg != NULL && chk->err_at <= size, "check: no message or bad offset");
    return st;
  }
  FZ_ASSERT(chk->values == r->values, "check: %zu values, reference %zu", chk->values, r->values);
  FZ_ASSERT(chk->string_bytes == r->string_bytes, "check: %zu string bytes, reference %zu",
            chk->string_bytes, r->string_bytes);
  FZ_ASSERT(nuls->len == r->nuls.len &&
                (nuls->len == 0 || memcmp(nuls->p, r->nuls.p, nuls->len) == 0),
            "check: strings with \\u0000 differ from the reference (%zu, %zu records)",
            nuls->len / sizeof(mph_json_nul), r->nuls.len / sizeof(mph_json_nul));
  FZ_ASSERT(chk->nul_strings == nuls->len / sizeof(mph_json_nul), "check: %zu strings with \\u0000 counted, %zu listed",
            chk->nul_strings, nuls->len / sizeof(mph_json_nul));
  /* what decode_json finds piece by piece: the same, from the checked text */
  nuls->len = 0;
  FZ_ASSERT(mph_json_find_nuls((const char *)data, size, nuls) == MPH_OK, "find_nuls: out of memory");
  FZ_ASSERT(nuls->len == r->nuls.len &&
                (nuls->len == 0 || memcmp(nuls->p, r->nuls.p, nuls->len) == 0),
            "find_nuls: strings with \\u0000 differ from the reference");
  return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ref r;
  static mph_buf nuls;
  mph_json_check chk;
  mph_status st, st_small;
  size_t small = size ? (size_t)(data[size - 1] % 8) + 1 : 1;
  char depth[16];
  const char *extra[4];

  if (!nuls.alloc) {
    mph_buf_init(&nuls, fz_alloc, NULL);
    mph_buf_init(&r.nuls, fz_alloc, NULL);
  }
  st = check(data, size, MPH_JSON_MAX_DEPTH, &r, &chk, &nuls);
  st_small = check(data, size, small, &r, &chk, &nuls);

  snprintf(depth, sizeof depth, "%zu", small);
  extra[0] = names[st];
  extra[1] = depth;
  extra[2] = names[st_small];
  extra[3] = NULL;
  fz_lua_check(data, size, extra);
  return 0;
}
