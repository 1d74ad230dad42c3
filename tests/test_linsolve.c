/* test_linsolve.c - Check suite for engine/solvers/linsolve.h: CHOLMOD
 * Cholesky (accuracy, symbolic reuse, shifted retries), PCG with Jacobi and
 * block-Jacobi preconditioners, matrix-free (truncated) CG, argument errors,
 * determinism across thread counts, and a real projected Hessian (W2 spot). */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "lc_error.h"
#include "problem.h"
#include "solvers/condense.h"
#include "solvers/linsolve.h"
#include "workloads.h"

static unsigned long long rng = 0x5eed1234ULL;

static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

/* An owned CSR matrix (full symmetric storage). */
typedef struct {
  int32_t n;
  int64_t nnz, cap;
  int32_t *rowptr, *col;
  double *val;
} tcsr;

static void tcsr_init(tcsr *m, int32_t n, int64_t cap) {
  m->n = n;
  m->nnz = 0;
  m->cap = cap;
  m->rowptr = calloc((size_t)n + 1, sizeof *m->rowptr);
  m->col = malloc((size_t)cap * sizeof *m->col);
  m->val = malloc((size_t)cap * sizeof *m->val);
}

/* Appends (row, c, v); rows must be filled in order, columns sorted. */
static void tcsr_push(tcsr *m, int32_t row, int32_t c, double v) {
  ck_assert_int_lt(m->nnz, m->cap);
  m->col[m->nnz] = c;
  m->val[m->nnz] = v;
  m->nnz++;
  m->rowptr[row + 1] = (int32_t)m->nnz;
}

/* Closes rows that received no entry (rowptr stays monotone). */
static void tcsr_finish(tcsr *m) {
  for (int32_t i = 0; i < m->n; ++i)
    if (m->rowptr[i + 1] < m->rowptr[i]) m->rowptr[i + 1] = m->rowptr[i];
}

static void tcsr_free(tcsr *m) {
  free(m->rowptr);
  free(m->col);
  free(m->val);
}

static lc_csr tcsr_view(const tcsr *m) {
  lc_csr v = {m->n, m->n, m->nnz, m->rowptr, m->col, m->val, 0};
  return v;
}

/* 5-point Laplacian of a g x g grid scaled by `off` off the diagonal
 * (off = 1: graph Laplacian), plus `shift` on the diagonal. */
static void grid_laplacian(tcsr *m, int g, double shift) {
  const int32_t n = g * g;
  tcsr_init(m, n, 5 * (int64_t)n);
  for (int i = 0; i < g; ++i)
    for (int j = 0; j < g; ++j) {
      const int32_t r = i * g + j;
      const int deg = (i > 0) + (i < g - 1) + (j > 0) + (j < g - 1);
      m->rowptr[r + 1] = m->rowptr[r];
      if (i > 0) tcsr_push(m, r, r - g, -1.0);
      if (j > 0) tcsr_push(m, r, r - 1, -1.0);
      tcsr_push(m, r, r, deg + shift);
      if (j < g - 1) tcsr_push(m, r, r + 1, -1.0);
      if (i < g - 1) tcsr_push(m, r, r + g, -1.0);
    }
}

/* CSR of a dense symmetric n x n matrix (nonzeros plus the diagonal). */
static void from_dense(tcsr *m, const double *a, int32_t n) {
  int64_t nnz = 0;
  for (int64_t k = 0; k < (int64_t)n * n; ++k) nnz += a[k] != 0.0;
  tcsr_init(m, n, nnz + n);
  for (int32_t i = 0; i < n; ++i) {
    m->rowptr[i + 1] = m->rowptr[i];
    for (int32_t j = 0; j < n; ++j)
      if (a[(int64_t)i * n + j] != 0.0 || i == j) tcsr_push(m, i, j, a[(int64_t)i * n + j]);
  }
}

/* Random sparse SPD matrix: ~per_row random couplings, diagonally dominant. */
static void random_spd(tcsr *m, int32_t n, int per_row) {
  double *a = calloc((size_t)n * n, sizeof *a);
  for (int32_t i = 0; i < n; ++i)
    for (int k = 0; k < per_row; ++k) {
      const int32_t j = (int32_t)urand(0.0, n);
      if (j == i) continue;
      const double v = urand(-1.0, 1.0);
      a[(int64_t)i * n + j] = a[(int64_t)j * n + i] = v;
    }
  for (int32_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int32_t j = 0; j < n; ++j) s += j == i ? 0.0 : fabs(a[(int64_t)i * n + j]);
    a[(int64_t)i * n + i] = s + urand(0.01, 0.5);
  }
  from_dense(m, a, n);
  free(a);
}

/* Blocks of 3 strongly coupled DOFs on a grid Laplacian: kron(L + I, I3) +
 * blockdiag(C), C = 30 (J3 - 0.9 I3)-like, so Jacobi struggles. */
static void block_coupled(tcsr *m, int g) {
  tcsr lap;
  grid_laplacian(&lap, g, 1.0);
  const int32_t nv = lap.n, n = 3 * nv;
  tcsr_init(m, n, 3 * lap.nnz + 6 * (int64_t)nv);
  for (int32_t v = 0; v < nv; ++v)
    for (int c = 0; c < 3; ++c) {
      const int32_t r = 3 * v + c;
      m->rowptr[r + 1] = m->rowptr[r];
      for (int32_t k = lap.rowptr[v]; k < lap.rowptr[v + 1]; ++k) {
        const int32_t w = lap.col[k];
        if (w != v) {
          tcsr_push(m, r, 3 * w + c, lap.val[k]);
          continue;
        }
        for (int d = 0; d < 3; ++d) /* diagonal block: Laplacian diagonal + coupling */
          tcsr_push(m, r, 3 * v + d, (d == c ? lap.val[k] + 30.0 : 0.0) + 29.0 * (d != c));
      }
    }
  tcsr_free(&lap);
}

