/* e_friction_pair.h - lagged friction of a contact pair (no include guard:
 * instantiated once per AD mode by instances.h).
 *
 *   v = sum_a w_a x_a - c,  s = |v|^2 - (n.v)^2 (squared tangential part),
 *   E = mu_lambda f0(sqrt(s); eps)  (lc_ct_friction_f0, contact_geom.h)
 * with the closest-point weights w, the unit contact normal n and c = sum_a
 * w_a x_a all taken at the start of the time step (lagged: contact/friction.c),
 * so v - c is the relative displacement of the closest points over the step
 * and the gradient is the smooth Coulomb force mu lambda f1(|u|) u / |u| of
 * the tangential part u (IPC, Li et al. 2020).  Convex in x: f0 is convex and
 * increasing and |u| is a norm of a linear map of x.
 * element: explicit list (K = 4: the pair's points), D = 3; constants k[0..3]
 * = w, k[4..6] = n, k[7..9] = c, k[10] = mu lambda; parameter p[0] = eps
 * (the sliding displacement below which friction ramps, eps_v h). */
#include "contact_geom.h"

LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  const double *w = k, *n = k + 4, *c = k + 7;
  const S v0 = s_subc(s_add(s_add(s_mulc(x[0], w[0]), s_mulc(x[3], w[1])), s_add(s_mulc(x[6], w[2]), s_mulc(x[9], w[3]))), c[0]);
  const S v1 = s_subc(s_add(s_add(s_mulc(x[1], w[0]), s_mulc(x[4], w[1])), s_add(s_mulc(x[7], w[2]), s_mulc(x[10], w[3]))), c[1]);
  const S v2 = s_subc(s_add(s_add(s_mulc(x[2], w[0]), s_mulc(x[5], w[1])), s_add(s_mulc(x[8], w[2]), s_mulc(x[11], w[3]))), c[2]);
  const S vn = s_add(s_add(s_mulc(v0, n[0]), s_mulc(v1, n[1])), s_mulc(v2, n[2]));
  const S s = s_sub(s_add(s_add(s_sq(v0), s_sq(v1)), s_sq(v2)), s_sq(vn));
  double g1, g2;
  const double g = lc_ct_friction_f0(s_v(s), p[0], &g1, &g2);
  return s_mulc(s_unary(&s, g, g1, g2), k[10]);
}
