/* Result codes shared by the codecs; mphybrid.c maps them to "ECODE: ..." */
#ifndef MPH_ERRORS_H
#define MPH_ERRORS_H

typedef enum {
  MPH_OK = 0,
  MPH_ENOMEM,   /* allocation failed */
  MPH_EUTF8,    /* not valid UTF-8 */
  MPH_EESCAPE,  /* malformed % escape */
  MPH_EJSON,    /* JSON syntax */
  MPH_EDEPTH,   /* nesting too deep */
  MPH_ESIZE,    /* input or output too large */
  MPH_EVALUE,   /* value JSON cannot carry */
  MPH_ECMD,     /* command of the wrong shape */
  MPH_EURL      /* empty web-view src */
} mph_status;

#endif
