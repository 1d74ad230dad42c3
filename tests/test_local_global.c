/* test_local_global.c - Check suite for the local-global ARAP solver
 * (solvers/local_global.c): the energy and gradient it reports agree with the
 * engine's AD evaluation of the arap terms, its energy never increases, it
 * converges to Newton's minimiser (3D on spot, 2D on a grid), its factor is
 * kept while the fixed set stays and rebuilt when the set, a weight or the
 * terms change, per-component fixed masks get factors of their own, a problem
 * without handles stays finite, and misuse is refused with a message. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver.h"
#include "testutil.h"
#include "workloads.h"

typedef struct fixture {
  lc_mesh *m;
  lc_problem *p;
  lc_solver *s;
  int32_t nlo, nhi, *lo, *hi; /* handle vertices: lowest and highest 10% along y */
  double *hi_pos;             /* the high handles' rest positions */
} fixture;

/* Adds an arap term on every face of variable "x"; returns its id. */
static int arap_term(lc_problem *p, double w) {
  lc_term_desc d = {0};
  lc_error err;
  int id = -1;
  d.energy = "arap";
  d.weight = w;
  d.weight_set = 1;
  ck_assert_msg(lc_problem_add_term(p, &d, &id, &err) == LC_OK, "%s", err.msg);
  return id;
}

/* Picks the vertices below / above the 10% / 90% levels of y as handles. */
static void pick_handles(fixture *f, int dim) {
  const int64_t n = lc_problem_n_dofs(f->p) / dim;
  const double *x = lc_problem_x(f->p);
  double ymin = INFINITY, ymax = -INFINITY;
  for (int64_t i = 0; i < n; ++i) ymin = fmin(ymin, x[i * dim + 1]), ymax = fmax(ymax, x[i * dim + 1]);
  f->lo = malloc(n * sizeof *f->lo);
  f->hi = malloc(n * sizeof *f->hi);
  f->hi_pos = malloc(n * dim * sizeof *f->hi_pos);
  f->nlo = f->nhi = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double t = (x[i * dim + 1] - ymin) / (ymax - ymin);
    if (t < 0.1) f->lo[f->nlo++] = (int32_t)i;
    if (t > 0.9) {
      memcpy(f->hi_pos + (int64_t)f->nhi * dim, x + i * dim, dim * sizeof *x);
      f->hi[f->nhi++] = (int32_t)i;
    }
  }
  ck_assert(f->nlo > 0 && f->nhi > 0);
}

/* A problem on mesh m (taken) with variable "x" of dimension dim at rest,
 * one arap term, and both handle groups fixed at rest. */
static void make(fixture *f, lc_mesh *m, int dim) {
  lc_error err;
  memset(f, 0, sizeof *f);
  f->m = m;
  ck_assert_int_eq(lc_problem_create(f->m, "cpu", &f->p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(f->p, "x", LC_LOC_VERTEX, dim, NULL, NULL, &err), LC_OK);
  arap_term(f->p, 1.0);
  ck_assert_int_eq(lc_solver_create(f->p, &f->s, &err), LC_OK);
  pick_handles(f, dim);
  ck_assert_int_eq(lc_problem_fix(f->p, 0, f->nlo, f->lo, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_problem_fix(f->p, 0, f->nhi, f->hi, NULL, &err), LC_OK);
}

static lc_mesh *spot(void) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_read_obj_file(lc_test_mesh_path("spot.obj"), &m, &err) == LC_OK, "%s", err.msg);
  return m;
}

static lc_mesh *grid(int n) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(n, &m, &err), LC_OK);
  return m;
}

static void destroy(fixture *f) {
  lc_solver_destroy(f->s);
  lc_problem_destroy(f->p);
  lc_mesh_destroy(f->m);
  free(f->lo), free(f->hi), free(f->hi_pos);
}

