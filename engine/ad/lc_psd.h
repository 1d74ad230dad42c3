/* lc_psd.h - per-element projection of a small dense symmetric matrix onto
 * the positive semi-definite cone, and the symmetric eigen-decomposition it
 * uses; host and device (static inline, LC_HD, math.h only, no allocation:
 * stack arrays of LC_PSD_MAXN^2 doubles).
 *
 * lc_psd_project(H, n, eps) semantics:
 *  - If H is positive SEMI-definite (test below) it is left unchanged, bit
 *    for bit (a non-symmetric H becomes its symmetric part), and the call
 *    returns 0.  Deliberately, the zero (or small
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
 * lc_sym_eig: Householder tridiagonalisation and implicit QL (tred2/tql2 of
 * EISPACK, as in JAMA), accurate to a few ulps of max |A|.  Eigenvalues
 * ascending.
 *
 * lc_psd_project_batch (host loops): up to LC_PSD_LANES element Hessians
 * at once, same semantics; their reduced eigenproblems are solved side by
 * side by a cyclic Jacobi whose lanes rotate in step, so the square roots and
 * divisions of different elements overlap (2x faster than one by one for
 * the 4x4 blocks of 2D triangles, bench/results/2026-12-02-psd-batch.md).
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


/* Copies the symmetric part of H into w (n x n); returns max |w_ij|, or -1 if
 * an entry is not finite. */
