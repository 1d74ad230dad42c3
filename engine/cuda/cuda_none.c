/* cuda_none.c - the CUDA entry points of a build without the CUDA backend:
 * no devices, no ops.  Asking for "cuda:N" then fails in
 * lc_device_resolve with a message saying so. */
#include <stddef.h>

#include "backend.h"
#include "cuda/cuda_api.h"

/* No CUDA devices in this build. */
int lc_cuda_device_count(lc_error *why) {
  if (why) lc_error_set(why, LC_ENOTSUP, "built without CUDA");
  return 0;
}

/* There is no device to describe. */
int lc_cuda_device_info(int ordinal, lc_device_info *out, lc_error *err) {
  (void)out;
  return lc_error_set(err, LC_ENOTSUP, "cuda:%d: built without CUDA", ordinal);
}

/* 0: no CUDA backend. */
int lc_device_have_cuda(void) { return 0; }

/* No CUDA ops. */
const lc_backend_ops *lc_backend_cuda_ops(void) { return NULL; }
