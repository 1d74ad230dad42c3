/* lc_error.h - locad status codes and error details.
 *
 * Every fallible function returns an int: LC_OK (0) or a negative LC_E*
 * code; lc_strerror() names a code.  Functions that can say more take an
 * optional lc_error* out-parameter (NULL allowed) that receives the code and
 * a message naming what was wrong (row, element, field). */
#ifndef LC_ERROR_H
#define LC_ERROR_H

#include <stddef.h>

#if defined(__cplusplus)
extern "C" {
#endif

enum {
  LC_OK = 0,
  LC_EINVAL = -1,   /* an argument is invalid */
  LC_ENOMEM = -2,   /* out of memory */
  LC_ERANGE = -3,   /* an index or size is out of range */
  LC_EPARSE = -4,   /* malformed text input (OBJ, ...) */
  LC_EMESH = -5,    /* the mesh violates a requirement (manifold, ...) */
  LC_ENOTFOUND = -6,/* no such object, energy, parameter */
  LC_ENUMERIC = -7, /* a numerical failure (non-finite, singular) */
  LC_ESTATE = -8,   /* the call is not valid in the current state */
  LC_EIO = -9,      /* reading or writing a file failed */
  LC_ENOTSUP = -10, /* not supported by this build or backend */
  LC_EBUSY = -11,   /* resource busy or queue full */
  LC_ECANCELED = -12/* the operation was cancelled */
};

/* Details of a failure: the code and a message for humans. */
typedef struct lc_error {
  int code;
  char msg[256];
} lc_error;

/* Returns a static, human-readable name for a status code. */
const char *lc_strerror(int code);

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int lc_error_set(lc_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#if defined(__cplusplus)
}
#endif

#endif
