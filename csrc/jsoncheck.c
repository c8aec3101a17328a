#include "jsoncheck.h"
#include "hex.h"
#include "jsonnum.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>

#include <stdint.h>
#include <string.h>

/* 1 for bytes a string may hold as they are (ASCII, not '"', '\\', control) */
static const unsigned char plain[256] = {
  [0x20 ... 0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0x7F] = 1, /* not '"', '\\' */
};

typedef struct state {
  const unsigned char *s;
  size_t n, i;
  mph_json_check *c;
  size_t strings; /* ordinal of the next string */
} state;

static mph_status fail(state *st, size_t at, const char *msg) {
  st->c->err_at = at;
  st->c->err_msg = msg;
  return MPH_EJSON;
}

static inline void skip_ws(state *st) {
  if (st->i < st->n && st->s[st->i] > ' ') return; /* the usual case */
  while (st->i < st->n) {
    unsigned char ch = st->s[st->i];
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') break;
    st->i++;
  }
}

/* four hex digits at s[i..n), or -1 */
static long hex4_at(const unsigned char *s, size_t n, size_t i) {
  long v = 0;
  size_t k;
  if (n - i < 4) return -1;
  for (k = 0; k < 4; k++) {
    unsigned h = mph_hex_value[s[i + k]];
    if (!h) return -1;
    v = (v << 4) | (long)(h - 1);
  }
  return v;
}

static long hex4(state *st, size_t i) {
  return hex4_at((const unsigned char *)st->s, st->n, i);
}

