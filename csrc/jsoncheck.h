/* Strict RFC 8259 validation, run before cJSON parses, for what cJSON lets
   through: trailing text, invalid UTF-8, non-hex or lone-surrogate \u escapes,
   raw control characters, leading zeros, a byte-order mark. It also measures
   the document so that the parse can be sized in advance, and finds the
   strings whose \u0000 cJSON's C strings would cut short, and the
   containers long enough to be converted a piece at a time. */
#ifndef MPH_JSONCHECK_H
#define MPH_JSONCHECK_H

#include <stddef.h>
#include "buf.h"
#include "errors.h"

#define MPH_JSON_MAX_DEPTH 1000    /* cJSON's CJSON_NESTING_LIMIT */
#define MPH_JSON_MAX_NUMBER 63     /* cJSON reads at most 63 number bytes */

typedef struct mph_json_nul {
  size_t ordinal;  /* which string, keys included, in document order */
  size_t length;   /* its decoded length in bytes */
} mph_json_nul;

/* A container whose text is longer than mph_json_check.big_span. */
typedef struct mph_json_big {
  size_t start;    /* byte offset of its '[' or '{' */
  size_t count;    /* its items (array) or members (object) */
} mph_json_big;

typedef struct mph_json_check {
  size_t max_depth;     /* in: deepest nesting allowed */
  mph_buf *nuls;        /* in: receives an mph_json_nul per string with \u0000
                           (NULL: only counted) */
  size_t big_span;      /* in: containers longer than this many bytes ... */
  mph_buf *big;         /* in: ... are listed here, mph_json_big in document
                           order (NULL: not listed) */
  size_t values;        /* out: number of values (cJSON nodes) */
  size_t string_bytes;  /* out: raw bytes of all strings and keys */
  size_t long_numbers;  /* out: number literals longer than cJSON reads */
  size_t nul_strings;   /* out: strings (keys included) with \u0000 */
  size_t err_at;        /* out: byte offset of the error */
  const char *err_msg;  /* out: what is wrong */
} mph_json_check;

/* MPH_OK, MPH_EJSON, MPH_EDEPTH or MPH_ENOMEM (nuls or big could not grow).
   A text of n bytes lists at most n / big_span * max_depth containers. */
mph_status mph_json_check_text(const char *s, size_t n, mph_json_check *c);

/* Appends to nuls an mph_json_nul for every string with \u0000 in checked
   text s[0..n) (a value, or a part of one that holds whole strings), their
   ordinals counted from 0 at s. MPH_ENOMEM when nuls cannot grow. */
mph_status mph_json_find_nuls(const char *s, size_t n, mph_buf *nuls);

/* Copies checked text s into out with every number literal longer than
   MPH_JSON_MAX_NUMBER bytes rewritten as the shortest literal of the same
   double, which cJSON can read. tmp is working space. */
mph_status mph_json_shorten_numbers(const char *s, size_t n, mph_buf *out, mph_buf *tmp);

/* Rewrites, in place, every \u escape of a lone surrogate in s[0..n) as
   \ufffd (as long), so that the rest of a text JSON.parse reads but a strict
   reader refuses can still be read. Returns how many it rewrote. */
size_t mph_json_mask_lone_surrogates(char *s, size_t n);

#endif
