/* embedded.c - the embedded-deformation demo (apps.h, LC_APP_EMBEDDED):
 * shared/reference-values.md section 3.  Every vertex of the mesh (default
 * armadillo) is a node with 12 variables, [t(3), A(9) row-major], from the
 * identity (t = 0, A = I); the deformed position of vertex i is p_i + t_i.
 * The problem holds ed_rot on every vertex, ed_reg on every edge (both
 * directions) and ed_fit on the handle vertices.  Four handle regions are
 * picked from the rest mesh: the vertices within 8% of the bounding-box
 * diagonal of the lowest, highest, leftmost and rightmost vertex (y up).
 * The lowest stays in place; the highest moves forward (+z) by 12% of the
 * diagonal and the side ones up (+y) by 10% (opts.arap_rigid: all four by
 * one rigid motion instead, 30 degrees about y and a shift along x, whose
 * exact solution has zero energy).  Gauss-Newton, one iteration at a time,
 * with the direct solve (CHOLMOD) or block-Jacobi PCG (opts.linear), the
 * nodes' matrices first eliminated by static condensation (their
 * Gauss-Newton block is 9 x 9 diagonal per node; opts.no_condense: not), until
 * |g|_inf <= tol (default 1e-9) or the iteration budget (default 20).
 * Under opts.out_dir it writes iters.jsonl (one record per iteration:
 * energy, |g|, the handle and orthogonality errors, times), before.png and
 * after.png (handles in colour); opts.out: the deformed mesh as OBJ. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (lc_time.h) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lc_time.h"
#include "apps.h"
#include "render.h"

#define ED_ITERS 20        /* default Gauss-Newton iteration budget */
#define ED_TOL 1e-9        /* default |g|_inf tolerance */
#define ED_REGIONS 4       /* handle regions */
#define ED_RADIUS 0.08     /* region radius, in bounding-box diagonals */

/* The app while it runs. */
typedef struct ed_run {
  lc_mesh *mesh;
  lc_problem *p;
  lc_solver *sv;
  lc_solve_opts so;
  int32_t nv;
  double diag, lo[3], hi[3];
  int32_t *hv;       /* handle vertices, n_h of them */
  int *hreg;         /* their regions */
  int32_t n_h;
  double *kfit;      /* n_h x 6: [p, q] of each handle vertex */
  double *x;         /* nv x 12: the nodes */
  FILE *rec;
  char dir[3072];
} ed_run;

/* Bounding box and diagonal of the rest mesh. */
static void ed_bbox(ed_run *s) {
  const double *V = lc_mesh_V(s->mesh);
  for (int c = 0; c < 3; ++c) s->lo[c] = INFINITY, s->hi[c] = -INFINITY;
  for (int32_t v = 0; v < s->nv; ++v)
    for (int c = 0; c < 3; ++c) s->lo[c] = fmin(s->lo[c], V[3 * v + c]), s->hi[c] = fmax(s->hi[c], V[3 * v + c]);
  double d2 = 0.0;
  for (int c = 0; c < 3; ++c) d2 += (s->hi[c] - s->lo[c]) * (s->hi[c] - s->lo[c]);
  s->diag = sqrt(d2);
}

/* The vertex with the smallest (sign -1: largest) coordinate c. */
static int32_t extreme_vertex(const ed_run *s, int c, int sign) {
  const double *V = lc_mesh_V(s->mesh);
  int32_t best = 0;
  for (int32_t v = 1; v < s->nv; ++v)
    if (sign * V[3 * v + c] < sign * V[3 * best + c]) best = v;
  return best;
}

/* The target of rest point p in region g into q: rigid, the one motion for
 * every region; else region 0 stays, 1 moves along +z, 2 and 3 along +y. */
static void handle_target(const ed_run *s, int g, int rigid, const double *p, double *q) {
  if (rigid) {
    const double a = acos(-1.0) / 6.0, c = cos(a), sn = sin(a);
    q[0] = c * p[0] + sn * p[2] + 0.1 * s->diag;
    q[1] = p[1];
    q[2] = -sn * p[0] + c * p[2];
    return;
  }
  memcpy(q, p, 3 * sizeof *q);
  if (g == 1) q[2] += 0.12 * s->diag;
  if (g >= 2) q[1] += 0.10 * s->diag;
}

