/* e_inertia.h - lumped inertia of a vertex (no include guard: instantiated
 * once per AD mode by instances.h).
 *
 *   E = 1/2 m |x - xt|^2
 * element: vertex (K = 1) of a variable of dimension LC_EDIM; constants
 * k[0] = m (lumped mass), k[1..D] = xt (predicted position, default the rest
 * position); no parameters used here (density enters the setup only). */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)p;
  S d2 = s_sq(s_subc(x[0], k[1]));
  for (int c = 1; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_subc(x[c], k[1 + c])));
  return s_mulc(d2, 0.5 * k[0]);
}
