/* e_area.h - triangle area (no include guard: instantiated once per AD mode
 * by instances.h).
 *
 *   D = 2: E = 1/2 (x1 - x0) x (x2 - x0)   (signed; > 0 counter-clockwise)
 *   D = 3: E = 1/2 |(x1 - x0) x (x2 - x0)| (unsigned)
 * element: face (K = 3); no constants, no parameters.  The 3D form is not
 * differentiable at zero area. */
#if LC_EDIM == 2
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)k;
  (void)p;
  V2 u0 = v2_make(x[0], x[1]);
  return s_mulc(v2_cross(v2_sub(v2_make(x[2], x[3]), u0), v2_sub(v2_make(x[4], x[5]), u0)),
                0.5);
}
#else
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)k;
  (void)p;
  V3 x0 = v3_make(x[0], x[1], x[2]);
  V3 n = v3_cross(v3_sub(v3_make(x[3], x[4], x[5]), x0), v3_sub(v3_make(x[6], x[7], x[8]), x0));
  return s_mulc(v3_norm(n), 0.5);
}
#endif
