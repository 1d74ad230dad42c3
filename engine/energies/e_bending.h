/* e_bending.h - discrete-shell dihedral bending on an edge flap (no include
 * guard: instantiated once per AD mode by instances.h).  Workload W4.
 *
 *   e = (x1 - x0)/|x1 - x0|, n0 = (x1 - x0) x (x2 - x0), n1 = (x0 - x1) x (x3 - x1),
 *   theta = atan2((n0 x n1).e, n0.n1),  E = k (theta - theta_bar)^2 |e_bar|^2 / A_bar
 * element: flap (K = 4: x0, x1 the edge, x2 opposite in face (x0, x1, x2), x3
 * opposite in face (x1, x0, x3)), D = 3; constants k[0] = theta_bar (rest
 * angle), k[1] = |e_bar|^2 / A_bar with A_bar = (A0 + A1)/3; parameters
 * p[0] = k.  theta = 0 for a flat flap; lifting x2 or x3 out of the plane
 * along n0 gives theta < 0 (both wings fold the same way, same sign). */
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  V3 x0 = v3_make(x[0], x[1], x[2]), x1 = v3_make(x[3], x[4], x[5]);
  V3 x2 = v3_make(x[6], x[7], x[8]), x3 = v3_make(x[9], x[10], x[11]);
  V3 e01 = v3_sub(x1, x0);
  V3 n0 = v3_cross(e01, v3_sub(x2, x0));
  V3 n1 = v3_cross(v3_sub(x0, x1), v3_sub(x3, x1));
  S sn = v3_dot(v3_cross(n0, n1), v3_normalize(e01));
  S th = s_atan2(sn, v3_dot(n0, n1));
  return s_mulc(s_sq(s_subc(th, k[0])), p[0] * k[1]);
}
