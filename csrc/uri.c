#include "uri.h"
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* 1 for the bytes encodeURIComponent leaves alone: A-Z a-z 0-9 - _ . ! ~ * ' ( ) */
static const unsigned char unreserved[256] = {
  ['-'] = 1, ['_'] = 1, ['.'] = 1, ['!'] = 1, ['~'] = 1, ['*'] = 1,
  ['\''] = 1, ['('] = 1, [')'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
  ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
  ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
  ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
  ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
  ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
  ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
  ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
  ['y'] = 1, ['z'] = 1,
};

static const char hexdigits[] = "0123456789ABCDEF";

/* hex value + 1 of a hex digit byte, 0 for anything else */
static const unsigned char hexval[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
  ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
  ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
  ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

mph_status mph_uri_encode(mph_buf *out, const char *str, size_t n, size_t *err_at) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k, j;
  uint32_t cp;
  char *o;
  if (n > ((size_t)-1) / 3 || mph_buf_reserve(out, 3 * n)) return MPH_ENOMEM;
  o = out->p + out->len;
  while (i < n) {
    unsigned char c = s[i];
    if (unreserved[c]) { *o++ = (char)c; i++; continue; }
    if (c < 0x80) k = 1;
    else if ((k = mph_utf8_seq(s + i, n - i, &cp)) == 0) {
      *err_at = i;
      return MPH_EUTF8;
    }
    for (j = 0; j < k; j++) {
      c = s[i + j];
      o[0] = '%';
      o[1] = hexdigits[c >> 4];
      o[2] = hexdigits[c & 15];
      o += 3;
    }
    i += k;
  }
  out->len = (size_t)(o - out->p);
  return MPH_OK;
}

/* The number of bytes of the UTF-8 sequence a lead byte starts (2..4), or 0
   for a byte that cannot lead one (80-C1, F5-FF). */
static const unsigned char seq_len[256] = {
  [0xC2 ... 0xDF] = 2, [0xE0 ... 0xEF] = 3, [0xF0 ... 0xF4] = 4,
};

#define HEX2(h, l) ((unsigned)((((h) - 1) << 4) | ((l) - 1)))

mph_status mph_uri_decode(mph_buf *out, const char *str, size_t n,
                          int plus_as_space, size_t *err_at) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k, j, len;
  uint32_t cp;
  unsigned h, l, b;
  unsigned char oct[4];
  char *o;
  if (mph_buf_reserve(out, n)) return MPH_ENOMEM;
  o = out->p + out->len;
  while (i < n) {
    unsigned char c = s[i];
    if (c != '%') {
      if (c < 0x80) {
        *o++ = (plus_as_space && c == '+') ? ' ' : (char)c;
        i++;
        continue;
      }
      if ((k = mph_utf8_seq(s + i, n - i, &cp)) == 0) {
        *err_at = i;
        return MPH_EUTF8;
      }
      memcpy(o, s + i, k);
      o += k;
      i += k;
      continue;
    }
    if (n - i < 3 || !(h = hexval[s[i + 1]]) || !(l = hexval[s[i + 2]])) goto bad_escape;
    b = HEX2(h, l);
    if (b < 0x80) {
      *o++ = (char)b;
      i += 3;
      continue;
    }
    /* a multi-byte sequence: every byte escaped, and together valid UTF-8 */
    len = seq_len[b];
    if (len == 0 || n - i < 3 * len) goto bad_escape;
    oct[0] = (unsigned char)b;
    for (j = 1; j < len; j++) {
      const unsigned char *e = s + i + 3 * j;
      if (e[0] != '%' || !(h = hexval[e[1]]) || !(l = hexval[e[2]])) goto bad_escape;
      b = HEX2(h, l);
      if ((b & 0xC0) != 0x80) goto bad_escape;
      oct[j] = (unsigned char)b;
    }
    /* overlongs, surrogates and values past U+10FFFF */
    if ((oct[0] == 0xE0 && oct[1] < 0xA0) || (oct[0] == 0xED && oct[1] >= 0xA0) ||
        (oct[0] == 0xF0 && oct[1] < 0x90) || (oct[0] == 0xF4 && oct[1] >= 0x90))
      goto bad_escape;
    memcpy(o, oct, len);
    o += len;
    i += 3 * len;
  }
  out->len = (size_t)(o - out->p);
  return MPH_OK;

bad_escape:
  *err_at = i;
  return MPH_EESCAPE;
}
