/* max_step.h - per-element admissible-step bounds of the energies, written
 * once as host and device code (LC_HD; C11 and CUDA C++): the largest
 * alpha > 0 such that an element stays admissible (finite energy) for every
 * step in [0, alpha) along d from x (both the element's N local values).
 *
 * An energy names its bound in the registry by an lc_step_bound value
 * (lc_energy_info.bound), not by a function pointer, so a device backend
 * can evaluate it in a kernel (lc_max_step_elem); the host's registry
 * function (lc_energy_info.max_step) calls the same code, so both give the
 * same numbers (bit for bit on the CPU as before this header existed). */
#ifndef LC_MAX_STEP_H
#define LC_MAX_STEP_H

#include "../ad/lc_ad_base.h"
#include "contact_geom.h"

/* The step bounds an energy may have. */
typedef enum {
  LC_BOUND_NONE = 0, /* any step keeps the element admissible */
  LC_BOUND_FLIP2 = 1,  /* a 2D triangle must not flip (det > 0) */
  LC_BOUND_CCD_PT = 2, /* a point-triangle pair must not touch (additive CCD) */
  LC_BOUND_CCD_EE = 3, /* an edge-edge pair must not touch (additive CCD) */
  LC_BOUND_MARGIN = 4, /* a vertex stays within k[3] of its reference k[0..2] */
  LC_BOUND_PLANE = 5,  /* a vertex stays on the free side of plane (p[2..4], p[5..7]) beyond p[1] */
  LC_BOUND_FF_ORIENT = 6 /* a frame field's Im(beta conj(alpha)) stays > 0 (x = Re a, Im a, Re b, Im b) */
} lc_step_bound;

/* Smallest positive root of a t^2 + b t + c (c > 0), or +inf if none. */
LC_HD double lc_first_positive_root(double a, double b, double c) {
  if (fabs(a) <= 1e-14 * (fabs(b) + fabs(c))) return b < 0.0 ? -c / b : INFINITY;
  const double disc = b * b - 4.0 * a * c;
  if (disc < 0.0) return INFINITY;
  const double q = -0.5 * (b + copysign(sqrt(disc), b));
  double r1 = q / a, r2 = q != 0.0 ? c / q : INFINITY;
  if (r1 > r2) { const double t = r1; r1 = r2; r2 = t; }
  return r1 > 0.0 ? r1 : (r2 > 0.0 ? r2 : INFINITY);
}

/* Flip-free step bound of a 2D triangle (u0, u1, u2) moving along d: the
 * first root of det[u1-u0 + t(d1-d0), u2-u0 + t(d2-d0)], a quadratic in t. */
LC_HD double lc_max_step_flip2(const double *x, const double *d) {
  const double e1x = x[2] - x[0], e1y = x[3] - x[1], e2x = x[4] - x[0], e2y = x[5] - x[1];
  const double f1x = d[2] - d[0], f1y = d[3] - d[1], f2x = d[4] - d[0], f2y = d[5] - d[1];
  const double c = e1x * e2y - e1y * e2x;
  const double b = e1x * f2y + f1x * e2y - e1y * f2x - f1y * e2x;
  const double a = f1x * f2y - f1y * f2x;
  return c > 0.0 ? lc_first_positive_root(a, b, c) : 0.0;
}

/* Orientation bound of a face's frame field x = (Re alpha, Im alpha, Re
 * beta, Im beta) moving along d: the first root of Im(beta conj(alpha)),
 * a quadratic in the step (0 when it is not positive now). */
LC_HD double lc_max_step_ff_orient(const double *x, const double *d) {
  const double c = x[3] * x[0] - x[2] * x[1];
  const double b = d[3] * x[0] + x[3] * d[0] - d[2] * x[1] - x[2] * d[1];
  const double a = d[3] * d[0] - d[2] * d[1];
  return c > 0.0 ? lc_first_positive_root(a, b, c) : 0.0;
}

/* Largest alpha >= 0 with |x - ref + alpha d| <= r (x, ref, d: 3 values;
 * +inf without motion, 0 when x is already beyond r). */
LC_HD double lc_max_step_margin(const double *x, const double *d, const double *ref, double r) {
  double e[3], ed = 0.0, ee = 0.0, dd = 0.0;
  for (int c = 0; c < 3; ++c) {
    e[c] = x[c] - ref[c];
    ed += e[c] * d[c];
    ee += e[c] * e[c];
    dd += d[c] * d[c];
  }
  if (!(dd > 0.0)) return INFINITY;
  if (!(ee < r * r)) return 0.0;
  return (-ed + sqrt(ed * ed + dd * (r * r - ee))) / dd;
}

/* The bound of kind `bound` for one element (k: its constants, p: the
 * term's parameters: the contact bounds read the thickness p[1], the
 * margin its reference k[0..2] and radius k[3]).  The
 * contact bounds search steps up to LC_CT_ACCD_TMAX: a pair that does not
 * touch before returns LC_CT_ACCD_TMAX, never +inf, so even gradient
 * descent's growing steps stay within what was checked. */
LC_HD double lc_max_step_elem(int bound, const double *x, const double *d, const double *k,
                              const double *p) {
  switch (bound) {
    case LC_BOUND_FLIP2: return lc_max_step_flip2(x, d);
    case LC_BOUND_CCD_PT: return lc_ct_accd(0, x, d, p[1], LC_CT_ACCD_TMAX);
    case LC_BOUND_CCD_EE: return lc_ct_accd(1, x, d, p[1], LC_CT_ACCD_TMAX);
    case LC_BOUND_MARGIN: return lc_max_step_margin(x, d, k, k[3]);
    case LC_BOUND_PLANE: return lc_ct_plane_step(x, d, p + 2, p + 5, p[1], LC_CT_ACCD_TMAX);
    case LC_BOUND_FF_ORIENT: return lc_max_step_ff_orient(x, d);
    default: return INFINITY;
  }
}

#endif
