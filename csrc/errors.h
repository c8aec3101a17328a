/* Result codes: one list, from which come the codecs' mph_status, the code
   strings of mphybrid.core's errors and core.codes (which errors.codes of
   the Lua layer reads), so that none of them can drift from the others. */
#ifndef MPH_ERRORS_H
#define MPH_ERRORS_H

/* X(name, returned, meaning): returned is 1 for the codes mphybrid.core
   returns as nil, "ECODE: message", "ECODE" (listed in core.codes with
   their meaning); ENOMEM is raised instead. */
#define MPH_STATUS_LIST(X)                                       \
  X(OK, 0, "no error")                                           \
  X(ENOMEM, 0, "allocation failed")                              \
  X(EUTF8, 1, "a string is not valid UTF-8")                     \
  X(EESCAPE, 1, "a malformed or truncated percent escape")       \
  X(EJSON, 1, "JSON syntax error")                               \
  X(EDEPTH, 1, "nesting deeper than the limit")                  \
  X(ESIZE, 1, "input larger than the limit")                     \
  X(EVALUE, 1, "a value that JSON cannot carry")                 \
  X(ECMD, 1, "a command or request id of the wrong shape")       \
  X(EURL, 1, "an empty web-view src")

typedef enum {
#define MPH_STATUS_ENUM(name, returned, meaning) MPH_##name,
  MPH_STATUS_LIST(MPH_STATUS_ENUM)
#undef MPH_STATUS_ENUM
} mph_status;

#endif
