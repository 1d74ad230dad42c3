/* test_cuda_linsolve.c - GPU Check suite (CTest label "gpu"): the CUDA
 * backend's linear solves (lin_prepare / lin_solve, engine/cuda/
 * cuda_linsolve.cu) against the CPU backend's (engine/solvers/linsolve.c)
 * on the projected Hessians of W5 (cloth, grid 20) and W1 (camelhead, two
 * vertices fixed).  Exits 77 (skipped) when no usable CUDA device exists.
 *
 * Each solve runs as a one-op program through the backend's `run` (the
 * CUDA executor records or runs it; the CPU runs it on the host), with the
 * solver state and vectors in backend memory, exactly as solve.c drives it.
 * PCG (Jacobi, block-Jacobi), matrix-free CG (with and without the element
 * Hessian cache) and the direct solve agree with the CPU to 1e-9 relative;
 * two GPU runs are bitwise equal; a negative definite matrix sets the fail
 * flag on both backends. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (sstep.h) */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "problem.h"
#include "solvers/sstep.h"
#include "testutil.h"
#include "workloads.h"

#define TOL 1e-9

/* A workload on the CPU and its twin on cuda:0, projected Hessians resident. */
typedef struct twin {
  lc_workload cpu, gpu;
  int64_t n, nnz;
  double maxdiag; /* largest |H_ii| */
  double rowsum;  /* largest sum_j |H_ij| (a bound of |H|) */
} twin;

/* A request and the backend it runs on (the program's user data). */
typedef struct lin_run {
  lc_backend *b;
  lc_problem *p;
  lc_lin_req q;
} lin_run;

/* What a solve gave back (host copies). */
typedef struct lin_out {
  double *sol;
  int32_t fail, iters;
} lin_out;

/* The program: one linear solve. */
static int prog(void *user, lc_error *err) {
  lin_run *r = user;
  return r->b->ops->lin_solve(r->b, r->p, &r->q, err);
}

/* Sets up workload id on both devices (W1: vertices 0 and 1 fixed) and
 * evaluates the projected Hessian on both; fills the bounds from the CPU's. */
