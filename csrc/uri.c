#include "uri.h"
#include "hex.h"
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
      o[1] = mph_hex_upper[c >> 4];
      o[2] = mph_hex_upper[c & 15];
      o += 3;
    }
    i += k;
  }
  out->len = (size_t)(o - out->p);
  return MPH_OK;
}

#define HEX2(h, l) ((unsigned)((((h) - 1) << 4) | ((l) - 1)))

/* The byte %XX at e spells, or -1 when e is not a well-formed escape. */
static inline int escaped_byte(const unsigned char *e) {
  unsigned h, l;
  if (e[0] != '%' || !(h = mph_hex_value[e[1]]) || !(l = mph_hex_value[e[2]])) return -1;
  return (int)HEX2(h, l);
}

mph_status mph_uri_decode(mph_buf *out, const char *str, size_t n,
                          int plus_as_space, size_t *err_at) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k, j, len;
  int b;
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
      if ((k = mph_utf8_copy(o, s + i, n - i)) == 0) {
        *err_at = i;
        return MPH_EUTF8;
      }
      o += k;
      i += k;
      continue;
    }
    if (n - i < 3 || (b = escaped_byte(s + i)) < 0) goto bad_escape;
    if (b < 0x80) {
      *o++ = (char)b;
      i += 3;
      continue;
    }
    /* a multi-byte sequence: every byte escaped, and together valid UTF-8
       (the lead byte tells how many; mph_utf8_copy refuses a wrong one) */
    len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (n - i < 3 * len) goto bad_escape;
    oct[0] = (unsigned char)b;
    for (j = 1; j < len; j++) {
      if ((b = escaped_byte(s + i + 3 * j)) < 0) goto bad_escape;
      oct[j] = (unsigned char)b;
    }
    if (mph_utf8_copy(o, oct, len) != len) goto bad_escape;
    o += len;
    i += 3 * len;
  }
  out->len = (size_t)(o - out->p);
  return MPH_OK;

bad_escape:
  *err_at = i;
  return MPH_EESCAPE;
}
