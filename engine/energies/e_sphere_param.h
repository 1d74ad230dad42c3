/* e_sphere_param.h - spherical parameterization barrier (no include guard:
 * instantiated once per AD mode by instances.h).
 *
 *   V = det[x0, x1, x2] / 6 (signed volume of the tetrahedron (0, x0, x1, x2)),
 *   E = -log V + w (|x1 - x0|^2 + |x2 - x1|^2 + |x0 - x2|^2)   if V > 0, else +inf
 * element: face (K = 3), D = 3; no constants; parameters p[0] = w
 * (edge_weight).  The log barrier keeps every face oriented outward as seen
 * from the origin; the edge term pulls the mesh together. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)k;
  V3 x0 = v3_make(x[0], x[1], x[2]), x1 = v3_make(x[3], x[4], x[5]);
  V3 x2 = v3_make(x[6], x[7], x[8]);
  S det = v3_dot(x0, v3_cross(x1, x2));
  if (!(s_v(det) > 0.0)) return s_c(INFINITY);
  S l2 = s_add(s_add(v3_sqnorm(v3_sub(x1, x0)), v3_sqnorm(v3_sub(x2, x1))),
               v3_sqnorm(v3_sub(x0, x2)));
  return s_sub(s_mulc(l2, p[0]), s_log(s_mulc(det, 1.0 / 6.0)));
}
