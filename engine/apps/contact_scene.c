/* contact_scene.c - the contact demo (apps.h, LC_APP_CONTACT): scene S1 of
 * shared/reference-values.md section 1.  Two icosphere shells (level 3:
 * 642 vertices, 1280 faces each; radius 0.5, centres at y = 0.6 and
 * y = 1.85) fall onto a floor plane at y = 0 and onto each other: StVK
 * membrane, bending, inertia and gravity, implicit Euler (h = 0.01), contact
 * with dhat = 0.01 (engine/contact).  Every step is checked (minimum
 * distance > 0, no edge through a face) and recorded; the run writes, under
 * opts.out_dir, frames/frame_NNNN.obj per step, steps.jsonl (one record per
 * step) and final.png. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (lc_time.h), mkdir */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../contact/broad.h"
#include "../contact/contact.h"
#include "../lc_time.h"
#include "../solvers/dynamics.h"
#include "apps.h"
#include "render.h"

#define S1_LEVEL 3
#define S1_RADIUS 0.5
#define S1_Y0 0.6
#define S1_Y1 1.85
#define S1_H 0.01
#define S1_STEPS 100
#define S1_DHAT 0.01
#define S1_KAPPA 1e3        /* barrier stiffness (the contact terms' weight) */
#define S1_DENSITY 1.0      /* kg/m^2 */
#define S1_MU 2e3           /* StVK, N/m */
#define S1_LAMBDA 1e3
#define S1_BEND 1.0         /* J; at 1e-2 the lower shell crumples into a cup (docs/contact.md) */
#define S1_GRAVITY 9.81

/* The scene while it runs. */
typedef struct s1_run {
  lc_mesh *mesh;
  lc_problem *p;
  lc_contact *c;
  lc_dynamics *dyn;
  lc_solver *sv;
  lc_solve_opts so;
  int var, inertia;
  double *x;
  FILE *rec;
  char dir[3072];
} s1_run;

/* Two level-3 icospheres of radius 0.5 at (0, S1_Y0, 0) and (0, S1_Y1, 0) as one mesh. */
static int s1_mesh(lc_mesh **out, lc_error *err) {
  lc_mesh *ico = NULL;
  int rc = lc_app_icosphere(S1_LEVEL, &ico, err);
  if (rc) return rc;
  const int32_t nv = lc_mesh_nv(ico), nf = lc_mesh_nf(ico);
  double *V = malloc((size_t)nv * 6 * sizeof *V);
  int32_t *F = malloc((size_t)nf * 6 * sizeof *F);
  rc = V && F ? LC_OK : lc_error_set(err, LC_ENOMEM, "contact demo: out of memory");
  for (int b = 0; !rc && b < 2; ++b) {
    for (int32_t i = 0; i < nv; ++i)
      for (int k = 0; k < 3; ++k)
        V[3 * ((int64_t)b * nv + i) + k] = S1_RADIUS * lc_mesh_V(ico)[3 * (int64_t)i + k] + (k == 1 ? (b ? S1_Y1 : S1_Y0) : 0.0);
    for (int64_t j = 0; j < 3 * (int64_t)nf; ++j) F[3 * (int64_t)b * nf + j] = lc_mesh_F(ico)[j] + b * nv;
  }
  if (!rc) rc = lc_mesh_create(V, 2 * nv, F, 2 * nf, out, err);
  free(V);
  free(F);
  lc_mesh_destroy(ico);
  return rc;
}

/* Adds one term of energy name with weight w and n named parameters. */
static int s1_term(s1_run *s, const char *name, double w, int n, const char *const *pn, const double *pv, int *id,
                   lc_error *err) {
  /* the shells' exact Hessians (see s1_setup); the contact terms are projected */
  lc_term_desc d = {.energy = name, .var = s->var, .weight = w, .weight_set = 1, .n_params = n,
                    .param_names = pn, .param_values = pv, .no_project = 1};
  return lc_problem_add_term(s->p, &d, id, err);
}

