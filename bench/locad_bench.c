/* locad_bench.c - locad-bench: times the standard workloads of
 * shared/benchmarks.md and prints one JSON line per figure.
 *
 *   locad-bench [--workload W1..W6] [--mesh NAME|FILE.obj] [--grid N]
 *               [--what MODE[,MODE...]] [--backend cpu|cuda|cuda:N|auto]
 *               [--threads T] [--runs R] [--meshes DIR] [--breakdown]
 *
 * Modes: energy, grad, hess, hess_noproj, hvp, newton (W1 only: one
 * projected-Newton step, reported by part).  Every workload is validated
 * against its published check values before it is timed; "check" is "ok"
 * only when they matched ("none" where none are published).  With no
 * arguments the standard set runs; with --backend cuda (device "cuda:0")
 * the standard GPU set, which has W5 and W6 at n = 100, 300 and 1000.
 *
 * Timings go through the public calls (problem.h), which take host arrays:
 * on a GPU each call includes its transfers (x when it changed, v up; E, g,
 * Hv and the Hessian values down).  --breakdown adds, per figure, where the
 * time goes: "resident_ms" (the same evaluation on device-resident buffers
 * through the problem's backend, ended by one scalar read, i.e. kernels plus
 * one synchronisation), "xfer_ms" (the uploads and downloads that the public
 * call adds, timed alone) and "host_reads" (counted device-to-host reads per
 * call).  --values prints the quantities that the validation computes (E,
 * |g|, g.v, |Hv|, v.Hv, |H_proj|_F) as a line with "what":"values", to compare
 * devices or systems where no check values are published.  Exit status 1 if any check failed or a problem could not be set up
 * on the device (the error is printed), 2 on a usage error. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "device.h"
#include "problem_impl.h"
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
  char backend[16];  /* as given: "cpu", "cuda", "cuda:N", "auto" */
  int threads;
  int runs;
  char meshes[1024];
  int breakdown;     /* --breakdown: resident and transfer times too */
  int values;        /* --values: print the checked quantities */
  char spec[16];     /* the device spec: "cpu", "cuda:N" */
  char kind[8];      /* "cpu" or "cuda": the "backend" field */
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

/* Validates w against its check values: returns "ok", "none" or "FAIL".
 * values: print the checked quantities as a JSON line ("what":"values"). */
static const char *validate(lc_workload *w, bufs *b, int with_hess, int values) {
  lc_check c;
  const int have = lc_workload_check(w->id, w->mesh, &c);
  if (!have && !values) return "none";
  const int64_t n = lc_problem_n_dofs(w->p);
  double E, gn = 0, gv = 0, hn = 0, vhv = 0;
  lc_error err;
  if (lc_problem_hvp(w->p, NULL, b->v, 0, &E, b->g, b->hv, &err)) {
    fprintf(stderr, "locad-bench: W%d %s: hvp: %s\n", w->id, w->mesh, err.msg);
    return "FAIL";
  }
  for (int64_t i = 0; i < n; ++i) {
    gn += b->g[i] * b->g[i]; gv += b->g[i] * b->v[i];
    hn += b->hv[i] * b->hv[i]; vhv += b->v[i] * b->hv[i];
  }
  if (values) {
    lc_csr H;
    double fro = NAN;
    if (!lc_problem_hessian(w->p, NULL, 1, NULL, NULL, &H, &err))
      for (int64_t k = (fro = 0.0, 0); k < H.nnz; ++k) fro += H.val[k] * H.val[k];
    printf("{\"system\":\"locad\",\"workload\":\"W%d\",\"mesh\":\"%s\",\"what\":\"values\","
           "\"energy\":%.17g,\"gnorm\":%.17g,\"gv\":%.17g,\"hvnorm\":%.17g,\"vhv\":%.17g,"
           "\"hfro\":%.17g}\n", w->id, w->mesh, E, sqrt(gn), gv, sqrt(hn), vhv, sqrt(fro));
    fflush(stdout);
  }
  if (!have) return "none";
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

/* The evaluation mode and projection flag of a timed mode. */
static int el_mode(const char *mode, lc_el_mode *m, int *project) {
  *project = !strcmp(mode, "hess");
  if (!strcmp(mode, "energy")) *m = LC_EL_ENERGY;
  else if (!strcmp(mode, "grad")) *m = LC_EL_GRAD;
  else if (!strcmp(mode, "hess") || !strcmp(mode, "hess_noproj")) *m = LC_EL_HESS;
  else if (!strcmp(mode, "hvp")) *m = LC_EL_HVP;
  else return 0;
  return 1;
}

/* Median of n times (sorts t). */
static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof t[0], cmp_double);
  return t[n / 2];
}

