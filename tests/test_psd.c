/* test_psd.c - Check suite for engine/ad/lc_psd.h (per-element PSD projection,
 * Jacobi eigen-decomposition) and engine/ad/lc_rot.h (3x3 rotation
 * extraction). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "ad/lc_psd.h"
#include "ad/lc_rot.h"
#include "ad/lc_ad.h"

#define MAXN LC_PSD_MAXN

static unsigned long long rng = 0x1234abcdULL;

static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

static double max_abs(const double *a, int n) {
  double m = 0.0;
  for (int i = 0; i < n; ++i) m = fmax(m, fabs(a[i]));
  return m;
}

/* Random symmetric n x n matrix with entries in [-1, 1]. */
static void rand_sym(double *a, int n) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = urand(-1.0, 1.0);
}

/* Random orthogonal n x n matrix (modified Gram-Schmidt, twice, on random columns). */
static void rand_orth(double *q, int n) {
  for (int i = 0; i < n * n; ++i) q[i] = urand(-1.0, 1.0);
  for (int pass = 0; pass < 2; ++pass)
    for (int k = 0; k < n; ++k) {
      for (int j = 0; j < k; ++j) {
        double d = 0.0;
        for (int i = 0; i < n; ++i) d += q[i * n + j] * q[i * n + k];
        for (int i = 0; i < n; ++i) q[i * n + k] -= d * q[i * n + j];
      }
      double s = 0.0;
      for (int i = 0; i < n; ++i) s += q[i * n + k] * q[i * n + k];
      for (int i = 0; i < n; ++i) q[i * n + k] /= sqrt(s);
    }
}

/* a = Q diag(lam) Q^T, exactly symmetric. */
static void from_spectrum(double *a, const double *q, const double *lam, int n) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int k = 0; k < n; ++k) s += q[i * n + k] * lam[k] * q[j * n + k];
      a[i * n + j] = a[j * n + i] = s;
    }
}

/* Random Gram matrix B^T B of an r x n B (PSD, rank min(r, n)). */
static void rand_gram(double *a, int n, int r) {
  double b[(MAXN + 1) * MAXN];
  for (int i = 0; i < r * n; ++i) b[i] = urand(-1.0, 1.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int k = 0; k < r; ++k) s += b[k * n + i] * b[k * n + j];
      a[i * n + j] = a[j * n + i] = s;
    }
}

static int is_symmetric(const double *a, int n) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j)
      if (a[i * n + j] != a[j * n + i]) return 0;
  return 1;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* max |Q diag(ev) Q^T - A| and max |Q^T Q - I| of an eigen-decomposition. */
static void eig_errors(const double *a, int n, const double *ev, const double *q, double *rec,
                       double *orth) {
  *rec = *orth = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0.0, o = 0.0;
      for (int k = 0; k < n; ++k) {
        s += q[i * n + k] * ev[k] * q[j * n + k];
        o += q[k * n + i] * q[k * n + j];
      }
      *rec = fmax(*rec, fabs(s - a[i * n + j]));
      *orth = fmax(*orth, fabs(o - (i == j ? 1.0 : 0.0)));
    }
}

/* ---- Jacobi eigen-decomposition ---------------------------------------- */

START_TEST(test_eig_reconstructs) {
  static const double scales[] = {1.0, 1e-9, 1e9};
  for (int n = 1; n <= MAXN; ++n)
    for (int t = 0; t < 20; ++t) {
      double a[MAXN * MAXN], ev[MAXN], q[MAXN * MAXN], rec, orth;
      rand_sym(a, n);
      if (t % 4 == 1) { /* repeated eigenvalues */
        double lam[MAXN], qq[MAXN * MAXN];
        for (int k = 0; k < n; ++k) lam[k] = (double)(k % 3) - 1.0;
        rand_orth(qq, n);
        from_spectrum(a, qq, lam, n);
      } else if (t % 4 == 2) { /* rank-deficient PSD */
        rand_gram(a, n, (n + 1) / 2);
      }
      const double sc = scales[t % 3];
      for (int i = 0; i < n * n; ++i) a[i] *= sc;
      lc_sym_eig(a, n, ev, q);
      eig_errors(a, n, ev, q, &rec, &orth);
      ck_assert_msg(rec <= 1e-12 * max_abs(a, n * n), "n=%d t=%d rec %g", n, t, rec);
      ck_assert_msg(orth <= 1e-12, "n=%d t=%d orth %g", n, t, orth);
      for (int k = 1; k < n; ++k) ck_assert(ev[k - 1] <= ev[k]);
    }
}
END_TEST

