/* JavaScript's Number::toString(10) for finite doubles (ECMA-262 6.1.6.1.20):
   the shortest digits that read back to the same double, and JavaScript's
   choice between plain and exponential notation. */
#ifndef MPH_JSONNUM_H
#define MPH_JSONNUM_H

#include <stddef.h>
#include <stdint.h>

#define MPH_NUMBER_MAX 32  /* longest output: "-1.2345678901234567e-308" */

/* Writes d (finite) into out; returns the length. */
size_t mph_js_number(char *out, double d);

/* Writes the integer i as JavaScript would write Number(i). */
size_t mph_js_integer(char *out, int64_t i);

#endif