static void rand_vec(double *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = urand(-1.0, 1.0);
}

static void spmv(const tcsr *m, const double *x, double *y) {
  for (int32_t i = 0; i < m->n; ++i) {
    double s = 0.0;
    for (int32_t k = m->rowptr[i]; k < m->rowptr[i + 1]; ++k) s += m->val[k] * x[m->col[k]];
    y[i] = s;
  }
}

static double norm(const double *v, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += v[i] * v[i];
  return sqrt(s);
}

/* |a - b| / |b|. */
static double rel_err(const double *a, const double *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return sqrt(s) / norm(b, n);
}

/* |b - (A + shift I) x| / |b|. */
static double residual(const tcsr *m, const double *x, const double *b, double shift) {
  double *y = malloc((size_t)m->n * sizeof *y);
  spmv(m, x, y);
  for (int32_t i = 0; i < m->n; ++i) y[i] = b[i] - y[i] - shift * x[i];
  const double r = norm(y, m->n) / norm(b, m->n);
  free(y);
  return r;
}

/* Solves m x = b (b = m x_true for a random x_true) with kind and options;
 * returns the relative error of x; fills *st. */
static double solve_known(lc_lin_kind kind, const tcsr *m, const lc_lin_opts *o, lc_lin_stats *st) {
  const int32_t n = m->n;
  double *xt = malloc(n * sizeof *xt), *b = malloc(n * sizeof *b), *x = malloc(n * sizeof *x);
  rand_vec(xt, n);
  spmv(m, xt, b);
  lc_linsolve *s = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_linsolve_create(kind, n, &s, &err) == LC_OK, "%s", err.msg);
  lc_csr A = tcsr_view(m);
  ck_assert_msg(lc_linsolve_solve(s, &A, b, x, o, st, &err) == LC_OK, "%s", err.msg);
  ck_assert_double_le(fabs(st->residual - residual(m, x, b, 0.0)), 1e-6 * st->residual + 1e-14);
  const double e = rel_err(x, xt, n);
  lc_linsolve_destroy(s);
  free(xt);
  free(b);
  free(x);
  return e;
}

/* ---- Cholesky --------------------------------------------------------- */

START_TEST(test_cholmod_accuracy) {
  tcsr lap, rnd;
  lc_lin_stats st;
  grid_laplacian(&lap, 30, 0.05);
  random_spd(&rnd, 400, 4);
  ck_assert_double_lt(solve_known(LC_LIN_CHOLMOD, &lap, NULL, &st), 1e-10);
  ck_assert_int_eq(st.analyzed, 1);
  ck_assert_int_eq(st.iters, 0);
  ck_assert_double_eq(st.reg_used, 0.0);
  ck_assert_double_lt(st.residual, 1e-13);
  ck_assert(st.t_analyze >= 0.0 && st.t_factor >= 0.0 && st.t_solve >= 0.0);
  ck_assert_double_lt(solve_known(LC_LIN_CHOLMOD, &rnd, NULL, &st), 1e-10);
  tcsr_free(&lap);
  tcsr_free(&rnd);
}
END_TEST

/* Factor once, back-substitute several columns: supernodal and simplicial
 * factors give the same X; switching kind and then lc_linsolve_solve works;
 * no factor or a non-Cholesky solver is refused. */
static void factor_backsolve_case(lc_linsolve *s, const tcsr *m, int simplicial, const double *B, double *X) {
  lc_lin_opts o = {0};
  lc_lin_stats st;
  lc_error err = {0};
  o.simplicial = simplicial;
  lc_csr A = tcsr_view(m);
  ck_assert_msg(lc_linsolve_factor(s, &A, &o, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_linsolve_backsolve(s, B, 3, X, &err) == LC_OK, "%s", err.msg);
  for (int c = 0; c < 3; ++c) ck_assert_double_lt(residual(m, X + (size_t)c * m->n, B + (size_t)c * m->n, 0.0), 1e-12);
}

START_TEST(test_factor_backsolve) {
  tcsr lap;
  grid_laplacian(&lap, 25, 0.05);
  const int32_t n = lap.n;
  double *B = malloc(3 * (size_t)n * sizeof *B), *X1 = malloc(3 * (size_t)n * sizeof *X1);
  double *X2 = malloc(3 * (size_t)n * sizeof *X2), *x = malloc((size_t)n * sizeof *x);
  rand_vec(B, 3 * (int64_t)n);
  lc_linsolve *s = NULL, *pcg = NULL;
  lc_error err = {0};
  lc_lin_stats st;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &s, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_backsolve(s, B, 3, X1, &err), LC_EINVAL); /* no factor yet */
  factor_backsolve_case(s, &lap, 0, B, X1);
  factor_backsolve_case(s, &lap, 1, B, X2);
  ck_assert_double_lt(rel_err(X2, X1, 3 * (int64_t)n), 1e-12);
  ck_assert_int_eq(lc_linsolve_backsolve(s, B, 0, X1, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_backsolve(s, B, 3, (double *)B, &err), LC_EINVAL);
  lc_csr A = tcsr_view(&lap);
  ck_assert_msg(lc_linsolve_solve(s, &A, B, x, NULL, &st, &err) == LC_OK, "%s", err.msg); /* back to supernodal */
  ck_assert_double_lt(rel_err(x, X1, n), 1e-12);
  ck_assert_int_eq(st.analyzed, 1);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, n, &pcg, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_factor(pcg, &A, NULL, NULL, &err), LC_EINVAL);
  ck_assert(strstr(err.msg, "cholmod") != NULL);
  lc_linsolve_destroy(pcg);
  lc_linsolve_destroy(s);
  tcsr_free(&lap);
  free(B);
  free(X1);
  free(X2);
  free(x);
}
END_TEST