LC_HD double lc_psd_sym_copy_(const double *H, int n, double *w) {
  double scale = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      const double a = H[i * n + j], b = H[j * n + i];
      if (!isfinite(a) || !isfinite(b)) return -1.0;
      const double s = a == b ? a : 0.5 * (a + b);
      w[i * n + j] = s;
      w[j * n + i] = s;
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

/* Householder reduction of the symmetric n x n V (in place) to tridiagonal
 * form (JAMA/EISPACK tred2): on return V holds the orthogonal transform,
 * d the diagonal and e[1..n-1] the sub-diagonal. */
LC_HD void lc_tred2_(double *V, int n, double *d, double *e) {
#define VV(r, c) V[(r) * n + (c)]
  for (int j = 0; j < n; ++j) d[j] = VV(n - 1, j);
  for (int i = n - 1; i > 0; --i) {
    double scale = 0.0, h = 0.0;
    for (int k = 0; k < i; ++k) scale += fabs(d[k]);
    if (scale == 0.0) {
      e[i] = d[i - 1];
      for (int j = 0; j < i; ++j) {
        d[j] = VV(i - 1, j);
        VV(i, j) = 0.0;
        VV(j, i) = 0.0;
      }
    } else {
      for (int k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1], g = sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (int j = 0; j < i; ++j) e[j] = 0.0;
      for (int j = 0; j < i; ++j) {
        f = d[j];
        VV(j, i) = f;
        g = e[j] + VV(j, j) * f;
        for (int k = j + 1; k <= i - 1; ++k) {
          g += VV(k, j) * d[k];
          e[k] += VV(k, j) * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (int j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const double hh = f / (h + h);
      for (int j = 0; j < i; ++j) e[j] -= hh * d[j];
      for (int j = 0; j < i; ++j) {
        f = d[j];
        g = e[j];
        for (int k = j; k <= i - 1; ++k) VV(k, j) -= (f * e[k] + g * d[k]);
        d[j] = VV(i - 1, j);
        VV(i, j) = 0.0;
      }
    }
    d[i] = h;
  }
  for (int i = 0; i < n - 1; ++i) {
    VV(n - 1, i) = VV(i, i);
    VV(i, i) = 1.0;
    const double h = d[i + 1];
    if (h != 0.0) {
      for (int k = 0; k <= i; ++k) d[k] = VV(k, i + 1) / h;
      for (int j = 0; j <= i; ++j) {
        double g = 0.0;
        for (int k = 0; k <= i; ++k) g += VV(k, i + 1) * VV(k, j);
        for (int k = 0; k <= i; ++k) VV(k, j) -= g * d[k];
      }
    }
    for (int k = 0; k <= i; ++k) VV(k, i + 1) = 0.0;
  }
  for (int j = 0; j < n; ++j) {
    d[j] = VV(n - 1, j);
    VV(n - 1, j) = 0.0;
  }
  VV(n - 1, n - 1) = 1.0;
  e[0] = 0.0;
#undef VV
}

/* Implicit QL with shifts on the tridiagonal (d, e) (JAMA/EISPACK tql2),
 * accumulating rotations into V: eigenvalues in d (unsorted), eigenvectors
 * as columns of V.  Returns 0, or -1 if an eigenvalue needed > 60 steps. */
LC_HD int lc_tql2_(double *V, int n, double *d, double *e) {
#define VV(r, c) V[(r) * n + (c)]
  for (int i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  const double eps = 2.220446049250313e-16;
  for (int l = 0; l < n; ++l) {
    tst1 = fmax(tst1, fabs(d[l]) + fabs(e[l]));
    int m = l;
    while (m < n - 1 && fabs(e[m]) > eps * tst1) ++m;
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 60) return -1;
        double g = d[l], p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = sqrt(p * p + 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int i = l + 2; i < n; ++i) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1.0, c2 = 1.0, c3 = 1.0, s = 0.0, s2 = 0.0;
        const double el1 = e[l + 1];
        for (int i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = sqrt(p * p + e[i] * e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (int k = 0; k < n; ++k) {
            h = VV(k, i + 1);
            VV(k, i + 1) = s * VV(k, i) + c * h;
            VV(k, i) = c * VV(k, i) - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (fabs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0.0;
  }
#undef VV
  return 0;
}

/* Eigen-decomposition of the symmetric n x n a (destroyed, becomes the
 * eigenvectors as columns): ev ascending.  Householder tridiagonalisation
 * then implicit QL: about 3x faster than cyclic Jacobi at n = 9, accurate to
 * a few ulps of max |a|.  Returns 0, or -1 if QL did not converge. */
LC_HD int lc_sym_eig_(double *a, int n, double *ev) {
  double e[LC_PSD_MAXN];
  lc_tred2_(a, n, ev, e);
  if (lc_tql2_(a, n, ev, e)) return -1;
  for (int i = 0; i < n - 1; ++i) { /* selection sort, columns follow */
    int m = i;
    for (int j = i + 1; j < n; ++j)
      if (ev[j] < ev[m]) m = j;
    if (m == i) continue;
    const double t = ev[i];
    ev[i] = ev[m];
    ev[m] = t;
    for (int r = 0; r < n; ++r) {
      const double x = a[r * n + i];
      a[r * n + i] = a[r * n + m];
      a[r * n + m] = x;
    }
  }
  return 0;
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
  if (lc_sym_eig_(a, n, evals)) {
    for (int i = 0; i < n; ++i) evals[i] = NAN;
  }
  for (int i = 0; i < n * n; ++i) evecs[i] = a[i];
}

/* Translation test for an element Hessian over K entities of dimension D:
 * 1 if every row of the symmetric w sums to ~0 over each component d, i.e.
 * w annihilates the D rigid translations (|w t| <= lim for all rows). */
LC_HD int lc_psd_translation_free_(const double *w, int K, int D, double lim) {
  const int n = K * D;
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) {
      double s = 0.0;
      for (int a = 0; a < K; ++a) s += w[i * n + a * D + d];
      if (!(fabs(s) <= lim)) return 0;
    }
  return 1;
}

/* Scales of the Helmert basis of the complement of (1, ..., 1) in R^K:
 * row j of the basis is (1, .., 1, -(j+1), 0, ..) * sj[j], with
 * sj[j] = 1 / sqrt((j+1)(j+2)), j < K - 1. */
LC_HD void lc_helmert_scales_(int K, double *sj) {
  for (int j = 0; j < K - 1; ++j) sj[j] = 1.0 / sqrt((double)(j + 1) * (j + 2));
}

/* Helmert coefficient (j, a) from the scales. */
LC_HD double lc_helmert_(const double *sj, int j, int a) {
  return a <= j ? sj[j] : (a == j + 1 ? -(j + 1) * sj[j] : 0.0);
}

/* r = C H C^T (m x m, m = (K-1)D, C = Helmert (x) I_D), exactly symmetric.
 * Row (j, d) of C is sj[j] (sum of rows (a, d), a <= j, minus (j+1) times
 * row (j+1, d)), so each row of C H, and then each entry of r, is a running
 * prefix sum: O(m n) per row instead of O(K^2) per entry. */
LC_HD void lc_psd_reduce_(const double *H, int K, int D, const double *sj, double *r) {
  const int n = K * D, m = (K - 1) * D;
  for (int d = 0; d < D; ++d) {
    double P[LC_PSD_MAXN], T[LC_PSD_MAXN]; /* prefix of rows (a, d), a <= j; row (j, d) of C H */
    for (int c = 0; c < n; ++c) P[c] = 0.0;
    for (int j = 0; j < K - 1; ++j) {
      const int i = j * D + d;
      for (int c = 0; c < n; ++c) {
        P[c] += H[i * n + c];
        T[c] = (P[c] - (j + 1) * H[(i + D) * n + c]) * sj[j];
      }
      for (int dc = 0; dc < D; ++dc) {
        double q = 0.0;
        for (int jc = 0; jc < K - 1; ++jc) {
          q += T[jc * D + dc];
          r[i * m + jc * D + dc] = (q - (jc + 1) * T[(jc + 1) * D + dc]) * sj[jc];
        }
      }
    }
  }
  for (int i = 0; i < m; ++i) /* the lower triangle wins */
    for (int c = 0; c < i; ++c) r[c * m + i] = r[i * m + c];
}

/* Workspace (doubles) that lc_psd_project_elem_ws needs for K entities of
 * dimension D: the larger of the general path (packed n x n matrix and n
 * eigenvalues) and the reduced path ((K-1)D block, its eigenvalues and one
 * n-vector). */
#define LC_PSD_WS_FULL_(n) ((n) * ((n) + 1) / 2 + (n))
#define LC_PSD_WS_RED_(K, D) (((K) - 1) * (D) * ((K) - 1) * (D) + ((K) - 1) * (D) + (K) * (D))
#define LC_PSD_ELEM_WS(K, D)                                                                   \
  (LC_PSD_WS_FULL_((K) * (D)) > LC_PSD_WS_RED_(K, D) ? LC_PSD_WS_FULL_((K) * (D))              \
                                                      : LC_PSD_WS_RED_(K, D))

/* max |a_i| over m entries, or -1 if one is not finite. */
LC_HD double lc_psd_scale_(const double *a, int m) {
  double scale = 0.0;
  for (int i = 0; i < m; ++i) {
    if (!isfinite(a[i])) return -1.0;
    scale = fabs(a[i]) > scale ? fabs(a[i]) : scale;
  }
  return scale;
}

/* Adds c q q^T to the symmetric n x n H (both triangles). */
LC_HD void lc_psd_rank1_(double *H, int n, double c, const double *q) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      const double v = H[i * n + j] + c * q[i] * q[j];
      H[i * n + j] = v;
      H[j * n + i] = v;
    }
}

/* The packed lower triangle of the symmetric part of H. */
LC_HD void lc_psd_pack_(const double *H, int n, double *P) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      const double a = H[i * n + j], b = H[j * n + i];
      P[LC_TRI(i, j)] = a == b ? a : 0.5 * (a + b);
    }
}

/* The full symmetric H from its packed lower triangle P. */
LC_HD void lc_psd_unpack_(const double *P, int n, double *H) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      H[i * n + j] = P[LC_TRI(i, j)];
      H[j * n + i] = P[LC_TRI(i, j)];
    }
}

/* H += c u u^T for u = C^T q (n = K*D), the lift of the reduced vector q_i =
 * qb[i * stride], i < (K-1)D; u is n doubles of workspace. */
LC_HD void lc_psd_lift_rank1_(double *H, int K, int D, const double *sj, double c, const double *qb,
                              int stride, double *u) {
  for (int a = 0; a < K; ++a)
    for (int d = 0; d < D; ++d) {
      double acc = 0.0;
      for (int j = (a > 0 ? a - 1 : 0); j < K - 1; ++j) acc += lc_helmert_(sj, j, a) * qb[(j * D + d) * stride];
      u[a * D + d] = acc;
    }
  lc_psd_rank1_(H, K * D, c, u);
}

/* The D translations' zero eigenvalues of H (n = K*D) raised to eps: H +=
 * (eps / K) for every pair of variables of the same component. */
LC_HD void lc_psd_lift_translations_(double *H, int K, int D, double eps) {
  const int n = K * D;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j)
      if (i % D == j % D) {
        const double v = H[i * n + j] + eps / K;
        H[i * n + j] = v;
        H[j * n + i] = v;
      }
}