/* Where the time of one mode goes (--breakdown), milliseconds. */
typedef struct breakdown {
  double resident, xfer, reads;
} breakdown;

/* Times mode on device-resident buffers through the problem's backend (what
 * the public call does without its transfers: sync, eval, one scalar read)
 * and, off the CPU, the transfers the public call adds (v up; g, Hv and the
 * Hessian values down), each with 3 warm-up and o->runs timed repetitions. */
static int time_resident(lc_workload *w, const char *mode, const opts *o, bufs *hb, breakdown *bd) {
  lc_problem *p = w->p;
  lc_backend *b = &p->be;
  lc_error err;
  lc_el_mode m;
  int project, rc = 0;
  if (!el_mode(mode, &m, &project)) return 0;
  const int64_t n = lc_problem_n_dofs(p);
  const size_t bytes = (size_t)n * sizeof(double);
  double *dx = NULL, *dv = NULL, *dg = NULL, *dhv = NULL, *dE = NULL, t[1024], E;
  rc = b->ops->alloc(b, bytes, (void **)&dx, &err);
  if (!rc) rc = b->ops->alloc(b, bytes, (void **)&dv, &err);
  if (!rc) rc = b->ops->alloc(b, bytes, (void **)&dg, &err);
  if (!rc) rc = b->ops->alloc(b, bytes, (void **)&dhv, &err);
  if (!rc) rc = b->ops->alloc(b, sizeof(double), (void **)&dE, &err);
  if (!rc) rc = b->ops->upload(b, dx, lc_problem_x(p), bytes, &err);
  if (!rc) rc = b->ops->upload(b, dv, hb->v, bytes, &err);
  if (!rc) rc = b->ops->sync(b, p, m, &err);
  const lc_eval_req q = {m, project, dx, m == LC_EL_HVP ? dv : NULL, dE,
                         m == LC_EL_ENERGY ? NULL : dg, m == LC_EL_HVP ? dhv : NULL, NULL, LC_CACHE_NONE};
  for (int i = 0; !rc && i < 3 + o->runs; ++i) {
    const double t0 = now();
    rc = b->ops->eval(b, p, &q, &err);
    if (!rc) rc = b->ops->read_scalars(b, &E, dE, 1, &err);
    if (i >= 3) t[i - 3] = 1e3 * (now() - t0);
  }
  if (!rc) bd->resident = median(t, o->runs);
  bd->xfer = 0.0;
  /* The CPU backend is handed the host arrays themselves: nothing moves. */
  const int moves = b->kind != LC_DEV_CPU && m != LC_EL_ENERGY;
  const double *hval = !rc && moves && m == LC_EL_HESS ? b->ops->hess_values(b, p) : NULL;
  for (int i = 0; !rc && moves && i < 3 + o->runs; ++i) {
    const double t0 = now();
    if (m == LC_EL_HVP) rc = b->ops->upload(b, dv, hb->v, bytes, &err);
    if (!rc) rc = b->ops->download(b, hb->g, dg, bytes, &err);
    if (!rc && m == LC_EL_HVP) rc = b->ops->download(b, hb->hv, dhv, bytes, &err);
    if (!rc && hval) rc = b->ops->download(b, p->hval, hval, (size_t)p->nnz * sizeof(double), &err);
    if (!rc) rc = b->ops->read_scalars(b, &E, dE, 1, &err); /* the uploads have landed */
    if (i >= 3) t[i - 3] = 1e3 * (now() - t0);
  }
  if (!rc && moves) bd->xfer = median(t, o->runs);
  if (rc) fprintf(stderr, "locad-bench: W%d %s %s (resident): %s\n", w->id, w->mesh, mode, err.msg);
  double *bufs_[] = {dx, dv, dg, dhv, dE};
  for (size_t i = 0; i < sizeof bufs_ / sizeof *bufs_; ++i)
    if (bufs_[i]) b->ops->free(b, bufs_[i]);
  return rc != 0;
}