/* A simplicial factor above LC_LIN_PAR_MIN rows backsolves its columns on
 * two threads (two CHOLMOD Commons): the same columns as one at a time. */
START_TEST(test_backsolve_split) {
  tcsr lap;
  grid_laplacian(&lap, 130, 0.05); /* 16 900 rows */
  const int32_t n = lap.n;
  double *B = malloc(3 * (size_t)n * sizeof *B), *X = malloc(3 * (size_t)n * sizeof *X);
  double *x1 = malloc((size_t)n * sizeof *x1);
  rand_vec(B, 3 * (int64_t)n);
  lc_linsolve *s = NULL;
  lc_error err = {0};
  lc_lin_opts o = {0};
  o.simplicial = 1;
  lc_csr A = tcsr_view(&lap);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &s, &err), LC_OK);
  ck_assert_msg(lc_linsolve_factor(s, &A, &o, NULL, &err) == LC_OK, "%s", err.msg);
  for (int round = 0; round < 2; ++round) { /* the second reuses both Commons' buffers */
    ck_assert_msg(lc_linsolve_backsolve(s, B, 3, X, &err) == LC_OK, "%s", err.msg);
    for (int c = 0; c < 3; ++c) {
      ck_assert_msg(lc_linsolve_backsolve(s, B + (size_t)c * n, 1, x1, &err) == LC_OK, "%s", err.msg);
      ck_assert_double_lt(rel_err(X + (size_t)c * n, x1, n), 1e-14);
      ck_assert_double_lt(residual(&lap, x1, B + (size_t)c * n, 0.0), 1e-12);
    }
  }
  lc_linsolve_destroy(s);
  tcsr_free(&lap);
  free(B);
  free(X);
  free(x1);
}
END_TEST

/* Tridiagonal and arrow matrices of size n: both have nnz = 3 n - 2. */
static void tridiag_into(tcsr *m, double d) {
  m->nnz = 0;
  for (int32_t i = 0; i < m->n; ++i) {
    m->rowptr[i + 1] = m->rowptr[i];
    if (i > 0) tcsr_push(m, i, i - 1, -1.0);
    tcsr_push(m, i, i, d);
    if (i < m->n - 1) tcsr_push(m, i, i + 1, -1.0);
  }
}

static void arrow_into(tcsr *m) {
  m->nnz = 0;
  for (int32_t i = 0; i < m->n; ++i) {
    m->rowptr[i + 1] = m->rowptr[i];
    if (i == 0) {
      tcsr_push(m, 0, 0, (double)m->n);
      for (int32_t j = 1; j < m->n; ++j) tcsr_push(m, 0, j, 0.5);
    } else {
      tcsr_push(m, i, 0, 0.5);
      tcsr_push(m, i, i, 2.0);
    }
  }
}

/* One Cholesky solve of a pattern of generation gen (0: unknown) with the
 * known-solution check; returns st.analyzed. */
static int reuse_solve_gen(lc_linsolve *s, const tcsr *m, const double *vals, uint64_t gen) {
  const int32_t n = m->n;
  double xt[64] = {0}, b[64] = {0}, x[64] = {0};
  tcsr mv = *m;
  mv.val = (double *)vals;
  rand_vec(xt, n);
  spmv(&mv, xt, b);
  lc_csr A = tcsr_view(&mv);
  A.gen = gen;
  lc_lin_stats st;
  lc_error err;
  ck_assert_msg(lc_linsolve_solve(s, &A, b, x, NULL, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_double_lt(rel_err(x, xt, n), 1e-12);
  return st.analyzed;
}

/* The same for a pattern of unknown generation (its contents are compared). */
static int reuse_solve(lc_linsolve *s, const tcsr *m, const double *vals) { return reuse_solve_gen(s, m, vals, 0); }

START_TEST(test_cholmod_reuse) {
  const int32_t n = 50;
  tcsr m, m2;
  lc_linsolve *s = NULL;
  tcsr_init(&m, n, 3 * n);
  tcsr_init(&m2, n, 3 * n);
  tridiag_into(&m, 3.0);
  tridiag_into(&m2, 3.0);
  double *vals2 = malloc((size_t)m.nnz * sizeof *vals2);
  for (int32_t i = 0; i < n; ++i)
    for (int32_t k = m.rowptr[i]; k < m.rowptr[i + 1]; ++k)
      vals2[k] = m.val[k] * (m.col[k] == i ? 1.5 : 0.7);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &s, NULL), LC_OK);
  ck_assert_int_eq(reuse_solve(s, &m, m.val), 1);
  ck_assert_int_eq(reuse_solve(s, &m, vals2), 0); /* same pattern, new values */
  ck_assert_int_eq(reuse_solve(s, &m, m.val), 0);
  ck_assert_int_eq(reuse_solve(s, &m2, m2.val), 1); /* equal pattern, other arrays */
  ck_assert_int_eq(reuse_solve(s, &m2, m2.val), 0);
  lc_linsolve_reset(s);
  ck_assert_int_eq(reuse_solve(s, &m2, m2.val), 1);
  arrow_into(&m2); /* another pattern in the same buffers, same nnz */
  ck_assert_int_eq(m2.nnz, m.nnz);
  ck_assert_int_eq(reuse_solve(s, &m2, m2.val), 1);
  ck_assert_int_eq(reuse_solve(s, &m2, m2.val), 0);
  lc_linsolve_destroy(s);
  free(vals2);
  tcsr_free(&m);
  tcsr_free(&m2);
}
END_TEST

/* A pattern with a generation is reused while the generation and the arrays
 * stay, whatever they hold, and analysed again when either changes; one of
 * unknown generation after it is analysed again, then compared by contents. */
