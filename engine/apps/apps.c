/* apps.c - the five demo applications of apps.h: mesh generators (grid,
 * icosphere), the Tutte layout, per-app problem setup, and the runs that
 * drive the solvers (and the implicit-Euler stepper for the cloth), report
 * every iteration and write the result as OBJ. */
#define _POSIX_C_SOURCE 200809L
#include "apps.h"
#include "../lc_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../solvers/dynamics.h"

#define LC_APP_PI 3.14159265358979323846

/* ---- small helpers ------------------------------------------------------ */

/* Deterministic uniform number in [-1, 1) from an integer key (splitmix64). */
static double hash_unit(unsigned long long key) {
  unsigned long long z = key * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return 2.0 * (double)(z >> 11) / 9007199254740992.0 - 1.0;
}

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void cross3(const double *a, const double *b, double *c) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

static double dist3(const double *a, const double *b) {
  const double d[3] = {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
  return sqrt(dot3(d, d));
}

/* Area of the 3D triangle (a, b, c). */
static double tri_area3(const double *a, const double *b, const double *c) {
  const double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
  const double v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
  double n[3];
  cross3(u, v, n);
  return 0.5 * sqrt(dot3(n, n));
}

/* Signed area of the 2D triangle (a, b, c). */
static double tri_area2(const double *a, const double *b, const double *c) {
  return 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
}

/* Allocates n doubles (at least one), zeroed. */
static double *dalloc(int64_t n) { return calloc((size_t)(n > 0 ? n : 1), sizeof(double)); }

/* ---- names, options, scenes --------------------------------------------- */

static const char *const app_names[LC_APP_COUNT] = {"cloth", "uv", "smooth", "arap", "sphere", "contact",
                                                     "frames", "embedded"};

/* Name of an app. */
const char *lc_app_name(lc_app_kind k) { return (unsigned)k < LC_APP_COUNT ? app_names[k] : "unknown"; }

/* Parses an app name; returns the kind or LC_ENOTFOUND. */
int lc_app_parse(const char *name) {
  for (int k = 0; name && k < LC_APP_COUNT; ++k)
    if (!strcmp(name, app_names[k])) return k;
  return LC_ENOTFOUND;
}

/* Fills o with the defaults. */
void lc_app_opts_default(lc_app_opts *o) {
  memset(o, 0, sizeof *o);
  o->method = -1;
}

/* Frees what a setup function put in s. */
void lc_app_scene_free(lc_app_scene *s) {
  if (!s) return;
  lc_problem_destroy(s->p);
  lc_mesh_destroy(s->mesh);
  memset(s, 0, sizeof *s);
}

/* Resets a scene to empty, with no inertia term. */
static void scene_init(lc_app_scene *s) {
  memset(s, 0, sizeof *s);
  s->inertia_term = -1;
}

/* Reads mesh_dir/<name>.obj. */
static int read_mesh(const lc_app_opts *o, const char *name, lc_mesh **m, lc_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.obj", o->mesh_dir && *o->mesh_dir ? o->mesh_dir : ".", name);
  return lc_mesh_read_obj_file(path, m, err);
}

/* Creates the scene's problem with one vertex variable of dimension dim. */
static int scene_problem(lc_app_scene *s, const lc_app_opts *o, int dim, const double *init,
                         lc_error *err) {
  int rc = lc_problem_create(s->mesh, o->device, &s->p, err);
  if (!rc) rc = lc_problem_add_variable(s->p, "x", LC_LOC_VERTEX, dim, init, &s->var, err);
  if (!rc && o->threads > 0) lc_problem_set_threads(s->p, o->threads);
  return rc;
}

/* Adds a term on the scene's variable with up to 4 named parameters. */
static int add_term(lc_app_scene *s, const char *energy, double weight, int np,
                    const char *const *names, const double *vals, int *id, lc_error *err) {
  lc_term_desc d = {0};
  d.energy = energy;
  d.var = s->var;
  d.weight = weight;
  d.weight_set = 1;
  d.n_params = np;
  d.param_names = names;
  d.param_values = vals;
  return lc_problem_add_term(s->p, &d, id, err);
}

/* Writes vertex values x (nv x dim, dim 2 or 3; 2D padded with z = 0) as OBJ to o->out. */
static int write_result(const lc_app_opts *o, const lc_mesh *m, const double *x, int dim,
                        lc_error *err) {
  if (!o->out) return LC_OK;
  const int32_t nv = lc_mesh_nv(m);
  double *V = dalloc((int64_t)nv * 3);
  if (!V) return lc_error_set(err, LC_ENOMEM, "app: out of memory");
  for (int32_t i = 0; i < nv; ++i)
    for (int c = 0; c < dim; ++c) V[3 * (int64_t)i + c] = x[(int64_t)i * dim + c];
  int rc = lc_mesh_write_obj_file(m, V, o->out, err);
  free(V);
  return rc;
}

/* ---- mesh generators ---------------------------------------------------- */

/* Makes an n x n grid on [0, size]^2 in z = 0 (vertex j*n + i at (i, j)). */
int lc_app_grid(int n, double size, lc_mesh **out, lc_error *err) {
  if (n < 2 || n > 4000 || !(size > 0.0))
    return lc_error_set(err, LC_EINVAL, "grid: n = %d not in 2..4000 or size <= 0", n);
  const int32_t nv = n * n, nf = 2 * (n - 1) * (n - 1);
  double *V = dalloc((int64_t)nv * 3);
  int32_t *F = malloc((size_t)nf * 3 * sizeof *F);
  int rc = V && F ? LC_OK : lc_error_set(err, LC_ENOMEM, "grid: out of memory");
  for (int32_t v = 0; !rc && v < nv; ++v) {
    V[3 * v] = size * (double)(v % n) / (n - 1);
    V[3 * v + 1] = size * (double)(v / n) / (n - 1);
  }
  for (int32_t q = 0; !rc && q < (n - 1) * (n - 1); ++q) {
    const int32_t a = (q / (n - 1)) * n + q % (n - 1), b = a + 1, c = a + n + 1, d = a + n;
    const int32_t f[6] = {a, b, c, a, c, d};
    memcpy(F + 6 * q, f, sizeof f);
  }
  if (!rc) rc = lc_mesh_create(V, nv, F, nf, out, err);
  free(V);
  free(F);
  return rc;
}

/* Index of the sorted edge (a, b) in E (ne x 2, lexicographic), or -1. */
static int32_t find_edge(const int32_t *E, int32_t ne, int32_t a, int32_t b) {
  if (a > b) { const int32_t t = a; a = b; b = t; }
  int32_t lo = 0, hi = ne - 1;
  while (lo <= hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    const int32_t *e = E + 2 * (int64_t)mid;
    if (e[0] == a && e[1] == b) return mid;
    if (e[0] < a || (e[0] == a && e[1] < b)) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/* One 4:1 subdivision of m, new vertices projected to the unit sphere. */
static int subdivide(const lc_mesh *m, lc_mesh **out, lc_error *err) {
  const int32_t nv = lc_mesh_nv(m), nf = lc_mesh_nf(m), ne = lc_mesh_ne(m);
  const int32_t *E = lc_mesh_edges(m), *F = lc_mesh_F(m);
  double *V = dalloc((int64_t)(nv + ne) * 3);
  int32_t *G = malloc((size_t)nf * 12 * sizeof *G);
  int rc = V && G ? LC_OK : lc_error_set(err, LC_ENOMEM, "icosphere: out of memory");
  if (!rc) memcpy(V, lc_mesh_V(m), (size_t)nv * 3 * sizeof *V);
  for (int32_t e = 0; !rc && e < ne; ++e) {
    double *p = V + 3 * (int64_t)(nv + e);
    const double *a = V + 3 * (int64_t)E[2 * e], *b = V + 3 * (int64_t)E[2 * e + 1];
    for (int c = 0; c < 3; ++c) p[c] = a[c] + b[c];
    const double r = sqrt(dot3(p, p));
    for (int c = 0; c < 3; ++c) p[c] /= r;
  }
  for (int32_t f = 0; !rc && f < nf; ++f) {
    const int32_t *t = F + 3 * (int64_t)f;
    const int32_t m01 = nv + find_edge(E, ne, t[0], t[1]), m12 = nv + find_edge(E, ne, t[1], t[2]);
    const int32_t m20 = nv + find_edge(E, ne, t[2], t[0]);
    const int32_t q[12] = {t[0], m01, m20, t[1], m12, m01, t[2], m20, m12, m01, m12, m20};
    memcpy(G + 12 * (int64_t)f, q, sizeof q);
  }
  if (!rc) rc = lc_mesh_create(V, nv + ne, G, 4 * nf, out, err);
  free(V);
  free(G);
  return rc;
}

/* Makes a unit icosphere with `level` subdivisions (12 vertices at level 0). */
int lc_app_icosphere(int level, lc_mesh **out, lc_error *err) {
  static const int32_t F[60] = {0, 11, 5, 0, 5, 1, 0, 1, 7, 0, 7, 10, 0, 10, 11, 1, 5, 9, 5, 11, 4,
                                11, 10, 2, 10, 7, 6, 7, 1, 8, 3, 9, 4, 3, 4, 2, 3, 2, 6, 3, 6, 8,
                                3, 8, 9, 4, 9, 5, 2, 4, 11, 6, 2, 10, 8, 6, 7, 9, 8, 1};
  const double t = (1.0 + sqrt(5.0)) / 2.0, s = 1.0 / sqrt(1.0 + t * t);
  const double V[36] = {-s, t * s, 0, s, t * s, 0, -s, -t * s, 0, s, -t * s, 0,
                        0, -s, t * s, 0, s, t * s, 0, -s, -t * s, 0, s, -t * s,
                        t * s, 0, -s, t * s, 0, s, -t * s, 0, -s, -t * s, 0, s};
  if (level < 0 || level > 9) return lc_error_set(err, LC_EINVAL, "icosphere: level %d not in 0..9", level);
  lc_mesh *m = NULL;
  int rc = lc_mesh_create(V, 12, F, 20, &m, err);
  for (int l = 0; !rc && l < level; ++l) {
    lc_mesh *next = NULL;
    rc = subdivide(m, &next, err);
    lc_mesh_destroy(m);
    m = next;
  }
  if (rc) lc_mesh_destroy(m);
  else *out = m;
  return rc;
}

/* ---- boundary loop and Tutte layout ------------------------------------- */

/* Boundary loop of a disk mesh from its smallest-index boundary vertex in the faces' orientation. */
int lc_app_boundary_loop(const lc_mesh *m, int32_t *loop, int32_t *n, lc_error *err) {
  const int32_t nv = lc_mesh_nv(m), *E = lc_mesh_edges(m), *EF = lc_mesh_edge_faces(m);
  int32_t nb = 0, start = -1, len = 0;
  const int32_t *B = lc_mesh_boundary_edges(m, &nb);
  int32_t *next = malloc((size_t)(nv > 0 ? nv : 1) * sizeof *next);
  int rc = next ? LC_OK : lc_error_set(err, LC_ENOMEM, "boundary: out of memory");
  if (!rc && (nb < 3 || lc_mesh_n_boundary_loops(m) != 1))
    rc = lc_error_set(err, LC_EMESH, "boundary: the mesh must have exactly one boundary loop");
  for (int32_t v = 0; !rc && v < nv; ++v) next[v] = -1;
  for (int32_t b = 0; !rc && b < nb; ++b) {
    const int32_t e = B[b], a = E[2 * e], c = E[2 * e + 1];
    if (EF[2 * e] >= 0) next[a] = c; /* half-edge a->c belongs to a face */
    else next[c] = a;
    const int32_t lo = a < c ? a : c;
    if (start < 0 || lo < start) start = lo;
  }
  for (int32_t v = start; !rc && len < nb; v = next[v]) {
    if (v < 0) break;
    loop[len++] = v;
    if (next[v] == start) break;
  }
  if (!rc && (len != nb || next[loop[len - 1]] != start))
    rc = lc_error_set(err, LC_EMESH, "boundary: the boundary edges do not form one simple loop");
  if (!rc) *n = len;
  free(next);
  return rc;
}

/* 3D length of the boundary edge from loop[k] to its successor. */
static double loop_edge(const lc_mesh *m, const int32_t *loop, int32_t n, int32_t k) {
  return dist3(lc_mesh_V(m) + 3 * (int64_t)loop[k], lc_mesh_V(m) + 3 * (int64_t)loop[(k + 1) % n]);
}

/* Unit-circle positions of the loop at angles proportional to cumulative 3D arc length. */
static void circle_positions(const lc_mesh *m, const int32_t *loop, int32_t n, double *pos) {
  double total = 0.0, s = 0.0;
  for (int32_t k = 0; k < n; ++k) total += loop_edge(m, loop, n, k);
  for (int32_t k = 0; k < n; ++k) {
    const double a = 2.0 * LC_APP_PI * s / total;
    pos[2 * k] = cos(a);
    pos[2 * k + 1] = sin(a);
    s += loop_edge(m, loop, n, k);
  }
}

/* Scales uv (nv x 2) about the origin so that its total signed area is the 3D area. */
static int scale_to_area(const lc_mesh *m, double *uv, lc_error *err) {
  const double *V = lc_mesh_V(m);
  const int32_t *F = lc_mesh_F(m), nf = lc_mesh_nf(m), nv = lc_mesh_nv(m);
  double a3 = 0.0, a2 = 0.0;
  for (int32_t f = 0; f < nf; ++f) {
    const int32_t *t = F + 3 * (int64_t)f;
    a3 += tri_area3(V + 3 * (int64_t)t[0], V + 3 * (int64_t)t[1], V + 3 * (int64_t)t[2]);
    a2 += tri_area2(uv + 2 * (int64_t)t[0], uv + 2 * (int64_t)t[1], uv + 2 * (int64_t)t[2]);
  }
  if (!(a2 > 0.0) || !(a3 > 0.0)) return lc_error_set(err, LC_ENUMERIC, "tutte: non-positive UV area %g", a2);
  const double s = sqrt(a3 / a2);
  for (int64_t i = 0; i < 2 * (int64_t)nv; ++i) uv[i] *= s;
  return LC_OK;
}

/* The Tutte problem: uv variable with the boundary fixed on the circle, uniform Dirichlet. */
static int tutte_problem(lc_mesh *m, lc_problem **p, lc_error *err) {
  const int32_t nv = lc_mesh_nv(m);
  int32_t nloop = 0;
  int32_t *loop = malloc((size_t)nv * sizeof *loop);
  double *pos = dalloc(2 * (int64_t)nv);
  int rc = loop && pos ? LC_OK : lc_error_set(err, LC_ENOMEM, "tutte: out of memory");
  lc_term_desc d = {0};
  d.energy = "dirichlet";
  if (!rc) rc = lc_app_boundary_loop(m, loop, &nloop, err);
  if (!rc) {
    circle_positions(m, loop, nloop, pos);
    rc = lc_problem_create(m, "cpu", p, err);
  }
  if (!rc) rc = lc_problem_add_variable(*p, "uv", LC_LOC_VERTEX, 2, NULL, NULL, err);
  if (!rc) rc = lc_problem_fix(*p, 0, nloop, loop, pos, err);
  if (!rc) rc = lc_problem_add_term(*p, &d, NULL, err);
  free(loop);
  free(pos);
  return rc;
}

/* Tutte layout into uv: one exact Newton (CHOLMOD, no shift) step; solve result in *res. */
static int tutte_solve(const lc_mesh *m, double *uv, lc_solve_result *res, lc_error *err) {
  lc_problem *p = NULL;
  lc_solver *s = NULL;
  lc_solve_opts so;
  lc_solve_opts_default(&so, LC_SOLVE_NEWTON);
  so.linear = LC_LIN_CHOLMOD;
  so.reg = 0.0;
  so.max_iters = 1;
  so.gtol = 0.0;
  int rc = tutte_problem((lc_mesh *)m, &p, err);
  if (!rc) rc = lc_solver_create(p, &s, err);
  if (!rc) rc = lc_solver_solve(s, &so, res, err);
  if (!rc) rc = lc_problem_get_variable(p, 0, uv, err);
  if (!rc) rc = scale_to_area(m, uv, err);
  lc_solver_destroy(s);
  lc_problem_destroy(p);
  return rc;
}

/* Tutte layout of a disk mesh into uv (nv x 2). */
int lc_app_tutte(const lc_mesh *m, double *uv, lc_error *err) {
  lc_solve_result res;
  if (!m || !uv) return lc_error_set(err, LC_EINVAL, "tutte: mesh and uv are required");
  return tutte_solve(m, uv, &res, err);
}

/* ---- running phases ------------------------------------------------------ */

/* What a run shares with its callbacks. */
typedef struct app_run {
  const lc_app_opts *o;
  const char *app;
  lc_app_result *r;
  double t0;
  int stop;           /* the report asked to stop */
} app_run;

/* One phase in progress. */
typedef struct phase_run {
  app_run *a;
  lc_app_phase *ph;
  double prev;
} phase_run;

/* Sends an event to the report callback; records a stop request. */
static void emit(app_run *a, const char *phase, int iter, double E, double g, double step,
                 double speed) {
  if (!a->o->report) return;
  const lc_app_event ev = {a->app, phase, iter, E, g, step, speed, lc_time_now() - a->t0, 0.0, 0.0, 0.0, 0.0};
  if (a->o->report(a->o->user, &ev)) a->stop = 1;
}

/* Solver progress: monotonicity and finiteness bookkeeping, then the report. */
static int on_iter(void *user, const lc_iter_stats *it) {
  phase_run *c = user;
  if (!isfinite(it->energy)) c->ph->finite = 0;
  if (it->energy > c->prev) c->ph->monotone = 0;
  c->prev = it->energy;
  emit(c->a, c->ph->name, it->iter, it->energy, it->gnorm, it->step, 0.0);
  return c->a->stop;
}

/* Opens a new phase record. */
static lc_app_phase *phase_open(app_run *a, const char *name, double E0) {
  lc_app_phase *ph = &a->r->phase[a->r->n_phases < LC_APP_MAX_PHASES ? a->r->n_phases++ : LC_APP_MAX_PHASES - 1];
  memset(ph, 0, sizeof *ph);
  ph->name = name;
  ph->energy0 = E0;
  ph->energy = E0;
  ph->monotone = 1;
  ph->finite = isfinite(E0);
  return ph;
}

/* Runs one solver phase on scene s with options so (progress hooked). */
static int run_phase(app_run *a, lc_app_scene *s, lc_solver *sv, lc_solve_opts so,
                     const char *name, lc_error *err) {
  double E0 = NAN;
  const double t0 = lc_time_now();
  int rc = lc_problem_energy(s->p, NULL, &E0, err);
  if (rc) return rc;
  lc_app_phase *ph = phase_open(a, name, E0);
  phase_run c = {a, ph, E0};
  lc_solve_result res = {0};
  so.progress = on_iter;
  so.user = &c;
  rc = lc_solver_solve(sv, &so, &res, err);
  ph->iters = res.iters;
  ph->energy = res.energy;
  ph->gnorm = res.gnorm;
  ph->reason = res.reason;
  ph->t = lc_time_now() - t0;
  if (!isfinite(res.energy)) ph->finite = 0;
  return rc;
}

/* 1 if a stop reason means the solve met a tolerance. */
static int met_tolerance(lc_stop_reason r) {
  return r == LC_STOP_GRAD || r == LC_STOP_DECREMENT || r == LC_STOP_FTOL;
}

/* Starts a run: zeroes r, records the mesh size later. */
static void run_begin(app_run *a, const lc_app_opts *o, const char *app, lc_app_result *r) {
  memset(r, 0, sizeof *r);
  r->tutte_diff = NAN;
  r->rigid_err = NAN;
  r->roughness0 = r->roughness = NAN;
  *a = (app_run){o, app, r, lc_time_now(), 0};
}

/* Finishes a run: mesh size, convergence of the last phase, time. */
static void run_end(app_run *a, const lc_app_scene *s) {
  lc_app_result *r = a->r;
  if (s->mesh) {
    r->nv = lc_mesh_nv(s->mesh);
    r->nf = lc_mesh_nf(s->mesh);
  }
  if (a->app != app_names[LC_APP_CLOTH] && r->n_phases > 0)
    r->converged = met_tolerance(r->phase[r->n_phases - 1].reason);
  r->t_total = lc_time_now() - a->t0;
}

/* Current value of the scene's variable into a new array (NULL on failure). */
static double *scene_x(const lc_app_scene *s, int dim) {
  double *x = dalloc((int64_t)lc_mesh_nv(s->mesh) * dim);
  if (x && lc_problem_get_variable(s->p, s->var, x, NULL)) {
    free(x);
    x = NULL;
  }
  return x;
}

/* ---- cloth --------------------------------------------------------------- */

#define CLOTH_DENSITY 0.2   /* kg/m^2 */
#define CLOTH_SPRING_K 1000.0 /* N/m */
#define CLOTH_STVK_MU 500.0   /* N/m */
#define CLOTH_STVK_LAMBDA 200.0
#define CLOTH_BEND_K 1e-3   /* J */
#define CLOTH_GRAVITY 9.81  /* m/s^2 */
#define CLOTH_H (1.0 / 60.0) /* s */
#define CLOTH_DAMPING 5.0   /* 1/s */

/* Grid size of the cloth. */
static int cloth_n(const lc_app_opts *o) { return o->n > 1 ? o->n : 30; }

/* Weight (N) of an interior cloth vertex: density * g * its lumped area 1/(n-1)^2. */
static double cloth_weight(int n) { return CLOTH_DENSITY * CLOTH_GRAVITY / ((double)(n - 1) * (n - 1)); }

/* Adds the cloth's membrane, bending, inertia and gravity terms (potentials weighted h^2). */
static int cloth_terms(lc_app_scene *s, const lc_app_opts *o, lc_error *err) {
  static const char *const kn[] = {"k"}, *const lm[] = {"mu", "lambda"}, *const dn[] = {"density"};
  static const char *const gn[] = {"gx", "gy", "gz", "density"};
  const double h2 = s->h * s->h, kv[] = {CLOTH_SPRING_K}, lmv[] = {CLOTH_STVK_MU, CLOTH_STVK_LAMBDA};
  const double bv[] = {CLOTH_BEND_K}, dv[] = {CLOTH_DENSITY}, gv[] = {0.0, 0.0, -CLOTH_GRAVITY, CLOTH_DENSITY};
  int rc = o->cloth_springs ? add_term(s, "spring", h2, 1, kn, kv, NULL, err)
                            : add_term(s, "stvk", h2, 2, lm, lmv, NULL, err);
  if (!rc) rc = add_term(s, "bending", h2, 1, kn, bv, NULL, err);
  if (!rc) rc = add_term(s, "inertia", 1.0, 1, dn, dv, &s->inertia_term, err);
  if (!rc) rc = add_term(s, "gravity", h2, 4, gn, gv, NULL, err);
  return rc;
}

/* Sets up the cloth: n x n grid (default 30) of 1 m, pinned at the corners (0, 1) and (1, 1). */
int lc_app_cloth_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err) {
  const int n = cloth_n(o);
  scene_init(s);
  s->h = o->h > 0.0 ? o->h : CLOTH_H;
  s->damping = o->damping > 0.0 ? o->damping : o->damping < 0.0 ? 0.0 : CLOTH_DAMPING;
  int rc = lc_app_grid(n, 1.0, &s->mesh, err);
  if (!rc) rc = scene_problem(s, o, 3, NULL, err);
  if (!rc) rc = cloth_terms(s, o, err);
  const int32_t pins[2] = {(n - 1) * n, n * n - 1};
  if (!rc) rc = lc_problem_fix(s->p, s->var, 2, pins, NULL, err);
  /* Newton per step: forces resolved to 1e-4 of a vertex's weight */
  lc_solve_opts_default(&s->solve, LC_SOLVE_NEWTON);
  s->solve.gtol = 1e-4 * s->h * s->h * cloth_weight(n);
  s->solve.max_iters = 50;
  if (rc) lc_app_scene_free(s);
  return rc;
}

/* State of a cloth simulation loop. */
typedef struct cloth_run {
  lc_dynamics *dyn;
  lc_solver *sv;
  double vtol, ftol;  /* settled: max speed < vtol and force residual < ftol */
} cloth_run;

/* One cloth time step with its report; *settled when at rest. */
static int cloth_step(app_run *a, lc_app_scene *s, cloth_run *c, lc_app_phase *ph, int *settled,
                      lc_error *err) {
  lc_solve_result res = {0};
  double W = 0.0, fres = 0.0;
  int rc = lc_dynamics_step(c->dyn, c->sv, &s->solve, &res, err);
  if (!rc) rc = lc_dynamics_potential(c->dyn, &W, &fres, err);
  if (rc) return rc;
  const double speed = lc_dynamics_max_speed(c->dyn), E = W + lc_dynamics_kinetic(c->dyn);
  a->r->newton_iters += res.iters;
  if (!isfinite(E) || !isfinite(speed)) ph->finite = 0;
  if (E > ph->energy) ph->monotone = 0;
  ph->iters++;
  ph->energy = E;
  ph->gnorm = fres;
  a->r->speed = speed;
  *settled = speed < c->vtol && fres < c->ftol;
  emit(a, "step", ph->iters, E, fres, (double)res.iters, speed);
  return LC_OK;
}

/* Runs the cloth until it settles or the step budget (default 3000) is spent. */
static int cloth_loop(app_run *a, lc_app_scene *s, cloth_run *c, lc_error *err) {
  const lc_app_opts *o = a->o;
  const int budget = o->max_iters > 0 ? o->max_iters : 3000;
  const double t0 = lc_time_now();
  double W0 = 0.0, f0 = 0.0;
  int settled = 0;
  int rc = lc_dynamics_potential(c->dyn, &W0, &f0, err);
  lc_app_phase *ph = phase_open(a, "step", W0);
  while (!rc && !settled && !a->stop && ph->iters < budget) rc = cloth_step(a, s, c, ph, &settled, err);
  ph->reason = settled ? LC_STOP_GRAD : a->stop ? LC_STOP_CANCELLED : LC_STOP_MAX_ITERS;
  ph->t = lc_time_now() - t0;
  a->r->converged = settled;
  return rc;
}

/* Runs the cloth app end to end. */
int lc_app_cloth(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  app_run a;
  lc_app_scene s;
  cloth_run c = {0};
  double *x = NULL;
  run_begin(&a, o, "cloth", r);
  int rc = lc_app_cloth_setup(o, &s, err);
  if (rc) return rc;
  c.vtol = o->tol > 0.0 ? o->tol : 1e-3;
  c.ftol = 1e-3 * cloth_weight(cloth_n(o));
  rc = lc_dynamics_create(s.p, s.var, s.inertia_term, s.h, &c.dyn, err);
  if (!rc) rc = lc_dynamics_set_damping(c.dyn, s.damping, err);
  if (!rc) rc = lc_solver_create(s.p, &c.sv, err);
  if (!rc) rc = cloth_loop(&a, &s, &c, err);
  if (!rc && !(x = scene_x(&s, 3))) rc = lc_error_set(err, LC_ENOMEM, "cloth: out of memory");
  if (!rc) rc = write_result(o, s.mesh, x, 3, err);
  run_end(&a, &s);
  free(x);
  lc_solver_destroy(c.sv);
  lc_dynamics_destroy(c.dyn);
  lc_app_scene_free(&s);
  return rc;
}

/* ---- UV parameterization ------------------------------------------------- */

/* Faces of m with non-positive signed UV area. */
static int32_t count_flips_2d(const lc_mesh *m, const double *uv) {
  const int32_t *F = lc_mesh_F(m), nf = lc_mesh_nf(m);
  int32_t n = 0;
  for (int32_t f = 0; f < nf; ++f) {
    const int32_t *t = F + 3 * (int64_t)f;
    n += !(tri_area2(uv + 2 * (int64_t)t[0], uv + 2 * (int64_t)t[1], uv + 2 * (int64_t)t[2]) > 0.0);
  }
  return n;
}

/* Max |uv - reference| against mesh_dir/<mesh>.tutte_uv.txt; NaN without the file. */
static double tutte_reference_diff(const lc_app_opts *o, const char *mesh, const double *uv,
                                   int32_t nv) {
  char path[4096], line[256];
  snprintf(path, sizeof path, "%s/%s.tutte_uv.txt", o->mesh_dir && *o->mesh_dir ? o->mesh_dir : ".", mesh);
  FILE *f = fopen(path, "r");
  if (!f) return NAN;
  double m = 0.0, u, v;
  int32_t i = 0;
  while (i < nv && fgets(line, sizeof line, f))
    if (line[0] != '#' && sscanf(line, "%lf %lf", &u, &v) == 2) {
      m = fmax(m, fmax(fabs(u - uv[2 * (int64_t)i]), fabs(v - uv[2 * (int64_t)i + 1])));
      ++i;
    }
  fclose(f);
  return i == nv ? m : NAN;
}

/* Mesh name of the UV app. */
static const char *uv_mesh(const lc_app_opts *o) { return o->mesh ? o->mesh : "camelhead"; }

/* Symmetric-Dirichlet problem on the mesh, started from uv (all vertices free). */
static int uv_scene(lc_app_scene *s, const lc_app_opts *o, const double *uv, lc_error *err) {
  int rc = scene_problem(s, o, 2, uv, err);
  if (!rc) rc = add_term(s, "symmetric_dirichlet", 1.0, 0, NULL, NULL, NULL, err);
  lc_solve_opts_default(&s->solve, LC_SOLVE_NEWTON);
  s->solve.max_iters = 100;
  s->solve.gtol = 1e-9;
  s->solve.ftol = o->tol > 0.0 ? o->tol : 1e-12;
  return rc;
}

/* Sets up the UV app (Tutte layout, then the symmetric-Dirichlet problem); Tutte solve in *tres. */
static int uv_setup(const lc_app_opts *o, lc_app_scene *s, double **uv, lc_solve_result *tres,
                    lc_error *err) {
  scene_init(s);
  int rc = read_mesh(o, uv_mesh(o), &s->mesh, err);
  if (!rc && !(*uv = dalloc(2 * (int64_t)lc_mesh_nv(s->mesh))))
    rc = lc_error_set(err, LC_ENOMEM, "uv: out of memory");
  if (!rc) rc = tutte_solve(s->mesh, *uv, tres, err);
  if (!rc) rc = uv_scene(s, o, *uv, err);
  if (rc) {
    lc_app_scene_free(s);
    free(*uv);
    *uv = NULL;
  }
  return rc;
}

/* Sets up the UV app: Tutte layout, then the symmetric-Dirichlet problem. */
int lc_app_uv_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err) {
  double *uv = NULL;
  lc_solve_result tres;
  int rc = uv_setup(o, s, &uv, &tres, err);
  free(uv);
  return rc;
}

/* Records the Tutte solve (uniform Dirichlet energy on the unit disk) as phase "tutte". */
static void uv_tutte_phase(app_run *a, const lc_solve_result *tres, double t) {
  lc_app_phase *ph = phase_open(a, "tutte", tres->energy);
  ph->iters = tres->iters;
  ph->gnorm = tres->gnorm;
  ph->reason = tres->reason;
  ph->t = t;
  emit(a, "tutte", 1, tres->energy, tres->gnorm, 1.0, 0.0);
}

/* Runs the UV app end to end. */
int lc_app_uv(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  app_run a;
  lc_app_scene s;
  lc_solver *sv = NULL;
  lc_solve_result tres = {0};
  double *uv = NULL, *x = NULL;
  run_begin(&a, o, "uv", r);
  int rc = uv_setup(o, &s, &uv, &tres, err);
  if (rc) return rc;
  uv_tutte_phase(&a, &tres, lc_time_now() - a.t0);
  r->tutte_diff = tutte_reference_diff(o, uv_mesh(o), uv, lc_mesh_nv(s.mesh));
  if (o->max_iters > 0) s.solve.max_iters = o->max_iters;
  rc = lc_solver_create(s.p, &sv, err);
  if (!rc && !a.stop) rc = run_phase(&a, &s, sv, s.solve, "newton", err);
  if (!rc && !(x = scene_x(&s, 2))) rc = lc_error_set(err, LC_ENOMEM, "uv: out of memory");
  if (!rc) r->n_flipped = count_flips_2d(s.mesh, x);
  if (!rc) rc = write_result(o, s.mesh, x, 2, err);
  run_end(&a, &s);
  free(uv);
  free(x);
  lc_solver_destroy(sv);
  lc_app_scene_free(&s);
  return rc;
}

/* ---- smoothing ------------------------------------------------------------ */

#define SMOOTH_NOISE 0.04   /* radial noise amplitude on the unit sphere */
#define SMOOTH_TARGET 1.0   /* weight of the position target */

/* Noisy icosphere: each vertex moved radially by SMOOTH_NOISE * u, u in [-1, 1). */
static int noisy_sphere(int level, lc_mesh **out, lc_error *err) {
  lc_mesh *m = NULL;
  int rc = lc_app_icosphere(level, &m, err);
  if (rc) return rc;
  const int32_t nv = lc_mesh_nv(m);
  double *V = dalloc(3 * (int64_t)nv);
  if (!V) rc = lc_error_set(err, LC_ENOMEM, "smooth: out of memory");
  for (int32_t i = 0; !rc && i < nv; ++i) {
    const double s = 1.0 + SMOOTH_NOISE * hash_unit((unsigned long long)i);
    for (int c = 0; c < 3; ++c) V[3 * (int64_t)i + c] = s * lc_mesh_V(m)[3 * (int64_t)i + c];
  }
  if (!rc) rc = lc_mesh_create(V, nv, lc_mesh_F(m), lc_mesh_nf(m), out, err);
  free(V);
  lc_mesh_destroy(m);
  return rc;
}

/* Sets up smoothing: noisy icosphere (level n, default 4), Dirichlet + weak target to the noisy positions. */
int lc_app_smooth_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err) {
  static const char *const kn[] = {"k"};
  const double kv[] = {1.0};
  scene_init(s);
  int rc = noisy_sphere(o->n > 0 ? o->n : 4, &s->mesh, err);
  if (!rc) rc = scene_problem(s, o, 3, NULL, err);
  if (!rc) rc = add_term(s, "dirichlet", 1.0, 0, NULL, NULL, NULL, err);
  if (!rc) rc = add_term(s, "target", SMOOTH_TARGET, 1, kn, kv, NULL, err);
  lc_solve_opts_default(&s->solve, LC_SOLVE_LBFGS);
  s->solve.max_iters = 5000;
  s->solve.gtol = o->tol > 0.0 ? o->tol : 1e-7;
  if (rc) lc_app_scene_free(s);
  return rc;
}

