/* locad_bench.c - locad-bench: times the standard workloads of
 * shared/benchmarks.md and prints one JSON line per figure.
 *
 *   locad-bench [--workload W1..W6] [--mesh NAME|FILE.obj] [--grid N]
 *               [--what MODE[,MODE...]] [--backend cpu|cuda] [--threads T]
 *               [--runs R] [--meshes DIR]
 *
 * Modes: energy, grad, hess, hess_noproj, hvp, newton (W1 only: one
 * projected-Newton step, reported by part).  Every workload is validated
 * against its published check values before it is timed; "check" is "ok"
 * only when they matched ("none" where none are published).  With no
 * arguments the standard set runs.  Exit status 1 if any check failed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solvers/linsolve.h"
#include "workloads.h"

#define MAX_MODES 8
#ifndef LC_BENCH_MESH_DIR
#define LC_BENCH_MESH_DIR "../shared/meshes"
#endif

typedef struct opts {
  int workload;      /* 0: standard set */
  char mesh[1024];   /* "" : the workload's standard meshes */
  int grid;          /* W5/W6 grid size, 0: standard */
  char what[256];    /* comma list, "" : standard */
  char backend[16];
  int threads;
  int runs;
  char meshes[1024];
} opts;

static const char *const all_modes[] = {"energy", "grad", "hess", "hess_noproj", "hvp", "newton"};
#define N_MODES 6

/* Seconds on a monotonic clock. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The CPU model name, for the "device" field. */
static void cpu_name(char *out, size_t n) {
  snprintf(out, n, "cpu");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
      char *s = strchr(line, ':') + 2;
      s[strcspn(s, "\n")] = 0;
      snprintf(out, n, "%s", s);
      break;
    }
  if (f) fclose(f);
}

/* Scratch arrays for one workload. */
typedef struct bufs {
  double *g, *v, *hv;
} bufs;

/* Runs mode once on w; returns an lc status. */
static int run_mode(lc_workload *w, const char *mode, bufs *b, lc_csr *H, double *E) {
  lc_error err;
  int rc;
  if (!strcmp(mode, "energy")) rc = lc_problem_energy(w->p, NULL, E, &err);
  else if (!strcmp(mode, "grad")) rc = lc_problem_gradient(w->p, NULL, E, b->g, &err);
  else if (!strcmp(mode, "hess")) rc = lc_problem_hessian(w->p, NULL, 1, E, b->g, H, &err);
  else if (!strcmp(mode, "hess_noproj")) rc = lc_problem_hessian(w->p, NULL, 0, E, b->g, H, &err);
  else if (!strcmp(mode, "hvp")) rc = lc_problem_hvp(w->p, NULL, b->v, 0, E, b->g, b->hv, &err);
  else rc = lc_error_set(&err, LC_EINVAL, "unknown mode '%s'", mode);
  if (rc) fprintf(stderr, "locad-bench: %s: %s\n", mode, err.msg);
  return rc;
}

/* Relative agreement test for a check value. */
static int agrees(double got, double want, double tol, const char *what, const lc_workload *w) {
  const double rel = fabs(got - want) / fmax(fabs(want), 1e-300);
  if (rel <= tol) return 1;
  fprintf(stderr, "locad-bench: W%d %s: %s = %.17g, expected %.17g (rel. error %.3g)\n", w->id,
          w->mesh, what, got, want, rel);
  return 0;
}