static mph_status check_string(state *st) {
  const unsigned char *s = st->s;
  size_t start = st->i, decoded = 0, k;
  int has_nul = 0;
  uint32_t cp;
  st->i++; /* the opening quote */
  for (;;) {
    size_t run = st->i;
    /* eight plain bytes at a time: none below 0x20, '"', '\\' or >= 0x80 */
    while (run + 8 <= st->n) {
      uint64_t w, t;
      memcpy(&w, s + run, 8);
      t = (w - 0x2020202020202020ULL) | ((w ^ 0x2222222222222222ULL) - 0x0101010101010101ULL) |
          ((w ^ 0x5C5C5C5C5C5C5C5CULL) - 0x0101010101010101ULL) | w;
      if (t & 0x8080808080808080ULL) break;
      run += 8;
    }
    while (run < st->n && plain[s[run]]) run++;
    decoded += run - st->i;
    st->i = run;
    if (st->i >= st->n) return fail(st, start, "unterminated string");
    if (s[st->i] == '"') break;
    if (s[st->i] == '\\') {
      unsigned char e;
      if (st->i + 1 >= st->n) return fail(st, st->i, "unterminated string");
      e = s[st->i + 1];
      if (e == 'u') {
        long u = hex4(st, st->i + 2), lo;
        if (u < 0) return fail(st, st->i, "invalid \\u escape");
        if (u >= 0xDC00 && u <= 0xDFFF) return fail(st, st->i, "lone surrogate");
        if (u >= 0xD800 && u <= 0xDBFF) {
          if (st->i + 7 >= st->n || s[st->i + 6] != '\\' || s[st->i + 7] != 'u' ||
              (lo = hex4(st, st->i + 8)) < 0xDC00 || lo > 0xDFFF)
            return fail(st, st->i, "lone surrogate");
          decoded += 4;
          st->i += 12;
        } else {
          if (u == 0) has_nul = 1;
          decoded += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
          st->i += 6;
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' &&
          e != 'n' && e != 'r' && e != 't')
        return fail(st, st->i, "invalid escape");
      decoded++;
      st->i += 2;
      continue;
    }
    if (s[st->i] < 0x20) return fail(st, st->i, "raw control character in string");
    /* multi-byte forms, as many as follow one another (CJK text) */
    do {
      unsigned char c0 = s[st->i];
      /* three-byte forms whose second byte needs no range check */
      if (((c0 >= 0xE1 && c0 <= 0xEC) || c0 >= 0xEE) && c0 <= 0xEF && st->n - st->i >= 3 &&
          (s[st->i + 1] & 0xC0) == 0x80 && (s[st->i + 2] & 0xC0) == 0x80) {
        decoded += 3;
        st->i += 3;
        continue;
      }
      if ((k = mph_utf8_seq(s + st->i, st->n - st->i, &cp)) == 0)
        return fail(st, st->i, "invalid UTF-8 in string");
      decoded += k;
      st->i += k;
    } while (st->i < st->n && s[st->i] >= 0x80);
  }
  st->i++; /* the closing quote */
  st->c->string_bytes += st->i - start;
  if (has_nul) {
    mph_json_nul rec;
    rec.ordinal = st->strings;
    rec.length = decoded;
    st->c->nul_strings++;
    if (st->c->nuls && mph_buf_put(st->c->nuls, &rec, sizeof rec)) return MPH_ENOMEM;
  }
  st->strings++;
  return MPH_OK;
}

#define IS_DIGIT(ch) ((ch) >= '0' && (ch) <= '9')

static mph_status check_number(state *st) {
  const unsigned char *s = st->s;
  size_t start = st->i, n = st->n;
  if (s[st->i] == '-') st->i++;
  if (st->i >= n || !IS_DIGIT(s[st->i])) return fail(st, start, "invalid number");
  if (s[st->i] == '0') {
    st->i++;
    if (st->i < n && IS_DIGIT(s[st->i])) return fail(st, start, "leading zero");
  } else {
    while (st->i < n && IS_DIGIT(s[st->i])) st->i++;
  }
  if (st->i < n && s[st->i] == '.') {
    st->i++;
    if (st->i >= n || !IS_DIGIT(s[st->i])) return fail(st, start, "invalid number");
    while (st->i < n && IS_DIGIT(s[st->i])) st->i++;
  }
  if (st->i < n && (s[st->i] == 'e' || s[st->i] == 'E')) {
    st->i++;
    if (st->i < n && (s[st->i] == '+' || s[st->i] == '-')) st->i++;
    if (st->i >= n || !IS_DIGIT(s[st->i])) return fail(st, start, "invalid number");
    while (st->i < n && IS_DIGIT(s[st->i])) st->i++;
  }
  if (st->i - start > MPH_JSON_MAX_NUMBER) st->c->long_numbers++;
  return MPH_OK;
}

static mph_status check_literal(state *st, const char *word, size_t len) {
  if (st->n - st->i < len || memcmp(st->s + st->i, word, len) != 0)
    return fail(st, st->i, "unexpected character");
  st->i += len;
  return MPH_OK;
}

/* Lists the container text[start..end) with count items when it is long. */
static mph_status closed(mph_json_check *c, size_t start, size_t end, size_t count) {
  mph_json_big rec;
  if (c->big == NULL || end - start <= c->big_span) return MPH_OK;
  rec.start = start;
  rec.count = count;
  return mph_buf_put(c->big, &rec, sizeof rec) ? MPH_ENOMEM : MPH_OK;
}

static int by_start(const void *pa, const void *pb) {
  const mph_json_big *a = (const mph_json_big *)pa, *b = (const mph_json_big *)pb;
  return (a->start > b->start) - (a->start < b->start);
}

mph_status mph_json_check_text(const char *text, size_t n, mph_json_check *c) {
  char stack[MPH_JSON_MAX_DEPTH + 1]; /* '[' or '{' per open container */
  size_t open_at[MPH_JSON_MAX_DEPTH + 1], items[MPH_JSON_MAX_DEPTH + 1]; /* for big */
  size_t depth = 0, max_depth = c->max_depth;
  mph_status r;
  state st;
  st.s = (const unsigned char *)text;
  st.n = n;
  st.i = 0;
  st.c = c;
  st.strings = 0;
  c->values = 0;
  c->string_bytes = 0;
  c->long_numbers = 0;
  c->nul_strings = 0;
  c->err_at = 0;
  c->err_msg = NULL;
  if (max_depth > MPH_JSON_MAX_DEPTH) max_depth = MPH_JSON_MAX_DEPTH;

value:
  skip_ws(&st);
  if (st.i >= n) return fail(&st, st.i, "unexpected end");
  c->values++;
  switch (st.s[st.i]) {
  case '{':
  case '[':
    if (depth >= max_depth) {
      c->err_at = st.i;
      c->err_msg = "nesting deeper than max_depth";
      return MPH_EDEPTH;
    }
    open_at[depth] = st.i;
    items[depth] = 1;
    stack[depth++] = (char)st.s[st.i];
    st.i++;
    skip_ws(&st);
    if (st.i < n && st.s[st.i] == (stack[depth - 1] == '{' ? '}' : ']')) {
      st.i++;
      depth--;
      if ((r = closed(c, open_at[depth], st.i, 0)) != MPH_OK) return r;
      goto after;
    }
    if (stack[depth - 1] == '[') goto value;
    goto key;
  case '"':
    if ((r = check_string(&st)) != MPH_OK) return r;
    goto after;
  case 't': if ((r = check_literal(&st, "true", 4)) != MPH_OK) return r; goto after;
  case 'f': if ((r = check_literal(&st, "false", 5)) != MPH_OK) return r; goto after;
  case 'n': if ((r = check_literal(&st, "null", 4)) != MPH_OK) return r; goto after;
  default:
    if (st.s[st.i] == '-' || IS_DIGIT(st.s[st.i])) {
      if ((r = check_number(&st)) != MPH_OK) return r;
      goto after;
    }
    if (st.i == 0 && n >= 3 && memcmp(st.s, "\xEF\xBB\xBF", 3) == 0)
      return fail(&st, 0, "byte-order mark");
    return fail(&st, st.i, "unexpected character");
  }

key:
  skip_ws(&st);
  if (st.i >= n) return fail(&st, st.i, "unexpected end");
  if (st.s[st.i] != '"') return fail(&st, st.i, "expected a string key");
  if ((r = check_string(&st)) != MPH_OK) return r;
  skip_ws(&st);
  if (st.i >= n) return fail(&st, st.i, "unexpected end");
  if (st.s[st.i] != ':') return fail(&st, st.i, "expected ':'");
  st.i++;
  goto value;

after:
  skip_ws(&st);
  if (depth == 0) {
    if (st.i != n) return fail(&st, st.i, "trailing characters");
    if (c->big && c->big->len > sizeof(mph_json_big)) /* listed as they closed */
      qsort(c->big->p, c->big->len / sizeof(mph_json_big), sizeof(mph_json_big), by_start);
    return MPH_OK;
  }
  if (st.i >= n) return fail(&st, st.i, "unexpected end");
  if (st.s[st.i] == ',') {
    st.i++;
    items[depth - 1]++;
    if (stack[depth - 1] == '{') goto key;
    goto value;
  }
  if (st.s[st.i] == (stack[depth - 1] == '{' ? '}' : ']')) {
    st.i++;
    depth--;
    if ((r = closed(c, open_at[depth], st.i, items[depth])) != MPH_OK) return r;
    goto after;
  }
  return fail(&st, st.i, "expected ',' or a closing bracket");
}

/* The double a checked number literal s[0..n) spells, read without a
   decimal point so that strtod's locale does not matter. */
static mph_status literal_value(const char *s, size_t n, mph_buf *tmp, double *d) {
  size_t i = 0, frac = 0;
  long exp = 0;
  int eneg = 0;
  tmp->len = 0;
  if (s[i] == '-') { if (mph_buf_putc(tmp, '-')) return MPH_ENOMEM; i++; }
  for (; i < n && IS_DIGIT(s[i]); i++)
    if (mph_buf_putc(tmp, s[i])) return MPH_ENOMEM;
  if (i < n && s[i] == '.')
    for (i++; i < n && IS_DIGIT(s[i]); i++, frac++)
      if (mph_buf_putc(tmp, s[i])) return MPH_ENOMEM;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (s[i] == '+' || s[i] == '-') eneg = s[i++] == '-';
    for (; i < n && IS_DIGIT(s[i]); i++)
      if (exp < 100000000L) exp = exp * 10 + (s[i] - '0'); /* past this, 0 or inf */
  }
  if (eneg) exp = -exp;
  exp -= (long)(frac > 100000000 ? 100000000 : frac);
  {
    char e[32];
    int k = snprintf(e, sizeof e, "e%ld", exp);
    if (mph_buf_put(tmp, e, (size_t)k) || mph_buf_putc(tmp, '\0')) return MPH_ENOMEM;
  }
  *d = strtod(tmp->p, NULL);
  return MPH_OK;
}