/* RMS of |x_i| / mean |x| - 1 (roughness of a sphere-like surface). */
static double roughness(const double *x, int32_t nv) {
  double mean = 0.0, var = 0.0;
  for (int32_t i = 0; i < nv; ++i) mean += sqrt(dot3(x + 3 * (int64_t)i, x + 3 * (int64_t)i)) / nv;
  for (int32_t i = 0; i < nv; ++i) {
    const double d = sqrt(dot3(x + 3 * (int64_t)i, x + 3 * (int64_t)i)) / mean - 1.0;
    var += d * d / nv;
  }
  return sqrt(var);
}

/* GD then L-BFGS from the same noisy start. */
static int smooth_phases(app_run *a, lc_app_scene *s, lc_solver *sv, lc_error *err) {
  lc_solve_opts so = s->solve;
  so.method = LC_SOLVE_GD;
  if (a->o->max_iters > 0) so.max_iters = a->o->max_iters;
  int rc = run_phase(a, s, sv, so, "gd", err);
  if (!rc) rc = lc_problem_set_variable(s->p, s->var, lc_mesh_V(s->mesh), err);
  so.method = LC_SOLVE_LBFGS;
  if (!rc && !a->stop) rc = run_phase(a, s, sv, so, "lbfgs", err);
  return rc;
}

