/* e_res_edge_length.h - edge length residual (no include guard: instantiated
 * once per AD mode by instances.h; einst_mode.h derives E = 1/2 |r|^2).
 *
 *   r = |x_j - x_i| - L   (1 component)
 * element: edge (K = 2) of a variable of dimension LC_EDIM; constants
 * k[0] = L (rest length); no parameters. */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)p;
  S d2 = s_sq(s_sub(x[LC_EDIM], x[0]));
  for (int c = 1; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_sub(x[LC_EDIM + c], x[c])));
  r[0] = s_subc(s_sqrt(d2), k[0]);
}
