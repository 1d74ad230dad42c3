/* e_stvk.h - St. Venant-Kirchhoff membrane on a triangle in 3D (no include
 * guard: instantiated once per AD mode by instances.h).  Workload W2.
 *
 *   Ds = [x1 - x0, x2 - x0] (3x2), F = Ds Mr^-1, E = 1/2 (F^T F - I2),
 *   W  = A (mu |E|_F^2 + lambda/2 tr(E)^2)
 * element: face (K = 3), D = 3; constants k[0..3] = Mr^-1 (row-major),
 * k[4] = A (rest area); parameters p[0] = mu, p[1] = lambda. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  V3 f0, f1;
  tri3_deformation(x, k, &f0, &f1);
  S e00 = s_mulc(s_subc(v3_sqnorm(f0), 1.0), 0.5);
  S e11 = s_mulc(s_subc(v3_sqnorm(f1), 1.0), 0.5);
  S e01 = s_mulc(v3_dot(f0, f1), 0.5);
  S fro = s_add(s_add(s_sq(e00), s_sq(e11)), s_mulc(s_sq(e01), 2.0));
  S tr = s_add(e00, e11);
  return s_mulc(s_add(s_mulc(fro, p[0]), s_mulc(s_sq(tr), 0.5 * p[1])), k[4]);
}
