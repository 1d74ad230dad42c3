/* e_symdir.h - symmetric Dirichlet energy of a UV triangle (no include guard:
 * instantiated once per AD mode by instances.h).  Workload W1.
 *
 *   M = [u1 - u0, u2 - u0], J = M Mr^-1,
 *   E = A (|J|_F^2 + |J^-1|_F^2) = A |J|_F^2 (1 + 1/det(J)^2)   if det M > 0,
 *   E = +inf otherwise (flipped or collapsed triangle).
 * element: face (K = 3), D = 2; constants k[0..3] = Mr^-1 (row-major) of the
 * 3D rest triangle, k[4] = A; no parameters.  Minimum 4A at rigid motions. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)p;
  M2 m = tri2_edges(x);
  S detm = m2_det(m);
  if (!(s_v(detm) > 0.0)) return s_c(INFINITY);
  S detj = s_mulc(detm, k[0] * k[3] - k[1] * k[2]);
  S fro = m2_sqfro(m2_mulc(m, k));
  return s_mulc(s_mul(fro, s_addc(s_recip(s_sq(detj)), 1.0)), k[4]);
}
