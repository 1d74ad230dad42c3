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
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  double xv[12];
  for (int i = 0; i < 12; ++i) xv[i] = s_v(x[i]);
  const lc_ct_dist t = lc_ct_classify_ee(xv);
  const double sh = lc_ct_shat(p[0], p[1]), m2 = p[1] * p[1];
  if (lc_ct_d2(t, xv) - m2 >= sh) return s_c(0.0); /* inactive: no derivatives to form */
  V3 q[4];
  for (int a = 0; a < 4; ++a) q[a] = v3_make(x[3 * a], x[3 * a + 1], x[3 * a + 2]);
  S d2;
  if (t.type == LC_CT_PP) d2 = v3_sqnorm(v3_sub(q[t.i], q[t.j]));
  else if (t.type == LC_CT_PE) d2 = v3_d2_line(q[t.i], q[t.j], q[t.k]);
  else d2 = v3_d2_lines(q[0], q[1], q[2], q[3]);
  const S s = s_subc(d2, m2);
  double b1, b2;
  const double b = lc_ct_barrier(s_v(s), sh, &b1, &b2);
  if (!(b < INFINITY)) return s_c(INFINITY);
  S e = s_mulc(s_unary(&s, b, b1, b2), k[0]);
  const S c = v3_sqnorm(v3_cross(v3_sub(q[1], q[0]), v3_sub(q[3], q[2])));
  if (!(s_v(c) < k[1])) return e;
  const S y = s_mulc(c, 1.0 / k[1]);
  return s_mul(e, s_mul(s_csub(2.0, y), y));
}