/* lc_sym_eig_ of a / scale (scale = max |a_ij| > 0), eigenvalues scaled
 * back: entries of order 1 keep QL's products clear of underflow (entries
 * of 1e-150 made NaN eigenvalues) and overflow. */
LC_HD int lc_psd_eig_scaled_(double *a, int n, double scale, double *ev) {
  const double is = scale > 0.0 ? 1.0 / scale : 1.0;
  for (int i = 0; i < n * n; ++i) a[i] *= is;
  if (lc_sym_eig_(a, n, ev)) return -1;
  for (int i = 0; i < n; ++i) ev[i] = scale > 0.0 ? ev[i] * scale : ev[i];
  return 0;
}

/* The general path of lc_psd_project_elem_ws, in LC_PSD_WS_FULL_(n) doubles:
 * the symmetric part of H is kept packed in ws while H itself serves as the
 * scratch of the PSD test and then holds the eigenvectors; the clamped
 * eigenpairs are added to the packed copy, which becomes the result. */
LC_HD int lc_psd_project_full_(double *H, int n, double eps, double scale, double *ws) {
  double *P = ws, *ev = ws + LC_TRI_SIZE(n);
  lc_psd_pack_(H, n, P);
  lc_psd_unpack_(P, n, H);
  const int psd = lc_psd_ldlt_check_(H, n, LC_PSD_TOL * scale);
  lc_psd_unpack_(P, n, H);
  if (psd) return 0;
  if (lc_psd_eig_scaled_(H, n, scale, ev)) {
    lc_psd_unpack_(P, n, H);
    return -1;
  }
  for (int k = 0; k < n && ev[k] < eps; ++k) {
    const double c = eps - ev[k];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) P[LC_TRI(i, j)] += c * H[i * n + k] * H[j * n + k];
  }
  lc_psd_unpack_(P, n, H);
  return 1;
}