START_TEST(test_eig_known_spectrum) {
  for (int n = 1; n <= MAXN; ++n) {
    double lam[MAXN], q0[MAXN * MAXN], a[MAXN * MAXN], ev[MAXN], q[MAXN * MAXN];
    for (int k = 0; k < n; ++k) lam[k] = urand(-3.0, 3.0);
    rand_orth(q0, n);
    from_spectrum(a, q0, lam, n);
    lc_sym_eig(a, n, ev, q);
    qsort(lam, (size_t)n, sizeof lam[0], cmp_double);
    for (int k = 0; k < n; ++k) ck_assert_msg(fabs(ev[k] - lam[k]) <= 1e-13 * 3.0, "n=%d", n);
  }
  /* diagonal and zero matrices need no rotation at all */
  double d[9] = {3, 0, 0, 0, -1, 0, 0, 0, 2}, ev[3], q[9];
  lc_sym_eig(d, 3, ev, q);
  ck_assert(ev[0] == -1.0 && ev[1] == 2.0 && ev[2] == 3.0);
  const double z[4] = {0, 0, 0, 0};
  lc_sym_eig(z, 2, ev, q);
  ck_assert(ev[0] == 0.0 && ev[1] == 0.0 && q[0] == 1.0 && q[3] == 1.0);
  /* out-of-range n: NaN */
  double big[(MAXN + 1) * (MAXN + 1)] = {0}, evb[MAXN + 1], qb[(MAXN + 1) * (MAXN + 1)];
  lc_sym_eig(big, MAXN + 1, evb, qb);
  ck_assert(isnan(evb[0]) && isnan(qb[0]));
}
END_TEST

/* ---- PSD projection ----------------------------------------------------- */

/* Checks a projected matrix p (from a with spectrum lam, eigenvectors q0). */
static void check_projection(const double *p, const double *q0, const double *lam, int n,
                             double eps, double scale) {
  double ev[MAXN], q[MAXN * MAXN], want[MAXN];
  ck_assert(is_symmetric(p, n));
  lc_sym_eig(p, n, ev, q);
  for (int k = 0; k < n; ++k) want[k] = lam[k] < eps ? eps : lam[k];
  qsort(want, (size_t)n, sizeof want[0], cmp_double);
  for (int k = 0; k < n; ++k)
    ck_assert_msg(fabs(ev[k] - want[k]) <= 1e-13 * scale, "n=%d k=%d got %.17g want %.17g", n,
                  k, ev[k], want[k]);
  ck_assert(ev[0] >= fmin(eps, 0.0) - 1e-13 * scale);
  for (int k = 0; k < n; ++k) { /* eigenvectors kept: p q0_k = max(lam_k, eps) q0_k */
    const double l = lam[k] < eps ? eps : lam[k];
    for (int i = 0; i < n; ++i) {
      double s = 0.0;
      for (int j = 0; j < n; ++j) s += p[i * n + j] * q0[j * n + k];
      ck_assert_msg(fabs(s - l * q0[i * n + k]) <= 1e-13 * scale, "n=%d k=%d", n, k);
    }
  }
  for (int t = 0; t < 20; ++t) { /* independent check: x^T P x >= eps |x|^2 - tiny */
    double x[MAXN], xx = 0.0, xpx = 0.0;
    for (int i = 0; i < n; ++i) x[i] = urand(-1.0, 1.0), xx += x[i] * x[i];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) xpx += x[i] * p[i * n + j] * x[j];
    ck_assert(xpx >= (fmin(eps, 0.0) - 1e-13 * scale) * xx);
    ck_assert(xpx >= eps * xx - 1e-12 * scale * xx);
  }
}

START_TEST(test_project_indefinite) {
  static const double epss[] = {0.0, 1e-8, 0.5};
  for (int n = 1; n <= MAXN; ++n)
    for (int t = 0; t < 12; ++t) {
      double lam[MAXN], q0[MAXN * MAXN], a[MAXN * MAXN];
      for (int k = 0; k < n; ++k) lam[k] = urand(-2.0, 2.0);
      lam[t % n] = -urand(0.1, 2.0); /* at least one clearly negative eigenvalue */
      if (t % 3 == 2 && n > 2) lam[(t + 1) % n] = 0.0;
      rand_orth(q0, n);
      from_spectrum(a, q0, lam, n);
      const double eps = epss[t % 3];
      ck_assert_int_eq(lc_psd_project(a, n, eps), 1);
      check_projection(a, q0, lam, n, eps, 2.0);
    }
}
END_TEST