/* Picks the handle regions (a vertex belongs to the first region that holds
 * it) and their fit constants. */
static int ed_handles(ed_run *s, int rigid, lc_error *err) {
  const double *V = lc_mesh_V(s->mesh);
  const int32_t centre[ED_REGIONS] = {extreme_vertex(s, 1, 1), extreme_vertex(s, 1, -1), extreme_vertex(s, 0, 1),
                                      extreme_vertex(s, 0, -1)};
  const double r2 = ED_RADIUS * s->diag * ED_RADIUS * s->diag;
  s->hv = malloc((size_t)s->nv * sizeof *s->hv);
  s->hreg = malloc((size_t)s->nv * sizeof *s->hreg);
  s->kfit = malloc((size_t)s->nv * 6 * sizeof *s->kfit);
  if (!s->hv || !s->hreg || !s->kfit) return lc_error_set(err, LC_ENOMEM, "embedded: out of memory");
  for (int32_t v = 0; v < s->nv; ++v)
    for (int g = 0; g < ED_REGIONS; ++g) {
      const double *c = V + 3 * (int64_t)centre[g], *p = V + 3 * (int64_t)v;
      const double d2 = (p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]) + (p[2] - c[2]) * (p[2] - c[2]);
      if (d2 > r2) continue;
      double *k = s->kfit + 6 * (int64_t)s->n_h;
      memcpy(k, p, 3 * sizeof *k);
      handle_target(s, g, rigid, p, k + 3);
      s->hreg[s->n_h] = g;
      s->hv[s->n_h++] = v;
      break;
    }
  return LC_OK;
}

/* Loads the mesh, picks the handles and builds the problem and solver. */
static int ed_setup(ed_run *s, const lc_app_opts *o, lc_error *err) {
  const char *name = o->mesh ? o->mesh : "armadillo", *dir = o->mesh_dir ? o->mesh_dir : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.obj", dir, name);
  int rc = lc_mesh_read_obj_file(path, &s->mesh, err);
  if (rc) return rc;
  s->nv = lc_mesh_nv(s->mesh);
  ed_bbox(s);
  if ((rc = ed_handles(s, o->arap_rigid, err))) return rc;
  s->x = calloc((size_t)s->nv * 12, sizeof *s->x);
  if (!s->x) return lc_error_set(err, LC_ENOMEM, "embedded: out of memory");
  for (int32_t v = 0; v < s->nv; ++v) s->x[12 * v + 3] = s->x[12 * v + 7] = s->x[12 * v + 11] = 1.0;
  rc = lc_problem_create(s->mesh, o->device, &s->p, err);
  if (!rc && o->threads > 0) lc_problem_set_threads(s->p, o->threads);
  if (!rc) rc = lc_problem_add_variable(s->p, "node", LC_LOC_VERTEX, 12, s->x, NULL, err);
  const lc_term_desc terms[3] = {
      {.energy = "ed_fit", .var = 0, .elems = s->hv, .n_elems = s->n_h, .consts = s->kfit},
      {.energy = "ed_rot", .var = 0},
      {.energy = "ed_reg", .var = 0}};
  for (int i = 0; !rc && i < 3; ++i) rc = lc_problem_add_term(s->p, &terms[i], NULL, err);
  if (!rc) rc = lc_solver_create(s->p, &s->sv, err);
  lc_solve_opts_default(&s->so, LC_SOLVE_GAUSS_NEWTON);
  s->so.max_iters = 1;
  s->so.gtol = o->tol > 0.0 ? o->tol : ED_TOL;
  s->so.linear = o->linear;
  if (!o->no_condense) { /* the matrices A_i: their Gauss-Newton block is diagonal per node */
    s->so.condense_var = 0;
    s->so.condense_c0 = 3;
    s->so.condense_c1 = 12;
  }
  if (o->linear == LC_LIN_PCG) {
    s->so.lin.precond = LC_PRECOND_BLOCK_JACOBI;
    s->so.lin.block = 12; /* one node */
    s->so.lin.rtol = 1e-10;
    s->so.lin.max_iters = 20000;
  }
  return rc;
}

/* max |p + t - q| over the handles, and max |A^T A - I| (entrywise) over
 * the nodes, of the nodes x. */
