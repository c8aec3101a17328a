#include "query.h"

#include <string.h>

void mph_pairs_init(mph_pairs *it, const char *s, size_t n) {
  it->s = s;
  it->n = n;
  it->pos = 0;
}

int mph_pairs_next(mph_pairs *it, mph_pair *p) {
  while (it->pos < it->n) {
    const char *start = it->s + it->pos;
    size_t left = it->n - it->pos;
    const char *amp = (const char *)memchr(start, '&', left);
    size_t len = amp ? (size_t)(amp - start) : left;
    const char *eq;
    it->pos += len + (amp ? 1 : 0);
    if (len == 0) continue; /* empty pair */
    p->raw = start;
    p->raw_len = len;
    p->key = start;
    eq = (const char *)memchr(start, '=', len);
    if (eq) {
      p->has_eq = 1;
      p->key_len = (size_t)(eq - start);
      p->value = eq + 1;
      p->value_len = len - p->key_len - 1;
    } else {
      p->has_eq = 0;
      p->key_len = len;
      p->value = start + len;
      p->value_len = 0;
    }
    return 1;
  }
  return 0;
}
