/* e_ff_close.h - frame field: closeness of a face's field to a reference
 * (no include guard: instantiated once per AD mode by instances.h;
 * einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 2; docs/frames.md.
 *
 *   r = (alpha - alpha_ref, beta - beta_ref)   (Re, Im of each: 4 components)
 * element: one face (K = 1), D = 4; constants k[0..3] = the reference
 * (default 0); no parameters.  The weight (100 on constrained faces, 1e-3
 * elsewhere in the reference schedule) is the term's weight. */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)p;
  for (int i = 0; i < 4; ++i) r[i] = s_subc(x[i], k[i]);
}
