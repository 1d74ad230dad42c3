/* custom_bench.c - locad-bench-custom: W1-W4 of shared/benchmarks.md written
 * as custom energies (expression DAGs run by the AD interpreter) against the
 * built-in energies, side by side in one run, on the CPU backend (issue
 * "Custom energies", targets: Hessian mode <= 2x, gradient mode <= 4x).
 *
 *   locad-bench-custom [--runs R] [--meshes DIR] [--only W1|W2|W3|W4]
 *
 * (W4, bending, has no target of its own in the issue.)  Each workload is set up as the standard one (lc_workload_setup: mesh,
 * state, the built-in term); the custom problem is the same mesh and state
 * with the custom term given the built-in term's constants.  Both are
 * checked to agree (energy, gradient) before timing.  Figures, the median of
 * R runs each (built-in and custom alternate): energy+gradient, exact
 * Hessian (assembled), projected Hessian, H v.  One JSON line per workload,
 * mesh and mode. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom/custom.h"
#include "custom/dag_build.h"
#include "lc_time.h"
#include "workloads.h"

#ifndef LC_BENCH_MESH_DIR
#define LC_BENCH_MESH_DIR "../shared/meshes"
#endif

/* ---- one workload ----------------------------------------------------------------- */

typedef struct {
  int id;
  const char *mesh;
} job;