START_TEST(test_project_random_symmetric) {
  for (int n = 2; n <= MAXN; ++n)
    for (int t = 0; t < 10; ++t) {
      double a[MAXN * MAXN], a0[MAXN * MAXN], ev[MAXN], q0[MAXN * MAXN];
      rand_sym(a, n);
      memcpy(a0, a, sizeof a);
      lc_sym_eig(a0, n, ev, q0);
      const int r = lc_psd_project(a, n, 1e-6);
      ck_assert_int_eq(r, ev[0] < 0.0 ? 1 : 0);
      if (r == 1) check_projection(a, q0, ev, n, 1e-6, max_abs(a0, n * n) * n);
    }
}
END_TEST

/* Asserts lc_psd_project leaves the n x n a unchanged, bit for bit, and returns 0. */
static void check_unchanged(const double *a, int n, double eps, const char *what) {
  double p[MAXN * MAXN];
  memcpy(p, a, sizeof(double) * (size_t)(n * n));
  ck_assert_msg(lc_psd_project(p, n, eps) == 0, "%s n=%d: PSD input was projected", what, n);
  ck_assert_msg(memcmp(p, a, sizeof(double) * (size_t)(n * n)) == 0, "%s n=%d changed", what, n);
}

START_TEST(test_psd_unchanged_gram) {
  for (int n = 1; n <= MAXN; ++n)
    for (int r = 1; r <= n + 1; ++r) { /* rank r < n: singular PSD */
      double a[MAXN * MAXN];
      rand_gram(a, n, r);
      check_unchanged(a, n, 1e-3, "gram");
      for (int i = 0; i < n * n; ++i) a[i] *= 1e-7; /* the test is scale free */
      check_unchanged(a, n, 1e-3, "scaled gram");
    }
  double z[MAXN * MAXN] = {0};
  check_unchanged(z, MAXN, 1.0, "zero");
  double lam[MAXN], q0[MAXN * MAXN], a[MAXN * MAXN]; /* eigenvalues in (0, eps): kept */
  for (int k = 0; k < 6; ++k) lam[k] = 1e-4 * (k + 1);
  rand_orth(q0, 6);
  from_spectrum(a, q0, lam, 6);
  check_unchanged(a, 6, 1.0, "small positive spectrum");
}
END_TEST

/* Graph Laplacian of a path plus a random PSD-preserving weighting: singular PSD. */
START_TEST(test_psd_unchanged_laplacian) {
  for (int n = 2; n <= MAXN; ++n) {
    double a[MAXN * MAXN] = {0};
    for (int i = 0; i + 1 < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        const double w = (j == i + 1 || (i + j) % 3 == 0) ? urand(0.1, 10.0) : 0.0;
        a[i * n + i] += w, a[j * n + j] += w, a[i * n + j] -= w, a[j * n + i] -= w;
      }
    check_unchanged(a, n, 1e-6, "laplacian");
  }
}
END_TEST

/* Hessian, by AD, of sum over the edges (i, j) of 1/2 k (|x_j - x_i| - L)^2
 * on nv vertices of dimension dim; scale < 1 compresses the springs. */
#define SPRING_HESS(T, NN)                                                                  \
  static void spring_hess_##T(const double *x, int dim, int nv, const int (*edges)[2],      \
                              int ne, const double *rest, double *h) {                      \
    T xs[NN], e = T##_c(0.0);                                                               \
    for (int i = 0; i < dim * nv; ++i) xs[i] = T##_var(x[i], i);                            \
    for (int k = 0; k < ne; ++k) {                                                          \
      T d2 = T##_c(0.0);                                                                    \
      for (int c = 0; c < dim; ++c)                                                         \
        d2 = T##_add(d2, T##_sq(T##_sub(xs[dim * edges[k][1] + c], xs[dim * edges[k][0] + c]))); \
      e = T##_add(e, T##_mulc(T##_sq(T##_subc(T##_sqrt(d2), rest[k])), 0.5 * (1.0 + k))); \
    }                                                                                       \
    for (int i = 0; i < NN; ++i)                                                            \
      for (int j = 0; j <= i; ++j) h[i * NN + j] = h[j * NN + i] = e.h[LC_TRI(i, j)];        \
  }
SPRING_HESS(lc_ad_h4, 4)
SPRING_HESS(lc_ad_h6, 6)
SPRING_HESS(lc_ad_h12, 12)

