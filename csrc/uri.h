/* JavaScript's encodeURIComponent and decodeURIComponent over UTF-8 bytes. */
#ifndef MPH_URI_H
#define MPH_URI_H

#include <stddef.h>
#include "buf.h"
#include "errors.h"

/* Appends encodeURIComponent(s) to out. MPH_EUTF8 (with *err_at) when s is
   not valid UTF-8, MPH_ENOMEM when out cannot grow. */
mph_status mph_uri_encode(mph_buf *out, const char *s, size_t n, size_t *err_at);

/* Appends decodeURIComponent(s) to out; with plus_as_space, '+' reads as a
   space. MPH_EESCAPE for a malformed escape, MPH_EUTF8 for raw bytes that are
   not UTF-8; *err_at is the byte offset. */
mph_status mph_uri_decode(mph_buf *out, const char *s, size_t n,
                          int plus_as_space, size_t *err_at);

#endif