/* Projects the symmetric n x n row-major H in place (see the header): returns
 * 0 if H is PSD (left as it was, if it was symmetric), 1 if eigenvalues < eps
 * were clamped to eps, -1 (H untouched) for n outside 1..LC_PSD_MAXN or a
 * non-finite entry.  The general path of lc_psd_project_elem_ws, with its
 * workspace on the stack. */
LC_HD int lc_psd_project(double *H, int n, double eps) {
  double ws[LC_PSD_WS_FULL_(LC_PSD_MAXN)];
  if (n < 1 || n > LC_PSD_MAXN) return -1;
  const double scale = lc_psd_scale_(H, n * n);
  return scale < 0.0 ? -1 : lc_psd_project_full_(H, n, eps, scale, ws);
}

/* Projects the element Hessian H (n = K*D, row-major) like lc_psd_project,
 * in a caller-provided workspace ws of LC_PSD_ELEM_WS(K, D) doubles (so that a
 * GPU thread's stack holds only what its element size needs).  When H
 * annihilates translations (every translation-invariant energy) the PSD
 * test and the eigen-decomposition run on the (K-1)D x (K-1)D block
 * r = C H C^T (C = Helmert basis (x) I_D), and the D zero eigenvalues of the
 * translations are raised to eps directly: mathematically identical to
 * lc_psd_project, and 2-2.5x faster.  Returns 0 (PSD, H unchanged), 1
 * (projected) or -1 (non-finite entry or no convergence; H unchanged). */
LC_HD int lc_psd_project_elem_ws(double *H, int K, int D, double eps, double *ws) {
  const int n = K * D, m = (K - 1) * D;
  if (n < 1 || n > LC_PSD_MAXN || D < 1) return -1;
  double scale = 0.0; /* inline, not lc_psd_scale_: ptxas keeps 160 B less stack */
  for (int i = 0; i < n * n; ++i) {
    if (!isfinite(H[i])) return -1;
    scale = fabs(H[i]) > scale ? fabs(H[i]) : scale;
  }
  if (K < 2 || !lc_psd_translation_free_(H, K, D, LC_PSD_TOL * scale))
    return lc_psd_project_full_(H, n, eps, scale, ws);
  double *r = ws, *ev = ws + m * m, *u = ev + m, sj[LC_PSD_MAXN];
  lc_helmert_scales_(K, sj);
  lc_psd_reduce_(H, K, D, sj, r);
  if (lc_psd_ldlt_check_(r, m, LC_PSD_TOL * scale)) return 0;
  lc_psd_reduce_(H, K, D, sj, r);
  lc_psd_sym_copy_(H, n, H); /* exact symmetry (in place) */
  if (lc_psd_eig_scaled_(r, m, scale, ev)) return -1;
  for (int k = 0; k < m && ev[k] < eps; ++k) lc_psd_lift_rank1_(H, K, D, sj, eps - ev[k], r + k, m, u);
  lc_psd_lift_translations_(H, K, D, eps);
  return 1;
}

