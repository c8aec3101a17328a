/* The web-view src: JavaScript's trim and the fragment split of setUrlHash. */
#ifndef MPH_URL_H
#define MPH_URL_H

#include <stddef.h>

/* The span of s[0..n) that String.prototype.trim keeps: s[*start..*end). */
void mph_js_trim(const char *s, size_t n, size_t *start, size_t *end);

/* Offset of the first '#' in s[0..n), or n when there is none. */
size_t mph_url_hash_at(const char *s, size_t n);

#endif
