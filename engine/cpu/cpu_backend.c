/* cpu_backend.c - the CPU backend's ops table (backend.h): memory is plain
 * host memory, upload and download are copies, the problem's own arrays are
 * the resident copy, reads of scalars are free (and still counted); the
 * context holds the element Hessian cache. */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_impl.h"

/* Creates the per-problem context (the element Hessian cache, empty). */
static int cpu_init(lc_backend *b, lc_error *err) {
  b->ctx = calloc(1, sizeof(lc_cpu_ctx));
  if (!b->ctx) return lc_error_set(err, LC_ENOMEM, "cpu: out of memory for the backend context");
  return LC_OK;
}

/* Frees the context and its cache. */
static void cpu_fini(lc_backend *b) {
  lc_cpu_cache_free(b);
  lc_cpu_lin_free(b);
  free(b->ctx);
  b->ctx = NULL;
}

/* malloc, with an error naming the size. */
static int cpu_alloc(lc_backend *b, size_t bytes, void **ptr, lc_error *err) {
  (void)b;
  *ptr = malloc(bytes ? bytes : 1);
  if (!*ptr) return lc_error_set(err, LC_ENOMEM, "cpu: out of memory allocating %zu bytes", bytes);
  return LC_OK;
}

/* free */
static void cpu_free(lc_backend *b, void *ptr) {
  (void)b;
  free(ptr);
}

/* Host-to-host copy. */
static int cpu_copy_bytes(lc_backend *b, void *dst, const void *src, size_t bytes, lc_error *err) {
  (void)b; (void)err;
  if (bytes) memmove(dst, src, bytes);
  return LC_OK;
}

/* Reads scalars: a copy. */
static int cpu_read_scalars(lc_backend *b, double *host, const double *src, int n, lc_error *err) {
  return cpu_copy_bytes(b, host, src, (size_t)n * sizeof *host, err);
}

static const lc_backend_ops cpu_ops = {
    "cpu",           cpu_init,         cpu_fini,           cpu_alloc,       cpu_free,
    cpu_copy_bytes,  cpu_copy_bytes,   lc_cpu_sync,        lc_cpu_eval,     lc_cpu_hess_values,
    lc_cpu_jac_values, lc_cpu_dot,     lc_cpu_nrm_inf,     lc_cpu_axpy,     lc_cpu_axpby,
    lc_cpu_copy,     lc_cpu_scale,     lc_cpu_zero_fixed,  lc_cpu_sphere_tangent,
    lc_cpu_sphere_retract, cpu_read_scalars,
    /* solver programs */
    lc_cpu_vaxpy,    lc_cpu_vdot,      lc_cpu_step,        lc_cpu_loop,     lc_cpu_branch,
    lc_cpu_run,      lc_cpu_notify,    cpu_alloc,          cpu_free,        lc_cpu_max_step,
    lc_cpu_lin_prepare, lc_cpu_lin_solve, cpu_copy_bytes};

/* The CPU backend's ops. */
const lc_backend_ops *lc_backend_cpu_ops(void) { return &cpu_ops; }