/* lc_psd_project_elem_ws with a workspace on the stack (host code, tests). */
LC_HD int lc_psd_project_elem(double *H, int K, int D, double eps) {
  double ws[LC_PSD_MAXN * LC_PSD_MAXN + 2 * LC_PSD_MAXN]; /* >= LC_PSD_ELEM_WS(K, D), K * D <= MAXN */
  return lc_psd_project_elem_ws(H, K, D, eps, ws);
}

/* ---- batched projection (the CPU element loops) ------------------------- */

/* Lanes of lc_psd_project_batch: element Hessians projected side by side. */
#ifndef LC_PSD_LANES
#define LC_PSD_LANES 8
#endif
/* Sweeps after which lc_psd_jacobi_lanes_ gives up (it needs 2-6). */
#define LC_PSD_SWEEPS 16

/* One Jacobi rotation, annihilating entry (p, q) of every lane of A (lane-
 * minor, upper triangle; see lc_psd_jacobi_lanes_) and accumulated into V.
 * t = tan(theta) from the scale-safe form of Rutishauser's formula. */
LC_HD void lc_psd_jacobi_rot_(double *A, int m, double *V, int p, int q) {
  const int L = LC_PSD_LANES;
  double c[LC_PSD_LANES], s[LC_PSD_LANES];
  for (int l = 0; l < L; ++l) {
    const double apq = A[(p * m + q) * L + l];
    const double d = A[(q * m + q) * L + l] - A[(p * m + p) * L + l], b = 2.0 * apq;
    const double den = fabs(d) + sqrt(d * d + b * b);
    const double t0 = den > 0.0 ? b / den : 0.0, t = d < 0.0 ? -t0 : t0;
    c[l] = 1.0 / sqrt(1.0 + t * t);
    s[l] = t * c[l];
    A[(p * m + p) * L + l] -= t * apq;
    A[(q * m + q) * L + l] += t * apq;
    A[(p * m + q) * L + l] = 0.0;
  }
  for (int r = 0; r < m; ++r) {
    if (r == p || r == q) continue;
    const int ip = r < p ? r * m + p : p * m + r, iq = r < q ? r * m + q : q * m + r;
    for (int l = 0; l < L; ++l) {
      const double arp = A[ip * L + l], arq = A[iq * L + l];
      A[ip * L + l] = c[l] * arp - s[l] * arq;
      A[iq * L + l] = s[l] * arp + c[l] * arq;
    }
  }
  for (int r = 0; r < m; ++r)
    for (int l = 0; l < L; ++l) {
      const double vp = V[(r * m + p) * L + l], vq = V[(r * m + q) * L + l];
      V[(r * m + p) * L + l] = c[l] * vp - s[l] * vq;
      V[(r * m + q) * L + l] = s[l] * vp + c[l] * vq;
    }
}

/* 1 when every lane of A is diagonal to working accuracy: its squared
 * off-diagonal norm is <= 1e-30 of its squared diagonal norm. */
LC_HD int lc_psd_jacobi_done_(const double *A, int m) {
  const int L = LC_PSD_LANES;
  int done = 1;
  for (int l = 0; l < L; ++l) {
    double off = 0.0, dg = 0.0;
    for (int p = 0; p < m; ++p) {
      dg += A[(p * m + p) * L + l] * A[(p * m + p) * L + l];
      for (int q = p + 1; q < m; ++q) off += A[(p * m + q) * L + l] * A[(p * m + q) * L + l];
    }
    done &= off <= 1e-30 * dg;
  }
  return done;
}