START_TEST(test_cholmod_reuse_by_generation) {
  const int32_t n = 40;
  tcsr m;
  lc_linsolve *s = NULL;
  tcsr_init(&m, n, 3 * n);
  tridiag_into(&m, 3.0);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &s, NULL), LC_OK);
  ck_assert_int_eq(reuse_solve_gen(s, &m, m.val, 7), 1);
  ck_assert_int_eq(reuse_solve_gen(s, &m, m.val, 7), 0);
  arrow_into(&m); /* a new pattern in the same buffers, announced by a new generation */
  ck_assert_int_eq(reuse_solve_gen(s, &m, m.val, 8), 1);
  ck_assert_int_eq(reuse_solve_gen(s, &m, m.val, 8), 0);
  ck_assert_int_eq(reuse_solve(s, &m, m.val), 1); /* unknown generation: analysed, then by contents */
  ck_assert_int_eq(reuse_solve(s, &m, m.val), 0);
  ck_assert_int_eq(reuse_solve_gen(s, &m, m.val, 9), 1);
  lc_linsolve_destroy(s);
  tcsr_free(&m);
}
END_TEST

/* Solves m x = b with Cholesky and options o; returns the status. */
static int chol_status(const tcsr *m, const double *b, double *x, const lc_lin_opts *o,
                       lc_lin_stats *st, lc_error *err) {
  lc_linsolve *s = NULL;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, m->n, &s, NULL), LC_OK);
  lc_csr A = tcsr_view(m);
  const int rc = lc_linsolve_solve(s, &A, b, x, o, st, err);
  lc_linsolve_destroy(s);
  return rc;
}

START_TEST(test_cholmod_shift) {
  const int g = 12, n = g * g;
  tcsr lap, sing;
  lc_lin_stats st;
  lc_error err;
  double xt[145] = {0}, b[145] = {0}, x[145] = {0};
  /* a user shift: (A + reg I) x = b */
  grid_laplacian(&lap, g, 0.1);
  rand_vec(b, n);
  lc_lin_opts o = {0};
  o.reg = 1e-3;
  ck_assert_int_eq(chol_status(&lap, b, x, &o, &st, &err), LC_OK);
  ck_assert_double_eq(st.reg_used, 1e-3);
  ck_assert_double_lt(residual(&lap, x, b, 1e-3), 1e-13);
  ck_assert_double_gt(st.residual, 1e-6); /* reported against A itself */
  tcsr_free(&lap);
  /* PSD singular (graph Laplacian plus an exactly zero row): the first
   * retry (1e-8 max|diag|) succeeds; b in the range of A */
  grid_laplacian(&lap, g, 0.0);
  tcsr_init(&sing, n + 1, lap.nnz + 1);
  memcpy(sing.rowptr, lap.rowptr, (n + 1) * sizeof *lap.rowptr);
  memcpy(sing.col, lap.col, lap.nnz * sizeof *lap.col);
  memcpy(sing.val, lap.val, lap.nnz * sizeof *lap.val);
  sing.nnz = lap.nnz;
  tcsr_push(&sing, n, n, 0.0);
  rand_vec(xt, n);
  xt[n] = 0.0;
  spmv(&sing, xt, b);
  ck_assert_int_eq(chol_status(&sing, b, x, NULL, &st, &err), LC_OK);
  ck_assert_double_eq_tol(st.reg_used, 4e-8, 1e-20);
  ck_assert_double_lt(st.residual, 1e-5);
  /* pure graph Laplacian: succeeds, whatever shift it needs */
  spmv(&lap, xt, b);
  ck_assert_int_eq(chol_status(&lap, b, x, NULL, &st, &err), LC_OK);
  ck_assert(st.reg_used >= 0.0 && st.reg_used <= 4e-7);
  ck_assert_double_lt(st.residual, 1e-4);
  tcsr_free(&lap);
  tcsr_free(&sing);
}
END_TEST

START_TEST(test_cholmod_indefinite) {
  const int32_t n = 10;
  tcsr m;
  lc_lin_stats st;
  lc_error err = {0};
  double b[10] = {0}, x[10] = {0};
  rand_vec(b, n);
  /* slightly indefinite: fixed by the first retry */
  tcsr_init(&m, n, n);
  for (int32_t i = 0; i < n; ++i) tcsr_push(&m, i, i, i == 3 ? -1e-9 : 1.0);
  ck_assert_int_eq(chol_status(&m, b, x, NULL, &st, &err), LC_OK);
  ck_assert_double_eq_tol(st.reg_used, 1e-8, 1e-22);
  ck_assert_double_eq_tol(x[3], b[3] / (1e-8 - 1e-9), 1e-6 * fabs(x[3]));
  /* -I: no shift up to 0.1 max|diag| helps */
  for (int32_t i = 0; i < n; ++i) m.val[i] = -1.0;
  ck_assert_int_eq(chol_status(&m, b, x, NULL, &st, &err), LC_ENUMERIC);
  ck_assert_int_eq(err.code, LC_ENUMERIC);
  ck_assert_ptr_nonnull(strstr(err.msg, "positive definite"));
  ck_assert_double_eq_tol(st.reg_used, 0.1, 1e-12);
  /* non-finite values */
  for (int32_t i = 0; i < n; ++i) m.val[i] = i == 2 ? NAN : 1.0;
  ck_assert_int_eq(chol_status(&m, b, x, NULL, &st, &err), LC_ENUMERIC);
  tcsr_free(&m);
}
END_TEST

/* ---- PCG ------------------------------------------------------------------ */

