/* e_ed_fit.h - embedded deformation: a constrained vertex's deformed
 * position meets its target (no include guard: instantiated once per AD mode
 * by instances.h; einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 3; docs/embedded.md.
 *
 *   r = sqrt(w) (p + t - q)   (3 components)
 * element: one vertex (K = 1) of the 12-component deformation variable
 * [t(3), A(9) row-major]; constants k[0..2] = p (rest position), k[3..5] =
 * q (target, default p); parameter p[0] = w (default 3). */
LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  const double sw = sqrt(p[0]);
  for (int c = 0; c < 3; ++c) r[c] = s_mulc(s_addc(x[c], k[c] - k[3 + c]), sw);
}
