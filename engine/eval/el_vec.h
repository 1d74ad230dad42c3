/* el_vec.h - per-entity steps of the vector operations that solvers run on
 * a backend: sphere-manifold tangent projection and retraction.  Host and
 * device code (LC_HD), so the CPU loop (engine/cpu/cpu_vec.c), the CUDA
 * kernels (engine/cuda) and the host solver (engine/solvers/solve.c) run the
 * same arithmetic. */
#ifndef LC_EL_VEC_H
#define LC_EL_VEC_H

#include "ad/lc_ad_base.h"

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