/* Times one mode (3 warm-up calls, then o->runs calls) and prints its line. */
static int time_mode(lc_workload *w, const char *mode, const opts *o, bufs *b, const char *check,
                     const char *device) {
  double t[1024], E = 0.0;
  lc_csr H = {0};
  for (int i = 0; i < 3; ++i)
    if (run_mode(w, mode, b, &H, &E)) return 1;
  const uint64_t reads0 = lc_problem_host_reads(w->p);
  for (int i = 0; i < o->runs; ++i) {
    const double t0 = now();
    if (run_mode(w, mode, b, &H, &E)) return 1;
    t[i] = 1e3 * (now() - t0);
  }
  breakdown bd = {0};
  bd.reads = (double)(lc_problem_host_reads(w->p) - reads0) / o->runs;
  qsort(t, (size_t)o->runs, sizeof t[0], cmp_double);
  const double med = t[o->runs / 2];
  if (o->breakdown && time_resident(w, mode, o, b, &bd)) return 1;
  if (!H.nnz) lc_problem_hessian(w->p, NULL, 0, NULL, NULL, &H, NULL);
  char extra[160] = "";
  if (o->breakdown)
    snprintf(extra, sizeof extra, "\"resident_ms\":%.4f,\"xfer_ms\":%.4f,\"host_reads\":%.1f,",
             bd.resident, bd.xfer, bd.reads);
  printf("{\"system\":\"locad\",\"workload\":\"W%d\",\"mesh\":\"%s\",\"backend\":\"%s\","
         "\"device\":\"%s\",\"threads\":%d,\"what\":\"%s\",\"n_elem\":%d,\"n_vars\":%lld,"
         "\"nnz\":%lld,\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,\"melem_per_s\":%.3f,"
         "%s\"bytes_per_elem\":%.1f,\"check\":\"%s\"}\n",
         w->id, w->mesh, o->kind, device, o->threads, mode, w->n_elem,
         (long long)lc_problem_n_dofs(w->p), (long long)H.nnz, med, t[0], t[o->runs - 1],
         w->n_elem / (med * 1e-3) / 1e6, extra, lc_problem_bytes_per_element(w->p), check);
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
           w->id, w->mesh, o->kind, device, o->threads, w->n_elem, (long long)n, 1e3 * m->total,
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

/* Sets up, validates and times one workload/mesh pair: 0, 1 (a check or an
 * evaluation failed) or 2 (the problem could not be set up). */
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
  if (lc_workload_setup(id, name, dir, grid, o->spec, &w, &err)) {
    fprintf(stderr, "locad-bench: W%d %s on %s: %s\n", id, name, o->spec, err.msg);
    return 2;
  }
  lc_problem_set_threads(w.p, o->threads);
  const int64_t n = lc_problem_n_dofs(w.p);
  bufs b = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  lc_workload_direction(b.v, n);
  const char *modes[MAX_MODES];
  const int nm = parse_modes(o->what, w.grad_only, w.id == 1, modes);
  int with_hess = 0, failed = 0;
  for (int i = 0; i < nm; ++i) with_hess |= !strcmp(modes[i], "hess");
  const char *check = validate(&w, &b, with_hess, o->values);
  failed |= !strcmp(check, "FAIL");
  for (int i = 0; i < nm; ++i)
    failed |= !strcmp(modes[i], "newton") ? (w.id == 1 ? time_newton(&w, o, &b, check, device) : 0)
                                          : time_mode(&w, modes[i], o, &b, check, device);
  free(b.g); free(b.v); free(b.hv);
  lc_workload_free(&w);
  return failed;
}

/* The standard set of benchmarks.md (or one workload's standard meshes);
 * on a GPU the standard GPU set: W5 and W6 at n = 100, 300 and 1000. */
typedef struct set_entry {
  int id;
  const char *mesh;
  int grid;
} set_entry;
static const set_entry cpu_set[] = {
    {1, "camelhead", 0}, {1, "face", 0}, {1, "grid_224", 0},
    {2, "spot", 0}, {2, "armadillo", 0}, {2, "igea", 0},
    {3, "armadillo", 0}, {3, "igea", 0},
    {4, "spot", 0}, {4, "armadillo", 0}, {4, "igea", 0},
    {5, NULL, 100}, {5, NULL, 300}, {6, NULL, 1000}, {0, NULL, 0}};
