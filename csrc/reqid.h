/* Request ids: the rule every id and api name keeps, and new ids in the
   published shape: a prefix, 8 characters of [0-9a-z], and
   a base-36 counter tail of 1-2 characters. The 8 characters are a keyed
   permutation of a 40-bit counter, so ids do not repeat within 2^40 calls in
   one process; the key and the counter's start come from getrandom(2) and
   are drawn again in a forked child. */
#ifndef MPH_REQID_H
#define MPH_REQID_H

#include <stddef.h>

#define MPH_REQID_BODY 10  /* 8 characters + a tail of at most 2 */
#define MPH_ID_MAX 128     /* bytes of a request id or an api name */
#define MPH_REQID_PREFIX "H5Req_" /* the published prefix, new_req_id's default */

/* The one rule for request ids and api names: 1 to MPH_ID_MAX bytes of
   UTF-8 (a command's JSON is UTF-8), no control character (C0 or DEL), and
   no space at either end (what JavaScript's trim removes: a command's req
   and api are read trimmed, so an id with spaces around it would be
   answered under another). */
int mph_id_valid(const char *s, size_t n);

/* Writes the part after the prefix into out; returns its length (9 or 10). */
size_t mph_reqid_next(char *out);

#endif
