/* The order in which JavaScript enumerates an object's own string keys:
   the keys that are array indices ("0", "17"; not "01", "-1",
   "4294967295") first, in numeric order, then the others. Here the others
   are sorted bytewise, so that equal tables give equal text. */
#ifndef MPH_JSKEYS_H
#define MPH_JSKEYS_H

#include <stddef.h>
#include <stdint.h>

#define MPH_NOT_INDEX UINT64_MAX

typedef struct mph_key {
  const char *s;
  size_t len;
  uint64_t index; /* the array index the key spells, or MPH_NOT_INDEX */
  int slot;       /* the caller's: where the key is kept */
} mph_key;

/* The array index s[0..n) spells, or MPH_NOT_INDEX (inline: encode_json
   asks it of every key). */
static inline uint64_t mph_key_index(const char *s, size_t n) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 10 || (n > 1 && s[0] == '0')) return MPH_NOT_INDEX;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return MPH_NOT_INDEX;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  return v <= 4294967294ULL ? v : MPH_NOT_INDEX;
}

/* Sorts keys: by index, then bytewise. Keys whose index is MPH_NOT_INDEX
   are sorted bytewise only. */
void mph_keys_sort(mph_key *keys, size_t n);

#endif
