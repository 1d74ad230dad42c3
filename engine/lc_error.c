/* lc_error.c - status code names and error-detail formatting. */
#include "lc_error.h"

#include <stdarg.h>
#include <stdio.h>

/* Returns a static, human-readable name for a status code. */
const char *lc_strerror(int code) {
  switch (code) {
    case LC_OK: return "ok";
    case LC_EINVAL: return "invalid argument";
    case LC_ENOMEM: return "out of memory";
    case LC_ERANGE: return "index or size out of range";
    case LC_EPARSE: return "malformed input";
    case LC_EMESH: return "invalid mesh";
    case LC_ENOTFOUND: return "not found";
    case LC_ENUMERIC: return "numerical failure";
    case LC_ESTATE: return "invalid state";
    case LC_EIO: return "i/o error";
    case LC_ENOTSUP: return "not supported";
    case LC_EBUSY: return "busy";
    case LC_ECANCELED: return "cancelled";
    default: return "unknown error";
  }
}

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int lc_error_set(lc_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}
