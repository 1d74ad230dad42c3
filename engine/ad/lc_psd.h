/* lc_psd.h - per-element projection of a small dense symmetric matrix onto
 * the positive semi-definite cone, and the symmetric eigen-decomposition it
 * uses; host and device (static inline, LC_HD, math.h only, no allocation:
 * stack arrays of LC_PSD_MAXN^2 doubles).
 *
 * lc_psd_project(H, n, eps) semantics:
 *  - If H is positive SEMI-definite (test below) it is left unchanged, bit
 *    for bit, and the call returns 0.  Deliberately, the zero (or small
 *    positive) eigenvalues of an already PSD block are NOT raised to eps:
 *    element Hessians of translation- and rotation-invariant energies are
 *    singular by nature, their null space is physical, and the global system
 *    is regularised elsewhere.  This is also the cheap exit taken by most
 *    elements.
 *  - Otherwise H is replaced by Q max(L, eps) Q^T, where H = Q L Q^T is the
 *    eigen-decomposition: every eigenvalue below eps is clamped to eps, the
 *    others and all eigenvectors are kept, the result is exactly symmetric;
 *    the call returns 1.
 *  - n outside 1..LC_PSD_MAXN or a non-finite entry: H untouched, returns -1.
 * The input is read as the symmetric part (H + H^T) / 2 (bitwise H for a
 * symmetric H).
 *
 * PSD test: LDL^T (outer-product Cholesky) with symmetric diagonal pivoting,
 * which accepts semi-definite matrices.  With scale = max |H_ij| and
 * lim = LC_PSD_TOL * scale (LC_PSD_TOL = 1e-12 by default), it eliminates on
 * the largest remaining diagonal entry while that entry is > lim; a positive
 * pivot preserves the inertia of the rest (Sylvester), so H is PSD iff the
 * remaining Schur complement is.  When the largest remaining pivot is <= lim
 * the Schur complement must be ~0: all its |entries| <= lim, else H is not
 * PSD (this covers negative pivots below -lim).  Hence exactly singular PSD
 * blocks pass despite rounding, and matrices whose most negative eigenvalue
 * is within about n * lim of 0 count as PSD (rounding noise).  The tolerance
 * is relative, so the test is scale invariant; 1e-12 leaves four orders of
 * magnitude of headroom over the rounding of AD Hessians (~1e-16 * scale).
 *
 * lc_sym_eig: cyclic Jacobi with explicit zeroing of negligible entries,
 * quadratically convergent to machine precision, at most LC_JACOBI_SWEEPS
 * sweeps (n = 12 typically needs 6 to 9).  Eigenvalues ascending.
 *
 * Identifiers avoid the short AD vocabulary of lc_ad_bind.h (S, V3, s_*...). */
#ifndef LC_PSD_H
#define LC_PSD_H

#include "lc_ad_base.h"

/* Largest supported n (stack arrays are LC_PSD_MAXN^2 doubles). */
#ifndef LC_PSD_MAXN
#define LC_PSD_MAXN 12
#endif
#if LC_PSD_MAXN < 1 || LC_PSD_MAXN > 16
#error "lc_psd.h: LC_PSD_MAXN must be in 1..16"
#endif

/* Relative tolerance of the PSD test (see above). */
#ifndef LC_PSD_TOL
#define LC_PSD_TOL 1e-12
#endif

/* Upper bound on Jacobi sweeps (convergence is reached long before). */
#ifndef LC_JACOBI_SWEEPS
#define LC_JACOBI_SWEEPS 50
#endif

/* Copies the symmetric part of H into w (n x n); returns max |w_ij|, or -1 if
 * an entry is not finite. */
LC_HD double lc_psd_sym_copy_(const double *H, int n, double *w) {
  double scale = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      const double a = H[i * n + j], b = H[j * n + i];
      if (!isfinite(a) || !isfinite(b)) return -1.0;
      const double s = a == b ? a : 0.5 * (a + b);
      w[i * n + j] = w[j * n + i] = s;
      scale = fabs(s) > scale ? fabs(s) : scale;
    }
  return scale;
}

/* 1 if the symmetric n x n matrix w (destroyed) is PSD to within lim (see the
 * header comment), else 0.  Rows and columns are pivoted through idx only. */
LC_HD int lc_psd_ldlt_check_(double *w, int n, double lim) {
  int idx[LC_PSD_MAXN];
  for (int i = 0; i < n; ++i) idx[i] = i;
  for (int k = 0; k < n; ++k) {
    int best = k; /* largest remaining diagonal entry */
    for (int t = k + 1; t < n; ++t)
      if (w[idx[t] * n + idx[t]] > w[idx[best] * n + idx[best]]) best = t;
    const int p = idx[best];
    idx[best] = idx[k];
    idx[k] = p;
    const double d = w[p * n + p];
    if (!(d > lim)) { /* remaining Schur complement must vanish */
      for (int t = k; t < n; ++t)
        for (int u = k; u <= t; ++u)
          if (!(fabs(w[idx[t] * n + idx[u]]) <= lim)) return 0;
      return 1;
    }
    const double id = 1.0 / d;
    for (int t = k + 1; t < n; ++t) {
      const int i = idx[t];
      const double li = w[i * n + p] * id;
      for (int u = k + 1; u < n; ++u) w[i * n + idx[u]] -= li * w[idx[u] * n + p];
    }
  }
  return 1;
}