/* Moves the high handles by (dx, dy) and a rotation by angle a about z. */
static void move_handles(fixture *f, int dim, double dx, double dy, double a) {
  lc_error err;
  double *v = malloc((size_t)f->nhi * dim * sizeof *v);
  for (int32_t i = 0; i < f->nhi; ++i) {
    const double *p = f->hi_pos + (int64_t)i * dim;
    v[i * dim + 0] = cos(a) * p[0] - sin(a) * p[1] + dx;
    v[i * dim + 1] = sin(a) * p[0] + cos(a) * p[1] + dy;
    if (dim == 3) v[i * dim + 2] = p[2];
  }
  ck_assert_int_eq(lc_problem_fix(f->p, 0, f->nhi, f->hi, v, &err), LC_OK);
  free(v);
}

/* Records every iteration's energy. */
typedef struct trace {
  int n;
  double E[4096];
} trace;

static int record(void *user, const lc_iter_stats *it) {
  trace *t = user;
  if (t->n < 4096) t->E[t->n++] = it->energy;
  return 0;
}

/* Solves with method m (max_iters, ftol); returns the result. */
static lc_solve_result run(fixture *f, lc_solve_method m, int max_iters, double ftol, trace *t) {
  lc_solve_opts o;
  lc_solve_result r;
  lc_error err;
  lc_solve_opts_default(&o, m);
  o.max_iters = max_iters;
  o.ftol = ftol;
  o.gtol = 1e-10;
  if (t) o.progress = record, o.user = t;
  ck_assert_msg(lc_solver_solve(f->s, &o, &r, &err) == LC_OK, "%s", err.msg);
  return r;
}

/* max |g| over free DOFs of the engine's gradient at the state, and E. */
static double engine_gnorm(fixture *f, double *E) {
  const int64_t n = lc_problem_n_dofs(f->p);
  double *g = malloc(n * sizeof *g), m = 0.0;
  lc_error err;
  ck_assert_int_eq(lc_problem_gradient(f->p, NULL, E, g, &err), LC_OK);
  const uint8_t *fx = lc_problem_fixed(f->p);
  for (int64_t i = 0; i < n; ++i)
    if (!fx[i]) m = fmax(m, fabs(g[i]));
  free(g);
  return m;
}

START_TEST(test_energy_and_gradient_agree_with_ad) {
  for (int dim = 2; dim <= 3; ++dim) {
    fixture f;
    make(&f, dim == 3 ? spot() : grid(24), dim);
    move_handles(&f, dim, 0.1, 0.3, 0.4);
    const lc_solve_result r = run(&f, LC_SOLVE_LOCAL_GLOBAL, 3, 0.0, NULL);
    ck_assert_int_eq(r.iters, 3);
    ck_assert_int_eq(r.reason, LC_STOP_MAX_ITERS);
    double E;
    const double gn = engine_gnorm(&f, &E);
    ck_assert_msg(lc_test_reldiff(r.energy, E, 1e-300) < 1e-11, "dim %d: E %.17g vs AD %.17g", dim, r.energy, E);
    ck_assert_msg(lc_test_reldiff(r.gnorm, gn, 1e-300) < 1e-8, "dim %d: |g| %.17g vs AD %.17g", dim, r.gnorm, gn);
    ck_assert(r.gnorm > 1e-6); /* not converged after 3 iterations: the comparison means something */
    destroy(&f);
  }
}
END_TEST

/* 2D (a grid in the plane): local-global converges to Newton's minimiser,
 * never raising the energy.  3D (spot): the triangle ARAP energy has no
 * bending stiffness, so its minimisers form a family and slow modes remain;
 * there a stationary point of Newton's must be a fixed point of ours. */