/* Runs the smoothing app end to end. */
int lc_app_smooth(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  app_run a;
  lc_app_scene s;
  lc_solver *sv = NULL;
  double *x = NULL;
  run_begin(&a, o, "smooth", r);
  int rc = lc_app_smooth_setup(o, &s, err);
  if (rc) return rc;
  r->roughness0 = roughness(lc_mesh_V(s.mesh), lc_mesh_nv(s.mesh));
  rc = lc_solver_create(s.p, &sv, err);
  if (!rc) rc = smooth_phases(&a, &s, sv, err);
  if (!rc && !(x = scene_x(&s, 3))) rc = lc_error_set(err, LC_ENOMEM, "smooth: out of memory");
  if (!rc) r->roughness = roughness(x, lc_mesh_nv(s.mesh));
  if (!rc) rc = write_result(o, s.mesh, x, 3, err);
  run_end(&a, &s);
  free(x);
  lc_solver_destroy(sv);
  lc_app_scene_free(&s);
  return rc;
}

/* ---- ARAP deformation ----------------------------------------------------- */

/* A rigid motion x -> R x + t. */
typedef struct rigid {
  double R[9], t[3];
} rigid;

/* Rotation by angle about the unit axis u through the point c, then a shift. */
static rigid make_rigid(const double *u, double angle, const double *c, const double *shift) {
  rigid m;
  const double co = cos(angle), si = sin(angle), k = 1.0 - co;
  const double R[9] = {co + u[0] * u[0] * k, u[0] * u[1] * k - u[2] * si, u[0] * u[2] * k + u[1] * si,
                       u[1] * u[0] * k + u[2] * si, co + u[1] * u[1] * k, u[1] * u[2] * k - u[0] * si,
                       u[2] * u[0] * k - u[1] * si, u[2] * u[1] * k + u[0] * si, co + u[2] * u[2] * k};
  memcpy(m.R, R, sizeof R);
  for (int i = 0; i < 3; ++i) m.t[i] = c[i] - dot3(R + 3 * i, c) + shift[i];
  return m;
}

