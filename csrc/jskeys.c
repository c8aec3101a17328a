#include "jskeys.h"

#include <stdlib.h>
#include <string.h>

static int cmp_keys(const void *pa, const void *pb) {
  const mph_key *a = (const mph_key *)pa, *b = (const mph_key *)pb;
  size_t m;
  int c;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  m = a->len < b->len ? a->len : b->len;
  if (m && a->s[0] != b->s[0]) /* most keys differ at once: no memcmp call */
    return (unsigned char)a->s[0] < (unsigned char)b->s[0] ? -1 : 1;
  c = memcmp(a->s, b->s, m);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

void mph_keys_sort(mph_key *keys, size_t n) {
  size_t i, j;
  if (n > 12) {
    qsort(keys, n, sizeof(mph_key), cmp_keys);
    return;
  }
  for (i = 1; i < n; i++) { /* few keys: insertion sort */
    mph_key t = keys[i];
    for (j = i; j > 0 && cmp_keys(&keys[j - 1], &t) > 0; j--) keys[j] = keys[j - 1];
    keys[j] = t;
  }
}
