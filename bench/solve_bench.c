/* solve_bench.c - locad-bench-solve: times whole solver iterations on a
 * backend (issue "Solvers on the GPU") and prints one JSON line per figure.
 *
 *   locad-bench-solve [--backend cpu|cuda|cuda:N] [--grid N[,N...]] [--runs R]
 *                     [--threads T] [--meshes DIR]
 *
 * Figures, each the median of R runs from the same start state:
 *   W5 cloth n x n  "newton_pcg_iter": one Newton iteration with Jacobi PCG
 *                   as an editor frame runs it (lc_solver_solve, max_iters 1:
 *                   Hessian, linear solve, line search, new gradient), with
 *                   the solver's parts (deriv, linear, ls) and host reads;
 *   W5, W6 n x n    "lbfgs_iter": one L-BFGS iteration, the difference of
 *                   solves with 21 and 1 iterations over 20 (gtol 0);
 *   W6 4 x 4        "launch": a solve with max_iters 0 on a tiny problem (one
 *                   gradient, the program's launch and its one read).
 * Default grids: 100, 300 and 1000 on a GPU, 100 and 300 on the CPU. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solvers/solver.h"
#include "workloads.h"

#ifndef LC_BENCH_MESH_DIR
#define LC_BENCH_MESH_DIR "../shared/meshes"
#endif

typedef struct opts {
  char backend[16], meshes[1024];
  int grids[8], n_grids, runs, threads;
} opts;

/* One timed solve. */
typedef struct sample {
  double total, deriv, linear, ls;
  int iters, lin_iters;
  double reads;
} sample;

/* Seconds on a monotonic clock. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_total(const void *a, const void *b) {
  const double x = ((const sample *)a)->total, y = ((const sample *)b)->total;
  return (x > y) - (x < y);
}

static int lin_iters_seen;
/* Progress callback: keeps the CG iterations of the last iteration. */
static int on_iter(void *user, const lc_iter_stats *it) {
  (void)user;
  lin_iters_seen = it->lin_iters;
  return 0;
}

/* Solves from x0 with o on w and fills *s (wall time around the call). */
static int timed_solve(lc_workload *w, lc_solver *sv, const double *x0, const lc_solve_opts *o,
                       sample *s) {
  lc_error err;
  lc_solve_result r;
  lc_problem_set_x(w->p, x0, NULL);
  const uint64_t r0 = lc_problem_host_reads(w->p);
  const double t0 = now();
  if (lc_solver_solve(sv, o, &r, &err)) {
    fprintf(stderr, "locad-bench-solve: W%d %s: %s\n", w->id, w->mesh, err.msg);
    return 1;
  }
  s->total = now() - t0;
  s->deriv = r.t_deriv;
  s->linear = r.t_linear;
  s->ls = r.t_ls;
  s->iters = r.iters;
  s->lin_iters = lin_iters_seen;
  s->reads = (double)(lc_problem_host_reads(w->p) - r0);
  return 0;
}

/* Median over runs (after one warm-up) of solves with o; *med gets it. */
static int median_solve(lc_workload *w, lc_solver *sv, const double *x0, const lc_solve_opts *o,
                        int runs, sample *med) {
  sample t[64];
  if (runs > 64) runs = 64;
  if (timed_solve(w, sv, x0, o, &t[0])) return 1;
  for (int i = 0; i < runs; ++i)
    if (timed_solve(w, sv, x0, o, &t[i])) return 1;
  qsort(t, (size_t)runs, sizeof *t, cmp_total);
  *med = t[runs / 2];
  return 0;
}

/* Prints one figure. */
static void emit(const opts *o, const lc_workload *w, const char *what, int grid, double ms,
                 const sample *s, const char *extra) {
  printf("{\"system\":\"locad\",\"bench\":\"solve\",\"workload\":\"W%d\",\"grid\":%d,\"backend\":\"%s\","
         "\"threads\":%d,\"what\":\"%s\",\"n_vars\":%lld,\"ms\":%.4f,\"iters\":%d,\"host_reads\":%.0f%s}\n",
         w->id, grid, o->backend, o->threads, what, (long long)lc_problem_n_dofs(w->p), ms, s->iters,
         s->reads, extra);
  fflush(stdout);
}