START_TEST(test_psd_unchanged_spring) {
  static const int edge[1][2] = {{0, 1}};
  static const int tet[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  for (int t = 0; t < 50; ++t) {
    double x[12], h[144], len[6], rest[6];
    for (int i = 0; i < 12; ++i) x[i] = urand(-1.0, 1.0);
    for (int k = 0; k < 6; ++k) {
      double d2 = 0.0;
      for (int c = 0; c < 3; ++c) d2 += pow(x[3 * tet[k][1] + c] - x[3 * tet[k][0] + c], 2);
      len[k] = sqrt(d2);
    }
    const double st = t < 40 ? urand(0.3, 0.999999) : 1.0; /* stretched (or at rest) */
    for (int k = 0; k < 6; ++k) rest[k] = st * len[k];
    spring_hess_lc_ad_h6(x, 3, 2, edge, 1, rest, h);
    check_unchanged(h, 6, 1e-4, "spring 3d");
    spring_hess_lc_ad_h12(x, 3, 4, tet, 6, rest, h);
    check_unchanged(h, 12, 1e-4, "tet springs");
    rest[0] = st * hypot(x[2] - x[0], x[3] - x[1]);
    spring_hess_lc_ad_h4(x, 2, 2, edge, 1, rest, h);
    check_unchanged(h, 4, 1e-4, "spring 2d");
  }
  for (int t = 0; t < 20; ++t) { /* compressed: indefinite, projected */
    double x[6], h[36], rest[1], lam[6], q0[36];
    for (int i = 0; i < 6; ++i) x[i] = urand(-1.0, 1.0);
    rest[0] = 2.0 * sqrt(pow(x[3] - x[0], 2) + pow(x[4] - x[1], 2) + pow(x[5] - x[2], 2));
    spring_hess_lc_ad_h6(x, 3, 2, edge, 1, rest, h);
    lc_sym_eig(h, 6, lam, q0);
    ck_assert(lam[0] < -0.1);
    ck_assert_int_eq(lc_psd_project(h, 6, 0.0), 1);
    check_projection(h, q0, lam, 6, 0.0, 10.0);
  }
}
END_TEST

START_TEST(test_project_edge_cases) {
  double a[1] = {-3.0};
  ck_assert_int_eq(lc_psd_project(a, 1, 0.25), 1);
  ck_assert(a[0] == 0.25);
  a[0] = 2.0;
  ck_assert_int_eq(lc_psd_project(a, 1, 5.0), 0);
  ck_assert(a[0] == 2.0);
  double b[4] = {1.0, NAN, NAN, 1.0};
  ck_assert_int_eq(lc_psd_project(b, 2, 0.0), -1);
  ck_assert(b[0] == 1.0 && isnan(b[1]));
  ck_assert_int_eq(lc_psd_project(a, 0, 0.0), -1);
  double big[(MAXN + 1) * (MAXN + 1)] = {-1.0};
  ck_assert_int_eq(lc_psd_project(big, MAXN + 1, 0.0), -1);
  ck_assert(big[0] == -1.0);
  double tiny_neg[4] = {1.0, 0.0, 0.0, -1e-6}; /* small but real negative eigenvalue */
  ck_assert_int_eq(lc_psd_project(tiny_neg, 2, 0.0), 1);
  ck_assert(tiny_neg[3] == 0.0 && tiny_neg[0] == 1.0);
  double offd[4] = {0.0, 1.0, 1.0, 0.0}; /* zero diagonal, indefinite */
  ck_assert_int_eq(lc_psd_project(offd, 2, 0.0), 1);
  ck_assert(fabs(offd[0] - 0.5) < 1e-15 && fabs(offd[1] - 0.5) < 1e-15);
}
END_TEST

/* ---- rotation extraction ------------------------------------------------ */

static void mat3_mul(const double *a, const double *b, double *c) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

static double det3(const double *a) {
  return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
         a[2] * (a[3] * a[7] - a[4] * a[6]);
}

static void rand_quat(double q[4]) {
  for (int i = 0; i < 4; ++i) q[i] = urand(-1.0, 1.0);
  lc_quat_normalize(q);
}

/* Asserts R is a rotation: R^T R = I and det R = +1 to 1e-12. */
static void check_rotation(const double *r) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double d = r[i] * r[j] + r[3 + i] * r[3 + j] + r[6 + i] * r[6 + j];
      ck_assert_msg(fabs(d - (i == j)) <= 1e-12, "not orthonormal: %g", d);
    }
  ck_assert(fabs(det3(r) - 1.0) <= 1e-12);
}

/* Random symmetric matrix with eigenvalues in [lo, hi]. */
static void rand_spd3(double *s, double lo, double hi) {
  double q[9], lam[3];
  rand_orth(q, 3);
  for (int k = 0; k < 3; ++k) lam[k] = urand(lo, hi);
  from_spectrum(s, q, lam, 3);
}