/* Validates w against its check values: returns "ok", "none" or "FAIL". */
static const char *validate(lc_workload *w, bufs *b, int with_hess) {
  lc_check c;
  if (!lc_workload_check(w->id, w->mesh, &c)) return "none";
  const int64_t n = lc_problem_n_dofs(w->p);
  double E, gn = 0, gv = 0, hn = 0, vhv = 0;
  lc_error err;
  if (lc_problem_hvp(w->p, NULL, b->v, 0, &E, b->g, b->hv, &err)) return "FAIL";
  for (int64_t i = 0; i < n; ++i) {
    gn += b->g[i] * b->g[i]; gv += b->g[i] * b->v[i];
    hn += b->hv[i] * b->hv[i]; vhv += b->v[i] * b->hv[i];
  }
  int ok = agrees(E, c.energy, 1e-11, "energy", w) & agrees(sqrt(gn), c.gnorm, 1e-11, "|g|", w) &
           agrees(gv, c.gv, 1e-9, "g.v", w) & agrees(sqrt(hn), c.hvnorm, 1e-10, "|Hv|", w) &
           agrees(vhv, c.vhv, 1e-10, "v.Hv", w);
  if (with_hess) {
    lc_csr H;
    double fro = 0.0;
    if (lc_problem_hessian(w->p, NULL, 1, NULL, NULL, &H, &err)) return "FAIL";
    for (int64_t k = 0; k < H.nnz; ++k) fro += H.val[k] * H.val[k];
    ok &= agrees(sqrt(fro), c.hfro, 1e-9, "|H_proj|_F", w);
  }
  return ok ? "ok" : "FAIL";
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times one mode (3 warm-up calls, then o->runs calls) and prints its line. */
static int time_mode(lc_workload *w, const char *mode, const opts *o, bufs *b, const char *check,
                     const char *device) {
  double t[1024], E = 0.0;
  lc_csr H = {0};
  for (int i = 0; i < 3; ++i)
    if (run_mode(w, mode, b, &H, &E)) return 1;
  for (int i = 0; i < o->runs; ++i) {
    const double t0 = now();
    if (run_mode(w, mode, b, &H, &E)) return 1;
    t[i] = 1e3 * (now() - t0);
  }
  qsort(t, (size_t)o->runs, sizeof t[0], cmp_double);
  const double med = t[o->runs / 2];
  if (!H.nnz) lc_problem_hessian(w->p, NULL, 0, NULL, NULL, &H, NULL);
  printf("{\"system\":\"locad\",\"workload\":\"W%d\",\"mesh\":\"%s\",\"backend\":\"%s\","
         "\"device\":\"%s\",\"threads\":%d,\"what\":\"%s\",\"n_elem\":%d,\"n_vars\":%lld,"
         "\"nnz\":%lld,\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,\"melem_per_s\":%.3f,"
         "\"bytes_per_elem\":%.1f,\"check\":\"%s\"}\n",
         w->id, w->mesh, o->backend, device, o->threads, mode, w->n_elem,
         (long long)lc_problem_n_dofs(w->p), (long long)H.nnz, med, t[0], t[o->runs - 1],
         w->n_elem / (med * 1e-3) / 1e6, lc_problem_bytes_per_element(w->p), check);
  fflush(stdout);
  return 0;
}

/* Times of one Newton step, by part (seconds). */
typedef struct newton_times {
  double deriv, factor, solve, ls, total;
  int trials;
} newton_times;

/* One projected-Newton step from x0 as benchmarks.md defines it: H + 1e-9 I
 * by sparse Cholesky (analysis reused), backtracking Armijo (c = 1e-4,
 * shrink 0.8, start 1, +inf rejected).  Leaves the state at x0. */
static int newton_step(lc_workload *w, lc_linsolve *ls, const double *x0, bufs *b, newton_times *t) {
  lc_error err;
  lc_csr H;
  lc_lin_stats st = {0};
  lc_lin_opts lo = {0};
  const int64_t n = lc_problem_n_dofs(w->p);
  double E, t0 = now();
  lo.reg = 1e-9;
  if (lc_problem_hessian(w->p, x0, 1, &E, b->g, &H, &err)) return 1;
  t->deriv = now() - t0;
  for (int64_t i = 0; i < n; ++i) b->hv[i] = -b->g[i];
  if (lc_linsolve_solve(ls, &H, b->hv, b->v, &lo, &st, &err)) {
    fprintf(stderr, "locad-bench: newton: %s\n", err.msg);
    return 1;
  }
  t->factor = st.t_factor + st.t_analyze;
  t->solve = st.t_solve;
  t0 = now();
  double gd = 0.0, alpha = 1.0, f = INFINITY;
  for (int64_t i = 0; i < n; ++i) gd += b->g[i] * b->v[i];
  for (t->trials = 1; t->trials <= 60; ++t->trials, alpha *= 0.8) {
    for (int64_t i = 0; i < n; ++i) b->hv[i] = x0[i] + alpha * b->v[i];
    if (lc_problem_energy(w->p, b->hv, &f, &err)) return 1;
    if (isfinite(f) && f <= E + 1e-4 * alpha * gd) break;
  }
  t->ls = now() - t0;
  t->total = t->deriv + t->factor + t->solve + t->ls;
  return 0;
}

static int cmp_times(const void *a, const void *b) {
  const double x = ((const newton_times *)a)->total, y = ((const newton_times *)b)->total;
  return (x > y) - (x < y);
}

/* Times the newton mode and prints its line with the parts of the median run. */
static int time_newton(lc_workload *w, const opts *o, bufs *b, const char *check, const char *device) {
  lc_linsolve *ls = NULL;
  lc_error err;
  const int64_t n = lc_problem_n_dofs(w->p);
  double *x0 = malloc((size_t)n * sizeof *x0), *dir = b->v;
  newton_times t[1024];
  int rc = x0 ? lc_linsolve_create(LC_LIN_CHOLMOD, n, &ls, &err) : LC_ENOMEM;
  if (rc) { fprintf(stderr, "locad-bench: newton: %s\n", lc_strerror(rc)); free(x0); return 1; }
  memcpy(x0, lc_problem_x(w->p), (size_t)n * sizeof *x0);
  double *v_saved = malloc((size_t)n * sizeof *v_saved);
  memcpy(v_saved, dir, (size_t)n * sizeof *v_saved);
  for (int i = 0; i < 3 && !rc; ++i) rc = newton_step(w, ls, x0, b, &t[0]);
  for (int i = 0; i < o->runs && !rc; ++i) rc = newton_step(w, ls, x0, b, &t[i]);
  memcpy(dir, v_saved, (size_t)n * sizeof *v_saved);
  if (!rc) {
    qsort(t, (size_t)o->runs, sizeof t[0], cmp_times);
    const newton_times *m = &t[o->runs / 2];
    printf("{\"system\":\"locad\",\"workload\":\"W%d\",\"mesh\":\"%s\",\"backend\":\"%s\","
           "\"device\":\"%s\",\"threads\":%d,\"what\":\"newton\",\"n_elem\":%d,\"n_vars\":%lld,"
           "\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,\"deriv_ms\":%.4f,\"factor_ms\":%.4f,"
           "\"solve_ms\":%.4f,\"ls_ms\":%.4f,\"ls_trials\":%d,\"melem_per_s\":%.3f,\"check\":\"%s\"}\n",
           w->id, w->mesh, o->backend, device, o->threads, w->n_elem, (long long)n, 1e3 * m->total,
           1e3 * t[0].total, 1e3 * t[o->runs - 1].total, 1e3 * m->deriv, 1e3 * m->factor,
           1e3 * m->solve, 1e3 * m->ls, m->trials, w->n_elem / m->total / 1e6, check);
    fflush(stdout);
  }
  lc_linsolve_destroy(ls);
  free(x0);
  free(v_saved);
  return rc != 0;
}

/* Splits the mode list; returns the count. */
static int parse_modes(const char *what, int grad_only, int newton, const char **modes) {
  int n = 0;
  if (!*what) {
    for (int i = 0; i < 5 && n < MAX_MODES; ++i)
      if (!grad_only || i < 2) modes[n++] = all_modes[i];
    if (newton) modes[n++] = "newton";
    return n;
  }
  for (int i = 0; i < N_MODES; ++i) {
    const char *s = strstr(what, all_modes[i]);
    while (s && ((s != what && s[-1] != ',') || (s[strlen(all_modes[i])] && s[strlen(all_modes[i])] != ',')))
      s = strstr(s + 1, all_modes[i]);
    if (s) modes[n++] = all_modes[i];
  }
  return n;
}

/* Sets up, validates and times one workload/mesh pair. */
static int bench_one(int id, const char *mesh, int grid, const opts *o, const char *device) {
  lc_workload w;
  lc_error err;
  char dir[1024], name[256];
  snprintf(dir, sizeof dir, "%s", o->meshes);
  snprintf(name, sizeof name, "%s", mesh ? mesh : "");
  const char *slash = strrchr(name, '/');
  if (slash) { /* a path: split into directory and mesh name */
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
    memmove(name, slash + 1, strlen(slash + 1) + 1);
  }
  char *dot = strstr(name, ".obj");
  if (dot) *dot = 0;
  if (lc_workload_setup(id, name, dir, grid, o->backend, &w, &err)) {
    fprintf(stderr, "locad-bench: W%d %s: %s\n", id, name, err.msg);
    return 1;
  }
  lc_problem_set_threads(w.p, o->threads);
  const int64_t n = lc_problem_n_dofs(w.p);
  bufs b = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  lc_workload_direction(b.v, n);
  const char *modes[MAX_MODES];
  const int nm = parse_modes(o->what, w.grad_only, w.id == 1, modes);
  int with_hess = 0, failed = 0;
  for (int i = 0; i < nm; ++i) with_hess |= !strcmp(modes[i], "hess");
  const char *check = validate(&w, &b, with_hess);
  failed |= !strcmp(check, "FAIL");
  for (int i = 0; i < nm; ++i)
    failed |= !strcmp(modes[i], "newton") ? (w.id == 1 ? time_newton(&w, o, &b, check, device) : 0)
                                          : time_mode(&w, modes[i], o, &b, check, device);
  free(b.g); free(b.v); free(b.hv);
  lc_workload_free(&w);
  return failed;
}

/* The standard set of benchmarks.md (or one workload's standard meshes). */
static int bench_standard(const opts *o, const char *device) {
  static const struct { int id; const char *mesh; int grid; } set[] = {
      {1, "camelhead", 0}, {1, "face", 0}, {1, "grid_224", 0},
      {2, "spot", 0}, {2, "armadillo", 0}, {2, "igea", 0},
      {3, "armadillo", 0}, {3, "igea", 0},
      {4, "spot", 0}, {4, "armadillo", 0}, {4, "igea", 0},
      {5, NULL, 100}, {5, NULL, 300}, {6, NULL, 1000}};
  int failed = 0;
  for (size_t i = 0; i < sizeof set / sizeof set[0]; ++i) {
    if (o->workload && set[i].id != o->workload) continue;
    const int grid = o->grid ? o->grid : set[i].grid;
    if (o->grid && i > 0 && set[i - 1].id == set[i].id && !set[i].mesh) continue;
    failed |= bench_one(set[i].id, set[i].mesh, grid, o, device);
  }
  return failed;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: locad-bench [--workload W1..W6] [--mesh NAME|FILE.obj] [--grid N]\n"
          "                   [--what MODE[,MODE...]] [--backend cpu|cuda] [--threads T]\n"
          "                   [--runs R] [--meshes DIR]\n"
          "modes: energy grad hess hess_noproj hvp newton (W1); no arguments: the standard set\n");
}