static void apply_rigid(const rigid *m, const double *p, double *x) {
  for (int i = 0; i < 3; ++i) x[i] = dot3(m->R + 3 * i, p) + m->t[i];
}

/* The ARAP handles (vertices within 10% of either end of the longest axis) and their motions. */
typedef struct arap_frame {
  int dim;               /* 2: (x, y) only, 3 */
  int axis, thin, side;  /* longest, shortest (z for dim 2), remaining axis */
  double mn[3], mx[3];   /* bounding box */
  double ext;            /* extent along the axis */
  rigid T_lo, T_hi;      /* motions of the low and high handles */
} arap_frame;

/* Bounding box and axes of m (dim 2: the longest of x and y, thin = z). */
static void arap_axes(const lc_mesh *m, int dim, arap_frame *f) {
  double e[3];
  for (int c = 0; c < 3; ++c) {
    f->mn[c] = INFINITY;
    f->mx[c] = -INFINITY;
  }
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i)
    for (int c = 0; c < 3; ++c) {
      f->mn[c] = fmin(f->mn[c], lc_mesh_V(m)[3 * (int64_t)i + c]);
      f->mx[c] = fmax(f->mx[c], lc_mesh_V(m)[3 * (int64_t)i + c]);
    }
  for (int c = 0; c < 3; ++c) e[c] = f->mx[c] - f->mn[c];
  f->dim = dim;
  if (dim == 2) e[2] = -1.0; /* never the long axis; always the thin one */
  f->axis = e[0] >= e[1] && e[0] >= e[2] ? 0 : e[1] >= e[2] ? 1 : 2;
  const int a = (f->axis + 1) % 3, b = (f->axis + 2) % 3;
  f->thin = dim == 2 ? 2 : e[a] <= e[b] ? a : b;
  f->side = 3 - f->axis - f->thin;
  f->ext = e[f->axis];
}