static void ed_errors(const ed_run *s, double *handle, double *orth) {
  *handle = *orth = 0.0;
  for (int32_t i = 0; i < s->n_h; ++i) {
    const double *k = s->kfit + 6 * (int64_t)i, *t = s->x + 12 * (int64_t)s->hv[i];
    for (int c = 0; c < 3; ++c) *handle = fmax(*handle, fabs(k[c] + t[c] - k[3 + c]));
  }
  for (int32_t v = 0; v < s->nv; ++v) {
    const double *A = s->x + 12 * (int64_t)v + 3;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        const double d = A[a] * A[b] + A[3 + a] * A[3 + b] + A[6 + a] * A[6 + b];
        *orth = fmax(*orth, fabs(d - (a == b)));
      }
  }
}

/* The deformed positions p + t of the nodes into V (nv x 3). */
static void ed_positions(const ed_run *s, double *V) {
  const double *P = lc_mesh_V(s->mesh);
  for (int32_t v = 0; v < s->nv; ++v)
    for (int c = 0; c < 3; ++c) V[3 * v + c] = P[3 * v + c] + s->x[12 * (int64_t)v + c];
}

/* Renders positions V (the rest mesh or the deformed one) with the handle
 * regions in colour, seen from the front (+z) of the rest bounding box. */
static int ed_png(const ed_run *s, const double *V, const char *path, lc_error *err) {
  const int32_t nf = lc_mesh_nf(s->mesh), *F = lc_mesh_F(s->mesh);
  static const uint8_t col[ED_REGIONS][3] = {{60, 60, 200}, {200, 40, 40}, {40, 160, 60}, {220, 140, 20}};
  uint8_t *rgb = malloc((size_t)nf * 3);
  int *reg = malloc((size_t)s->nv * sizeof *reg);
  if (!rgb || !reg) {
    free(rgb), free(reg);
    return lc_error_set(err, LC_ENOMEM, "embedded: out of memory for the picture");
  }
  for (int32_t v = 0; v < s->nv; ++v) reg[v] = -1;
  for (int32_t i = 0; i < s->n_h; ++i) reg[s->hv[i]] = s->hreg[i];
  for (int32_t f = 0; f < nf; ++f) {
    const int g = reg[F[3 * f]] >= 0 ? reg[F[3 * f]] : reg[F[3 * f + 1]] >= 0 ? reg[F[3 * f + 1]] : reg[F[3 * f + 2]];
    if (g >= 0) memcpy(rgb + 3 * (int64_t)f, col[g], 3);
    else memset(rgb + 3 * (int64_t)f, 205, 3);
  }
  const double mid[3] = {0.5 * (s->lo[0] + s->hi[0]), 0.5 * (s->lo[1] + s->hi[1]), 0.5 * (s->lo[2] + s->hi[2])};
  const lc_render_view view = {{mid[0] + 0.6 * s->diag, mid[1] + 0.3 * s->diag, mid[2] + 1.6 * s->diag},
                               {mid[0], mid[1], mid[2]}, {0.0, 1.0, 0.0}, 40.0, 1000, 1000};
  const int rc = lc_render_png(V, s->nv, F, nf, rgb, &view, path, err);
  free(rgb);
  free(reg);
  return rc;
}

/* Opens out_dir/iters.jsonl and writes before.png when an output directory is asked for. */
static int ed_open_out(ed_run *s, const lc_app_opts *o, lc_error *err) {
  if (!o->out_dir) return LC_OK;
  char path[3200];
  snprintf(s->dir, sizeof s->dir, "%s", o->out_dir);
  int rc = lc_app_make_dir(s->dir, err);
  snprintf(path, sizeof path, "%s/iters.jsonl", s->dir);
  if (!rc && !(s->rec = fopen(path, "w"))) rc = lc_error_set(err, LC_EIO, "embedded: cannot write %s", path);
  snprintf(path, sizeof path, "%s/before.png", s->dir);
  if (!rc) rc = ed_png(s, lc_mesh_V(s->mesh), path, err);
  return rc;
}