/* Extracts the rotation of a from a start q (copied) and returns it in r. */
static int extract(const double *a, const double *q0, int iters, double *r, double *qout) {
  double q[4] = {q0[0], q0[1], q0[2], q0[3]};
  const int it = lc_rot3_extract_iters(a, q, iters);
  ck_assert(fabs(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3] - 1.0) <= 1e-14);
  lc_quat_to_mat3(q, r);
  if (qout) memcpy(qout, q, sizeof q);
  return it;
}

START_TEST(test_rot_from_stretch) {
  static const double id[4] = {1, 0, 0, 0};
  for (int t = 0; t < 200; ++t) {
    double q[4], rot[9], s[9], a[9], r[9], r2[9];
    rand_quat(q);
    lc_quat_to_mat3(q, rot);
    check_rotation(rot);
    rand_spd3(s, 0.5, 2.0);
    mat3_mul(rot, s, a);
    extract(a, id, 300, r, NULL);
    check_rotation(r);
    for (int i = 0; i < 9; ++i) ck_assert_msg(fabs(r[i] - rot[i]) <= 1e-10, "t=%d", t);
    extract(rot, id, 300, r, NULL); /* pure rotation */
    for (int i = 0; i < 9; ++i) ck_assert(fabs(r[i] - rot[i]) <= 1e-12);
    ck_assert_int_eq(extract(rot, q, 300, r2, NULL), 0); /* exact start: no update */
    for (int i = 0; i < 9; ++i) a[i] *= 1e-30; /* scale free */
    extract(a, id, 300, r2, NULL);
    for (int i = 0; i < 9; ++i) ck_assert(fabs(r2[i] - rot[i]) <= 1e-10);
  }
}
END_TEST

START_TEST(test_rot_degenerate_inverted) {
  for (int t = 0; t < 200; ++t) {
    double q[4], u[9], v[9], sig[3], a[9], r[9], best = 0.0;
    rand_quat(q);
    rand_orth(u, 3);
    rand_orth(v, 3);
    const int kind = t % 4; /* rank 1, rank 2, inverted, zero */
    sig[0] = urand(0.5, 2.0);
    sig[1] = kind >= 1 && kind <= 2 ? urand(0.5, 2.0) : 0.0;
    sig[2] = kind == 2 ? -urand(0.05, 0.4) : 0.0;
    if (kind == 3) sig[0] = 0.0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        a[3 * i + j] = 0.0;
        for (int k = 0; k < 3; ++k) a[3 * i + j] += u[3 * i + k] * sig[k] * v[3 * j + k];
      }
    extract(a, q, 500, r, NULL);
    check_rotation(r);
    double obj = 0.0; /* tr(R^T A) must be maximal over SO(3) */
    for (int i = 0; i < 9; ++i) obj += r[i] * a[i];
    for (int k = 0; k < 300; ++k) {
      double qr[4], rr[9], o = 0.0;
      rand_quat(qr);
      lc_quat_to_mat3(qr, rr);
      for (int i = 0; i < 9; ++i) o += rr[i] * a[i];
      best = fmax(best, o);
    }
    ck_assert_msg(obj >= best - 1e-12, "t=%d obj %g < sampled %g", t, obj, best);
    /* known maximum: s0 + s1 -+ |s2|, minus when det(A) < 0 */
    const double want = sig[0] + sig[1] + (det3(u) * det3(v) > 0.0 ? sig[2] : -sig[2]);
    ck_assert_msg(fabs(obj - want) <= 1e-9, "t=%d kind %d obj %.15g want %.15g", t, kind, obj,
                  want);
  }
  double nanq[4] = {NAN, 0, 0, 0}, a[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  lc_rot3_extract(a, nanq, 10);
  ck_assert(nanq[0] == 1.0 && nanq[1] == 0.0);
  double q[4] = {0.5, 0.5, 0.5, 0.5}, bad[9] = {NAN, 0, 0, 0, 1, 0, 0, 0, 1};
  lc_rot3_extract(bad, q, 10);
  ck_assert(q[0] == 0.5 && q[3] == 0.5);
}
END_TEST