/* Handle motions.  Rigid: both ends by one rotation (40 degrees about (1,1,1), or about z
 * for dim 2) and a shift.  Demo: low end fixed; high end pulled out by 15% and twisted 90
 * degrees about the long axis (dim 3) or turned 45 degrees in the plane (dim 2). */
static void arap_motions(const lc_mesh *m, int dim, int rigid_mode, arap_frame *f) {
  arap_axes(m, dim, f);
  double u[3] = {0, 0, 0}, c[3], shift[3] = {0, 0, 0};
  const double zero[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) c[i] = 0.5 * (f->mn[i] + f->mx[i]);
  if (rigid_mode) {
    for (int i = 0; i < 3; ++i) u[i] = dim == 2 ? (i == 2) : 1.0 / sqrt(3.0);
    shift[f->axis] = 0.3 * f->ext;
    shift[f->side] = -0.2 * f->ext;
    shift[f->thin] = dim == 2 ? 0.0 : 0.5 * f->ext;
    f->T_lo = f->T_hi = make_rigid(u, 40.0 * LC_APP_PI / 180.0, zero, shift);
    return;
  }
  u[dim == 2 ? 2 : f->axis] = 1.0;
  c[f->axis] = f->mx[f->axis];
  shift[f->axis] = 0.15 * f->ext;
  f->T_lo = make_rigid(u, 0.0, zero, zero);
  f->T_hi = make_rigid(u, (dim == 2 ? 45.0 : 90.0) * LC_APP_PI / 180.0, c, shift);
}