/* The shells' terms: StVK membrane, bending, inertia, gravity (potentials weighted h^2). */
static int s1_terms(s1_run *s, lc_error *err) {
  static const char *const lm[] = {"mu", "lambda"}, *const kn[] = {"k"}, *const dn[] = {"density"};
  static const char *const gn[] = {"gx", "gy", "gz", "density"};
  const double h2 = S1_H * S1_H, lmv[] = {S1_MU, S1_LAMBDA}, kv[] = {S1_BEND}, dv[] = {S1_DENSITY};
  const double gv[] = {0.0, -S1_GRAVITY, 0.0, S1_DENSITY};
  int rc = s1_term(s, "stvk", h2, 2, lm, lmv, NULL, err);
  if (!rc) rc = s1_term(s, "bending", h2, 1, kn, kv, NULL, err);
  if (!rc) rc = s1_term(s, "inertia", 1.0, 1, dn, dv, &s->inertia, err);
  if (!rc) rc = s1_term(s, "gravity", h2, 4, gn, gv, NULL, err);
  return rc;
}

/* Sets up mesh, problem, contact (floor plane y = 0), stepper and solver. */
static int s1_setup(s1_run *s, const lc_app_opts *o, lc_error *err) {
  const double floor_o[3] = {0, 0, 0}, floor_n[3] = {0, 1, 0};
  lc_contact_opts co;
  lc_contact_opts_default(&co);
  co.dhat = o->dhat > 0.0 ? o->dhat : S1_DHAT;
  co.kappa = o->kappa > 0.0 ? o->kappa : S1_KAPPA;
  co.reserve = o->reserve;
  co.mu = o->mu;
  int rc = s1_mesh(&s->mesh, err);
  if (!rc) rc = lc_problem_create(s->mesh, o->device, &s->p, err);
  if (!rc) lc_problem_set_threads(s->p, o->threads);
  if (!rc) rc = lc_problem_add_variable(s->p, "x", LC_LOC_VERTEX, 3, NULL, &s->var, err);
  if (!rc) rc = s1_terms(s, err);
  if (!rc) rc = lc_contact_create(s->p, s->var, &co, &s->c, err);
  if (!rc) rc = lc_contact_add_plane(s->c, floor_o, floor_n, err);
  if (!rc) rc = lc_dynamics_create(s->p, s->var, s->inertia, o->h > 0.0 ? o->h : S1_H, &s->dyn, err);
  if (!rc) lc_dynamics_set_contact(s->dyn, s->c);
  if (!rc) rc = lc_solver_create(s->p, &s->sv, err);
  lc_solve_opts_default(&s->so, LC_SOLVE_NEWTON);
  s->so.max_iters = 100;
  /* the shells' terms keep their exact Hessians (no_project, s1_term): the
   * inertia term keeps the sum positive definite at this h, and projecting
   * the compressed shells' elements made Newton converge linearly (30
   * iterations a step instead of 8 on steps 15-20); the contact barriers are
   * projected (unprojected, the impact step took 91 iterations, most of them
   * with shifted re-factorisations) */
  /* forces resolved to 1% of a vertex's weight (mean lumped area): projected
   * Newton converges linearly once elements are compressed */
  const double area = 4.0 * 3.14159265358979323846 * S1_RADIUS * S1_RADIUS * 2.0 / (s->mesh ? lc_mesh_nv(s->mesh) : 1);
  s->so.gtol = 1e-2 * S1_H * S1_H * S1_DENSITY * area * S1_GRAVITY;
  if (!rc) s->x = malloc((size_t)lc_mesh_nv(s->mesh) * 3 * sizeof *s->x);
  if (!rc && !s->x) rc = lc_error_set(err, LC_ENOMEM, "contact demo: out of memory");
  return rc;
}

/* Frees what s1_setup and the run made. */
static void s1_free(s1_run *s) {
  if (s->rec) fclose(s->rec);
  lc_solver_destroy(s->sv);
  lc_dynamics_destroy(s->dyn);
  lc_contact_destroy(s->c);
  lc_problem_destroy(s->p);
  lc_mesh_destroy(s->mesh);
  free(s->x);
}

/* Creates directory path unless it exists. */
int lc_app_make_dir(const char *path, lc_error *err) {
  if (mkdir(path, 0777) && errno != EEXIST) return lc_error_set(err, LC_EIO, "cannot create directory %s", path);
  return LC_OK;
}