/* W5 at grid n: one Newton-PCG iteration by part, and one L-BFGS iteration. */
static int bench_w(const opts *o, int id, int n) {
  lc_workload w;
  lc_solver *sv = NULL;
  lc_error err;
  if (lc_workload_setup(id, NULL, o->meshes, n, o->backend, &w, &err)) {
    fprintf(stderr, "locad-bench-solve: W%d %d: %s\n", id, n, err.msg);
    return 1;
  }
  const int64_t nd = lc_problem_n_dofs(w.p);
  double *x0 = malloc((size_t)nd * sizeof *x0);
  int rc = !x0 || lc_solver_create(w.p, &sv, &err);
  if (!rc) memcpy(x0, lc_problem_x(w.p), (size_t)nd * sizeof *x0);
  lc_solve_opts so;
  sample a = {0}, b = {0};
  char extra[256];
  if (!rc && id == 5) {
    lc_solve_opts_default(&so, LC_SOLVE_NEWTON);
    so.linear = LC_LIN_PCG;
    so.max_iters = 1;
    so.gtol = 0.0;
    so.progress = on_iter;
    rc = median_solve(&w, sv, x0, &so, o->runs, &a);
    snprintf(extra, sizeof extra, ",\"deriv_ms\":%.4f,\"linear_ms\":%.4f,\"ls_ms\":%.4f,\"cg_iters\":%d",
             1e3 * a.deriv, 1e3 * a.linear, 1e3 * a.ls, a.lin_iters);
    if (!rc) emit(o, &w, "newton_pcg_iter", n, 1e3 * a.total, &a, extra);
  }
  if (!rc) {
    lc_solve_opts_default(&so, LC_SOLVE_LBFGS);
    so.gtol = 0.0;
    so.max_iters = 1;
    rc = median_solve(&w, sv, x0, &so, o->runs, &a);
    so.max_iters = 21;
    if (!rc) rc = median_solve(&w, sv, x0, &so, o->runs, &b);
    const int k = b.iters - a.iters;
    snprintf(extra, sizeof extra, ",\"iters_timed\":%d,\"reads_per_solve\":%.0f", k, b.reads);
    if (!rc && k > 0) emit(o, &w, "lbfgs_iter", n, 1e3 * (b.total - a.total) / k, &b, extra);
  }
  lc_solver_destroy(sv);
  lc_workload_free(&w);
  free(x0);
  return rc;
}

/* The launch overhead: max_iters 0 on W6 4 x 4. */
static int bench_launch(const opts *o) {
  lc_workload w;
  lc_solver *sv = NULL;
  lc_error err;
  if (lc_workload_setup(6, NULL, o->meshes, 4, o->backend, &w, &err)) {
    fprintf(stderr, "locad-bench-solve: launch: %s\n", err.msg);
    return 1;
  }
  const int64_t nd = lc_problem_n_dofs(w.p);
  double x0[3 * 16];
  memcpy(x0, lc_problem_x(w.p), (size_t)nd * sizeof *x0);
  lc_solve_opts so;
  sample a;
  lc_solve_opts_default(&so, LC_SOLVE_LBFGS);
  so.max_iters = 0;
  int rc = lc_solver_create(w.p, &sv, &err) || median_solve(&w, sv, x0, &so, o->runs, &a);
  if (!rc) emit(o, &w, "launch", 4, 1e3 * a.total, &a, "");
  lc_solver_destroy(sv);
  lc_workload_free(&w);
  return rc;
}

/* Parses the command line; 2 on a usage error. */
static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  snprintf(o->backend, sizeof o->backend, "cpu");
  const char *md = getenv("LOCAD_MESHES");
  snprintf(o->meshes, sizeof o->meshes, "%s", md ? md : LC_BENCH_MESH_DIR);
  o->runs = 5;
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return 2;
    if (!strcmp(a, "--backend")) snprintf(o->backend, sizeof o->backend, "%s", strcmp(v, "cuda") ? v : "cuda:0");
    else if (!strcmp(a, "--runs")) o->runs = atoi(v);
    else if (!strcmp(a, "--threads")) o->threads = atoi(v);
    else if (!strcmp(a, "--meshes")) snprintf(o->meshes, sizeof o->meshes, "%s", v);
    else if (!strcmp(a, "--grid"))
      for (char *s = (char *)v; *s && o->n_grids < 8; s += strcspn(s, ",") + (s[strcspn(s, ",")] != 0))
        o->grids[o->n_grids++] = atoi(s);
    else return 2;
  }
  if (o->runs < 1) return 2;
  if (!o->n_grids) {
    const int gpu = strcmp(o->backend, "cpu") != 0;
    o->grids[0] = 100, o->grids[1] = 300, o->grids[2] = 1000;
    o->n_grids = gpu ? 3 : 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  opts o;
  if (parse(argc, argv, &o)) {
    fprintf(stderr, "usage: locad-bench-solve [--backend cpu|cuda|cuda:N] [--grid N[,N...]] [--runs R]\n"
                    "                         [--threads T] [--meshes DIR]\n");
    return 2;
  }
  if (o.threads > 0) omp_set_num_threads(o.threads);
  o.threads = omp_get_max_threads();
  int rc = bench_launch(&o);
  for (int i = 0; i < o.n_grids; ++i) rc |= bench_w(&o, 5, o.grids[i]);
  for (int i = 0; i < o.n_grids; ++i) rc |= bench_w(&o, 6, o.grids[i]);
  return rc ? 1 : 0;
}