/* One Jacobi rotation zeroing a[p][q] of the symmetric n x n a; accumulates into v. */
LC_HD void lc_jacobi_rotate_(double *a, double *v, int n, int p, int q) {
  const double apq = a[p * n + q];
  const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
  double t = fabs(theta) > 1e150 ? 0.5 / fabs(theta)
                                 : 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
  if (theta < 0.0) t = -t;
  const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
  a[p * n + p] -= t * apq;
  a[q * n + q] += t * apq;
  a[p * n + q] = a[q * n + p] = 0.0;
  for (int r = 0; r < n; ++r) {
    if (r != p && r != q) {
      const double arp = a[r * n + p], arq = a[r * n + q];
      a[r * n + p] = a[p * n + r] = c * arp - s * arq;
      a[r * n + q] = a[q * n + r] = s * arp + c * arq;
    }
    const double vrp = v[r * n + p], vrq = v[r * n + q];
    v[r * n + p] = c * vrp - s * vrq;
    v[r * n + q] = s * vrp + c * vrq;
  }
}

/* Eigen-decomposition of the symmetric n x n a (destroyed): ev ascending,
 * v (row-major) holds the matching unit eigenvectors as columns. */
LC_HD void lc_jacobi_eig_(double *a, int n, double *ev, double *v) {
  double fro2 = 0.0;
  for (int i = 0; i < n * n; ++i) fro2 += a[i] * a[i];
  const double tiny = 1e-20 * sqrt(fro2);
  for (int i = 0; i < n * n; ++i) v[i] = (i / n == i % n) ? 1.0 : 0.0;
  for (int sweep = 0; sweep < LC_JACOBI_SWEEPS; ++sweep) {
    int rotated = 0;
    for (int p = 0; p < n - 1; ++p)
      for (int q = p + 1; q < n; ++q) {
        const double apq = fabs(a[p * n + q]);
        if (apq == 0.0) continue;
        if (apq <= tiny || apq <= 1e-18 * (fabs(a[p * n + p]) + fabs(a[q * n + q]))) {
          a[p * n + q] = a[q * n + p] = 0.0; /* below rounding of the diagonal */
          continue;
        }
        lc_jacobi_rotate_(a, v, n, p, q);
        rotated = 1;
      }
    if (!rotated) break;
  }
  for (int i = 0; i < n; ++i) ev[i] = a[i * n + i];
  for (int i = 0; i < n - 1; ++i) { /* selection sort, columns of v follow */
    int m = i;
    for (int j = i + 1; j < n; ++j)
      if (ev[j] < ev[m]) m = j;
    if (m == i) continue;
    const double e = ev[i];
    ev[i] = ev[m];
    ev[m] = e;
    for (int r = 0; r < n; ++r) {
      const double x = v[r * n + i];
      v[r * n + i] = v[r * n + m];
      v[r * n + m] = x;
    }
  }
}

/* Eigenvalues (ascending) and unit eigenvectors (columns of row-major evecs)
 * of the symmetric part of the n x n row-major A; n outside 1..LC_PSD_MAXN or
 * a non-finite entry gives NaN everywhere. */
LC_HD void lc_sym_eig(const double *A, int n, double *evals, double *evecs) {
  double a[LC_PSD_MAXN * LC_PSD_MAXN];
  if (n < 1) return;
  if (n > LC_PSD_MAXN || lc_psd_sym_copy_(A, n, a) < 0.0) {
    for (int i = 0; i < n; ++i) evals[i] = NAN;
    for (int i = 0; i < n * n; ++i) evecs[i] = NAN;
    return;
  }
  lc_jacobi_eig_(a, n, evals, evecs);
}

/* Projects the symmetric n x n row-major H in place (see the header): returns
 * 0 if H is PSD (left unchanged), 1 if eigenvalues < eps were clamped to eps,
 * -1 (H untouched) for n outside 1..LC_PSD_MAXN or a non-finite entry. */
LC_HD int lc_psd_project(double *H, int n, double eps) {
  double w[LC_PSD_MAXN * LC_PSD_MAXN], q[LC_PSD_MAXN * LC_PSD_MAXN], ev[LC_PSD_MAXN];
  if (n < 1 || n > LC_PSD_MAXN) return -1;
  const double scale = lc_psd_sym_copy_(H, n, w);
  if (scale < 0.0) return -1;
  if (lc_psd_ldlt_check_(w, n, LC_PSD_TOL * scale)) return 0;
  lc_psd_sym_copy_(H, n, w);
  lc_jacobi_eig_(w, n, ev, q);
  for (int k = 0; k < n; ++k) ev[k] = ev[k] < eps ? eps : ev[k];
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int k = 0; k < n; ++k) s += q[i * n + k] * ev[k] * q[j * n + k];
      H[i * n + j] = H[j * n + i] = s;
    }
  return 1;
}

#endif
