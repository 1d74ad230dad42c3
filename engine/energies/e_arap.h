/* e_arap.h - as-rigid-as-possible energy of a triangle, 2D (UV) or 3D (no
 * include guard: instantiated once per AD mode by instances.h).
 *
 *   D = 2: J = [u1 - u0, u2 - u0] Mr^-1, E = A |J - R(J)|_F^2 with R(J) the
 *          closest rotation: E = A (|J|_F^2 + 2 - 2 sqrt((J00+J11)^2 + (J10-J01)^2)).
 *   D = 3: F = [x1 - x0, x2 - x0] Mr^-1 (3x2), E = A |F - R|_F^2 with R the
 *          closest 3x2 matrix with orthonormal columns; sigma1 + sigma2 =
 *          sqrt(I1 + 2 sqrt(det F^T F)), so E = A (I1 + 2 - 2 sqrt(I1 + 2 sqrt(det C))).
 * element: face (K = 3); constants k[0..3] = Mr^-1 (row-major), k[4] = A; no
 * parameters.  Smooth except where sigma1 + sigma2 (2D: the polar norm) or
 * det C (3D) vanishes. */
#if LC_EDIM == 2
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)p;
  M2 m = tri2_edges(x);
  M2 j = m2_mulc(m, k);
  S c = s_add(j.m[0][0], j.m[1][1]), s = s_sub(j.m[1][0], j.m[0][1]);
  S e = s_sub(s_addc(m2_sqfro(j), 2.0), s_mulc(s_hypot(c, s), 2.0));
  return s_mulc(e, k[4]);
}
#else
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)p;
  V3 f0, f1;
  tri3_deformation(x, k, &f0, &f1);
  S c00 = v3_sqnorm(f0), c11 = v3_sqnorm(f1), c01 = v3_dot(f0, f1);
  S i1 = s_add(c00, c11);
  S j = s_sqrt(s_sub(s_mul(c00, c11), s_sq(c01)));
  S sig = s_sqrt(s_add(i1, s_mulc(j, 2.0)));
  return s_mulc(s_sub(s_addc(i1, 2.0), s_mulc(sig, 2.0)), k[4]);
}
#endif