/* Opens the output directory (frames/ and steps.jsonl) when one is asked for. */
static int s1_open_out(s1_run *s, const lc_app_opts *o, lc_error *err) {
  if (!o->out_dir) return LC_OK;
  char path[3200];
  snprintf(s->dir, sizeof s->dir, "%s", o->out_dir);
  snprintf(path, sizeof path, "%s/frames", s->dir);
  int rc = lc_app_make_dir(s->dir, err);
  if (!rc) rc = lc_app_make_dir(path, err);
  snprintf(path, sizeof path, "%s/steps.jsonl", s->dir);
  if (!rc && !(s->rec = fopen(path, "w"))) rc = lc_error_set(err, LC_EIO, "contact demo: cannot write %s", path);
  return rc;
}

/* Writes the record of one step (a JSON object per line). */
static void s1_record(s1_run *s, int step, const lc_solve_result *r, const lc_contact_stats *st, int64_t hits,
                      double E, double t_step) {
  if (!s->rec) return;
  fprintf(s->rec,
          "{\"step\": %d, \"t\": %.4f, \"newton\": %d, \"energy\": %.10e, \"min_distance\": %.6e, "
          "\"intersections\": %lld, \"active\": {\"pp\": %lld, \"pe\": %lld, \"pt\": %lld, \"ee\": %lld, "
          "\"plane\": %lld}, \"candidates\": {\"pt\": %lld, \"ee\": %lld}, \"lists\": %d, "
          "\"friction\": {\"pairs\": %lld, \"planes\": %lld}, \"pattern\": {\"kept\": %lld, \"rebuilds\": %lld}, "
          "\"time\": {\"step\": %.6f, "
          "\"broad\": %.6f, \"pattern\": %.6f, \"derivatives\": %.6f, \"linear\": %.6f, \"line_search\": %.6f}}\n",
          step, lc_dynamics_time(s->dyn), r->iters, E, st->min_dist, (long long)hits, (long long)st->active[0],
          (long long)st->active[1], (long long)st->active[2], (long long)st->active[3], (long long)st->active_plane,
          (long long)st->n_pt, (long long)st->n_ee, st->rounds, (long long)st->friction_pairs,
          (long long)st->friction_planes, (long long)st->lists_kept, (long long)st->pattern_rebuilds, t_step, st->t_broad, st->t_pattern, r->t_deriv,
          r->t_linear, r->t_ls);
}

/* Writes frame `step` as OBJ. */
static int s1_frame(s1_run *s, int step, lc_error *err) {
  if (!s->rec) return LC_OK;
  char path[3200];
  snprintf(path, sizeof path, "%s/frames/frame_%04d.obj", s->dir, step);
  return lc_mesh_write_obj_file(s->mesh, s->x, path, err);
}

/* One time step: solve, check, record, report. */
static int s1_step(s1_run *s, const lc_app_opts *o, int step, lc_app_result *res, double t0, lc_error *err) {
  lc_solve_result r = {0};
  lc_contact_stats st;
  int64_t hits = 0;
  double W = 0.0;
  const double ts = lc_time_now();
  int rc = lc_dynamics_step(s->dyn, s->sv, &s->so, &r, err);
  const double t_step = lc_time_now() - ts;
  if (!rc) rc = lc_problem_get_variable(s->p, s->var, s->x, err);
  if (!rc) rc = lc_contact_stats_get(s->c, &st, err);
  if (!rc) rc = lc_contact_intersections(s->mesh, s->x, &hits, err);
  if (!rc) rc = lc_dynamics_potential(s->dyn, &W, NULL, err);
  if (rc) return rc;
  const double E = W + lc_dynamics_kinetic(s->dyn);
  res->newton_iters += r.iters;
  res->min_dist = fmin(res->min_dist, st.min_dist);
  res->intersections += hits;
  res->phase[0].iters = step;
  res->phase[0].energy = E;
  if (!isfinite(E)) res->phase[0].finite = 0;
  s1_record(s, step, &r, &st, hits, E, t_step);
  rc = s1_frame(s, step, err);
  if (!rc && o->report) {
    const lc_app_event ev = {"contact", "step", step, E, st.min_dist, (double)r.iters, lc_dynamics_max_speed(s->dyn),
                             lc_time_now() - t0, 0.0, 0.0, 0.0, 0.0};
    if (o->report(o->user, &ev)) res->phase[0].reason = LC_STOP_CANCELLED;
  }
  return rc;
}

