/* e_gravity.h - potential energy of a lumped vertex mass in a uniform field
 * (no include guard: instantiated once per AD mode by instances.h).
 *
 *   E = -m g.x
 * element: vertex (K = 1), D = 3; constants k[0] = m (lumped mass);
 * parameters p[0..2] = g (gx, gy, gz); p[3] = density is used by the setup. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  S gx = s_mulc(x[0], p[0]);
  for (int c = 1; c < 3; ++c) gx = s_add(gx, s_mulc(x[c], p[c]));
  return s_mulc(gx, -k[0]);
}