START_TEST(test_rot_warm_start) {
  double q[4], s[9], a[9], rot[9], r[9], qwarm[4];
  static const double id[4] = {1, 0, 0, 0};
  int cold = 0, warm = 0;
  rand_quat(q);
  rand_spd3(s, 0.7, 1.4);
  double axis[3] = {urand(-1, 1), urand(-1, 1), urand(-1, 1)};
  memcpy(qwarm, id, sizeof qwarm);
  for (int step = 0; step < 50; ++step) { /* a slowly rotating, stretching element */
    double dq[4] = {cos(0.01), sin(0.01) * axis[0], sin(0.01) * axis[1], sin(0.01) * axis[2]};
    double nq[4];
    lc_quat_normalize(dq);
    nq[0] = dq[0] * q[0] - dq[1] * q[1] - dq[2] * q[2] - dq[3] * q[3];
    nq[1] = dq[0] * q[1] + dq[1] * q[0] + dq[2] * q[3] - dq[3] * q[2];
    nq[2] = dq[0] * q[2] - dq[1] * q[3] + dq[2] * q[0] + dq[3] * q[1];
    nq[3] = dq[0] * q[3] + dq[1] * q[2] - dq[2] * q[1] + dq[3] * q[0];
    memcpy(q, nq, sizeof q);
    for (int i = 0; i < 9; ++i) s[i] += (i % 4 == 0) ? 0.002 : 0.0;
    lc_quat_to_mat3(q, rot);
    mat3_mul(rot, s, a);
    const int c = extract(a, id, 200, r, NULL);
    const int w = lc_rot3_extract_iters(a, qwarm, 200);
    double rw[9];
    lc_quat_to_mat3(qwarm, rw);
    for (int i = 0; i < 9; ++i) ck_assert(fabs(rw[i] - rot[i]) <= 1e-10 && fabs(r[i] - rot[i]) <= 1e-10);
    if (step > 0) ck_assert_msg(w <= c, "step %d warm %d cold %d", step, w, c);
    cold += c, warm += w;
  }
  ck_assert_msg(warm < cold && warm <= 3 * 50, "warm %d cold %d", warm, cold);
}
END_TEST

START_TEST(test_quat_to_mat) {
  for (int t = 0; t < 100; ++t) {
    double q[4], r[9], r2[9];
    for (int i = 0; i < 4; ++i) q[i] = urand(-3.0, 3.0);
    lc_quat_to_mat3(q, r);
    check_rotation(r);
    for (int i = 0; i < 4; ++i) q[i] = -q[i]; /* q and -q: same rotation */
    lc_quat_to_mat3(q, r2);
    for (int i = 0; i < 9; ++i) ck_assert(fabs(r[i] - r2[i]) <= 1e-15);
  }
  const double qz[4] = {cos(0.25), 0, 0, sin(0.25)}; /* 0.5 rad about z */
  double r[9];
  lc_quat_to_mat3(qz, r);
  ck_assert(fabs(r[0] - cos(0.5)) < 1e-15 && fabs(r[3] - sin(0.5)) < 1e-15);
  ck_assert(fabs(r[1] + sin(0.5)) < 1e-15 && r[8] == 1.0);
}
END_TEST

/* A random translation-free symmetric matrix over K entities of dimension D:
 * B^T S B with B the edge-difference map and S symmetric indefinite. */
static void rand_translation_free(double *h, int K, int D) {
  const int n = K * D, m = (K - 1) * D;
  double s[LC_PSD_MAXN * LC_PSD_MAXN], b[LC_PSD_MAXN * LC_PSD_MAXN];
  rand_sym(s, m);
  for (int i = 0; i < m * n; ++i) b[i] = 0.0;
  for (int j = 0; j < K - 1; ++j)
    for (int d = 0; d < D; ++d) {
      b[(j * D + d) * n + (j + 1) * D + d] = 1.0; /* x_{j+1} - x_0 */
      b[(j * D + d) * n + d] = -1.0;
    }
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) {
      double acc = 0.0;
      for (int p = 0; p < m; ++p)
        for (int q = 0; q < m; ++q) acc += b[p * n + i] * s[p * m + q] * b[q * n + k];
      h[i * n + k] = acc;
    }
}

START_TEST(test_project_elem_matches_full) {
  static const int shapes[][2] = {{2, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3}, {4, 3}, {3, 4}, {4, 2}};
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; ++sh)
    for (int trial = 0; trial < 20; ++trial) {
      const int K = shapes[sh][0], D = shapes[sh][1], n = K * D;
      double a[LC_PSD_MAXN * LC_PSD_MAXN], b[LC_PSD_MAXN * LC_PSD_MAXN];
      rand_translation_free(a, K, D);
      for (int i = 0; i < n * n; ++i) b[i] = a[i];
      const double sc = fmax(max_abs(a, n * n), 1e-3);
      const int ra = lc_psd_project_elem(a, K, D, 1e-3), rb = lc_psd_project(b, n, 1e-3);
      ck_assert_int_eq(ra, rb);
      for (int i = 0; i < n * n; ++i) ck_assert_double_le(fabs(a[i] - b[i]), 1e-12 * sc);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) ck_assert_double_eq(a[i * n + j], a[j * n + i]);
    }
  /* not translation-free: falls back to the full projection, same result */
  double a[36], b[36];
  rand_sym(a, 6);
  for (int i = 0; i < 36; ++i) b[i] = a[i];
  ck_assert_int_eq(lc_psd_project_elem(a, 2, 3, 1e-9), lc_psd_project(b, 6, 1e-9));
  ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
}
END_TEST