/* Cyclic Jacobi on LC_PSD_LANES symmetric m x m matrices side by side.
 * Layout lane-minor: entry (i, j), i <= j, of lane l at A[(i m + j) L + l]
 * (the upper triangle only is read and written); entries O(1) (scaled);
 * unused lanes hold a diagonal matrix.  On return the diagonal of A holds
 * the eigenvalues (unsorted) and V (same layout, full) the unit
 * eigenvectors as columns.  Every lane rotates the same (p, q) in step, so
 * the square roots and divisions of different lanes overlap instead of
 * waiting on each other.  Returns 0, or -1 if LC_PSD_SWEEPS sweeps did not
 * diagonalise every lane (A and V then hold the last sweep). */
LC_HD int lc_psd_jacobi_lanes_(double *A, int m, double *V) {
  const int L = LC_PSD_LANES;
  for (int i = 0; i < m * m; ++i)
    for (int l = 0; l < L; ++l) V[i * L + l] = i / m == i % m ? 1.0 : 0.0;
  for (int sweep = 0; sweep < LC_PSD_SWEEPS; ++sweep) {
    if (lc_psd_jacobi_done_(A, m)) return 0;
    for (int p = 0; p < m - 1; ++p)
      for (int q = p + 1; q < m; ++q) lc_psd_jacobi_rot_(A, m, V, p, q);
  }
  return lc_psd_jacobi_done_(A, m) ? 0 : -1;
}

/* Projects nl <= LC_PSD_LANES element Hessians H[l] (n = K*D, row-major) in
 * place, each with the semantics of lc_psd_project_elem_ws (results equal to
 * rounding): the reduced eigenproblems of the elements that need one are
 * solved side by side by lc_psd_jacobi_lanes_; elements that are not
 * translation-free or not finite, and a batch Jacobi gives up on, go
 * through lc_psd_project_elem_ws one by one.  For host loops: its arrays
 * take 2 m^2 LC_PSD_LANES doubles of stack. */
LC_HD void lc_psd_project_batch(double *const *H, int nl, int K, int D, double eps) {
  const int L = LC_PSD_LANES, n = K * D, m = (K - 1) * D;
  double A[LC_PSD_MAXN * LC_PSD_MAXN * LC_PSD_LANES], V[LC_PSD_MAXN * LC_PSD_MAXN * LC_PSD_LANES];
  double r[LC_PSD_MAXN * LC_PSD_MAXN], w[LC_PSD_MAXN * LC_PSD_MAXN + 2 * LC_PSD_MAXN];
  double sj[LC_PSD_MAXN], sc[LC_PSD_LANES];
  int who[LC_PSD_LANES], nb = 0;
  if (n > LC_PSD_MAXN || K < 2 || D < 1) {
    for (int l = 0; l < nl; ++l) lc_psd_project_elem_ws(H[l], K, D, eps, w);
    return;
  }
  lc_helmert_scales_(K, sj);
  for (int l = 0; l < nl; ++l) {
    double *h = H[l], scale = 0.0;
    int finite = 1;
    for (int i = 0; i < n * n; ++i) {
      finite &= isfinite(h[i]) != 0;
      scale = fabs(h[i]) > scale ? fabs(h[i]) : scale;
    }
    if (!finite || !lc_psd_translation_free_(h, K, D, LC_PSD_TOL * scale)) {
      lc_psd_project_elem_ws(h, K, D, eps, w);
      continue;
    }
    lc_psd_reduce_(h, K, D, sj, r);
    for (int i = 0; i < m * m; ++i) w[i] = r[i];
    if (lc_psd_ldlt_check_(w, m, LC_PSD_TOL * scale)) continue;
    lc_psd_sym_copy_(h, n, h);
    const double is = 1.0 / scale;
    for (int i = 0; i < m * m; ++i) A[i * L + nb] = r[i] * is;
    sc[nb] = scale;
    who[nb++] = l;
  }
  if (!nb) return;
  for (int b = nb; b < L; ++b)
    for (int i = 0; i < m * m; ++i) A[i * L + b] = 0.0;
  const int ok = lc_psd_jacobi_lanes_(A, m, V) == 0;
  for (int b = 0; b < nb; ++b) {
    double *h = H[who[b]];
    if (!ok) {
      lc_psd_project_elem_ws(h, K, D, eps, w);
      continue;
    }
    for (int k = 0; k < m; ++k) {
      const double ev = A[(k * m + k) * L + b] * sc[b];
      if (ev < eps) lc_psd_lift_rank1_(h, K, D, sj, eps - ev, V + k * L + b, m * L, w);
    }
    lc_psd_lift_translations_(h, K, D, eps);
  }
}

#endif
