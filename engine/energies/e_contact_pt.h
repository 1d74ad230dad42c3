/* e_contact_pt.h - point-triangle contact barrier (no include guard:
 * instantiated once per AD mode by instances.h).
 *
 *   s = d^2 - dmin^2,  sh = (2 dmin + dhat) dhat,
 *   E = w b(s; sh),  b(s; sh) = -(s - sh)^2 ln(s / sh) for 0 < s < sh,
 *   0 for s >= sh, +inf for s <= 0,
 * d^2 the squared distance of the pair's closest-feature type (point-point,
 * point-line or point-plane: lc_ct_classify_pt, contact_geom.h), chosen on
 * the values and differentiated in the 9 difference components it
 * depends on (contact_jet.h); b is C2 at sh.
 * element: explicit list (K = 4: p, t0, t1, t2), D = 3; constants k[0] = w
 * (pair weight); parameters p[0] = dhat, p[1] = dmin (thickness). */
#include "contact_jet.h"

LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  double xv[12], xd[12], G[12], U[12], Hp[78];
  for (int i = 0; i < 12; ++i) {
    xv[i] = s_v(x[i]);
    xd[i] = s_dir(x[i]);
  }
  const lc_ct_dist t = lc_ct_classify_pt(xv);
  const double sh = lc_ct_shat(p[0], p[1]), m2 = p[1] * p[1];
  if (lc_ct_d2(t, xv) - m2 >= sh) return s_c(0.0); /* inactive: no derivatives to form */
  const double d2 = lc_ct_d2_jet(t, xv, xd, s_mode(), G, U, Hp);
  const S s = s_subc(s_jet(x, 12, d2, G, U, Hp), m2);
  double b1, b2;
  const double b = lc_ct_barrier(s_v(s), sh, &b1, &b2);
  if (!(b < INFINITY)) return s_c(INFINITY);
  return s_mulc(s_unary(&s, b, b1, b2), k[0]);
}
