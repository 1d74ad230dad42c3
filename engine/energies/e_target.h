/* e_target.h - soft position target on a vertex (no include guard:
 * instantiated once per AD mode by instances.h).
 *
 *   E = 1/2 k |x - t|^2
 * element: vertex (K = 1) of a variable of dimension LC_EDIM (1..4);
 * constants k[0..D-1] = t; parameters p[0] = k (stiffness). */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  S d2 = s_sq(s_subc(x[0], k[0]));
  for (int c = 1; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_subc(x[c], k[c])));
  return s_mulc(d2, 0.5 * p[0]);
}