START_TEST(test_monotone_and_matches_newton) {
  for (int dim = 2; dim <= 3; ++dim) {
    fixture f;
    make(&f, dim == 3 ? spot() : grid(16), dim);
    move_handles(&f, dim, 0.05, 0.2, 0.5);
    const int64_t n = lc_problem_n_dofs(f.p);
    double *x0 = malloc(n * sizeof *x0), *xn = malloc(n * sizeof *xn);
    memcpy(x0, lc_problem_x(f.p), n * sizeof *x0);
    const lc_solve_result rn = run(&f, LC_SOLVE_NEWTON, 200, 0.0, NULL);
    ck_assert_msg((rn.reason == LC_STOP_GRAD || rn.reason == LC_STOP_LINE_SEARCH) && rn.gnorm < 1e-8,
                  "dim %d: newton did not converge: reason %d, |g| %g", dim, rn.reason, rn.gnorm);
    memcpy(xn, lc_problem_x(f.p), n * sizeof *xn);
    if (dim == 2) ck_assert_int_eq(lc_problem_set_x(f.p, x0, NULL), LC_OK);
    trace *t = calloc(1, sizeof *t);
    const lc_solve_result r = run(&f, LC_SOLVE_LOCAL_GLOBAL, dim == 2 ? 500 : 20, 1e-15, t);
    for (int i = 1; i < t->n; ++i)
      ck_assert_msg(t->E[i] <= t->E[i - 1] * (1 + 1e-13), "dim %d: energy rose at iteration %d: %.17g -> %.17g",
                    dim, i + 1, t->E[i - 1], t->E[i]);
    ck_assert_msg(lc_test_reldiff(r.energy, rn.energy, 1e-300) < 1e-10, "dim %d: E %.14g vs newton %.14g (%d iters)",
                  dim, r.energy, rn.energy, r.iters);
    ck_assert_msg(dim == 3 || t->E[0] > 1.1 * r.energy, "dim %d: the start was not far from the minimum", dim);
    double dx = 0.0;
    for (int64_t i = 0; i < n; ++i) dx = fmax(dx, fabs(lc_problem_x(f.p)[i] - xn[i]));
    ck_assert_msg(dx < (dim == 2 ? 1e-6 : 1e-8), "dim %d: |x - x_newton| = %g", dim, dx);
    free(x0), free(xn), free(t);
    destroy(&f);
  }
}
END_TEST

START_TEST(test_factor_kept_and_rebuilt) {
  fixture f;
  lc_error err;
  make(&f, grid(20), 3);
  move_handles(&f, 3, 0.0, 0.1, 0.0);
  ck_assert_int_eq(run(&f, LC_SOLVE_LOCAL_GLOBAL, 2, 0.0, NULL).factorizations, 1);
  for (int k = 1; k <= 3; ++k) { /* an editor's frames: same handles, new values */
    move_handles(&f, 3, 0.02 * k, 0.1, 0.1 * k);
    const lc_solve_result r = run(&f, LC_SOLVE_LOCAL_GLOBAL, 2, 0.0, NULL);
    ck_assert_int_eq(r.factorizations, 0);
    for (int32_t i = 0; i < f.nhi; ++i) /* the handles sit where they were put */
      ck_assert(fabs(lc_problem_x(f.p)[3 * (int64_t)f.hi[i] + 1] -
                     (sin(0.1 * k) * f.hi_pos[3 * i] + cos(0.1 * k) * f.hi_pos[3 * i + 1] + 0.1)) < 1e-15);
  }
  ck_assert_int_eq(lc_problem_unfix(f.p, 0, 1, f.lo, &err), LC_OK); /* the fixed set changes */
  ck_assert_int_eq(run(&f, LC_SOLVE_LOCAL_GLOBAL, 1, 0.0, NULL).factorizations, 1);
  ck_assert_int_eq(run(&f, LC_SOLVE_LOCAL_GLOBAL, 1, 0.0, NULL).factorizations, 0);
  ck_assert_int_eq(lc_problem_set_term_weight(f.p, 0, 2.0, &err), LC_OK); /* a weight changes */
  ck_assert_int_eq(run(&f, LC_SOLVE_LOCAL_GLOBAL, 1, 0.0, NULL).factorizations, 1);
  arap_term(f.p, 0.5); /* the terms change */
  const lc_solve_result r = run(&f, LC_SOLVE_LOCAL_GLOBAL, 1, 0.0, NULL);
  ck_assert_int_eq(r.factorizations, 1);
  double E;
  engine_gnorm(&f, &E);
  ck_assert(lc_test_reldiff(r.energy, E, 1e-300) < 1e-11); /* both terms counted */
  destroy(&f);
}
END_TEST

