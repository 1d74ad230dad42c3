/* test_cuda_solver.c - GPU Check suite (CTest label "gpu") for whole solves
 * on the CUDA backend against the CPU backend: every method reaches the
 * CPU's minimum on a convex problem, iterative methods read the device once
 * per solve, progress records arrive in order through the ring (also when
 * it overflows), and a solve cancelled midway stops.  Exits 77 (skipped)
 * when no usable CUDA device exists. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/solver.h"
#include "testutil.h"
#include "workloads.h"

/* A convex problem on an n x n grid on device dev: 3D positions pulled to
 * their rest places (target) and smoothed (dirichlet), perturbed. */
static lc_problem *convex(lc_mesh **m, int n, const char *dev) {
  lc_error err;
  lc_problem *p;
  ck_assert_int_eq(lc_workload_grid(n, m, &err), LC_OK);
  ck_assert_msg(lc_problem_create(*m, dev, &p, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  const char *energies[] = {"target", "dirichlet"};
  const double w[] = {1.0, 0.5};
  for (int e = 0; e < 2; ++e) {
    lc_term_desc d = {0};
    d.energy = energies[e];
    d.weight = w[e];
    d.weight_set = 1;
    ck_assert_msg(lc_problem_add_term(p, &d, NULL, &err) == LC_OK, "%s", err.msg);
  }
  const int64_t nd = lc_problem_n_dofs(p);
  double *x = malloc((size_t)nd * sizeof *x);
  unsigned long long seed = 77;
  memcpy(x, lc_problem_x(p), (size_t)nd * sizeof *x);
  for (int64_t i = 0; i < nd; ++i) x[i] += lc_test_rand(&seed, -0.2, 0.2);
  ck_assert_int_eq(lc_problem_set_x(p, x, &err), LC_OK);
  const int32_t fixed[] = {0};
  ck_assert_int_eq(lc_problem_fix(p, 0, 1, fixed, NULL, &err), LC_OK);
  free(x);
  return p;
}

typedef struct progress {
  int n, in_order, cancel_at;
} progress;

/* Counts records, checks their order, cancels at cancel_at (0: never). */
static int on_progress(void *user, const lc_iter_stats *it) {
  progress *pr = user;
  pr->n++;
  if (it->iter != pr->n) pr->in_order = 0;
  return pr->cancel_at > 0 && it->iter >= pr->cancel_at;
}

/* Solves with o on device dev; returns the result, the device reads and progress. */
static void solve_on(const char *dev, int grid, const lc_solve_opts *o0, lc_solve_result *r,
                     uint64_t *reads, progress *pr) {
  lc_mesh *m;
  lc_problem *p = convex(&m, grid, dev);
  lc_solver *s;
  lc_error err;
  ck_assert_int_eq(lc_solver_create(p, &s, &err), LC_OK);
  lc_solve_opts o = *o0;
  pr->n = 0;
  pr->in_order = 1;
  o.progress = on_progress;
  o.user = pr;
  const uint64_t r0 = lc_problem_host_reads(p);
  ck_assert_msg(lc_solver_solve(s, &o, r, &err) == LC_OK, "%s: %s", dev, err.msg);
  *reads = lc_problem_host_reads(p) - r0;
  lc_solver_destroy(s);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}

/* Every method: the GPU reaches the CPU's minimum (1e-10 relative), with
 * iteration counts within one, one read per solve for iterative methods
 * and at most one per iteration for direct Newton. */
START_TEST(every_method_matches_cpu) {
  static const struct { lc_solve_method m; lc_lin_kind k; lc_precond pc; } cases[] = {
      {LC_SOLVE_GD, 0, 0},
      {LC_SOLVE_LBFGS, 0, 0},
      {LC_SOLVE_NEWTON, LC_LIN_PCG, LC_PRECOND_JACOBI},
      {LC_SOLVE_NEWTON, LC_LIN_PCG, LC_PRECOND_BLOCK_JACOBI},
      {LC_SOLVE_NEWTON, LC_LIN_CG_MATFREE, 0},
      {LC_SOLVE_NEWTON, LC_LIN_CHOLMOD, 0},
      {LC_SOLVE_GAUSS_NEWTON, LC_LIN_PCG, 0},
      {LC_SOLVE_LM, LC_LIN_PCG, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; ++c) {
    lc_solve_opts o;
    lc_solve_result rc, rg;
    uint64_t reads_c, reads_g;
    progress pc = {0}, pg = {0};
    lc_solve_opts_default(&o, cases[c].m);
    o.linear = cases[c].k;
    o.lin.precond = cases[c].pc;
    o.lin.rtol = 1e-12;
    o.gtol = 1e-9;
    o.max_iters = cases[c].m == LC_SOLVE_GD ? 240 : 200;
    solve_on("cpu", 24, &o, &rc, &reads_c, &pc);
    solve_on("cuda:0", 24, &o, &rg, &reads_g, &pg);
    printf("method %s lin %d: cpu %d iters E %.17g, gpu %d iters E %.17g, %llu reads\n",
           lc_solve_method_name(cases[c].m), (int)cases[c].k, rc.iters, rc.energy, rg.iters,
           rg.energy, (unsigned long long)reads_g);
    ck_assert_int_eq(rg.reason, rc.reason);
    ck_assert_double_le(fabs(rg.energy - rc.energy), 1e-10 * fabs(rc.energy));
    ck_assert_int_le(abs(rg.iters - rc.iters), 1);
    ck_assert_int_eq(pg.n, rg.iters);
    ck_assert(pg.in_order);
    if (cases[c].m >= LC_SOLVE_NEWTON && cases[c].k == LC_LIN_CHOLMOD)
      ck_assert_uint_le(reads_g, (uint64_t)rg.iters + 1);
    else
      ck_assert_uint_eq(reads_g, 1);
  }
}
END_TEST

/* 1000 GD iterations overflow the 256-record ring: every record arrives,
 * in order, and the solve resumes instead of stopping. */
START_TEST(ring_overflow_delivers_all) {
  lc_solve_opts o;
  lc_solve_result r;
  uint64_t reads;
  progress pr = {0};
  lc_solve_opts_default(&o, LC_SOLVE_GD);
  o.gtol = 0.0;
  o.max_iters = 1000;
  solve_on("cuda:0", 16, &o, &r, &reads, &pr);
  ck_assert_int_eq(r.iters, 1000);
  ck_assert_int_eq(r.reason, LC_STOP_MAX_ITERS);
  ck_assert_int_eq(pr.n, 1000);
  ck_assert(pr.in_order);
  ck_assert_uint_le(reads, 1 + 1000 / 256 + 1);
}
END_TEST

/* A progress callback that cancels at iteration 5 stops a long solve. */
START_TEST(cancel_midway_stops) {
  lc_solve_opts o;
  lc_solve_result r;
  uint64_t reads;
  progress pr = {0, 1, 5};
  lc_solve_opts_default(&o, LC_SOLVE_GD);
  o.gtol = 0.0;
  o.max_iters = 1000000;
  solve_on("cuda:0", 64, &o, &r, &reads, &pr);
  ck_assert_int_eq(r.reason, LC_STOP_CANCELLED);
  ck_assert_int_ge(r.iters, 5);
  ck_assert_int_lt(r.iters, 1000000);
}
END_TEST

/* The W5 cloth (non-convex): three Newton-PCG iterations on both devices
 * follow the same path. */
START_TEST(cloth_newton_pcg_matches_cpu) {
  lc_solve_result r[2];
  for (int d = 0; d < 2; ++d) {
    lc_workload w;
    lc_solver *s;
    lc_error err;
    ck_assert_msg(lc_workload_setup(5, NULL, lc_test_mesh_dir(), 40, d ? "cuda:0" : "cpu", &w, &err) == LC_OK,
                  "%s", err.msg);
    ck_assert_int_eq(lc_solver_create(w.p, &s, &err), LC_OK);
    lc_solve_opts o;
    lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
    o.linear = LC_LIN_PCG;
    o.lin.rtol = 1e-12;
    o.max_iters = 3;
    ck_assert_msg(lc_solver_solve(s, &o, &r[d], &err) == LC_OK, "%s", err.msg);
    lc_solver_destroy(s);
    lc_workload_free(&w);
  }
  ck_assert_int_eq(r[0].iters, r[1].iters);
  ck_assert_double_le(fabs(r[0].energy - r[1].energy), 1e-10 * fabs(r[0].energy));
}
END_TEST

/* Static condensation runs on the CPU backend only: on a GPU the solve is
 * refused with a message that names it (the problem stays usable). */
START_TEST(condense_refused_on_gpu) {
  lc_mesh *m;
  lc_problem *p = convex(&m, 6, "cuda:0");
  lc_solver *s;
  lc_error err;
  lc_solve_result r;
  ck_assert_int_eq(lc_solver_create(p, &s, &err), LC_OK);
  lc_solve_opts o;
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.condense_var = 0;
  o.condense_c0 = 2;
  o.condense_c1 = 3;
  ck_assert_int_eq(lc_solver_solve(s, &o, &r, &err), LC_ENOTSUP);
  ck_assert_msg(strstr(err.msg, "condens") != NULL, "%s", err.msg);
  o.condense_var = -1;
  ck_assert_msg(lc_solver_solve(s, &o, &r, &err) == LC_OK, "%s", err.msg);
  lc_solver_destroy(s);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Builds the suite. */
static Suite *suite(void) {
  Suite *s = suite_create("cuda_solver");
  TCase *tc = tcase_create("solves");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, every_method_matches_cpu);
  tcase_add_test(tc, ring_overflow_delivers_all);
  tcase_add_test(tc, cancel_midway_stops);
  tcase_add_test(tc, cloth_newton_pcg_matches_cpu);
  tcase_add_test(tc, condense_refused_on_gpu);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  const int skip = lc_test_require_cuda("test_cuda_solver");
  return skip ? skip : lc_test_run_suite(suite());
}