static const set_entry gpu_set[] = {
    {1, "camelhead", 0}, {1, "face", 0}, {1, "grid_224", 0},
    {2, "spot", 0}, {2, "armadillo", 0}, {2, "igea", 0},
    {3, "armadillo", 0}, {3, "igea", 0},
    {4, "spot", 0}, {4, "armadillo", 0}, {4, "igea", 0},
    {5, NULL, 100}, {5, NULL, 300}, {5, NULL, 1000},
    {6, NULL, 100}, {6, NULL, 300}, {6, NULL, 1000}, {0, NULL, 0}};

static int bench_standard(const opts *o, const char *device) {
  const set_entry *set = strcmp(o->kind, "cpu") ? gpu_set : cpu_set;
  int failed = 0;
  for (size_t i = 0; set[i].id; ++i) {
    if (o->workload && set[i].id != o->workload) continue;
    const int grid = o->grid ? o->grid : set[i].grid;
    if (o->grid && i > 0 && set[i - 1].id == set[i].id && !set[i].mesh) continue;
    const int rc = bench_one(set[i].id, set[i].mesh, grid, o, device);
    failed |= rc != 0;
    if (rc == 2 && strcmp(o->kind, "cpu")) break; /* the device cannot take problems */
  }
  return failed;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: locad-bench [--workload W1..W6] [--mesh NAME|FILE.obj] [--grid N]\n"
          "                   [--what MODE[,MODE...]] [--backend cpu|cuda|cuda:N|auto]\n"
          "                   [--threads T] [--runs R] [--meshes DIR] [--breakdown]\n"
          "                   [--values]\n"
          "modes: energy grad hess hess_noproj hvp newton (W1); no arguments: the standard set\n"
          "(with --backend cuda: the GPU set, W5 and W6 at n = 100, 300, 1000)\n"
          "--breakdown: also resident_ms (device-resident evaluation), xfer_ms (the\n"
          "transfers of the public call) and host_reads per call\n"
          "--values: also print E, |g|, g.v, |Hv|, v.Hv, |H_proj|_F (\"what\":\"values\")\n");
}

/* Parses the command line into o; returns 0, or 2 on a usage error. */
static int parse_args(int argc, char **argv, opts *o) {
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 1; }
    if (!strcmp(a, "--breakdown")) { o->breakdown = 1; --i; continue; }
    if (!strcmp(a, "--values")) { o->values = 1; --i; continue; }
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

/* Resolves o->backend into the device spec, the backend kind and the
 * device's name; returns 0, or 1 (with a message) if it cannot be used. */
static int resolve_device(opts *o, char *device, size_t n) {
  lc_error err;
  lc_device_kind kind;
  int ordinal;
  const char *spec = !strcmp(o->backend, "cuda") ? "cuda:0" : o->backend;
  if (lc_device_resolve(spec, &kind, &ordinal, &err)) {
    fprintf(stderr, "locad-bench: backend '%s': %s\n", o->backend, err.msg);
    return 1;
  }
  if (kind == LC_DEV_CPU) {
    snprintf(o->spec, sizeof o->spec, "cpu");
    snprintf(o->kind, sizeof o->kind, "cpu");
    cpu_name(device, n);
    return 0;
  }
  snprintf(o->spec, sizeof o->spec, "cuda:%d", ordinal);
  snprintf(o->kind, sizeof o->kind, "cuda");
  lc_device_info list[LC_DEVICE_MAX];
  int nd = 0;
  lc_device_list(list, LC_DEVICE_MAX, &nd);
  snprintf(device, n, "%s", o->spec);
  for (int i = 0; i < nd; ++i)
    if (!strcmp(list[i].id, o->spec)) snprintf(device, n, "%s", list[i].name);
  return 0;
}

int main(int argc, char **argv) {
  opts o = {0, "", 0, "", "cpu", 0, 11, "", 0, 0, "cpu", "cpu"};
  const char *env = getenv("LOCAD_MESHES");
  snprintf(o.meshes, sizeof o.meshes, "%s", env && *env ? env : LC_BENCH_MESH_DIR);
  int rc = parse_args(argc, argv, &o);
  if (rc) return rc == 1 ? 0 : rc;
  if (!o.threads) o.threads = omp_get_max_threads();
  char device[256];
  if (resolve_device(&o, device, sizeof device)) return 1;
  if (o.workload && (o.mesh[0] || o.workload >= 5) && (o.mesh[0] || o.grid))
    return bench_one(o.workload, o.mesh, o.grid, &o, device) != 0;
  return bench_standard(&o, device);
}