/* A random translation-free PSD matrix over K entities of dimension D, of
 * rank r <= (K-1)D: B^T G B with G a Gram matrix. */
static void rand_translation_free_psd(double *h, int K, int D, int r) {
  const int n = K * D, m = (K - 1) * D;
  double g[LC_PSD_MAXN * LC_PSD_MAXN];
  rand_gram(g, m, r);
  for (int i = 0; i < n * n; ++i) h[i] = 0.0;
  for (int i = 0; i < n; ++i) /* B^T G B entry by entry, B: x_{j+1} - x_0 */
    for (int k = 0; k < n; ++k) {
      double acc = 0.0;
      for (int p = 0; p < m; ++p)
        for (int q = 0; q < m; ++q) {
          const int dp = p % D, dq = q % D, jp = p / D + 1, jq = q / D + 1;
          const double bi = i == jp * D + dp ? 1.0 : (i == dp ? -1.0 : 0.0);
          const double bk = k == jq * D + dq ? 1.0 : (k == dq ? -1.0 : 0.0);
          acc += bi * g[p * m + q] * bk;
        }
      h[i * n + k] = acc;
    }
}

/* Element matrix `kind` of a batch: 0 indefinite translation-free, 1 PSD
 * translation-free (rank deficient), 2 not translation-free, 3 a repeated
 * negative eigenvalue, 4 zero, 5 a NaN entry; scaled by sc. */
static void batch_matrix(double *h, int K, int D, int kind, double sc) {
  const int n = K * D, m = (K - 1) * D;
  if (kind == 0) rand_translation_free(h, K, D);
  if (kind == 1) rand_translation_free_psd(h, K, D, m > 1 ? m - 1 : 1);
  if (kind == 2) rand_sym(h, n);
  if (kind == 3) { /* -1 twice in the reduced block: B^T S B, S = Q diag(-1, -1, ...) Q^T */
    double lam[LC_PSD_MAXN], q[LC_PSD_MAXN * LC_PSD_MAXN], s[LC_PSD_MAXN * LC_PSD_MAXN];
    for (int k = 0; k < m; ++k) lam[k] = k < 2 ? -1.0 : urand(0.5, 2.0);
    rand_orth(q, m);
    from_spectrum(s, q, lam, m);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k) {
        double acc = 0.0;
        for (int p = 0; p < m; ++p)
          for (int r = 0; r < m; ++r) {
            const double bi = i == (p / D + 1) * D + p % D ? 1.0 : (i == p % D ? -1.0 : 0.0);
            const double bk = k == (r / D + 1) * D + r % D ? 1.0 : (k == r % D ? -1.0 : 0.0);
            acc += bi * s[p * m + r] * bk;
          }
        h[i * n + k] = acc;
      }
  }
  if (kind == 4) memset(h, 0, sizeof(double) * (size_t)(n * n));
  for (int i = 0; i < n * n; ++i) h[i] *= sc;
  if (kind == 5) h[n + 1] = NAN;
}

START_TEST(test_project_batch_matches_elem) {
  static const int shapes[][2] = {{2, 1}, {2, 3}, {3, 2}, {3, 3}, {4, 3}, {3, 4}, {2, 6}, {1, 3}};
  static const double scales[] = {1.0, 1e-150, 1e150, 3e4};
  for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; ++sh)
    for (int nl = 1; nl <= LC_PSD_LANES; ++nl)
      for (int trial = 0; trial < 6; ++trial) {
        const int K = shapes[sh][0], D = shapes[sh][1], n = K * D;
        double a[LC_PSD_LANES][LC_PSD_MAXN * LC_PSD_MAXN], b[LC_PSD_LANES][LC_PSD_MAXN * LC_PSD_MAXN];
        double *hp[LC_PSD_LANES], sc[LC_PSD_LANES], in_max[LC_PSD_LANES];
        int kind[LC_PSD_LANES];
        for (int l = 0; l < nl; ++l) {
          kind[l] = (int)urand(0.0, 6.0) % 6;
          if (l == 0) kind[l] = trial % 4 == 3 ? 3 : 0;
          sc[l] = scales[(trial + l) % 4];
          batch_matrix(a[l], K, D, kind[l], sc[l]);
          memcpy(b[l], a[l], sizeof a[l]);
          in_max[l] = max_abs(a[l], n * n);
          hp[l] = a[l];
        }
        lc_psd_project_batch(hp, nl, K, D, 1e-9 * sc[0]);
        for (int l = 0; l < nl; ++l) {
          const int rb = lc_psd_project_elem(b[l], K, D, 1e-9 * sc[0]);
          if (rb != 1) { /* PSD, or non-finite: left as lc_psd_project_elem leaves it */
            ck_assert_msg(memcmp(a[l], b[l], sizeof(double) * (size_t)(n * n)) == 0 || kind[l] == 5,
                          "K=%d D=%d lane %d kind %d", K, D, l, kind[l]);
            continue;
          }
          const double m = fmax(in_max[l], 1e-9 * sc[0]); /* relative to the input: the
                                                        projection cancels */
          for (int i = 0; i < n * n; ++i)
            ck_assert_msg(fabs(a[l][i] - b[l][i]) <= 1e-12 * m, "K=%d D=%d lane %d kind %d: %g vs %g",
                          K, D, l, kind[l], a[l][i], b[l][i]);
          ck_assert(is_symmetric(a[l], n));
        }
      }
}
END_TEST

