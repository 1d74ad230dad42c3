/* e_contact_ee.h - edge-edge contact barrier with the parallel-edge
 * mollifier (no include guard: instantiated once per AD mode by
 * instances.h).
 *
 *   s = d^2 - dmin^2,  sh = (2 dmin + dhat) dhat,  E = w m(c) b(s; sh),
 *   c = |(ea1 - ea0) x (eb1 - eb0)|^2,  m(c) = (2 - c/eps) c/eps for c < eps,
 *   else 1,
 * b as in e_contact_pt.h; d^2 of the closest-feature type (point-point,
 * point-line or line-line: lc_ct_classify_ee, contact_geom.h).  The
 * mollifier makes E vanish smoothly as the edges become parallel, where the
 * line-line distance degenerates.
 * element: explicit list (K = 4: ea0, ea1, eb0, eb1), D = 3; constants
 * k[0] = w (pair weight), k[1] = eps = 1e-3 |ea1 - ea0|^2 |eb1 - eb0|^2 of
 * the rest positions; parameters p[0] = dhat, p[1] = dmin. */
#include "contact_jet.h"

LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  double xv[12], xd[12], G[12], U[12], Hp[78];
  for (int i = 0; i < 12; ++i) {
    xv[i] = s_v(x[i]);
    xd[i] = s_dir(x[i]);
  }
  const lc_ct_dist t = lc_ct_classify_ee(xv);
  const double sh = lc_ct_shat(p[0], p[1]), m2 = p[1] * p[1];
  if (lc_ct_d2(t, xv) - m2 >= sh) return s_c(0.0); /* inactive: no derivatives to form */
  const double d2 = lc_ct_d2_jet(t, xv, xd, s_mode(), G, U, Hp);
  const S s = s_subc(s_jet(x, 12, d2, G, U, Hp), m2);
  double b1, b2;
  const double b = lc_ct_barrier(s_v(s), sh, &b1, &b2);
  if (!(b < INFINITY)) return s_c(INFINITY);
  S e = s_mulc(s_unary(&s, b, b1, b2), k[0]);
  const V3 ua = v3_sub(v3_make(x[3], x[4], x[5]), v3_make(x[0], x[1], x[2]));
  const V3 ub = v3_sub(v3_make(x[9], x[10], x[11]), v3_make(x[6], x[7], x[8]));
  const S c = v3_sqnorm(v3_cross(ua, ub));
  if (!(s_v(c) < k[1])) return e;
  const S y = s_mulc(c, 1.0 / k[1]);
  return s_mul(e, s_mul(s_csub(2.0, y), y));
}
