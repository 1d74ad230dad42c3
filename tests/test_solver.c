/* test_solver.c - Check suite for the minimisers: one-step Newton on a
 * quadratic (three linear solvers), GD and L-BFGS on a curved valley,
 * monotone line search, Gauss-Newton and LM on a residual problem with a
 * known solution, fixed DOFs, the unit-sphere manifold, cancellation, and
 * flip-free symmetric-Dirichlet Newton on a real mesh. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver.h"
#include "testutil.h"
#include "workloads.h"

typedef struct fixture {
  lc_mesh *m;
  lc_problem *p;
  lc_solver *s;
} fixture;

/* A grid problem with one variable of dimension dim (rest positions). */
static void make(fixture *f, int n, int dim) {
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(n, &f->m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(f->m, "cpu", &f->p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(f->p, "x", LC_LOC_VERTEX, dim, NULL, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_solver_create(f->p, &f->s, &err), LC_OK);
}

static void destroy(fixture *f) {
  lc_solver_destroy(f->s);
  lc_problem_destroy(f->p);
  lc_mesh_destroy(f->m);
}

static int term(lc_problem *p, const char *energy, double w, const int32_t *el, int32_t n,
                const char *pname, double pval) {
  lc_term_desc d = {0};
  lc_error err;
  int id = -1;
  d.energy = energy;
  d.weight = w;
  d.weight_set = 1;
  d.elems = el;
  d.n_elems = n;
  if (pname) {
    d.n_params = 1;
    d.param_names = &pname;
    d.param_values = &pval;
  }
  ck_assert_msg(lc_problem_add_term(p, &d, &id, &err) == LC_OK, "%s", err.msg);
  return id;
}

/* Perturbs the whole state deterministically. */
static void perturb(lc_problem *p, double amp, unsigned long long seed) {
  const int64_t n = lc_problem_n_dofs(p);
  double *x = malloc(n * sizeof *x);
  memcpy(x, lc_problem_x(p), n * sizeof *x);
  for (int64_t i = 0; i < n; ++i) x[i] += lc_test_rand(&seed, -amp, amp);
  ck_assert_int_eq(lc_problem_set_x(p, x, NULL), LC_OK);
  free(x);
}

START_TEST(test_newton_quadratic_one_step) {
  static const lc_lin_kind kinds[] = {LC_LIN_CHOLMOD, LC_LIN_PCG, LC_LIN_CG_MATFREE};
  for (int k = 0; k < 3; ++k) {
    fixture f;
    make(&f, 4, 3);
    term(f.p, "target", 2.0, NULL, 0, "k", 3.0); /* E = 3 |x - rest|^2, minimum at rest */
    term(f.p, "dirichlet", 0.1, NULL, 0, NULL, 0); /* couples vertices */
    perturb(f.p, 0.2, 11 + k);
    lc_solve_opts o;
    lc_solve_result r;
    lc_error err;
    lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
    o.linear = kinds[k];
    o.reg = 0.0;
    o.lin.rtol = 1e-12;
    o.gtol = 1e-9;
    ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
    ck_assert_int_eq(r.reason, LC_STOP_GRAD);
    ck_assert_int_eq(r.iters, 1);
    destroy(&f);
  }
}
END_TEST

/* A curved valley: a stiff spring from a fixed vertex and a weak target. */
static void valley(fixture *f) {
  make(f, 2, 2);
  static const int32_t e[] = {0, 3}, v[] = {3}, fx[] = {0, 1, 2};
  lc_error err;
  term(f->p, "spring", 1.0, e, 1, "k", 100.0);
  lc_term_desc d = {0};
  const double t[] = {3.0, -1.0};
  d.energy = "target";
  d.elems = v;
  d.n_elems = 1;
  d.consts = t;
  ck_assert_int_eq(lc_problem_add_term(f->p, &d, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_problem_fix(f->p, 0, 3, fx, NULL, &err), LC_OK);
  double x[8];
  memcpy(x, lc_problem_x(f->p), sizeof x);
  x[6] = -1.0; /* start on the far side of the valley */
  x[7] = 1.5;
  ck_assert_int_eq(lc_problem_set_x(f->p, x, &err), LC_OK);
}

/* Records energies to check monotonicity. */
typedef struct trace {
  double e[2000];
  int n;
} trace;

static int record(void *user, const lc_iter_stats *it) {
  trace *t = user;
  if (t->n < 2000) t->e[t->n++] = it->energy;
  return 0;
}

static void solve_valley(lc_solve_method m, int max_iters) {
  fixture f;
  valley(&f);
  lc_solve_opts o;
  lc_solve_result r;
  lc_error err;
  trace tr = {{0}, 0};
  double E0;
  lc_problem_energy(f.p, NULL, &E0, NULL);
  lc_solve_opts_default(&o, m);
  o.max_iters = max_iters;
  o.gtol = 1e-7;
  o.progress = record;
  o.user = &tr;
  ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(r.reason == LC_STOP_GRAD, "%s stopped: %s after %d", lc_solve_method_name(m),
                lc_stop_reason_name(r.reason), r.iters);
  /* minimiser: on the ray to the target, at distance r* with
   * 100 (r - L) + (r - |t|) = 0, L = sqrt(2) the rest length */
  const double *x = lc_problem_x(f.p);
  const double tn = sqrt(10.0), rs = (100.0 * sqrt(2.0) + tn) / 101.0;
  ck_assert_double_le(fabs(x[6] - 3.0 / tn * rs), 1e-6);
  ck_assert_double_le(fabs(x[7] + 1.0 / tn * rs), 1e-6);
  ck_assert_double_eq(x[0], 0.0); /* fixed vertex never moved */
  double prev = E0;
  for (int i = 0; i < tr.n; ++i) {
    ck_assert_double_le(tr.e[i], prev);
    prev = tr.e[i];
  }
  destroy(&f);
}

/* A spent time budget stops a solve only after its first iteration. */
START_TEST(test_time_budget_runs_one_iteration) {
  static const lc_solve_method ms[] = {LC_SOLVE_GD, LC_SOLVE_LBFGS, LC_SOLVE_NEWTON};
  for (int k = 0; k < 3; ++k) {
    fixture f;
    valley(&f);
    lc_solve_opts o;
    lc_solve_result r;
    lc_error err;
    double E0;
    lc_problem_energy(f.p, NULL, &E0, NULL);
    lc_solve_opts_default(&o, ms[k]);
    o.time_budget = 1e-12;
    ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(r.iters == 1 && r.reason == LC_STOP_TIME, "%s: %d iterations, %s", lc_solve_method_name(ms[k]),
                  r.iters, lc_stop_reason_name(r.reason));
    ck_assert_double_lt(r.energy, E0);
    destroy(&f);
  }
}
END_TEST

START_TEST(test_gd_valley) { solve_valley(LC_SOLVE_GD, 2000); }
END_TEST

START_TEST(test_lbfgs_valley) { solve_valley(LC_SOLVE_LBFGS, 200); }
END_TEST

START_TEST(test_newton_valley) { solve_valley(LC_SOLVE_NEWTON, 50); }
END_TEST

START_TEST(test_gauss_newton_residuals) {
  for (int lm = 0; lm < 2; ++lm) {
    fixture f;
    make(&f, 4, 2); /* planar: a triangulated grid is rigid, so the solution is isolated */
    static const int32_t anchors[] = {0, 3};
    term(f.p, "res_edge_length", 1.0, NULL, 0, NULL, 0);
    term(f.p, "res_position", 1.0, anchors, 2, NULL, 0);
    perturb(f.p, 0.05, 5);
    lc_solve_opts o;
    lc_solve_result r;
    lc_error err;
    lc_solve_opts_default(&o, lm ? LC_SOLVE_LM : LC_SOLVE_GAUSS_NEWTON);
    o.gtol = 1e-10;
    ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(r.reason == LC_STOP_GRAD, "stopped: %s", lc_stop_reason_name(r.reason));
    ck_assert_double_le(r.energy, 1e-18); /* the rest mesh is an exact solution */
    ck_assert_int_le(r.iters, 30);
    destroy(&f);
  }
}
END_TEST

START_TEST(test_sphere_manifold) {
  static const lc_solve_method ms[] = {LC_SOLVE_GD, LC_SOLVE_LBFGS, LC_SOLVE_NEWTON};
  for (int k = 0; k < 3; ++k) {
    fixture f;
    make(&f, 3, 3);
    term(f.p, "dirichlet", 1.0, NULL, 0, NULL, 0);
    perturb(f.p, 0.3, 9);
    lc_solve_opts o;
    lc_solve_result r;
    lc_error err;
    lc_solve_opts_default(&o, ms[k]);
    o.sphere_var = 0;
    o.max_iters = 30;
    ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
    const double *x = lc_problem_x(f.p);
    for (int i = 0; i < 9; ++i)
      ck_assert_double_le(fabs(sqrt(x[3 * i] * x[3 * i] + x[3 * i + 1] * x[3 * i + 1] + x[3 * i + 2] * x[3 * i + 2]) - 1.0), 1e-12);
    ck_assert_int_ge(r.iters, 1);
    destroy(&f);
  }
}
END_TEST

static int cancel_after_two(void *user, const lc_iter_stats *it) {
  (void)user;
  return it->iter >= 2;
}

START_TEST(test_cancel_and_errors) {
  fixture f;
  valley(&f);
  lc_solve_opts o;
  lc_solve_result r;
  lc_error err;
  lc_solve_opts_default(&o, LC_SOLVE_GD);
  o.progress = cancel_after_two;
  ck_assert_int_eq(lc_solver_solve(f.s, &o, &r, &err), LC_OK);
  ck_assert_int_eq(r.reason, LC_STOP_CANCELLED);
  ck_assert_int_eq(r.iters, 2);
  volatile int flag = 1;
  lc_solve_opts_default(&o, LC_SOLVE_LBFGS);
  o.cancel = &flag;
  ck_assert_int_eq(lc_solver_solve(f.s, &o, &r, &err), LC_OK);
  ck_assert_int_eq(r.reason, LC_STOP_CANCELLED);
  ck_assert_int_eq(r.iters, 0);
  o.cancel = NULL;
  o.ls_c = 2.0;
  ck_assert_int_eq(lc_solver_solve(f.s, &o, &r, &err), LC_EINVAL);
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.sphere_var = 0; /* dimension 2 */
  ck_assert_int_eq(lc_solver_solve(f.s, &o, &r, &err), LC_EINVAL);
  ck_assert_int_eq(lc_solve_method_parse("lbfgs"), LC_SOLVE_LBFGS);
  ck_assert_int_eq(lc_solve_method_parse("nope"), LC_ENOTFOUND);
  destroy(&f);
}
END_TEST

/* Counts progress records and keeps the last one. */
typedef struct counter {
  int n;
  lc_iter_stats last;
  double e[16]; /* energies of the last 16 records */
} counter;

static int count_it(void *user, const lc_iter_stats *it) {
  counter *c = user;
  c->e[c->n % 16] = it->energy;
  c->n++;
  c->last = *it;
  return 0;
}

/* A solve driven to rounding level stops on a stall of the energy: the
 * last accepted step is counted AND reported, and the gradient norm of the
 * result belongs to the final iterate (it used to be the previous one's). */
START_TEST(test_stall_exit_reports_final_gradient) {
  fixture f;
  make(&f, 4, 3);
  term(f.p, "target", 1.0, NULL, 0, "k", 1.0);
  term(f.p, "dirichlet", 0.5, NULL, 0, NULL, 0);
  perturb(f.p, 0.3, 21);
  lc_solve_opts o;
  lc_solve_result r;
  lc_error err;
  counter c = {0};
  lc_solve_opts_default(&o, LC_SOLVE_LBFGS);
  o.gtol = 0.0;
  o.max_iters = 100000;
  o.progress = count_it;
  o.user = &c;
  ck_assert_msg(lc_solver_solve(f.s, &o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.reason, LC_STOP_LINE_SEARCH);
  ck_assert_int_eq(c.n, r.iters);           /* every counted step was reported */
  ck_assert_int_eq(c.last.iter, r.iters);
  ck_assert_int_ge(c.n, 11);
  for (int k = 1; k <= 10; ++k) /* the stall rule fired: 10 steps without a decrease */
    ck_assert(c.e[(c.n - k) % 16] >= c.e[(c.n - k - 1) % 16]);
  const int64_t n = lc_problem_n_dofs(f.p);
  double *g = malloc((size_t)n * sizeof *g), E, gn = 0.0;
  ck_assert_int_eq(lc_problem_gradient(f.p, NULL, &E, g, &err), LC_OK);
  for (int64_t i = 0; i < n; ++i) gn = fmax(gn, fabs(g[i]));
  ck_assert(r.gnorm == gn);                 /* of the final iterate */
  ck_assert(r.energy == E);
  free(g);
  destroy(&f);
}
END_TEST

/* Symmetric Dirichlet Newton from the Tutte layout: never a flipped
 * triangle (finite energy at every iterate), energy decreasing. */
START_TEST(test_symdir_newton_flip_free) {
  lc_workload w;
  lc_solver *s;
  lc_error err;
  ck_assert_msg(lc_workload_setup(1, "camelhead", lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_solver_create(w.p, &s, &err), LC_OK);
  lc_solve_opts o;
  lc_solve_result r;
  trace tr = {{0}, 0};
  double E0;
  lc_problem_energy(w.p, NULL, &E0, NULL);
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.max_iters = 8;
  o.progress = record;
  o.user = &tr;
  ck_assert_msg(lc_solver_solve(s, &o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(tr.n, r.iters);
  double prev = E0;
  for (int i = 0; i < tr.n; ++i) {
    ck_assert(isfinite(tr.e[i]));
    ck_assert_double_lt(tr.e[i], prev);
    prev = tr.e[i];
  }
  ck_assert_double_lt(r.energy, 0.99 * E0);
  lc_solver_destroy(s);
  lc_workload_free(&w);
}
END_TEST

static Suite *solver_suite(void) {
  Suite *s = suite_create("solver");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_newton_quadratic_one_step);
  tcase_add_test(tc, test_time_budget_runs_one_iteration);
  tcase_add_test(tc, test_gd_valley);
  tcase_add_test(tc, test_lbfgs_valley);
  tcase_add_test(tc, test_newton_valley);
  tcase_add_test(tc, test_gauss_newton_residuals);
  tcase_add_test(tc, test_sphere_manifold);
  tcase_add_test(tc, test_cancel_and_errors);
  tcase_add_test(tc, test_stall_exit_reports_final_gradient);
  tcase_add_test(tc, test_symdir_newton_flip_free);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(solver_suite()); }
