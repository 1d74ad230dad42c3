/* e_spring.h - mass-spring energy on an edge (no include guard: instantiated
 * once per AD mode by instances.h).
 *
 *   E = 1/2 k (|x_j - x_i| - L)^2
 * element: edge (K = 2) of a vertex variable of dimension LC_EDIM;
 * constants k[0] = L (rest length); parameters p[0] = k (stiffness). */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  S d2 = s_c(0.0);
  for (int c = 0; c < LC_EDIM; ++c) d2 = s_add(d2, s_sq(s_sub(x[LC_EDIM + c], x[c])));
  return s_mulc(s_sq(s_subc(s_sqrt(d2), k[0])), 0.5 * p[0]);
}
