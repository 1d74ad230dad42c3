/* el_vec.h - per-entry and per-entity steps of the vector operations that
 * solvers run on a backend: operand references (a vector chosen by an
 * index in backend memory, a scalar read from backend memory), the fused
 * z = a x + y, and the sphere-manifold tangent projection and retraction.
 * Host and
 * device code (LC_HD), so the CPU loop (engine/cpu/cpu_vec.c), the CUDA
 * kernels (engine/cuda) and the host solver (engine/solvers/solve.c) run the
 * same arithmetic. */
#ifndef LC_EL_VEC_H
#define LC_EL_VEC_H

#include <stdint.h>

#include "ad/lc_ad_base.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* A vector operand: p + (*idx) * stride (idx NULL: p; p NULL: absent).
 * idx and the vector are backend memory, so a solver program can pick one
 * of several stored vectors (an L-BFGS pair) by an index the device chose. */
typedef struct lc_vref {
  double *p;
  const int32_t *idx;
  int64_t stride;
} lc_vref;

/* A scalar operand: k * (*p) (p NULL: k); p is backend memory. */
typedef struct lc_sref {
  const double *p;
  double k;
} lc_sref;

#if defined(__cplusplus)
}
#endif

/* Plain operand references. */
LC_HD lc_vref lc_v(double *p) {
  lc_vref r = {p, 0, 0};
  return r;
}
LC_HD lc_vref lc_v_at(double *p, const int32_t *idx, int64_t stride) {
  lc_vref r = {p, idx, stride};
  return r;
}
LC_HD lc_sref lc_s(double k) {
  lc_sref r = {0, k};
  return r;
}
LC_HD lc_sref lc_s_at(const double *p, double k) {
  lc_sref r = {p, k};
  return r;
}

/* The vector a reference designates (NULL when absent). */
LC_HD double *lc_vref_ptr(lc_vref v) {
  return v.p ? v.p + (v.idx ? (int64_t)*v.idx * v.stride : 0) : v.p;
}

/* The value of a scalar reference. */
LC_HD double lc_sref_val(lc_sref a) { return a.p ? a.k * *a.p : a.k; }

/* Entry i of z = a x + y (x absent: y; y absent: a x; both: 0). */
LC_HD double lc_vaxpy_one(double a, const double *x, const double *y, int64_t i) {
  if (x && y) return y[i] + a * x[i];
  if (x) return a * x[i];
  return y ? y[i] : 0.0;
}

/* Removes from the 3-vector v its component along the unit 3-vector x. */
LC_HD void lc_sphere_tangent_one(const double *x, double *v) {
  const double r = v[0] * x[0] + v[1] * x[1] + v[2] * x[2];
  for (int c = 0; c < 3; ++c) v[c] -= r * x[c];
}

/* Normalises the 3-vector x (left alone when it is zero). */
LC_HD void lc_sphere_retract_one(double *x) {
  const double r = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  if (r > 0.0)
    for (int c = 0; c < 3; ++c) x[c] /= r;
}

#endif
