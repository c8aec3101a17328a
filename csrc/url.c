#include "url.h"

#include <string.h>

/* Length of the JavaScript WhiteSpace or LineTerminator at s[0..n), or 0:
   TAB LF VT FF CR SP, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
   U+205F, U+3000, U+FEFF. */
static size_t js_space(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
  if (c == 0xC2) return (n >= 2 && s[1] == 0xA0) ? 2 : 0;
  if (n < 3) return 0;
  switch (c) {
  case 0xE1: return (s[1] == 0x9A && s[2] == 0x80) ? 3 : 0;
  case 0xE2:
    if (s[1] == 0x80)
      return ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 ||
              s[2] == 0xAF) ? 3 : 0;
    return (s[1] == 0x81 && s[2] == 0x9F) ? 3 : 0;
  case 0xE3: return (s[1] == 0x80 && s[2] == 0x80) ? 3 : 0;
  case 0xEF: return (s[1] == 0xBB && s[2] == 0xBF) ? 3 : 0;
  default: return 0;
  }
}

/* Length of the space that ends at s[n), or 0. */
static size_t js_space_before(const unsigned char *s, size_t n) {
  size_t k;
  for (k = 1; k <= 3 && k <= n; k++)
    if (js_space(s + n - k, k) == k) return k;
  return 0;
}

void mph_js_trim(const char *str, size_t n, size_t *start, size_t *end) {
  const unsigned char *s = (const unsigned char *)str;
  size_t a = 0, b = n, k;
  while (a < b && (k = js_space(s + a, b - a)) > 0) a += k;
  while (b > a && (k = js_space_before(s + a, b - a)) > 0) b -= k;
  *start = a;
  *end = b;
}

size_t mph_url_hash_at(const char *s, size_t n) {
  const char *h = (const char *)memchr(s, '#', n);
  return h ? (size_t)(h - s) : n;
}