/* Writes after.png (out_dir) and the deformed OBJ (o->out). */
static int ed_outputs(const ed_run *s, const lc_app_opts *o, lc_error *err) {
  double *V = malloc((size_t)s->nv * 3 * sizeof *V);
  if (!V) return lc_error_set(err, LC_ENOMEM, "embedded: out of memory");
  ed_positions(s, V);
  char path[3200];
  int rc = LC_OK;
  snprintf(path, sizeof path, "%s/after.png", s->dir);
  if (s->rec) rc = ed_png(s, V, path, err);
  if (!rc && o->out) rc = lc_mesh_write_obj_file(s->mesh, V, o->out, err);
  free(V);
  return rc;
}

/* Frees what the run holds. */
static void ed_free(ed_run *s) {
  if (s->rec) fclose(s->rec);
  lc_solver_destroy(s->sv);
  lc_problem_destroy(s->p);
  lc_mesh_destroy(s->mesh);
  free(s->hv);
  free(s->hreg);
  free(s->kfit);
  free(s->x);
}

/* One Gauss-Newton iteration: its figures into the phase, *ev and iters.jsonl. */
static int ed_iter(ed_run *s, int k, double t0, lc_app_phase *ph, lc_app_event *ev, lc_error *err) {
  lc_solve_result sr;
  double herr, oerr;
  int rc = lc_solver_solve(s->sv, &s->so, &sr, err);
  if (!rc) rc = lc_problem_get_variable(s->p, 0, s->x, err);
  if (rc) return rc;
  ph->reason = sr.reason;
  if (sr.iters == 0) { /* converged before this iteration: nothing to record */
    ph->gnorm = sr.gnorm;
    return LC_OK;
  }
  ed_errors(s, &herr, &oerr);
  if (k == 1) ph->energy0 = sr.energy;
  ph->monotone &= k == 1 || sr.energy <= ph->energy;
  ph->finite &= isfinite(sr.energy);
  ph->iters = k;
  ph->energy = sr.energy;
  ph->gnorm = sr.gnorm;
  *ev = (lc_app_event){.app = "embedded", .phase = "gauss_newton", .iter = k, .energy = sr.energy,
                       .gnorm = sr.gnorm, .t = lc_time_now() - t0, .handle_err = herr, .orth_err = oerr};
  if (s->rec)
    fprintf(s->rec, "{\"iter\": %d, \"energy\": %.10e, \"gnorm\": %.6e, \"handle_err\": %.6e, \"orth_err\": %.6e, "
                    "\"t\": %.4f, \"time\": {\"derivatives\": %.6f, \"linear\": %.6f, \"line_search\": %.6f, "
                    "\"iteration\": %.6f}}\n",
            k, sr.energy, sr.gnorm, herr, oerr, ev->t, sr.t_deriv, sr.t_linear, sr.t_ls, sr.t_total);
  return LC_OK;
}

/* Runs the embedded-deformation app. */
int lc_app_embedded(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  ed_run s = {0};
  const double t0 = lc_time_now();
  memset(r, 0, sizeof *r);
  r->tutte_diff = r->rigid_err = r->roughness0 = r->roughness = NAN;
  r->n_phases = 1;
  lc_app_phase *ph = &r->phase[0];
  *ph = (lc_app_phase){.name = "gauss_newton", .monotone = 1, .finite = 1, .reason = LC_STOP_MAX_ITERS};
  int rc = ed_setup(&s, o, err);
  if (!rc) rc = ed_open_out(&s, o, err);
  const int iters = o->max_iters > 0 ? o->max_iters : ED_ITERS;
  for (int k = 1; !rc && k <= iters; ++k) {
    lc_app_event ev;
    rc = ed_iter(&s, k, t0, ph, &ev, err);
    if (!rc && ph->iters == k && o->report && o->report(o->user, &ev)) ph->reason = LC_STOP_CANCELLED;
    if (rc || ph->reason == LC_STOP_CANCELLED || ph->reason == LC_STOP_GRAD) break;
  }
  ph->t = lc_time_now() - t0; /* the solve; outputs not counted */
  if (!rc) rc = ed_outputs(&s, o, err);
  if (!rc) {
    r->nv = s.nv;
    r->nf = lc_mesh_nf(s.mesh);
    r->n_handles = s.n_h;
    ed_errors(&s, &r->handle_err, &r->orth_err);
    r->converged = ph->reason == LC_STOP_GRAD && ph->finite;
  }
  r->t_total = lc_time_now() - t0;
  ed_free(&s);
  return rc;
}
