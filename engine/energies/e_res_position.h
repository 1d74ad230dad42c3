/* e_res_position.h - position residual of a vertex (no include guard:
 * instantiated once per AD mode by instances.h; einst_mode.h derives
 * E = 1/2 |r|^2).
 *
 *   r = x - t   (D components)
 * element: vertex (K = 1) of a variable of dimension LC_EDIM; constants
 * k[0..D-1] = t; no parameters. */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)p;
  for (int c = 0; c < LC_EDIM; ++c) r[c] = s_subc(x[c], k[c]);
}
