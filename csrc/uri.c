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

/* The byte escaped at s[i] ("%XX"), or -1 when s[i..] is not an escape. */
static int escaped_byte(const unsigned char *s, size_t n, size_t i) {
  unsigned h, l;
  if (i >= n || n - i < 3 || s[i] != '%') return -1;
  h = hexval[s[i + 1]];
  l = hexval[s[i + 2]];
  if (!h || !l) return -1;
  return (int)(((h - 1) << 4) | (l - 1));
}

mph_status mph_uri_decode(mph_buf *out, const char *str, size_t n,
                          int plus_as_space, size_t *err_at) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k, j;
  uint32_t cp;
  char *o;
  if (mph_buf_reserve(out, n)) return MPH_ENOMEM;
  o = out->p + out->len;
  while (i < n) {
    unsigned char c = s[i];
    if (c == '%') {
      unsigned char oct[4];
      int b = escaped_byte(s, n, i), len;
      if (b < 0) goto bad_escape;
      if (b < 0x80) { *o++ = (char)b; i += 3; continue; }
      /* the number of leading one bits gives the sequence length */
      if ((b & 0xE0) == 0xC0) len = 2;
      else if ((b & 0xF0) == 0xE0) len = 3;
      else if ((b & 0xF8) == 0xF0) len = 4;
      else goto bad_escape;
      oct[0] = (unsigned char)b;
      for (j = 1; j < (size_t)len; j++) {
        int t = escaped_byte(s, n, i + 3 * j);
        if (t < 0 || (t & 0xC0) != 0x80) goto bad_escape;
        oct[j] = (unsigned char)t;
      }
      if (mph_utf8_seq(oct, (size_t)len, &cp) != (size_t)len) goto bad_escape;
      memcpy(o, oct, (size_t)len);
      o += len;
      i += 3 * (size_t)len;
      continue;
    bad_escape:
      *err_at = i;
      return MPH_EESCAPE;
    }
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
  }
  out->len = (size_t)(o - out->p);
  return MPH_OK;
}
