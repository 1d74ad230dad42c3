/* e_ed_rot.h - embedded deformation: a node's matrix stays a rotation (no
 * include guard: instantiated once per AD mode by instances.h; einst_mode.h
 * derives E = 1/2 |r|^2).  Reference: shared/reference-values.md section 3;
 * docs/embedded.md.
 *
 *   r = sqrt(w) (c0.c1, c0.c2, c1.c2, |c0|^2 - 1, |c1|^2 - 1, |c2|^2 - 1)
 * for the columns c_k of A: the six independent entries of A^T A - I.
 * element: one vertex (K = 1) of the 12-component deformation variable
 * [t(3), A(9) row-major] (t is not used); no constants; parameter p[0] = w
 * (default 5). */

/* Column dot product c_a . c_b of the row-major A at x[3..11]. */
LC_HD S LC_CAT(ed_coldot_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(const S *x, int a, int b) {
  S acc = s_mul(x[3 + a], x[3 + b]);
  for (int r = 1; r < 3; ++r) acc = s_add(acc, s_mul(x[3 + 3 * r + a], x[3 + 3 * r + b]));
  return acc;
}

LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  (void)k;
  const double sw = sqrt(p[0]);
  r[0] = s_mulc(LC_CAT(ed_coldot_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(x, 0, 1), sw);
  r[1] = s_mulc(LC_CAT(ed_coldot_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(x, 0, 2), sw);
  r[2] = s_mulc(LC_CAT(ed_coldot_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(x, 1, 2), sw);
  for (int c = 0; c < 3; ++c) r[3 + c] = s_mulc(s_subc(LC_CAT(ed_coldot_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(x, c, c), 1.0), sw);
}
