/* Splitting "k=v&k=v" into pairs, as queries and fragments are written. */
#ifndef MPH_QUERY_H
#define MPH_QUERY_H

#include <stddef.h>

typedef struct mph_pair {
  const char *key, *value;  /* raw (still escaped) spans */
  size_t key_len, value_len;
  const char *raw;          /* the whole pair */
  size_t raw_len;
  int has_eq;               /* the pair had an '=' */
} mph_pair;

typedef struct mph_pairs {
  const char *s;
  size_t n, pos;
} mph_pairs;

void mph_pairs_init(mph_pairs *it, const char *s, size_t n);
/* Next non-empty pair: 1 and *p filled, or 0 at the end. */
int mph_pairs_next(mph_pairs *it, mph_pair *p);

#endif
