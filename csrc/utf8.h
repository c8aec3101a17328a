/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
#ifndef MPH_UTF8_H
#define MPH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (2..4) of the valid multi-byte sequence at s[0..n), or 0 if invalid.
   s[0] must be >= 0x80. Stores the code point in *cp. */
size_t mph_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 if s[0..n) is valid UTF-8; otherwise 0 and *bad is the offset of the
   first byte of the first invalid sequence. */
int mph_utf8_valid(const unsigned char *s, size_t n, size_t *bad);

/* Writes cp as UTF-8 into out (room for 4); returns the length. */
size_t mph_utf8_put(unsigned char *out, uint32_t cp);

#endif
