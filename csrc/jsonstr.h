/* JSON.stringify's string form: quotes, the short escapes \" \\ \b \f \n \r \t,
   \u00xx (lowercase hex) for the other control characters, and everything
   else, '/' and non-ASCII included, as it is. */
#ifndef MPH_JSONSTR_H
#define MPH_JSONSTR_H

#include <stddef.h>
#include "buf.h"
#include "errors.h"

/* Appends the quoted form of s to out. MPH_EUTF8 (with *err_at) when s is not
   valid UTF-8, MPH_ENOMEM when out cannot grow. */
mph_status mph_json_string(mph_buf *out, const char *s, size_t n, size_t *err_at);

#endif