mph_status mph_json_shorten_numbers(const char *s, size_t n, mph_buf *out, mph_buf *tmp) {
  size_t i = 0, start;
  out->len = 0;
  if (mph_buf_reserve(out, n)) return MPH_ENOMEM;
  while (i < n) {
    char ch = s[i];
    if (ch == '"') { /* copy a string whole */
      start = i++;
      while (s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
      i++;
      if (mph_buf_put(out, s + start, i - start)) return MPH_ENOMEM;
      continue;
    }
    if (ch == '-' || IS_DIGIT(ch)) {
      start = i++;
      while (i < n && (IS_DIGIT(s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                       s[i] == '+' || s[i] == '-'))
        i++;
      if (i - start > MPH_JSON_MAX_NUMBER) {
        char num[MPH_NUMBER_MAX];
        size_t k;
        double d;
        if (literal_value(s + start, i - start, tmp, &d)) return MPH_ENOMEM;
        if (d != d || d - d != 0) /* out of range: a literal that reads as inf */
          k = (size_t)snprintf(num, sizeof num, "%s1e999", d < 0 ? "-" : "");
        else
          k = mph_js_number(num, d);
        if (d == 0 && s[start] == '-') { /* keep the sign of -0 */
          num[0] = '-';
          num[1] = '0';
          k = 2;
        }
        if (mph_buf_put(out, num, k)) return MPH_ENOMEM;
      } else if (mph_buf_put(out, s + start, i - start)) {
        return MPH_ENOMEM;
      }
      continue;
    }
    if (mph_buf_putc(out, ch)) return MPH_ENOMEM;
    i++;
  }
  return MPH_OK;
}

mph_status mph_json_find_nuls(const char *text, size_t n, mph_buf *nuls) {
  mph_json_check c;
  state st;
  mph_status r;
  const char *q;
  memset(&c, 0, sizeof c);
  c.nuls = nuls;
  st.s = (const unsigned char *)text;
  st.n = n;
  st.i = 0;
  st.c = &c;
  st.strings = 0;
  /* checked text: outside strings, '"' only ever opens one */
  while ((q = (const char *)memchr(text + st.i, '"', n - st.i)) != NULL) {
    st.i = (size_t)(q - text);
    if ((r = check_string(&st)) != MPH_OK) return r;
  }
  return MPH_OK;
}

size_t mph_json_mask_lone_surrogates(char *text, size_t n) {
  unsigned char *s = (unsigned char *)text;
  const unsigned char *p;
  size_t i = 0, count = 0;
  long u, lo;
  while (i < n && (p = memchr(s + i, '\\', n - i)) != NULL) {
    i = (size_t)(p - s);
    if (i + 1 >= n) break;
    if (s[i + 1] != 'u' || (u = hex4_at(s, n, i + 2)) < 0) {
      i += 2; /* another escape, "\\" included: its second byte is no escape */
      continue;
    }
    if (u >= 0xD800 && u <= 0xDBFF && n - i >= 12 && s[i + 6] == '\\' && s[i + 7] == 'u' &&
        (lo = hex4_at(s, n, i + 8)) >= 0xDC00 && lo <= 0xDFFF) {
      i += 12; /* a pair */
      continue;
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      memcpy(s + i + 2, "fffd", 4);
      count++;
    }
    i += 6;
  }
  return count;
}