START_TEST(test_pcg) {
  tcsr lap, rnd;
  lc_lin_stats st;
  lc_lin_opts o = {0};
  o.rtol = 1e-10;
  grid_laplacian(&lap, 30, 0.05);
  random_spd(&rnd, 400, 4);
  for (int pc = 0; pc < 2; ++pc) {
    o.precond = pc ? LC_PRECOND_BLOCK_JACOBI : LC_PRECOND_JACOBI;
    ck_assert_double_lt(solve_known(LC_LIN_PCG, &lap, &o, &st), 1e-7);
    ck_assert_double_le(st.residual, 2e-10);
    ck_assert_int_gt(st.iters, 1);
    ck_assert_int_eq(st.analyzed, 0);
    ck_assert_double_lt(solve_known(LC_LIN_PCG, &rnd, &o, &st), 1e-8);
    ck_assert_double_le(st.residual, 2e-10);
  }
  o.block = 4; /* 900 and 400 rows: last block partial for 7 */
  ck_assert_double_lt(solve_known(LC_LIN_PCG, &lap, &o, &st), 1e-7);
  o.block = 7;
  ck_assert_double_lt(solve_known(LC_LIN_PCG, &rnd, &o, &st), 1e-8);
  /* default rtol 1e-8 */
  ck_assert_double_lt(solve_known(LC_LIN_PCG, &lap, NULL, &st), 1e-5);
  ck_assert_double_le(st.residual, 2e-8);
  tcsr_free(&lap);
  tcsr_free(&rnd);
}
END_TEST

START_TEST(test_pcg_block_jacobi) {
  tcsr m;
  lc_lin_stats sj, sb;
  lc_lin_opts o = {0};
  o.rtol = 1e-9;
  block_coupled(&m, 12);
  ck_assert_double_lt(solve_known(LC_LIN_PCG, &m, &o, &sj), 1e-6);
  o.precond = LC_PRECOND_BLOCK_JACOBI;
  ck_assert_double_lt(solve_known(LC_LIN_PCG, &m, &o, &sb), 1e-6);
  ck_assert_int_lt(sb.iters, sj.iters); /* the blocks carry the stiff coupling */
  tcsr_free(&m);
  /* singular 2x2 blocks (PSD A, consistent b): Jacobi fallback per block */
  const int32_t n = 6;
  tcsr p;
  tcsr_init(&p, n, 2 * n);
  for (int32_t i = 0; i < n; ++i) {
    const int32_t j = i ^ 1;
    p.rowptr[i + 1] = p.rowptr[i];
    tcsr_push(&p, i, i < j ? i : j, i < j ? 1.0 : -1.0);
    tcsr_push(&p, i, i < j ? j : i, i < j ? -1.0 : 1.0);
  }
  double xt[6] = {1, 2, 3, -1, 0.5, 4}, b[6], x[6];
  spmv(&p, xt, b);
  lc_linsolve *s = NULL;
  lc_error err;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, n, &s, NULL), LC_OK);
  o.block = 2;
  lc_csr A = tcsr_view(&p);
  ck_assert_msg(lc_linsolve_solve(s, &A, b, x, &o, &sb, &err) == LC_OK, "%s", err.msg);
  ck_assert_double_le(sb.residual, 1e-9);
  lc_linsolve_destroy(s);
  tcsr_free(&p);
}
END_TEST

/* ---- matrix-free CG -------------------------------------------------------- */

static int csr_op(void *user, const double *v, double *y) {
  spmv((const tcsr *)user, v, y);
  return LC_OK;
}

static int failing_op(void *user, const double *v, double *y) {
  (void)user;
  (void)v;
  (void)y;
  return LC_EIO;
}

START_TEST(test_cg_matfree) {
  const int g = 30;
  const int32_t n = g * g;
  tcsr m;
  grid_laplacian(&m, g, 0.05);
  double *xt = malloc(n * sizeof *xt), *b = malloc(n * sizeof *b), *x = malloc(n * sizeof *x),
         *diag = malloc(n * sizeof *diag);
  rand_vec(xt, n);
  spmv(&m, xt, b);
  for (int32_t i = 0; i < n; ++i) diag[i] = 4.05;
  lc_linsolve *s = NULL;
  lc_lin_stats st, st2;
  lc_error err;
  lc_lin_opts o = {0};
  o.rtol = 1e-10;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CG_MATFREE, n, &s, NULL), LC_OK);
  memset(x, 0, n * sizeof *x);
  ck_assert_msg(lc_linsolve_cg(s, csr_op, &m, NULL, b, x, &o, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_double_lt(rel_err(x, xt, n), 1e-7);
  ck_assert_double_le(st.residual, 1e-10);
  ck_assert_double_lt(residual(&m, x, b, 0.0), 1e-9);
  memset(x, 0, n * sizeof *x);
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &m, diag, b, x, &o, &st2, &err), LC_OK);
  ck_assert_double_lt(rel_err(x, xt, n), 1e-7);
  /* a good initial guess needs fewer iterations */
  for (int32_t i = 0; i < n; ++i) x[i] = xt[i] + 1e-6 * urand(-1.0, 1.0);
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &m, NULL, b, x, &o, &st2, &err), LC_OK);
  ck_assert_int_lt(st2.iters, st.iters);
  ck_assert_double_lt(rel_err(x, xt, n), 1e-7);
  /* the iteration cap: LC_OK, inexact */
  o.max_iters = 3;
  memset(x, 0, n * sizeof *x);
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &m, NULL, b, x, &o, &st, &err), LC_OK);
  ck_assert_int_eq(st.iters, 3);
  ck_assert_double_gt(st.residual, 1e-3);
  ck_assert_double_lt(st.residual, 1.0);
  /* b = 0 gives x = 0 */
  memset(b, 0, n * sizeof *b);
  x[0] = 1.0;
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &m, NULL, b, x, &o, &st, &err), LC_OK);
  ck_assert_double_eq(norm(x, n), 0.0);
  /* operator errors pass through */
  b[0] = 1.0;
  ck_assert_int_eq(lc_linsolve_cg(s, failing_op, NULL, NULL, b, x, &o, &st, &err), LC_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "operator"));
  lc_linsolve_destroy(s);
  tcsr_free(&m);
  free(xt);
  free(b);
  free(x);
  free(diag);
}
END_TEST

/* y = diag(d) v for a 2-vector operator. */
static int diag2_op(void *user, const double *v, double *y) {
  const double *d = user;
  y[0] = d[0] * v[0];
  y[1] = d[1] * v[1];
  return LC_OK;
}

