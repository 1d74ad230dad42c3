/* cpu_vec.c - vector operations of the CPU backend (the backend ops of
 * backend.h).
 * Reductions sum fixed chunks of 4096 entries in parallel and then the chunk
 * sums in order, so results do not depend on the number of threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "cpu/cpu_impl.h"
#include "eval/el_vec.h"
#include "problem.h"

#define CHUNK 4096
#define MAX_STACK_CHUNKS 4096

/* Sum of f over fixed chunks, added in chunk order. */
static double chunked_dot(int64_t n, const double *x, const double *y) {
  const int64_t nc = (n + CHUNK - 1) / CHUNK;
  double stack[MAX_STACK_CHUNKS], *part = nc <= MAX_STACK_CHUNKS ? stack : malloc((size_t)nc * sizeof *part);
  if (!part) { /* out of memory: serial sum */
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
    return s;
  }
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n > 8 * CHUNK)
  for (int64_t c = 0; c < nc; ++c) {
    double s = 0.0;
    const int64_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
    for (int64_t i = c * CHUNK; i < end; ++i) s += x[i] * y[i];
    part[c] = s;
  }
  double s = 0.0;
  for (int64_t c = 0; c < nc; ++c) s += part[c];
  if (part != stack) free(part);
  return s;
}

/* max |x_i| (order-independent). */
static double cpu_nrm_inf(int64_t n, const double *x) {
  double m = 0.0;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) reduction(max : m) if (n > 8 * CHUNK)
  for (int64_t i = 0; i < n; ++i) m = fmax(m, fabs(x[i]));
  return m;
}

/* y += a x */
static void cpu_axpy(int64_t n, double a, const double *x, double *y) {
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n > 8 * CHUNK)
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

/* y = a x + b y */
static void cpu_axpby(int64_t n, double a, const double *x, double b, double *y) {
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n > 8 * CHUNK)
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i] + b * y[i];
}

/* y = x */
static void cpu_copy(int64_t n, const double *x, double *y) { memcpy(y, x, (size_t)n * sizeof *y); }

/* x *= a */
static void cpu_scale(int64_t n, double a, double *x) {
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n > 8 * CHUNK)
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}


/* ---- the same operations as backend ops (backend.h): host memory, scalar
 * results written through a pointer ----------------------------------- */

/* *out = x . y */
int lc_cpu_dot(lc_backend *b, int64_t n, const double *x, const double *y, double *out) {
  (void)b;
  *out = chunked_dot(n, x, y);
  return LC_OK;
}

/* *out = max |x_i| */
int lc_cpu_nrm_inf(lc_backend *b, int64_t n, const double *x, double *out) {
  (void)b;
  *out = cpu_nrm_inf(n, x);
  return LC_OK;
}

/* y += a x */
int lc_cpu_axpy(lc_backend *b, int64_t n, double a, const double *x, double *y) {
  (void)b;
  cpu_axpy(n, a, x, y);
  return LC_OK;
}

/* y = a x + c y */
int lc_cpu_axpby(lc_backend *b, int64_t n, double a, const double *x, double c, double *y) {
  (void)b;
  cpu_axpby(n, a, x, c, y);
  return LC_OK;
}

/* y = x */
int lc_cpu_copy(lc_backend *b, int64_t n, const double *x, double *y) {
  (void)b;
  cpu_copy(n, x, y);
  return LC_OK;
}

/* x *= a */
int lc_cpu_scale(lc_backend *b, int64_t n, double a, double *x) {
  (void)b;
  cpu_scale(n, a, x);
  return LC_OK;
}

/* x_i = 0 at the problem's fixed DOFs. */
int lc_cpu_zero_fixed(lc_backend *b, lc_problem *p, double *x) {
  (void)b;
  const uint8_t *f = lc_problem_fixed(p);
  const int64_t n = lc_problem_n_dofs(p);
  for (int64_t i = 0; i < n; ++i)
    if (f[i]) x[i] = 0.0;
  return LC_OK;
}

/* Tangent projection of d at x for n sphere entities from DOF off. */
int lc_cpu_sphere_tangent(lc_backend *b, int64_t off, int32_t n, const double *x, double *d) {
  (void)b;
  for (int32_t i = 0; i < n; ++i) lc_sphere_tangent_one(x + off + 3 * (int64_t)i, d + off + 3 * (int64_t)i);
  return LC_OK;
}

/* Retraction of n sphere entities of x from DOF off. */
int lc_cpu_sphere_retract(lc_backend *b, int64_t off, int32_t n, double *x) {
  (void)b;
  for (int32_t i = 0; i < n; ++i) lc_sphere_retract_one(x + off + 3 * (int64_t)i);
  return LC_OK;
}
