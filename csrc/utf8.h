/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
#ifndef MPH_UTF8_H
#define MPH_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length (2..4) of the valid multi-byte sequence at s[0..n), or 0 if invalid.
   s[0] must be >= 0x80. Stores the code point in *cp. The one UTF-8 rule:
   every check of the core goes through it. */
static inline size_t mph_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  uint32_t v;
  if (c >= 0xC2 && c <= 0xDF) {
    if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
    *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
      return 0;
    v = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
        ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    if (v < 0x10000 || v > 0x10FFFF) return 0;
    *cp = v;
    return 4;
  }
  return 0;
}

/* Validate and copy: copies the valid multi-byte sequence at s[0..n)
   (s[0] >= 0x80) to o and returns its length (2..4), or returns 0 and
   writes nothing when it is not valid. */
static inline size_t mph_utf8_copy(char *o, const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t k = mph_utf8_seq(s, n, &cp);
  if (k) memcpy(o, s, k);
  return k;
}

/* 1 if s[0..n) is valid UTF-8; otherwise 0 and *bad is the offset of the
   first byte of the first invalid sequence. */
int mph_utf8_valid(const unsigned char *s, size_t n, size_t *bad);

/* Writes cp as UTF-8 into out (room for 4); returns the length. */
size_t mph_utf8_put(unsigned char *out, uint32_t cp);

#endif