/* The floor (a 12 x 12 checkerboard of 0.25 m tiles at y = 0) and both
 * shells at x, rendered to out_dir/final.png. */
static int s1_png(s1_run *s, lc_error *err) {
  enum { T = 12 };
  const int32_t nv = lc_mesh_nv(s->mesh), nf = lc_mesh_nf(s->mesh), nfv = (T + 1) * (T + 1);
  double *V = malloc(((size_t)nv + nfv) * 3 * sizeof *V);
  int32_t *F = malloc(((size_t)nf + 2 * T * T) * 3 * sizeof *F);
  uint8_t *rgb = malloc(((size_t)nf + 2 * T * T) * 3);
  int rc = V && F && rgb ? LC_OK : lc_error_set(err, LC_ENOMEM, "contact demo: out of memory");
  if (!rc) {
    memcpy(V, s->x, (size_t)nv * 3 * sizeof *V);
    memcpy(F, lc_mesh_F(s->mesh), (size_t)nf * 3 * sizeof *F);
    for (int32_t f = 0; f < nf; ++f) {
      const uint8_t c[3] = {f < nf / 2 ? 70 : 230, f < nf / 2 ? 130 : 120, f < nf / 2 ? 230 : 60};
      memcpy(rgb + 3 * (int64_t)f, c, 3);
    }
    for (int i = 0; i <= T; ++i)
      for (int j = 0; j <= T; ++j) {
        double *v = V + 3 * ((int64_t)nv + i * (T + 1) + j);
        v[0] = -1.5 + 0.25 * j, v[1] = 0.0, v[2] = -1.5 + 0.25 * i;
      }
    for (int i = 0, f = nf; i < T; ++i)
      for (int j = 0; j < T; ++j, f += 2) {
        const int32_t a = nv + i * (T + 1) + j, b = a + 1, c = a + T + 1, d = c + 1, t[6] = {a, b, d, a, d, c};
        const uint8_t g = (i + j) % 2 ? 150 : 215;
        memcpy(F + 3 * (int64_t)f, t, sizeof t);
        for (int k = 0; k < 6; ++k) rgb[3 * (int64_t)f + k] = g;
      }
    const lc_render_view view = {{2.6, 1.7, 3.4}, {0.0, 0.8, 0.0}, {0.0, 1.0, 0.0}, 40.0, 800, 600};
    char path[3200];
    snprintf(path, sizeof path, "%s/final.png", s->dir);
    rc = lc_render_png(V, nv + nfv, F, nf + 2 * T * T, rgb, &view, path, err);
  }
  free(V);
  free(F);
  free(rgb);
  return rc;
}

/* Runs scene S1. */
int lc_app_contact(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  s1_run s = {0};
  const double t0 = lc_time_now();
  memset(r, 0, sizeof *r);
  r->tutte_diff = r->rigid_err = r->roughness0 = r->roughness = NAN;
  r->min_dist = INFINITY;
  r->n_phases = 1;
  r->phase[0] = (lc_app_phase){.name = "step", .monotone = 0, .finite = 1, .reason = LC_STOP_MAX_ITERS};
  int rc = s1_setup(&s, o, err);
  if (!rc) rc = s1_open_out(&s, o, err);
  if (!rc) rc = lc_problem_get_variable(s.p, s.var, s.x, err);
  if (!rc) rc = s1_frame(&s, 0, err);
  const int steps = o->max_iters > 0 ? o->max_iters : S1_STEPS;
  for (int k = 1; !rc && k <= steps && r->phase[0].reason != LC_STOP_CANCELLED; ++k)
    rc = s1_step(&s, o, k, r, t0, err);
  if (!rc && s.rec) rc = s1_png(&s, err);
  if (!rc) {
    r->nv = lc_mesh_nv(s.mesh);
    r->nf = lc_mesh_nf(s.mesh);
    r->speed = lc_dynamics_max_speed(s.dyn);
    r->converged = r->min_dist > 0.0 && r->intersections == 0 && r->phase[0].finite;
  }
  r->t_total = r->phase[0].t = lc_time_now() - t0;
  s1_free(&s);
  return rc;
}
