#include "jsonnum.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO53 9007199254740992.0

static const char two_digits[] =
  "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
  "8081828384858687888990919293949596979899";

/* two digits a division: a stamp in ms has 13 */
static size_t put_uint(char *out, uint64_t v) {
  char tmp[24];
  size_t n = sizeof tmp, len;
  while (v >= 100) {
    unsigned d = (unsigned)(v % 100);
    v /= 100;
    tmp[--n] = two_digits[2 * d + 1];
    tmp[--n] = two_digits[2 * d];
  }
  if (v >= 10) {
    tmp[--n] = two_digits[2 * v + 1];
    tmp[--n] = two_digits[2 * v];
  } else {
    tmp[--n] = (char)('0' + v);
  }
  len = sizeof tmp - n;
  memcpy(out, tmp + n, len);
  return len;
}

/* Does digits * 10^exp read back as d? Written without a decimal point, so
   that strtod's locale does not matter. */
static int reads_back(const char *digits, size_t k, int exp, double d) {
  char tmp[48];
  memcpy(tmp, digits, k);
  snprintf(tmp + k, sizeof tmp - k, "e%d", exp);
  return strtod(tmp, NULL) == d;
}

/* The p significant digits of |d| correctly rounded, and the decimal
   exponent of the first one: |d| ~ D.DDD * 10^*e10. */
static size_t rounded_digits(double d, int p, char *digits, int *e10) {
  char tmp[64];
  size_t k = 0;
  const char *s;
  snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
  for (s = tmp; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9') digits[k++] = *s;
  *e10 = atoi(s + 1);
  return k;
}

/* digits (k of them, no leading zero) plus or minus one in the last place. */
static size_t step_digits(const char *digits, size_t k, int up, char *out,
                          int *e10) {
  uint64_t v = 0;
  size_t i, n;
  for (i = 0; i < k; i++) v = v * 10 + (uint64_t)(digits[i] - '0');
  v = up ? v + 1 : v - 1;
  n = put_uint(out, v);
  *e10 += (int)n - (int)k; /* 999+1 gains a digit, 100-1 loses one */
  return n;
}

static const double powers_of_ten[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The fast path for the common short decimals (12.5, 0.1, 1e-7): the least
   k for which m = round(d * 10^k) is below 2^50 and m / 10^k reads back as
   d. 10^k (k <= 22) and m are exact, so the division is correctly rounded,
   as strtod is; below 2^50 one step of m is wider than d's rounding
   interval, so the m found is the only, and so the closest, candidate. */
static int short_decimal(double d, char *digits, size_t *k, int *e10) {
  int p;
  for (p = 1; p <= 22; p++) {
    double x = d * powers_of_ten[p], m = floor(x + 0.5);
    if (m >= 1125899906842624.0) return 0; /* 2^50 */
    if (m / powers_of_ten[p] == d) {
      size_t n = put_uint(digits, (uint64_t)m);
      *k = n;
      *e10 = (int)n - 1 - p;
      return 1;
    }
  }
  return 0;
}

size_t mph_js_number(char *out, double d) {
  char digits[24], cand[24];
  size_t k = 0, len = 0, i;
  int e10 = 0, n, p, found = 0;

  if (d == 0) { out[0] = '0'; return 1; } /* +0 and -0 */
  if (d < 0) { out[len++] = '-'; d = -d; }
  /* exact integers are their own shortest (a cast, not a call to floor) */
  if (d < TWO53 && d == (double)(uint64_t)d)
    return len + put_uint(out + len, (uint64_t)d);
  if (d >= DBL_MIN && short_decimal(d, digits, &k, &e10)) goto format;

  /* A normal double's 15-digit rounding, if it reads back, is the shortest
     form padded with zeros; a subnormal one has fewer significant bits, so
     its search starts from one digit. */
  for (p = d < DBL_MIN ? 1 : 15; p <= 17 && !found; p++) {
    k = rounded_digits(d, p, digits, &e10);
    if (p == 17 || reads_back(digits, k, e10 - (int)k + 1, d)) { found = 1; break; }
    if (p == 16) {
      /* At a power of two the interval that reads back is lopsided, and the
         closest p-digit value can miss it while its neighbour does not. */
      int up;
      for (up = 0; up <= 1 && !found; up++) {
        int e = e10;
        size_t m = step_digits(digits, k, up, cand, &e);
        if (reads_back(cand, m, e - (int)m + 1, d)) {
          memcpy(digits, cand, m);
          k = m;
          e10 = e;
          found = 1;
        }
      }
    }
  }
  while (k > 1 && digits[k - 1] == '0') k--;

format:
  n = e10 + 1; /* d = 0.DDD * 10^n */
  if ((int)k <= n && n <= 21) {
    memcpy(out + len, digits, k);
    len += k;
    for (i = k; i < (size_t)n; i++) out[len++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(out + len, digits, (size_t)n);
    len += (size_t)n;
    out[len++] = '.';
    memcpy(out + len, digits + n, k - (size_t)n);
    len += k - (size_t)n;
  } else if (-6 < n && n <= 0) {
    out[len++] = '0';
    out[len++] = '.';
    for (i = 0; i < (size_t)(-n); i++) out[len++] = '0';
    memcpy(out + len, digits, k);
    len += k;
  } else {
    int x = n - 1;
    out[len++] = digits[0];
    if (k > 1) {
      out[len++] = '.';
      memcpy(out + len, digits + 1, k - 1);
      len += k - 1;
    }
    out[len++] = 'e';
    out[len++] = x < 0 ? '-' : '+';
    len += put_uint(out + len, (uint64_t)(x < 0 ? -x : x));
  }
  return len;
}

size_t mph_js_integer(char *out, int64_t i) {
  if (i >= -(int64_t)TWO53 && i <= (int64_t)TWO53) {
    if (i < 0) {
      out[0] = '-';
      return 1 + put_uint(out + 1, (uint64_t)(-i));
    }
    return put_uint(out, (uint64_t)i);
  }
  return mph_js_number(out, (double)i);
}