START_TEST(test_cg_truncated) {
  lc_linsolve *s = NULL;
  lc_lin_stats st;
  lc_error err;
  double d[2] = {1.0, -1.0}, b[2] = {1.0, 0.5}, x[2] = {0.0, 0.0};
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CG_MATFREE, 2, &s, NULL), LC_OK);
  /* p0 = b: p0'Ap0 = 0.75 > 0, step to x1 = (5/3, 5/6); p1 = (10/9, 20/9)
   * has p1'Ap1 < 0: stop with x1, |r1| / |b| = 4/3 */
  ck_assert_int_eq(lc_linsolve_cg(s, diag2_op, d, NULL, b, x, NULL, &st, &err), LC_OK);
  ck_assert_int_eq(st.iters, 1);
  ck_assert_double_eq_tol(x[0], 5.0 / 3.0, 1e-14);
  ck_assert_double_eq_tol(x[1], 5.0 / 6.0, 1e-14);
  ck_assert_double_eq_tol(st.residual, 4.0 / 3.0, 1e-14);
  /* negative curvature on the first iteration: LC_ENUMERIC, x unchanged */
  d[0] = -1.0;
  x[0] = x[1] = 0.0;
  ck_assert_int_eq(lc_linsolve_cg(s, diag2_op, d, NULL, b, x, NULL, &st, &err), LC_ENUMERIC);
  ck_assert_ptr_nonnull(strstr(err.msg, "curvature"));
  ck_assert(x[0] == 0.0 && x[1] == 0.0);
  lc_linsolve_destroy(s);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(test_errors) {
  lc_linsolve *s = NULL, *c = NULL, *f = NULL;
  lc_error err;
  lc_lin_stats st;
  tcsr m;
  grid_laplacian(&m, 4, 1.0);
  double b[16] = {1.0}, x[16];
  lc_csr A = tcsr_view(&m);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, 16, NULL, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_create((lc_lin_kind)7, 16, &s, &err), LC_EINVAL);
  ck_assert_ptr_null(s);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, 0, &s, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, (int64_t)1 << 40, &s, &err), LC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, 16, &s, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, 17, &c, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CG_MATFREE, 16, &f, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_solve(NULL, &A, b, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_solve(s, NULL, b, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "A is NULL"));
  ck_assert_int_eq(lc_linsolve_solve(s, &A, NULL, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, NULL, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, b, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_solve(c, &A, b, x, NULL, &st, &err), LC_EINVAL); /* wrong n */
  ck_assert_ptr_nonnull(strstr(err.msg, "16 x 16"));
  ck_assert_int_eq(lc_linsolve_solve(f, &A, b, x, NULL, &st, &err), LC_EINVAL); /* wrong kind */
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &m, NULL, b, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_cg(f, NULL, &m, NULL, b, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_cg(f, csr_op, &m, NULL, NULL, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_cg(NULL, csr_op, &m, NULL, b, x, NULL, &st, &err), LC_EINVAL);
  lc_lin_opts o = {0};
  o.rtol = -1.0;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, &o, &st, &err), LC_EINVAL);
  ck_assert_int_eq(lc_linsolve_cg(f, csr_op, &m, NULL, b, x, &o, &st, &err), LC_EINVAL);
  o.rtol = 0.0;
  o.block = 1000;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, &o, &st, &err), LC_EINVAL);
  o.block = 0;
  o.reg = NAN;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, &o, &st, &err), LC_EINVAL);
  o.reg = 0.0;
  o.max_iters = -2;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, &o, &st, &err), LC_EINVAL);
  /* malformed CSR */
  lc_csr bad = A;
  bad.nnz = A.nnz - 1;
  ck_assert_int_eq(lc_linsolve_solve(s, &bad, b, x, NULL, &st, &err), LC_EINVAL);
  m.col[1] = 99;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, NULL, &st, &err), LC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "row 0"));
  m.col[1] = 1;
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, NULL, &st, &err), LC_OK);
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x, NULL, NULL, NULL), LC_OK); /* st, err optional */
  lc_linsolve_destroy(NULL);
  lc_linsolve_reset(NULL);
  lc_linsolve_destroy(s);
  lc_linsolve_destroy(c);
  lc_linsolve_destroy(f);
  tcsr_free(&m);
}
END_TEST

/* ---- determinism ------------------------------------------------------------ */

/* PCG (block-Jacobi) and matrix-free CG solutions on `threads` threads. */
static void det_run(const tcsr *m, int threads, double *x_pcg, double *x_cg) {
  const int32_t n = m->n;
  double *b = malloc(n * sizeof *b);
  for (int32_t i = 0; i < n; ++i) b[i] = sin(0.7 * i + 0.3);
  omp_set_num_threads(threads);
  lc_linsolve *s = NULL, *f = NULL;
  lc_lin_opts o = {0};
  o.precond = LC_PRECOND_BLOCK_JACOBI;
  o.rtol = 1e-6;
  lc_csr A = tcsr_view(m);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, n, &s, NULL), LC_OK);
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CG_MATFREE, n, &f, NULL), LC_OK);
  ck_assert_int_eq(lc_linsolve_solve(s, &A, b, x_pcg, &o, NULL, NULL), LC_OK);
  memset(x_cg, 0, n * sizeof *x_cg);
  ck_assert_int_eq(lc_linsolve_cg(f, csr_op, (void *)m, NULL, b, x_cg, &o, NULL, NULL), LC_OK);
  lc_linsolve_destroy(s);
  lc_linsolve_destroy(f);
  free(b);
}

/* Static condensation (condense.h): 40 entities of dimension 5 with
 * components [1, 4) eliminated, plus 7 DOFs of another variable; the
 * eliminated DOFs couple within their entity and to kept DOFs only (the
 * pattern also holds structural zeros between entities).  Condensed solves
 * with Cholesky and with PCG inside match the direct solve; a second solve
 * with new values reuses the pattern; a non-zero coupling between two
 * entities' eliminated DOFs and a bad component range are refused. */
