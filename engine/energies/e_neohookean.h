/* e_neohookean.h - compressible neo-Hookean membrane on a triangle in 3D (no
 * include guard: instantiated once per AD mode by instances.h).
 *
 *   F = [x1 - x0, x2 - x0] Mr^-1 (3x2), C = F^T F, I1 = tr C, J = sqrt(det C),
 *   W = A (mu/2 (I1 - 2) - mu log J + lambda/2 (log J)^2)
 * element: face (K = 3), D = 3; constants k[0..3] = Mr^-1 (row-major),
 * k[4] = A; parameters p[0] = mu, p[1] = lambda.  +inf when det C = 0. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  V3 f0, f1;
  tri3_deformation(x, k, &f0, &f1);
  S c00 = v3_sqnorm(f0), c11 = v3_sqnorm(f1), c01 = v3_dot(f0, f1);
  S det = s_sub(s_mul(c00, c11), s_sq(c01));
  if (!(s_v(det) > 0.0)) return s_c(INFINITY);
  S logj = s_mulc(s_log(det), 0.5);
  S w = s_mulc(s_subc(s_add(c00, c11), 2.0), 0.5 * p[0]);
  w = s_sub(w, s_mulc(logj, p[0]));
  w = s_add(w, s_mulc(s_sq(logj), 0.5 * p[1]));
  return s_mulc(w, k[4]);
}