/* Parses the command line into o; returns 0, or 2 on a usage error. */
static int parse_args(int argc, char **argv, opts *o) {
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 1; }
    if (!v) { usage(stderr); return 2; }
    if (!strcmp(a, "--workload")) o->workload = atoi(v + (v[0] == 'W' || v[0] == 'w'));
    else if (!strcmp(a, "--mesh")) snprintf(o->mesh, sizeof o->mesh, "%s", v);
    else if (!strcmp(a, "--grid")) o->grid = atoi(v);
    else if (!strcmp(a, "--what")) snprintf(o->what, sizeof o->what, "%s", v);
    else if (!strcmp(a, "--backend")) snprintf(o->backend, sizeof o->backend, "%s", v);
    else if (!strcmp(a, "--threads")) o->threads = atoi(v);
    else if (!strcmp(a, "--runs")) o->runs = atoi(v);
    else if (!strcmp(a, "--meshes")) snprintf(o->meshes, sizeof o->meshes, "%s", v);
    else { usage(stderr); return 2; }
  }
  if (o->workload < 0 || o->workload > 6 || o->runs < 1 || o->runs > 1000 || o->threads < 0) {
    usage(stderr);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  opts o = {0, "", 0, "", "cpu", 0, 11, ""};
  const char *env = getenv("LOCAD_MESHES");
  snprintf(o.meshes, sizeof o.meshes, "%s", env && *env ? env : LC_BENCH_MESH_DIR);
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc == 1 ? 0 : rc;
  if (strcmp(o.backend, "cpu")) {
    fprintf(stderr, "locad-bench: backend '%s' is not available in this build (cpu only)\n", o.backend);
    return 2;
  }
  if (!o.threads) o.threads = omp_get_max_threads();
  char device[256];
  cpu_name(device, sizeof device);
  if (o.workload && (o.mesh[0] || o.workload >= 5) && (o.mesh[0] || o.grid))
    return bench_one(o.workload, o.mesh, o.grid, &o, device);
  return bench_standard(&o, device);
}