/* The lane Jacobi on a known spectrum with a double eigenvalue, lanes of
 * different matrices, and an unused (zero) lane. */
START_TEST(test_jacobi_lanes_known_spectrum) {
  for (int m = 1; m <= LC_PSD_MAXN; ++m) {
    double A[LC_PSD_MAXN * LC_PSD_MAXN * LC_PSD_LANES], V[LC_PSD_MAXN * LC_PSD_MAXN * LC_PSD_LANES];
    double a[LC_PSD_LANES][LC_PSD_MAXN * LC_PSD_MAXN], lam[LC_PSD_LANES][LC_PSD_MAXN];
    const int L = LC_PSD_LANES;
    for (int l = 0; l < L - 1; ++l) {
      double q[LC_PSD_MAXN * LC_PSD_MAXN];
      for (int k = 0; k < m; ++k) lam[l][k] = urand(-1.0, 1.0);
      if (m > 2) lam[l][1] = lam[l][0];
      rand_orth(q, m);
      from_spectrum(a[l], q, lam[l], m);
      for (int i = 0; i < m * m; ++i) A[i * L + l] = a[l][i];
    }
    for (int i = 0; i < m * m; ++i) A[i * L + L - 1] = 0.0;
    ck_assert_int_eq(lc_psd_jacobi_lanes_(A, m, V), 0);
    for (int l = 0; l < L - 1; ++l) {
      double ev[LC_PSD_MAXN], q[LC_PSD_MAXN * LC_PSD_MAXN], rec, orth;
      for (int k = 0; k < m; ++k) ev[k] = A[(k * m + k) * L + l];
      for (int i = 0; i < m * m; ++i) q[i] = V[i * L + l];
      eig_errors(a[l], m, ev, q, &rec, &orth);
      ck_assert_msg(rec <= 1e-14 && orth <= 1e-14, "m=%d lane %d: rec %g orth %g", m, l, rec, orth);
      qsort(ev, (size_t)m, sizeof ev[0], cmp_double);
      qsort(lam[l], (size_t)m, sizeof ev[0], cmp_double);
      for (int k = 0; k < m; ++k) ck_assert_double_eq_tol(ev[k], lam[l][k], 1e-14);
    }
    for (int k = 0; k < m; ++k) ck_assert_double_eq(A[(k * m + k) * L + L - 1], 0.0);
  }
}
END_TEST

static Suite *psd_suite(void) {
  Suite *s = suite_create("psd");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_eig_reconstructs);
  tcase_add_test(tc, test_eig_known_spectrum);
  tcase_add_test(tc, test_project_indefinite);
  tcase_add_test(tc, test_project_random_symmetric);
  tcase_add_test(tc, test_psd_unchanged_gram);
  tcase_add_test(tc, test_psd_unchanged_laplacian);
  tcase_add_test(tc, test_psd_unchanged_spring);
  tcase_add_test(tc, test_project_edge_cases);
  tcase_add_test(tc, test_project_elem_matches_full);
  tcase_add_test(tc, test_project_batch_matches_elem);
  tcase_add_test(tc, test_jacobi_lanes_known_spectrum);
  tcase_add_test(tc, test_rot_from_stretch);
  tcase_add_test(tc, test_rot_degenerate_inverted);
  tcase_add_test(tc, test_rot_warm_start);
  tcase_add_test(tc, test_quat_to_mat);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(psd_suite()); }
