/* e_cot_dirichlet.h - cotangent-weighted edge Dirichlet energy (no include
 * guard: instantiated once per AD mode by instances.h).
 *
 *   E = w |x_i - x_j|^2,  w = 1/2 (cot alpha + cot beta)
 * with alpha, beta the rest angles opposite the edge (one term on the
 * boundary).  element: edge (K = 2) of a variable of dimension LC_EDIM (1..3);
 * constants k[0] = w; no parameters.  w < 0 for obtuse rest angles. */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  (void)p;
  S d2 = s_sq(s_sub(x[LC_EDIM], x[0]));
  for (int c = 1; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_sub(x[LC_EDIM + c], x[c])));
  return s_mulc(d2, k[0]);
}