/* Handle side of vertex p: -1 low, 1 high, 0 free. */
static int arap_handle(const arap_frame *f, const double *p) {
  const double a = p[f->axis];
  return a <= f->mn[f->axis] + 0.1 * f->ext ? -1 : a >= f->mx[f->axis] - 0.1 * f->ext ? 1 : 0;
}

/* Position of vertex p at the start: handles at their moved positions; free vertices at
 * rest (rigid) or blended linearly along the axis between the two motions (demo). */
static void arap_start(const arap_frame *f, int rigid_mode, const double *p, double *x) {
  const int side = arap_handle(f, p);
  double a[3], b[3], w = (p[f->axis] - f->mn[f->axis] - 0.1 * f->ext) / (0.8 * f->ext);
  w = side < 0 ? 0.0 : side > 0 ? 1.0 : w;
  apply_rigid(&f->T_lo, p, a);
  apply_rigid(&f->T_hi, p, b);
  for (int c = 0; c < f->dim; ++c) x[c] = rigid_mode && !side ? p[c] : (1.0 - w) * a[c] + w * b[c];
}

/* Initial state and fixed handles of the ARAP problem. */
static int arap_state(lc_app_scene *s, const arap_frame *f, int rigid_mode, lc_error *err) {
  const int32_t nv = lc_mesh_nv(s->mesh);
  const double *V = lc_mesh_V(s->mesh);
  double *x = dalloc((int64_t)f->dim * nv);
  int32_t *h = malloc((size_t)nv * sizeof *h), nh = 0;
  int rc = x && h ? LC_OK : lc_error_set(err, LC_ENOMEM, "arap: out of memory");
  for (int32_t i = 0; !rc && i < nv; ++i) {
    arap_start(f, rigid_mode, V + 3 * (int64_t)i, x + (int64_t)f->dim * i);
    if (arap_handle(f, V + 3 * (int64_t)i)) h[nh++] = i;
  }
  if (!rc) rc = lc_problem_set_variable(s->p, s->var, x, err);
  if (!rc) rc = lc_problem_fix(s->p, s->var, nh, h, NULL, err);
  free(x);
  free(h);
  return rc;
}

