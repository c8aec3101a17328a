/* decodeURIComponent and encodeURIComponent (csrc/uri.c) against reference
   implementations written from the ECMAScript algorithms (Encode, Decode)
   over UTF-8 bytes, one byte at a time and without tables:

   - decode: same status, same error offset, same bytes out (with and
     without '+' read as a space);
   - encode of the raw input: EUTF8 at the first invalid sequence exactly
     when the input is not UTF-8, otherwise the reference's bytes;
   - decode(encode(decode(s))) == decode(s);
   - both append to what the buffer already holds. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/uri.h"
#include "host.h"

/* ------------------------------------------------------------- reference */

static int ref_hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Whether octets[0..n) are the UTF-8 encoding of one code point (RFC 3629:
   shortest form, no surrogates, at most U+10FFFF). */
static int ref_utf8_ok(const unsigned char *o, int n) {
  uint32_t cp;
  int i;
  if (n == 2) cp = o[0] & 0x1F;
  else if (n == 3) cp = o[0] & 0x0F;
  else if (n == 4) cp = o[0] & 0x07;
  else return 0;
  for (i = 1; i < n; i++) {
    if ((o[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (o[i] & 0x3F);
  }
  if (n == 2 && cp < 0x80) return 0;
  if (n == 3 && cp < 0x800) return 0;
  if (n == 4 && cp < 0x10000) return 0;
  if (cp > 0x10FFFF) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return 1;
}

/* leading one bits of a byte */
static int ref_ones(unsigned char b) {
  int n = 0;
  while (n < 8 && (b & (0x80 >> n))) n++;
  return n;
}

/* The length of the raw UTF-8 sequence at s[0..n) (s[0] >= 0x80), or 0. */
static int ref_raw_seq(const unsigned char *s, size_t n) {
  int k = ref_ones(s[0]);
  if (k < 2 || k > 4 || (size_t)k > n) return 0;
  return ref_utf8_ok(s, k) ? k : 0;
}

typedef struct ref_out {
  unsigned char *p;
  size_t len;
} ref_out;

/* The Decode operation with an empty reserved set. */
static mph_status ref_decode(const unsigned char *s, size_t n, int plus, ref_out *out,
                             size_t *err_at) {
  size_t i = 0;
  out->len = 0;
  while (i < n) {
    unsigned char oct[4];
    int h, l, k, j;
    if (s[i] != '%') {
      if (s[i] < 0x80) {
        out->p[out->len++] = (plus && s[i] == '+') ? ' ' : s[i];
        i++;
        continue;
      }
      k = ref_raw_seq(s + i, n - i);
      if (k == 0) { *err_at = i; return MPH_EUTF8; }
      memcpy(out->p + out->len, s + i, (size_t)k);
      out->len += (size_t)k;
      i += (size_t)k;
      continue;
    }
    if (i + 2 >= n || (h = ref_hex(s[i + 1])) < 0 || (l = ref_hex(s[i + 2])) < 0) {
      *err_at = i;
      return MPH_EESCAPE;
    }
    oct[0] = (unsigned char)(h * 16 + l);
    if (oct[0] < 0x80) {
      out->p[out->len++] = oct[0];
      i += 3;
      continue;
    }
    k = ref_ones(oct[0]);
    if (k == 1 || k > 4 || i + 3 * (size_t)k > n) { *err_at = i; return MPH_EESCAPE; }
    for (j = 1; j < k; j++) {
      size_t at = i + 3 * (size_t)j;
      if (s[at] != '%' || (h = ref_hex(s[at + 1])) < 0 || (l = ref_hex(s[at + 2])) < 0) {
        *err_at = i;
        return MPH_EESCAPE;
      }
      oct[j] = (unsigned char)(h * 16 + l);
      if ((oct[j] & 0xC0) != 0x80) { *err_at = i; return MPH_EESCAPE; }
    }
    if (!ref_utf8_ok(oct, k)) { *err_at = i; return MPH_EESCAPE; }
    memcpy(out->p + out->len, oct, (size_t)k);
    out->len += (size_t)k;
    i += 3 * (size_t)k;
  }
  return MPH_OK;
}

static int ref_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("-_.!~*'()", c) != NULL);
}

/* The Encode operation with the unreserved set of encodeURIComponent. */
static mph_status ref_encode(const unsigned char *s, size_t n, ref_out *out, size_t *err_at) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
  out->len = 0;
  while (i < n) {
    int k = 1, j;
    if (ref_unreserved(s[i])) {
      out->p[out->len++] = s[i++];
      continue;
    }
    if (s[i] >= 0x80 && (k = ref_raw_seq(s + i, n - i)) == 0) {
      *err_at = i;
      return MPH_EUTF8;
    }
    for (j = 0; j < k; j++) {
      out->p[out->len++] = '%';
      out->p[out->len++] = (unsigned char)hex[s[i + j] >> 4];
      out->p[out->len++] = (unsigned char)hex[s[i + j] & 15];
    }
    i += (size_t)k;
  }
  return MPH_OK;
}

