/* Hexadecimal digits both ways, for percent escapes (uppercase, as
   encodeURIComponent writes them), JSON's \u00xx (lowercase, as
   JSON.stringify writes them) and \uXXXX (either case). */
#ifndef MPH_HEX_H
#define MPH_HEX_H

extern const char mph_hex_upper[16]; /* "0123456789ABCDEF" */
extern const char mph_hex_lower[16]; /* "0123456789abcdef" */

/* The value + 1 of a hex digit byte (either case), 0 for any other byte. */
extern const unsigned char mph_hex_value[256];

#endif