/* Checks that the (x, y) projection of m has no flipped face (ARAP with D = 2). */
static int check_planar(const lc_mesh *m, lc_error *err) {
  const int32_t nv = lc_mesh_nv(m);
  double *xy = dalloc(2 * (int64_t)nv);
  if (!xy) return lc_error_set(err, LC_ENOMEM, "arap: out of memory");
  for (int32_t i = 0; i < nv; ++i) memcpy(xy + 2 * (int64_t)i, lc_mesh_V(m) + 3 * (int64_t)i, 2 * sizeof *xy);
  const int32_t flips = count_flips_2d(m, xy);
  free(xy);
  return flips ? lc_error_set(err, LC_EMESH, "arap: D = 2 needs a flat mesh in (x, y) (%d faces flipped)", (int)flips)
               : LC_OK;
}

/* ARAP dimension from the options: 2 or 3; default 2 on the grid, 3 on a named mesh. */
static int arap_dim(const lc_app_opts *o) { return o->dim == 2 || o->dim == 3 ? o->dim : o->mesh ? 3 : 2; }

/* Sets up ARAP: a grid (n x n, default 20) or opts.mesh, D = opts.dim, handles moved. */
int lc_app_arap_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err) {
  arap_frame f;
  const int dim = arap_dim(o);
  scene_init(s);
  int rc = o->mesh ? read_mesh(o, o->mesh, &s->mesh, err) : lc_app_grid(o->n > 0 ? o->n : 20, 1.0, &s->mesh, err);
  if (!rc && dim == 2) rc = check_planar(s->mesh, err);
  if (!rc) rc = scene_problem(s, o, dim, NULL, err);
  if (!rc) rc = add_term(s, "arap", 1.0, 0, NULL, NULL, NULL, err);
  if (!rc) arap_motions(s->mesh, dim, o->arap_rigid, &f);
  if (!rc) rc = arap_state(s, &f, o->arap_rigid, err);
  lc_solve_opts_default(&s->solve, LC_SOLVE_NEWTON);
  s->solve.max_iters = 200;
  s->solve.gtol = o->tol > 0.0 ? o->tol : 1e-10;
  s->solve.ftol = 1e-14; /* stop when rounding stalls the energy */
  if (rc) lc_app_scene_free(s);
  return rc;
}

/* Max |x_i - T(p_i)| for the rigid motion T of the handles. */
static double rigid_error(const lc_app_scene *s, int dim, const double *x) {
  arap_frame f;
  arap_motions(s->mesh, dim, 1, &f);
  double e = 0.0, q[3];
  for (int32_t i = 0; i < lc_mesh_nv(s->mesh); ++i) {
    apply_rigid(&f.T_lo, lc_mesh_V(s->mesh) + 3 * (int64_t)i, q);
    double d = 0.0;
    for (int c = 0; c < dim; ++c) d += (q[c] - x[(int64_t)dim * i + c]) * (q[c] - x[(int64_t)dim * i + c]);
    e = fmax(e, sqrt(d));
  }
  return e;
}

/* Runs the ARAP app end to end. */
int lc_app_arap(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  app_run a;
  lc_app_scene s;
  lc_solver *sv = NULL;
  double *x = NULL;
  const int dim = arap_dim(o);
  run_begin(&a, o, "arap", r);
  int rc = lc_app_arap_setup(o, &s, err);
  if (rc) return rc;
  if (o->max_iters > 0) s.solve.max_iters = o->max_iters;
  rc = lc_solver_create(s.p, &sv, err);
  if (!rc) rc = run_phase(&a, &s, sv, s.solve, "newton", err);
  if (!rc && !(x = scene_x(&s, dim))) rc = lc_error_set(err, LC_ENOMEM, "arap: out of memory");
  if (!rc && o->arap_rigid) r->rigid_err = rigid_error(&s, dim, x);
  if (!rc) rc = write_result(o, s.mesh, x, dim, err);
  run_end(&a, &s);
  free(x);
  lc_solver_destroy(sv);
  lc_app_scene_free(&s);
  return rc;
}

/* ---- spherical parameterization ----------------------------------------- */

