#include "jsonstr.h"
#include "hex.h"
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* 0: copy as it is; 1: needs an escape; 2: first byte of a multi-byte form */
static const unsigned char kind[256] = {
  [0x00 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xFF] = 2,
};

mph_status mph_json_string(mph_buf *out, const char *str, size_t n, size_t *err_at) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, k;
  char *o;
  /* the longest form is six bytes per input byte, plus the quotes */
  if (n > ((size_t)-1 - 2) / 6 || mph_buf_reserve(out, 6 * n + 2)) return MPH_ENOMEM;
  o = out->p + out->len;
  *o++ = '"';
  while (i < n) {
    while (i < n && kind[s[i]] == 0) *o++ = (char)s[i++]; /* short runs: no memcpy */
    if (i >= n) break;
    if (kind[s[i]] == 2) {
      if ((k = mph_utf8_copy(o, s + i, n - i)) == 0) {
        *err_at = i;
        return MPH_EUTF8;
      }
      o += k;
      i += k;
      continue;
    }
    *o++ = '\\';
    switch (s[i]) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      *o++ = 'u'; *o++ = '0'; *o++ = '0';
      *o++ = mph_hex_lower[s[i] >> 4];
      *o++ = mph_hex_lower[s[i] & 15];
    }
    i++;
  }
  *o++ = '"';
  out->len = (size_t)(o - out->p);
  return MPH_OK;
}