static void twin_make(twin *t, int id, const char *mesh, int grid) {
  lc_error err;
  lc_workload *w[2] = {&t->cpu, &t->gpu};
  const char *dev[2] = {"cpu", "cuda:0"};
  const int32_t fixed[] = {0, 1};
  lc_csr H;
  double E;
  for (int k = 0; k < 2; ++k) {
    ck_assert_msg(lc_workload_setup(id, mesh, lc_test_mesh_dir(), grid, dev[k], w[k], &err) == LC_OK, "%s",
                  err.msg);
    if (id == 1) ck_assert_msg(lc_problem_fix(w[k]->p, 0, 2, fixed, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_problem_hessian(w[k]->p, NULL, 1, &E, NULL, &H, &err) == LC_OK, "%s", err.msg);
  }
  t->n = H.nrows;
  t->nnz = H.nnz;
  t->maxdiag = t->rowsum = 0.0;
  for (int32_t i = 0; i < H.nrows; ++i) {
    double s = 0.0;
    for (int32_t k = H.rowptr[i]; k < H.rowptr[i + 1]; ++k) {
      s += fabs(H.val[k]);
      if (H.col[k] == i) t->maxdiag = fmax(t->maxdiag, fabs(H.val[k]));
    }
    t->rowsum = fmax(t->rowsum, s);
  }
}

static void twin_free(twin *t) {
  lc_workload_free(&t->cpu);
  lc_workload_free(&t->gpu);
}

/* Backend memory of n doubles holding src (NULL: zeros). */
static double *put(lc_backend *b, const double *src, int64_t n) {
  lc_error err;
  double *d = NULL, *zero = NULL;
  ck_assert_msg(b->ops->alloc(b, (size_t)n * sizeof *d, (void **)&d, &err) == LC_OK, "%s", err.msg);
  if (!src) src = zero = calloc((size_t)n, sizeof *zero);
  ck_assert_msg(b->ops->upload(b, d, src, (size_t)n * sizeof *d, &err) == LC_OK, "%s", err.msg);
  free(zero);
  return d;
}

/* Stores the element Hessians at dx in p's cache (matrix-free, cached). */
static void store_cache(lc_backend *b, lc_problem *p, const double *dx, int project) {
  lc_error err;
  lc_eval_req e;
  memset(&e, 0, sizeof e);
  e.mode = LC_EL_HVP;
  e.project = project;
  e.x = dx;
  e.cache = LC_CACHE_STORE;
  ck_assert_msg(b->ops->sync(b, p, LC_EL_HVP, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(b->ops->eval(b, p, &e, &err) == LC_OK, "%s", err.msg);
}

/* Solves (A + shift I) sol = rhs of kind on p's backend as solve.c would:
 * state, x, rhs and sol in backend memory, lin_prepare, then `run`.
 * Returns the lin_prepare status (LC_ENOTSUP: the backend cannot). */
static int solve_on(lc_problem *p, lc_lin_kind kind, const lc_lin_opts *o, int cached, double shift,
                    const double *rhs, lin_out *out) {
  lc_backend *b = lc_problem_backend(p);
  const int64_t n = lc_problem_n_dofs(p);
  lc_error err;
  lc_sstate hs, *st = NULL;
  memset(&hs, 0, sizeof hs);
  hs.cg_max = o->max_iters;
  hs.cg_rtol = o->rtol;
  hs.shift = shift;
  ck_assert_msg(b->ops->run && b->ops->lin_prepare && b->ops->lin_solve, "%s: solver-program ops missing",
                b->id);
  ck_assert_msg(b->ops->alloc(b, sizeof hs, (void **)&st, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(b->ops->upload(b, st, &hs, sizeof hs, &err) == LC_OK, "%s", err.msg);
  double *dx = put(b, lc_problem_x(p), n), *drhs = put(b, rhs, n), *dsol = put(b, NULL, n);
  if (cached) store_cache(b, p, dx, 1);
  lin_run r = {b, p, {st, kind, *o, 1, cached, &st->shift, dx, drhs, dsol, &st->lin_iters, &st->lin_fail}};
  const int rc = b->ops->lin_prepare(b, p, &r.q, &err);
  if (rc == LC_OK) {
    ck_assert_msg(b->ops->run(b, st, 0, prog, &r, NULL, NULL, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(b->ops->download(b, &hs, st, sizeof hs, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(b->ops->download(b, out->sol, dsol, (size_t)n * sizeof *dsol, &err) == LC_OK, "%s",
                  err.msg);
    out->fail = hs.lin_fail;
    out->iters = hs.lin_iters;
  } else {
    ck_assert_msg(rc == LC_ENOTSUP, "%s: lin_prepare: %s", b->id, err.msg);
    printf("test_cuda_linsolve: %s\n", err.msg);
  }
  b->ops->free(b, dsol);
  b->ops->free(b, drhs);
  b->ops->free(b, dx);
  b->ops->free(b, st);
  return rc;
}

/* max |a - b| / max |a|. */
static double rel_diff(const double *a, const double *b, int64_t n) {
  double d = 0.0, m = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    d = fmax(d, fabs(a[i] - b[i]));
    m = fmax(m, fabs(a[i]));
  }
  return d / fmax(m, 1e-300);
}

/* Solves on both devices of t and compares (shift 1e-3 max|H_ii| keeps the
 * condition number near 1e3, so both CG runs stop within 1e-10 of the
 * solution); returns 0 when the GPU cannot do this kind (reported). */
static int compare(twin *t, lc_lin_kind kind, lc_precond pre, int block, int cached, const char *what) {
  const int64_t n = t->n;
  lc_lin_opts o = {.rtol = 1e-13, .max_iters = 20000, .precond = pre, .block = block};
  double *rhs = malloc((size_t)n * sizeof *rhs);
  lin_out a = {calloc((size_t)n, sizeof(double)), 0, 0}, g = {calloc((size_t)n, sizeof(double)), 0, 0};
  lc_workload_direction(rhs, n);
  const double shift = 1e-3 * t->maxdiag;
  ck_assert_int_eq(solve_on(t->cpu.p, kind, &o, cached, shift, rhs, &a), LC_OK);
  const int ok = solve_on(t->gpu.p, kind, &o, cached, shift, rhs, &g) == LC_OK;
  if (ok) {
    ck_assert_msg(!a.fail && !g.fail, "%s %s: fail flags cpu %d gpu %d", t->cpu.mesh, what, a.fail, g.fail);
    const double d = rel_diff(a.sol, g.sol, n);
    printf("test_cuda_linsolve: %s %s: iterations cpu %d gpu %d, relative difference %.3g\n", t->cpu.mesh,
           what, a.iters, g.iters, d);
    ck_assert_msg(d <= TOL, "%s %s: cpu and gpu solutions differ by %g relative", t->cpu.mesh, what, d);
  }
  free(rhs);
  free(a.sol);
  free(g.sol);
  return ok;
}

/* Every kind on one workload. */
static void compare_all(int id, const char *mesh, int grid) {
  twin t;
  twin_make(&t, id, mesh, grid);
  compare(&t, LC_LIN_PCG, LC_PRECOND_JACOBI, 0, 0, "PCG Jacobi");
  compare(&t, LC_LIN_PCG, LC_PRECOND_BLOCK_JACOBI, 3, 0, "PCG block-Jacobi 3");
  compare(&t, LC_LIN_PCG, LC_PRECOND_BLOCK_JACOBI, 2, 0, "PCG block-Jacobi 2");
  compare(&t, LC_LIN_CG_MATFREE, LC_PRECOND_JACOBI, 0, 0, "matrix-free CG");
  compare(&t, LC_LIN_CG_MATFREE, LC_PRECOND_JACOBI, 0, 1, "matrix-free CG (cached)");
  compare(&t, LC_LIN_CHOLMOD, LC_PRECOND_JACOBI, 0, 0, "direct");
  twin_free(&t);
}

START_TEST(test_w5_grid20) { compare_all(5, NULL, 20); }
END_TEST

START_TEST(test_w1_camelhead) { compare_all(1, "camelhead", 0); }
END_TEST

/* Two GPU runs of block-Jacobi PCG give the same bits. */
START_TEST(test_deterministic) {
  twin t;
  twin_make(&t, 5, NULL, 20);
  const int64_t n = t.n;
  lc_lin_opts o = {.rtol = 1e-10, .max_iters = 1000, .precond = LC_PRECOND_BLOCK_JACOBI, .block = 3};
  double *rhs = malloc((size_t)n * sizeof *rhs);
  lin_out a = {calloc((size_t)n, sizeof(double)), 0, 0}, b = {calloc((size_t)n, sizeof(double)), 0, 0};
  lc_workload_direction(rhs, n);
  ck_assert_int_eq(solve_on(t.gpu.p, LC_LIN_PCG, &o, 0, 1e-6, rhs, &a), LC_OK);
  ck_assert_int_eq(solve_on(t.gpu.p, LC_LIN_PCG, &o, 0, 1e-6, rhs, &b), LC_OK);
  ck_assert_int_eq(a.iters, b.iters);
  ck_assert_msg(memcmp(a.sol, b.sol, (size_t)n * sizeof *a.sol) == 0, "two GPU solves differ");
  free(rhs);
  free(a.sol);
  free(b.sol);
  twin_free(&t);
}
END_TEST

/* One solve that must fail (fail flag 1) on the GPU and, unless the shift
 * is negative (the CPU's linsolve rejects a negative reg), on the CPU. */
static void expect_fail(twin *t, lc_lin_kind kind, lc_precond pre, double shift, const char *what) {
  const int64_t n = t->n;
  lc_lin_opts o = {.rtol = 1e-10, .max_iters = 1000, .precond = pre, .block = 3};
  double *rhs = malloc((size_t)n * sizeof *rhs);
  lin_out a = {calloc((size_t)n, sizeof(double)), 1, 0}, g = {calloc((size_t)n, sizeof(double)), 0, 0};
  lc_workload_direction(rhs, n);
  if (shift >= 0.0) ck_assert_int_eq(solve_on(t->cpu.p, kind, &o, 0, shift, rhs, &a), LC_OK);
  if (solve_on(t->gpu.p, kind, &o, 0, shift, rhs, &g) == LC_OK)
    ck_assert_msg(a.fail == 1 && g.fail == 1, "%s: fail flags cpu %d gpu %d (expected 1)", what, a.fail,
                  g.fail);
  free(rhs);
  free(a.sol);
  free(g.sol);
}

/* A negative definite matrix: H - 2|H| I (matrix-free, GPU only), -H
 * (assembled kinds, both devices). */
START_TEST(test_indefinite) {
  twin t;
  twin_make(&t, 5, NULL, 20);
  expect_fail(&t, LC_LIN_CG_MATFREE, LC_PRECOND_JACOBI, -2.0 * t.rowsum, "matrix-free CG, H - 2|H| I");
  lc_problem *ps[2] = {t.cpu.p, t.gpu.p};
  for (int k = 0; k < 2; ++k) {
    lc_backend *b = lc_problem_backend(ps[k]);
    ck_assert_int_eq(b->ops->scale(b, t.nnz, -1.0, b->ops->hess_values(b, ps[k])), LC_OK);
  }
  expect_fail(&t, LC_LIN_PCG, LC_PRECOND_JACOBI, 0.0, "PCG Jacobi, -H");
  expect_fail(&t, LC_LIN_PCG, LC_PRECOND_BLOCK_JACOBI, 0.0, "PCG block-Jacobi, -H");
  expect_fail(&t, LC_LIN_CHOLMOD, LC_PRECOND_JACOBI, 0.0, "direct, -H");
  twin_free(&t);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cuda_linsolve");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_w5_grid20);
  tcase_add_test(tc, test_w1_camelhead);
  tcase_add_test(tc, test_deterministic);
  tcase_add_test(tc, test_indefinite);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  const int skip = lc_test_require_cuda("test_cuda_linsolve");
  return skip ? skip : lc_test_run_suite(suite());
}