/* Faces with det[x0, x1, x2] <= 0. */
static int32_t count_flips_sphere(const lc_mesh *m, const double *x) {
  const int32_t *F = lc_mesh_F(m), nf = lc_mesh_nf(m);
  int32_t n = 0;
  for (int32_t f = 0; f < nf; ++f) {
    const int32_t *t = F + 3 * (int64_t)f;
    double c[3];
    cross3(x + 3 * (int64_t)t[1], x + 3 * (int64_t)t[2], c);
    n += !(dot3(x + 3 * (int64_t)t[0], c) > 0.0);
  }
  return n;
}

/* x = (p - centroid) / |p - centroid| per vertex. */
static void sphere_start(const lc_mesh *m, double *x) {
  const int32_t nv = lc_mesh_nv(m);
  const double *V = lc_mesh_V(m);
  double c[3] = {0, 0, 0};
  for (int32_t i = 0; i < nv; ++i)
    for (int k = 0; k < 3; ++k) c[k] += V[3 * (int64_t)i + k] / nv;
  for (int32_t i = 0; i < nv; ++i) {
    double *xi = x + 3 * (int64_t)i;
    for (int k = 0; k < 3; ++k) xi[k] = V[3 * (int64_t)i + k] - c[k];
    const double r = sqrt(dot3(xi, xi));
    for (int k = 0; k < 3; ++k) xi[k] = r > 0.0 ? xi[k] / r : (k == 2);
  }
}

/* Untangles x on the sphere by Jacobi steps x_i <- normalize(mean of neighbours) until no
 * face is flipped (at most max_sweeps); returns the sweeps used or -1. */
static int sphere_untangle(const lc_mesh *m, double *x, int max_sweeps) {
  const int32_t nv = lc_mesh_nv(m), *ptr = lc_mesh_vadj_ptr(m), *adj = lc_mesh_vadj(m);
  double *y = dalloc(3 * (int64_t)nv);
  int sweeps = 0;
  while (y && count_flips_sphere(m, x) > 0 && sweeps < max_sweeps) {
    for (int32_t i = 0; i < nv; ++i) {
      double s[3] = {0, 0, 0};
      for (int32_t k = ptr[i]; k < ptr[i + 1]; ++k)
        for (int c = 0; c < 3; ++c) s[c] += x[3 * (int64_t)adj[k] + c];
      const double r = sqrt(dot3(s, s));
      for (int c = 0; c < 3; ++c) y[3 * (int64_t)i + c] = r > 0.0 ? s[c] / r : x[3 * (int64_t)i + c];
    }
    memcpy(x, y, (size_t)nv * 3 * sizeof *x);
    ++sweeps;
  }
  const int ok = y && count_flips_sphere(m, x) == 0;
  free(y);
  return ok ? sweeps : -1;
}

/* Unit-sphere start of a closed genus-0 mesh into x: radial projection about the centroid
 * (its flipped faces into *flips0), untangled (sweeps into *sweeps). */
static int sphere_initial(const lc_mesh *m, double *x, int32_t *flips0, int *sweeps, lc_error *err) {
  if (lc_mesh_n_boundary_loops(m) != 0 || lc_mesh_euler(m) != 2)
    return lc_error_set(err, LC_EMESH, "sphere: the mesh must be closed and of genus 0");
  sphere_start(m, x);
  *flips0 = count_flips_sphere(m, x);
  *sweeps = sphere_untangle(m, x, 20000);
  return *sweeps < 0 ? lc_error_set(err, LC_ENUMERIC, "sphere: could not untangle the radial projection") : LC_OK;
}

/* Sets up the sphere app; start statistics into *flips0 and *sweeps. */
static int sphere_setup(const lc_app_opts *o, lc_app_scene *s, int32_t *flips0, int *sweeps,
                        lc_error *err) {
  double *x = NULL;
  scene_init(s);
  int rc = read_mesh(o, o->mesh ? o->mesh : "spot", &s->mesh, err);
  if (!rc && !(x = dalloc(3 * (int64_t)lc_mesh_nv(s->mesh)))) rc = lc_error_set(err, LC_ENOMEM, "sphere: out of memory");
  if (!rc) rc = sphere_initial(s->mesh, x, flips0, sweeps, err);
  if (!rc) rc = scene_problem(s, o, 3, x, err);
  if (!rc) rc = add_term(s, "sphere_param", 1.0, 0, NULL, NULL, NULL, err);
  lc_solve_opts_default(&s->solve, o->method == LC_SOLVE_LBFGS ? LC_SOLVE_LBFGS : LC_SOLVE_NEWTON);
  s->solve.sphere_var = s->var;
  s->solve.max_iters = s->solve.method == LC_SOLVE_LBFGS ? 2000 : 100;
  s->solve.gtol = o->tol > 0.0 ? o->tol : 1e-6;
  s->solve.ftol = 1e-13;
  free(x);
  if (rc) lc_app_scene_free(s);
  return rc;
}

/* Sets up the spherical parameterization of a closed genus-0 mesh (default spot). */
int lc_app_sphere_setup(const lc_app_opts *o, lc_app_scene *s, lc_error *err) {
  int32_t flips0 = 0;
  int sweeps = 0;
  return sphere_setup(o, s, &flips0, &sweeps, err);
}

/* Runs the spherical parameterization end to end. */
int lc_app_sphere(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  app_run a;
  lc_app_scene s;
  lc_solver *sv = NULL;
  double *x = NULL;
  run_begin(&a, o, "sphere", r);
  int rc = sphere_setup(o, &s, &r->n_flipped0, &r->untangle_sweeps, err);
  if (rc) return rc;
  if (o->max_iters > 0) s.solve.max_iters = o->max_iters;
  rc = lc_solver_create(s.p, &sv, err);
  if (!rc) rc = run_phase(&a, &s, sv, s.solve, lc_solve_method_name(s.solve.method), err);
  if (!rc && !(x = scene_x(&s, 3))) rc = lc_error_set(err, LC_ENOMEM, "sphere: out of memory");
  if (!rc) r->n_flipped = count_flips_sphere(s.mesh, x);
  if (!rc) rc = write_result(o, s.mesh, x, 3, err);
  run_end(&a, &s);
  free(x);
  lc_solver_destroy(sv);
  lc_app_scene_free(&s);
  return rc;
}

/* ---- dispatch ------------------------------------------------------------- */

/* Runs app k. */
int lc_app_run(lc_app_kind k, const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  switch (k) {
    case LC_APP_CLOTH: return lc_app_cloth(o, r, err);
    case LC_APP_UV: return lc_app_uv(o, r, err);
    case LC_APP_SMOOTH: return lc_app_smooth(o, r, err);
    case LC_APP_ARAP: return lc_app_arap(o, r, err);
    case LC_APP_SPHERE: return lc_app_sphere(o, r, err);
    case LC_APP_CONTACT: return lc_app_contact(o, r, err);
    case LC_APP_FRAMES: return lc_app_frames(o, r, err);
    case LC_APP_EMBEDDED: return lc_app_embedded(o, r, err);
    default: return lc_error_set(err, LC_EINVAL, "no app %d", (int)k);
  }
}