START_TEST(test_condense) {
  const int ne = 40, dim = 5, c0 = 1, c1 = 4, extra = 7;
  const int32_t n = ne * dim + extra;
  double *a = calloc((size_t)n * n, sizeof *a), *b = malloc(sizeof *b * (size_t)n);
  char *pat = calloc((size_t)n * n, 1);
  lc_lin_cond cond = {.off = 0, .n = ne, .dim = dim, .c0 = c0, .c1 = c1};
  for (int pass = 0; pass < 3; ++pass) {
    memset(a, 0, sizeof *a * (size_t)n * n);
    for (int32_t i = 0; i < n; ++i)
      for (int k = 0; k < 6; ++k) {
        const int32_t j = (int32_t)urand(0.0, n);
        const int ei = i < ne * dim && (i % dim) >= c0 && (i % dim) < c1;
        const int ej = j < ne * dim && (j % dim) >= c0 && (j % dim) < c1;
        if (j == i) continue;
        pat[(int64_t)i * n + j] = pat[(int64_t)j * n + i] = 1;
        if (ei && ej && i / dim != j / dim) continue; /* a structural zero */
        a[(int64_t)i * n + j] = a[(int64_t)j * n + i] = urand(-1.0, 1.0);
      }
    for (int e = 0; e < ne; ++e) /* dense eliminated blocks */
      for (int r = c0; r < c1; ++r)
        for (int t = c0; t < r; ++t) {
          const int64_t i = e * dim + r, j = e * dim + t;
          a[i * n + j] = a[j * n + i] = urand(-1.0, 1.0);
          pat[i * n + j] = pat[j * n + i] = 1;
        }
    for (int32_t i = 0; i < n; ++i) {
      double sum = 0.0;
      for (int32_t j = 0; j < n; ++j) sum += j == i ? 0.0 : fabs(a[(int64_t)i * n + j]);
      a[(int64_t)i * n + i] = sum + urand(0.1, 1.0);
      pat[(int64_t)i * n + i] = 1;
      b[i] = urand(-1.0, 1.0);
    }
    if (pass == 2) { /* a real coupling between entities 0 and 1 */
      a[(int64_t)1 * n + dim + 2] = a[(int64_t)(dim + 2) * n + 1] = 0.5;
      pat[(int64_t)1 * n + dim + 2] = pat[(int64_t)(dim + 2) * n + 1] = 1;
    }
    tcsr m;
    tcsr_init(&m, n, (int64_t)n * n);
    for (int32_t i = 0; i < n; ++i) {
      m.rowptr[i + 1] = m.rowptr[i];
      for (int32_t j = 0; j < n; ++j)
        if (pat[(int64_t)i * n + j]) tcsr_push(&m, i, j, a[(int64_t)i * n + j]);
    }
    const lc_csr A = tcsr_view(&m);
    lc_error err;
    lc_lin_opts o = {0};
    lc_lin_stats st;
    double *x0 = calloc((size_t)n, sizeof *x0), *x1 = calloc((size_t)n, sizeof *x1);
    static lc_linsolve *direct;
    static lc_condense *cc, *cp;
    if (!direct) {
      ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &direct, &err), LC_OK);
      ck_assert_int_eq(lc_condense_create(LC_LIN_CHOLMOD, &cc, &err), LC_OK);
      ck_assert_int_eq(lc_condense_create(LC_LIN_PCG, &cp, &err), LC_OK);
    }
    ck_assert_int_eq(lc_linsolve_solve(direct, &A, b, x0, &o, &st, &err), LC_OK);
    o.cond = cond;
    if (pass == 2) {
      ck_assert_int_eq(lc_condense_solve(cc, &A, b, x1, &o, &st, &err), LC_EINVAL);
      ck_assert_msg(strstr(err.msg, "coupled") != NULL, "%s", err.msg);
      o.cond.c1 = dim + 1;
      ck_assert_int_eq(lc_condense_solve(cc, &A, b, x1, &o, &st, &err), LC_EINVAL);
    } else {
      ck_assert_msg(lc_condense_solve(cc, &A, b, x1, &o, &st, &err) == LC_OK, "%s", err.msg);
      for (int32_t i = 0; i < n; ++i) ck_assert_msg(fabs(x1[i] - x0[i]) < 1e-10, "cholmod %d: %g vs %g", i, x1[i], x0[i]);
      o.rtol = 1e-13;
      o.max_iters = 10000;
      ck_assert_msg(lc_condense_solve(cp, &A, b, x1, &o, &st, &err) == LC_OK, "%s", err.msg);
      for (int32_t i = 0; i < n; ++i) ck_assert_msg(fabs(x1[i] - x0[i]) < 1e-9, "pcg %d: %g vs %g", i, x1[i], x0[i]);
    }
    free(x0);
    free(x1);
    tcsr_free(&m);
    if (pass == 2) {
      lc_linsolve_destroy(direct);
      lc_condense_destroy(cc);
      lc_condense_destroy(cp);
      direct = NULL;
    }
  }
  free(a);
  free(b);
  free(pat);
}
END_TEST

START_TEST(test_determinism) {
  tcsr m;
  grid_laplacian(&m, 140, 0.2); /* 19600 rows: the parallel paths run */
  const int32_t n = m.n;
  double *a = malloc(2 * n * sizeof *a), *c = malloc(2 * n * sizeof *c);
  const int saved = omp_get_max_threads();
  det_run(&m, 1, a, a + n);
  det_run(&m, 2, c, c + n);
  ck_assert_int_eq(memcmp(a, c, 2 * n * sizeof *a), 0);
  det_run(&m, 3, c, c + n);
  ck_assert_int_eq(memcmp(a, c, 2 * n * sizeof *a), 0);
  omp_set_num_threads(saved);
  free(a);
  free(c);
  tcsr_free(&m);
}
END_TEST

