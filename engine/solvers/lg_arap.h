/* lg_arap.h - the per-triangle steps of the local-global ARAP solver
 * (local_global.c), shared by the CPU loop and any device kernel: compiles
 * as C11 and as CUDA C++ (LC_HD), plain doubles, no libc beyond <math.h>.
 *
 * The "arap" energy of a triangle (energies/e_arap.h) is
 *   E = w A |X G - R|_F^2,   X = [x0 x1 x2] (D x 3), G = E0 Mr^-1 (3 x 2),
 * with E0 = [[-1,-1],[1,0],[0,1]], Mr^-1 the row-major constants k[0..3],
 * A = k[4], and R the rotation (D = 2) or the 3x2 matrix with orthonormal
 * columns (D = 3) closest to F = X G.  For fixed R the energy is quadratic
 * in X: its minimiser solves X L = B with L = sum w A G G^T (a cotangent
 * Laplacian, the same for every component and every R) and B = sum w A R G^T.
 * The local step fits R to F (and gives E, because E(R_opt) is the energy);
 * the global step solves with L, factorised once. */
#ifndef LC_LG_ARAP_H
#define LC_LG_ARAP_H

#include <math.h>

#include "../ad/lc_ad_base.h"

/* G = E0 Mr^-1 (3 x 2, row-major g[3][2]) of a triangle with constants k. */
LC_HD void lc_lg_arap_G(const double *k, double g[3][2]) {
  for (int j = 0; j < 2; ++j) {
    g[1][j] = k[j];
    g[2][j] = k[2 + j];
    g[0][j] = -k[j] - k[2 + j];
  }
}

/* F = X G (D x 2, f[d][j]) of the triangle with vertex positions x[a][d]. */
LC_HD void lc_lg_arap_F(int D, const double x[3][3], const double g[3][2], double f[3][2]) {
  for (int d = 0; d < D; ++d)
    for (int j = 0; j < 2; ++j) f[d][j] = x[0][d] * g[0][j] + x[1][d] * g[1][j] + x[2][d] * g[2][j];
}

/* A unit vector orthogonal to the unit 3-vector u. */
LC_HD void lc_lg_perp3(const double u[3], double p[3]) {
  const int i = fabs(u[0]) <= fabs(u[1]) && fabs(u[0]) <= fabs(u[2]) ? 0 : fabs(u[1]) <= fabs(u[2]) ? 1 : 2;
  double e[3] = {0.0, 0.0, 0.0};
  e[i] = 1.0;
  p[0] = u[1] * e[2] - u[2] * e[1];
  p[1] = u[2] * e[0] - u[0] * e[2];
  p[2] = u[0] * e[1] - u[1] * e[0];
  const double n = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
  for (int d = 0; d < 3; ++d) p[d] /= n;
}

/* R closest to a 3x2 F of rank <= 1 (C = F^T F, tr = trace C): u v^T +
 * u_perp v_perp^T with v the top eigenvector of C and u = F v / |F v|. */
LC_HD void lc_lg_fit_rank1(const double f[3][2], const double c[3], double tr, double r[3][2]) {
  double v[2] = {1.0, 0.0}, u[3] = {1.0, 0.0, 0.0}, up[3];
  if (tr > 0.0) { /* C = [[c0, c1], [c1, c2]] has rank 1: v is a normalised non-zero column of C */
    const int col = c[0] >= c[2] ? 0 : 1;
    v[0] = col == 0 ? c[0] : c[1];
    v[1] = col == 0 ? c[1] : c[2];
    const double nv = sqrt(v[0] * v[0] + v[1] * v[1]);
    v[0] /= nv, v[1] /= nv;
    for (int d = 0; d < 3; ++d) u[d] = f[d][0] * v[0] + f[d][1] * v[1];
    const double nu = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int d = 0; d < 3; ++d) u[d] /= nu;
  }
  lc_lg_perp3(u, up);
  for (int d = 0; d < 3; ++d) {
    r[d][0] = u[d] * v[0] - up[d] * v[1];
    r[d][1] = u[d] * v[1] + up[d] * v[0];
  }
}

/* Local step of one triangle: R closest to F (D = 2: a rotation; D = 3:
 * orthonormal columns, R = F (F^T F)^-1/2) into r; returns sigma1 +
 * sigma2 (D = 3) or the polar norm (D = 2), so that the energy is
 * A (|F|^2 + 2 - 2 * returned value). */
LC_HD double lc_lg_arap_fit(int D, const double f[3][2], double r[3][2]) {
  if (D == 2) {
    const double c = f[0][0] + f[1][1], s = f[1][0] - f[0][1], h = hypot(c, s);
    const double cs = h > 0.0 ? c / h : 1.0, sn = h > 0.0 ? s / h : 0.0;
    r[0][0] = cs, r[0][1] = -sn, r[1][0] = sn, r[1][1] = cs;
    return h;
  }
  double c[3] = {0.0, 0.0, 0.0}; /* C = F^T F: c0 = C00, c1 = C01, c2 = C11 */
  for (int d = 0; d < 3; ++d) {
    c[0] += f[d][0] * f[d][0];
    c[1] += f[d][0] * f[d][1];
    c[2] += f[d][1] * f[d][1];
  }
  const double tr = c[0] + c[2], det = fmax(c[0] * c[2] - c[1] * c[1], 0.0);
  const double sq = sqrt(det), t = sqrt(tr + 2.0 * sq); /* C^1/2 = (C + sq I) / t; t = sigma1 + sigma2 */
  if (!(sq > 1e-14 * tr)) {
    lc_lg_fit_rank1(f, c, tr, r);
    return t;
  }
  /* C^-1/2 = adj(C + sq I) / (sq t) */
  const double s = 1.0 / (sq * t);
  const double m00 = (c[2] + sq) * s, m01 = -c[1] * s, m11 = (c[0] + sq) * s;
  for (int d = 0; d < 3; ++d) {
    const double a = f[d][0], b = f[d][1];
    r[d][0] = a * m00 + b * m01;
    r[d][1] = a * m01 + b * m11;
  }
  return t;
}

/* Energy of a fitted triangle: wA (|F|^2 + 2 - 2 t), t from lc_lg_arap_fit. */
LC_HD double lc_lg_arap_energy(int D, const double f[3][2], double t, double wa) {
  double fro = 0.0;
  for (int d = 0; d < D; ++d) fro += f[d][0] * f[d][0] + f[d][1] * f[d][1];
  return wa * (fro + 2.0 - 2.0 * t);
}

/* Adds one corner's share to its vertex's right-hand side: b[d] += R[d] . c,
 * with c = w A G[a] (vertex a's right-hand side is the sum over its corners
 * of wA R G[a]). */
LC_HD void lc_lg_arap_rhs_add(int D, const double r[3][2], const double c[2], double *b) {
  for (int d = 0; d < D; ++d) b[d] += r[d][0] * c[0] + r[d][1] * c[1];
}

/* Laplacian entry of vertices a, b: wA sum_j G[a][j] G[b][j]. */
LC_HD double lc_lg_arap_lap(const double g[3][2], int a, int b, double wa) {
  return wa * (g[a][0] * g[b][0] + g[a][1] * g[b][1]);
}

#endif
