/* e_friction_point.h - lagged friction of a vertex on a static obstacle
 * (a plane; no include guard: instantiated once per AD mode by instances.h).
 *
 *   v = x - c,  s = |v|^2 - (n.v)^2,  E = mu_lambda f0(sqrt(s); eps)
 * as e_friction_pair.h with one point of weight 1: c the vertex's position
 * and n the obstacle's unit normal at the start of the time step.
 * element: vertex (K = 1, given as an explicit list), D = 3; constants
 * k[0..2] = n, k[3..5] = c, k[6] = mu lambda; parameter p[0] = eps. */
#include "contact_geom.h"

LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  const double *n = k, *c = k + 3;
  const S v0 = s_subc(x[0], c[0]), v1 = s_subc(x[1], c[1]), v2 = s_subc(x[2], c[2]);
  const S vn = s_add(s_add(s_mulc(v0, n[0]), s_mulc(v1, n[1])), s_mulc(v2, n[2]));
  const S s = s_sub(s_add(s_add(s_sq(v0), s_sq(v1)), s_sq(v2)), s_sq(vn));
  double g1, g2;
  const double g = lc_ct_friction_f0(s_v(s), p[0], &g1, &g2);
  return s_mulc(s_unary(&s, g, g1, g2), k[6]);
}
