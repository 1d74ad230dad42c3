/* kernels.h - host element kernels: every energy instance behind one uniform
 * C interface, for the CPU backend and for tests.
 *
 * All arrays are caller-owned.  x holds the N local variables of one element
 * (entity-major: entity 0's D components, then entity 1's, ...), k its
 * constants and p the term parameters.  Each function returns the element
 * energy (without the term weight); +inf marks an inadmissible element (a
 * flipped triangle), after which g, H, hv are unspecified.  For residual
 * energies the energy is 1/2 |r|^2. */
#ifndef LC_ENERGY_KERNELS_H
#define LC_ENERGY_KERNELS_H

#include "registry.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_elem_kernel {
  /* energy only */
  double (*value)(const double *x, const double *k, const double *p);
  /* energy and gradient g[N] */
  double (*grad)(const double *x, const double *k, const double *p, double *g);
  /* energy, gradient g[N] and hv[N] = H v for the direction v[N] */
  double (*hvp)(const double *x, const double *v, const double *k, const double *p, double *g,
                double *hv);
  /* energy, gradient g[N] and the full row-major Hessian H[N*N] */
  double (*hess)(const double *x, const double *k, const double *p, double *g, double *H);
  /* residual r[m] and its row-major Jacobian J[m*N]; NULL for plain energies */
  void (*resid)(const double *x, const double *k, const double *p, double *r, double *J);
} lc_elem_kernel;

/* The host kernels of energy id (0 <= id < LC_E_COUNT). */
const lc_elem_kernel *lc_cpu_kernel(int id);

#if defined(__cplusplus)
}
#endif

#endif