START_TEST(test_component_masks_and_no_handles) {
  fixture f;
  lc_error err;
  make(&f, grid(16), 3);
  move_handles(&f, 3, 0.0, 0.2, 0.3);
  /* free the z components of the high handles: two masks, two factors */
  uint8_t *fl = malloc(lc_problem_n_dofs(f.p));
  memcpy(fl, lc_problem_fixed(f.p), lc_problem_n_dofs(f.p));
  for (int32_t i = 0; i < f.nhi; ++i) fl[3 * (int64_t)f.hi[i] + 2] = 0;
  ck_assert_int_eq(lc_problem_set_fixed_flags(f.p, fl, &err), LC_OK);
  lc_solve_result r = run(&f, LC_SOLVE_LOCAL_GLOBAL, 3, 0.0, NULL);
  ck_assert_int_eq(r.factorizations, 2);
  double E;
  double gn = engine_gnorm(&f, &E);
  ck_assert(lc_test_reldiff(r.energy, E, 1e-300) < 1e-11);
  ck_assert(lc_test_reldiff(r.gnorm, gn, 1e-300) < 1e-8);
  /* no handles at all: translation is free, the proximal shift keeps it posed */
  ck_assert_int_eq(lc_problem_unfix(f.p, 0, -1, NULL, &err), LC_OK);
  trace *t = calloc(1, sizeof *t);
  r = run(&f, LC_SOLVE_LOCAL_GLOBAL, 50, 0.0, t);
  ck_assert(isfinite(r.energy) && r.energy >= 0.0);
  for (int i = 1; i < t->n; ++i) /* E = A (|F|^2 + 2 - 2 t) carries ~1e-16 of rounding at rest */
    ck_assert_msg(t->E[i] <= t->E[i - 1] * (1 + 1e-13) + 1e-14, "iteration %d: %g -> %g", i + 1, t->E[i - 1], t->E[i]);
  ck_assert_msg(r.energy < 1e-3 * t->E[0] || r.energy < 1e-12, "the free sheet springs back to rest: %g -> %g",
                t->E[0], r.energy);
  free(fl), free(t);
  destroy(&f);
}
END_TEST

START_TEST(test_refusals) {
  fixture f;
  lc_error err;
  lc_solve_opts o;
  make(&f, grid(8), 3);
  lc_solve_opts_default(&o, LC_SOLVE_LOCAL_GLOBAL);
  const double x0 = lc_problem_x(f.p)[5];
  lc_term_desc d = {0};
  d.energy = "dirichlet";
  ck_assert_int_eq(lc_problem_add_term(f.p, &d, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_solver_solve(f.s, &o, NULL, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "arap terms only") && strstr(err.msg, "'dirichlet'"), "%s", err.msg);
  ck_assert(lc_problem_x(f.p)[5] == x0);
  ck_assert_int_eq(lc_problem_remove_term(f.p, 1, &err), LC_OK);
  o.condense_var = 0, o.condense_c0 = 0, o.condense_c1 = 1;
  ck_assert_int_eq(lc_solver_solve(f.s, &o, NULL, &err), LC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "condense"));
  o.condense_var = -1;
  o.time_budget = 1e-12; /* spent at once: one iteration still runs */
  move_handles(&f, 3, 0.1, 0.1, 0.2);
  lc_solve_result r;
  ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.iters, 1);
  ck_assert_int_eq(r.reason, LC_STOP_TIME);
  ck_assert_int_eq(lc_solve_method_parse("local_global"), LC_SOLVE_LOCAL_GLOBAL);
  ck_assert_str_eq(lc_solve_method_name(LC_SOLVE_LOCAL_GLOBAL), "local_global");
  destroy(&f);
}
END_TEST

static Suite *lg_suite(void) {
  Suite *s = suite_create("local_global");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_energy_and_gradient_agree_with_ad);
  tcase_add_test(tc, test_monotone_and_matches_newton);
  tcase_add_test(tc, test_factor_kept_and_rebuilt);
  tcase_add_test(tc, test_component_masks_and_no_handles);
  tcase_add_test(tc, test_refusals);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(lg_suite()); }
