/* e_contact_plane.h - contact with a plane obstacle (no include guard:
 * instantiated once per AD mode by instances.h).
 *
 *   d = n.(x - o),  s = d^2 - dmin^2,  sh = (2 dmin + dhat) dhat,
 *   E = b(s; sh) (the barrier of e_contact_pt.h) for dmin < d with s < sh,
 *   0 beyond, +inf for d <= dmin (on or behind the plane: one-sided);
 * o a point of the plane, n its unit normal (the free side is n.(x - o) > 0);
 * step bound LC_BOUND_PLANE (max_step.h): exact in d, kept 10% short of dmin.
 * element: vertex (K = 1), D = 3; no constants; parameters p[0] = dhat,
 * p[1] = dmin, p[2..4] = o, p[5..7] = n. */
#include "contact_geom.h"

LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)k;
  const double *o = p + 2, *n = p + 5;
  const double xv[3] = {s_v(x[0]), s_v(x[1]), s_v(x[2])};
  const double dv = lc_ct_plane_dist(xv, o, n);
  const double sh = lc_ct_shat(p[0], p[1]), m2 = p[1] * p[1];
  if (!(dv > p[1])) return s_c(INFINITY);
  if (dv * dv - m2 >= sh) return s_c(0.0); /* inactive */
  const S d = s_add(s_add(s_mulc(s_subc(x[0], o[0]), n[0]), s_mulc(s_subc(x[1], o[1]), n[1])),
                    s_mulc(s_subc(x[2], o[2]), n[2]));
  const S s = s_subc(s_sq(d), m2);
  double b1, b2;
  const double b = lc_ct_barrier(s_v(s), sh, &b1, &b2);
  if (!(b < INFINITY)) return s_c(INFINITY);
  return s_unary(&s, b, b1, b2);
}