/* ----------------------------------------------------------------- target */

static const char PREFIX[] = "pre\xE4\xB8\xAD"; /* what the buffer already holds */
#define PLEN (sizeof PREFIX - 1)

static void check_decode(const uint8_t *data, size_t size, int plus, ref_out *want,
                         mph_buf *out) {
  size_t at = (size_t)-1, ref_at = (size_t)-1;
  mph_status st, ref;
  out->len = 0;
  FZ_ASSERT(mph_buf_put(out, PREFIX, PLEN) == 0, "out of memory");
  st = mph_uri_decode(out, (const char *)data, size, plus, &at);
  ref = ref_decode(data, size, plus, want, &ref_at);
  FZ_ASSERT(st == ref, "decode (plus=%d): status %d, reference %d", plus, (int)st, (int)ref);
  if (st != MPH_OK) {
    FZ_ASSERT(at == ref_at, "decode (plus=%d): error at %zu, reference at %zu", plus, at, ref_at);
    return;
  }
  FZ_ASSERT(out->len == PLEN + want->len, "decode (plus=%d): %zu bytes, reference %zu", plus,
            out->len - PLEN, want->len);
  FZ_ASSERT(memcmp(out->p, PREFIX, PLEN) == 0, "decode overwrote what the buffer held");
  FZ_ASSERT(memcmp(out->p + PLEN, want->p, want->len) == 0, "decode (plus=%d): bytes differ",
            plus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mph_buf out, again;
  ref_out want, enc;
  size_t at = (size_t)-1, ref_at = (size_t)-1;
  mph_status st, ref;

  mph_buf_init(&out, fz_alloc, NULL);
  mph_buf_init(&again, fz_alloc, NULL);
  want.p = (unsigned char *)malloc(size + 1);
  enc.p = (unsigned char *)malloc(3 * size + 1);
  FZ_ASSERT(want.p && enc.p, "out of memory");

  /* encode the raw input */
  out.len = 0;
  FZ_ASSERT(mph_buf_put(&out, PREFIX, PLEN) == 0, "out of memory");
  st = mph_uri_encode(&out, (const char *)data, size, &at);
  ref = ref_encode(data, size, &enc, &ref_at);
  FZ_ASSERT(st == ref, "encode: status %d, reference %d", (int)st, (int)ref);
  if (st == MPH_OK) {
    FZ_ASSERT(out.len == PLEN + enc.len && memcmp(out.p, PREFIX, PLEN) == 0 &&
                  memcmp(out.p + PLEN, enc.p, enc.len) == 0,
              "encode: bytes differ from the reference");
  } else {
    FZ_ASSERT(at == ref_at, "encode: error at %zu, reference at %zu", at, ref_at);
  }

  check_decode(data, size, 1, &want, &out);
  check_decode(data, size, 0, &want, &out);

  /* decode(encode(decode(s))) == decode(s) */
  if (ref_decode(data, size, 0, &want, &ref_at) == MPH_OK) {
    out.len = 0;
    st = mph_uri_encode(&out, (const char *)want.p, want.len, &at);
    FZ_ASSERT(st == MPH_OK, "encode of a decoded string failed (%d at %zu)", (int)st, at);
    st = mph_uri_decode(&again, out.p ? out.p : "", out.len, 0, &at);
    FZ_ASSERT(st == MPH_OK, "decode of an encoded string failed (%d at %zu)", (int)st, at);
    FZ_ASSERT(again.len == want.len && memcmp(again.p ? again.p : "", want.p, want.len) == 0,
              "decode(encode(x)) != x");
  }

  mph_buf_free(&out);
  mph_buf_free(&again);
  free(want.p);
  free(enc.p);
  return 0;
}
