/* e_dirichlet.h - uniform edge Dirichlet energy (no include guard:
 * instantiated once per AD mode by instances.h).  Workload W6.
 *
 *   E = |x_i - x_j|^2
 * element: edge (K = 2) of a variable of dimension LC_EDIM (1..4); no
 * constants, no parameters. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)k;
  (void)p;
  S d2 = s_sq(s_sub(x[LC_EDIM], x[0]));
  for (int c = 1; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_sub(x[LC_EDIM + c], x[c])));
  return d2;
}