/* ---- a real projected Hessian (W2 membrane on spot) ------------------------ */

/* A problem and the state its projected Hessian is taken at. */
typedef struct {
  lc_problem *p;
  const double *x;
} hvp_ctx;

static int hvp_op(void *user, const double *v, double *y) {
  const hvp_ctx *c = user;
  return lc_problem_hvp(c->p, c->x, v, 1, NULL, NULL, y, NULL);
}

START_TEST(test_workload_hessian) {
  lc_workload w;
  lc_error err;
  lc_csr H;
  lc_lin_stats st;
  ck_assert_msg(lc_workload_setup(2, "spot", lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_hessian(w.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  const int64_t n = H.nrows;
  tcsr hm = {H.nrows, H.nnz, H.nnz, (int32_t *)H.rowptr, (int32_t *)H.col, (double *)H.val};
  double *xt = malloc(n * sizeof *xt), *b = malloc(n * sizeof *b), *x = malloc(n * sizeof *x);
  lc_workload_direction(xt, n);
  spmv(&hm, xt, b); /* b in the range of H */
  lc_linsolve *s = NULL;
  lc_lin_opts o = {0};
  /* Cholesky with a small shift: (H + 1e-8 I) x = b */
  o.reg = 1e-8;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CHOLMOD, n, &s, NULL), LC_OK);
  ck_assert_msg(lc_linsolve_solve(s, &H, b, x, &o, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(st.analyzed, 1);
  ck_assert_double_lt(residual(&hm, x, b, st.reg_used), 1e-9);
  ck_assert_double_lt(st.residual, 1e-4);
  /* a second Hessian at a moved state: same pattern, analysis reused */
  double *x0 = malloc(n * sizeof *x0);
  memcpy(x0, lc_problem_x(w.p), n * sizeof *x0);
  for (int64_t i = 0; i < n; ++i) x0[i] += 1e-3 * sin(1.3 * i);
  ck_assert_int_eq(lc_problem_hessian(w.p, x0, 1, NULL, NULL, &H, &err), LC_OK);
  ck_assert_ptr_eq(H.col, hm.col);
  hm.val = (double *)H.val;
  spmv(&hm, xt, b);
  ck_assert_msg(lc_linsolve_solve(s, &H, b, x, &o, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(st.analyzed, 0);
  ck_assert_double_lt(residual(&hm, x, b, st.reg_used), 1e-9);
  lc_linsolve_destroy(s);
  /* PCG, both preconditioners (consistent singular system) */
  o.rtol = 1e-6;
  o.max_iters = 20000;
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_PCG, n, &s, NULL), LC_OK);
  for (int pc = 0; pc < 2; ++pc) {
    o.precond = pc ? LC_PRECOND_BLOCK_JACOBI : LC_PRECOND_JACOBI;
    ck_assert_msg(lc_linsolve_solve(s, &H, b, x, &o, &st, &err) == LC_OK, "%s", err.msg);
    ck_assert_double_lt(residual(&hm, x, b, 0.0), 2e-6);
    ck_assert_int_lt(st.iters, o.max_iters);
  }
  lc_linsolve_destroy(s);
  /* matrix-free CG on the Hessian-vector product at the same state (a few
   * iterations: a projected HVP is costly) matches CG on the assembled H */
  double *diag = malloc(n * sizeof *diag), *x2 = malloc(n * sizeof *x2);
  double *hv = malloc(H.nnz * sizeof *hv); /* H stays valid through the HVPs */
  memcpy(hv, H.val, H.nnz * sizeof *hv);
  hm.val = hv;
  for (int32_t i = 0; i < H.nrows; ++i)
    for (int32_t k = H.rowptr[i]; k < H.rowptr[i + 1]; ++k)
      if (H.col[k] == i) diag[i] = H.val[k];
  hvp_ctx ctx = {w.p, x0};
  ck_assert_int_eq(lc_linsolve_create(LC_LIN_CG_MATFREE, n, &s, NULL), LC_OK);
  o.max_iters = 20;
  memset(x, 0, n * sizeof *x);
  ck_assert_msg(lc_linsolve_cg(s, hvp_op, &ctx, diag, b, x, &o, &st, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(st.iters, 20);
  memset(x2, 0, n * sizeof *x2);
  ck_assert_int_eq(lc_linsolve_cg(s, csr_op, &hm, diag, b, x2, &o, &st, &err), LC_OK);
  ck_assert_double_lt(rel_err(x, x2, n), 1e-8);
  ck_assert_double_eq_tol(residual(&hm, x, b, 0.0), st.residual, 1e-8);
  ck_assert_double_lt(st.residual, 0.5);
  lc_linsolve_destroy(s);
  free(diag);
  free(x2);
  free(hv);
  free(x0);
  free(xt);
  free(b);
  free(x);
  lc_workload_free(&w);
}
END_TEST

static Suite *linsolve_suite(void) {
  Suite *s = suite_create("linsolve");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_cholmod_accuracy);
  tcase_add_test(tc, test_cholmod_reuse);
  tcase_add_test(tc, test_cholmod_reuse_by_generation);
  tcase_add_test(tc, test_factor_backsolve);
  tcase_add_test(tc, test_backsolve_split);
  tcase_add_test(tc, test_cholmod_shift);
  tcase_add_test(tc, test_cholmod_indefinite);
  tcase_add_test(tc, test_pcg);
  tcase_add_test(tc, test_pcg_block_jacobi);
  tcase_add_test(tc, test_cg_matfree);
  tcase_add_test(tc, test_cg_truncated);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_condense);
  tcase_add_test(tc, test_determinism);
  tcase_add_test(tc, test_workload_hessian);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(linsolve_suite()); }
