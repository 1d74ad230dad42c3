/* e_ed_reg.h - embedded deformation: neighbouring nodes agree on where they
 * send each other (no include guard: instantiated once per AD mode by
 * instances.h; einst_mode.h derives E = 1/2 |r|^2).  Reference:
 * shared/reference-values.md section 3; docs/embedded.md.
 *
 * For the directed edges i -> j and j -> i of an undirected edge, with rest
 * positions p and e = p_j - p_i:
 *   r[0..2] = sqrt(w) (A_i e + p_i + t_i - (p_j + t_j)) = sqrt(w) (A_i e - e + t_i - t_j)
 *   r[3..5] = sqrt(w) (-A_j e + e + t_j - t_i)
 * element: an edge (K = 2, N = 24) of the 12-component deformation variable
 * [t(3), A(9) row-major]; constants k[0..2] = e (rest mesh); parameter p[0]
 * = w (default 12). */

/* sqrt(w) (A_a (s e) - s e + t_a - t_b) into r[0..2], a and b at x offsets oa, ob. */
LC_HD void LC_CAT(ed_reg_dir_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(S *r, const S *x, int oa, int ob, const double *k, double s,
                                        double sw) {
  for (int c = 0; c < 3; ++c) {
    S acc = s_sub(x[oa + c], x[ob + c]);
    for (int d = 0; d < 3; ++d) acc = s_add(acc, s_mulc(x[oa + 3 + 3 * c + d], s * k[d]));
    r[c] = s_mulc(s_addc(acc, -s * k[c]), sw);
  }
}

LC_HD void LC_RFN(LC_EINST)(S *r, const S *x, const double *k, const double *p) {
  const double sw = sqrt(p[0]);
  LC_CAT(ed_reg_dir_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(r, x, 0, 12, k, 1.0, sw);
  LC_CAT(ed_reg_dir_, LC_CAT(LC_EINST, LC_CAT(_, LC_AD_T)))(r + 3, x, 12, 0, k, -1.0, sw);
}