/* Median of n values (sorts them). */
static double median(double *v, int n) {
  for (int i = 1; i < n; ++i)
    for (int j = i; j > 0 && v[j] < v[j - 1]; --j) {
      const double t = v[j];
      v[j] = v[j - 1], v[j - 1] = t;
    }
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds of one evaluation of mode m (0 gradient, 1 Hessian, 2 projected Hessian, 3 H v). */
static double timed(lc_problem *p, int m, double *g, const double *v, double *hv) {
  lc_error err = {0};
  double E;
  lc_csr H;
  const double t0 = lc_time_now();
  int rc = m == 0 ? lc_problem_gradient(p, NULL, &E, g, &err)
           : m < 3 ? lc_problem_hessian(p, NULL, m == 2, &E, g, &H, &err)
                   : lc_problem_hvp(p, NULL, v, 0, &E, g, hv, &err);
  const double t = lc_time_now() - t0;
  if (rc) fprintf(stderr, "custom_bench: %s\n", err.msg), exit(1);
  return t;
}

/* The custom twin of workload w's main term in a new problem on its mesh and state. */
static lc_problem *twin(const lc_workload *w, lc_error *err) {
  int ty, var, t;
  lc_var_loc loc;
  int dim;
  int32_t nv, ne;
  lc_problem_term_info(w->p, 0, &ty, NULL, &ne, NULL, err);
  lc_problem_var_info(w->p, 0, &loc, &dim, &nv, NULL);
  const lc_energy_info *info = lc_problem_term_energy_info(w->p, 0);
  double *x = malloc((size_t)nv * dim * sizeof *x), *k = malloc(((size_t)ne * info->n_const + 1) * sizeof *k);
  lc_problem_get_variable(w->p, 0, x, err);
  lc_problem_get_term_consts(w->p, 0, k, err);
  static lc_dag_node bn[128];
  lc_dag_builder G = {bn, 0, 128};
  static const char *const mulam[] = {"mu", "lambda"}, *const kk[] = {"k"};
  const double ones[2] = {1.0, 1.0};
  int32_t out = -1;
  const char *const *names = NULL;
  int np = 0, Kn = 3, elem = LC_ELEM_FACE;
  lc_workload_custom_dag(w->id, &G, &out);
  if (w->id == 2) names = mulam, np = 2;
  if (w->id == 3) names = kk, np = 1, Kn = 2, elem = LC_ELEM_EDGE;
  if (w->id == 4) names = kk, np = 1, Kn = 4, elem = LC_ELEM_FLAP;
  const lc_dag_desc d = lc_dagb_desc(&G, Kn, dim, info->n_const, np, 1, &out);
  lc_dag *g = NULL;
  lc_custom *c = NULL;
  lc_problem *p = NULL;
  int rc = lc_dag_create(&d, &g, err);
  if (!rc) rc = lc_custom_create(g, elem, names, &c, err);
  if (!rc) rc = lc_problem_create((lc_mesh *)w->m, "cpu", &p, err);
  if (!rc) rc = lc_problem_add_variable(p, "x", loc, dim, x, &var, err);
  lc_term_desc td = {.custom = c, .var = 0, .n_params = np, .param_names = names, .param_values = ones, .consts = k};
  if (!rc) rc = lc_problem_add_term(p, &td, &t, err);
  lc_dag_destroy(g);
  lc_custom_release(c);
  free(x), free(k);
  if (rc) fprintf(stderr, "custom_bench: %s\n", err->msg), exit(1);
  return p;
}

/* Checks that a and b agree (energy and gradient to 1e-12). */
static void agree(lc_problem *a, lc_problem *b, int64_t n, double *ga, double *gb) {
  lc_error err = {0};
  double Ea, Eb, s = 0.0, d = 0.0;
  lc_problem_gradient(a, NULL, &Ea, ga, &err);
  lc_problem_gradient(b, NULL, &Eb, gb, &err);
  for (int64_t i = 0; i < n; ++i) s = fmax(s, fabs(ga[i])), d = fmax(d, fabs(ga[i] - gb[i]));
  if (!(fabs(Ea - Eb) <= 1e-12 * fabs(Ea)) || !(d <= 1e-12 * s))
    fprintf(stderr, "custom_bench: the custom term disagrees (E %.17g vs %.17g, |dg| %g of %g)\n", Ea, Eb, d, s), exit(1);
}

static void run_job(const job *j, const char *dir, int runs) {
  static const char *const modes[4] = {"gradient", "hessian", "hessian_projected", "hvp"};
  static const double targets[4] = {4.0, 2.0, 2.0, 2.0};
  lc_workload w;
  lc_error err = {0};
  if (lc_workload_setup(j->id, j->mesh, dir, 0, "cpu", &w, &err)) {
    fprintf(stderr, "custom_bench: W%d %s: %s\n", j->id, j->mesh, err.msg);
    return;
  }
  lc_problem *c = twin(&w, &err);
  int dim;
  int32_t nv;
  lc_problem_var_info(w.p, 0, NULL, &dim, &nv, NULL);
  const int64_t n = (int64_t)nv * dim;
  double *g = malloc((size_t)n * sizeof *g), *g2 = malloc((size_t)n * sizeof *g2), *v = malloc((size_t)n * sizeof *v);
  double *tb = malloc((size_t)runs * sizeof *tb), *tc = malloc((size_t)runs * sizeof *tc);
  lc_workload_direction(v, n);
  agree(w.p, c, n, g, g2);
  for (int m = 0; m < 4; ++m) {
    timed(w.p, m, g, v, g2), timed(c, m, g, v, g2); /* warm: patterns, caches */
    for (int r = 0; r < runs; ++r) tb[r] = timed(w.p, m, g, v, g2), tc[r] = timed(c, m, g, v, g2);
    const double b = median(tb, runs) * 1e3, cu = median(tc, runs) * 1e3;
    printf("{\"system\": \"locad-cpu\", \"what\": \"custom_vs_builtin\", \"workload\": \"W%d\", \"mesh\": \"%s\", "
           "\"elements\": %d, \"mode\": \"%s\", \"threads\": %d, \"runs\": %d, \"builtin_ms\": %.3f, "
           "\"custom_ms\": %.3f, \"ratio\": %.2f, \"target_ratio\": %.0f}\n",
           j->id, j->mesh, (int)w.n_elem, modes[m], omp_get_max_threads(), runs, b, cu, cu / b, targets[m]);
    fflush(stdout);
  }
  free(g), free(g2), free(v), free(tb), free(tc);
  lc_problem_destroy(c);
  lc_workload_free(&w);
}

int main(int argc, char **argv) {
  int runs = 7;
  const char *dir = getenv("LOCAD_MESHES") ? getenv("LOCAD_MESHES") : LC_BENCH_MESH_DIR, *only = NULL;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--meshes") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: locad-bench-custom [--runs R] [--meshes DIR] [--only W1|W2|W3|W4]\n");
      return 64;
    }
  }
  if (runs < 1) runs = 1;
  static const job jobs[] = {{1, "camelhead"}, {1, "face"}, {2, "spot"}, {2, "armadillo"}, {3, "armadillo"},
                             {4, "spot"}, {4, "armadillo"}};
  for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; ++i) {
    char w[4];
    snprintf(w, sizeof w, "W%d", jobs[i].id);
    if (!only || !strcmp(only, w)) run_job(&jobs[i], dir, runs);
  }
  return 0;
}
