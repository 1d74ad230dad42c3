/* frames.c - the frame-field demo (apps.h, LC_APP_FRAMES): integrable
 * PolyVector fields, shared/reference-values.md section 2.  The input field
 * (meshes/<mesh>.rawfield, default cheburashka) becomes one face variable
 * of dimension 4 (alpha, beta as complex numbers in each face's frame); the
 * problem holds ff_smooth and ff_curl over every interior edge, ff_close on
 * the constrained faces (opts.constrain, default face 0; weight 100, the
 * input field) and on the
 * others (weight 1e-3, the previous iterate), and ff_barrier on every
 * face.  Gauss-Newton runs the reference schedule: one iteration at a time,
 * the free references moved to the iterate after each, w_s x 0.8 every 5.
 * Under opts.out_dir it writes field.rawfield, iters.jsonl (one record per
 * iteration) and final.png (the mesh with the field drawn as crosses). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (lc_time.h) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lc_time.h"
#include "apps.h"
#include "render.h"

#define FF_ITERS 60       /* Gauss-Newton iterations */
#define FF_BLOCK 5        /* w_s shrinks every FF_BLOCK iterations ... */
#define FF_SHRINK 0.8     /* ... by this factor */
#define FF_W_FIXED 100.0  /* closeness weight of the constrained face */
#define FF_W_FREE 1e-3    /* closeness weight of the others */

/* The app while it runs. */
typedef struct ff_run {
  lc_mesh *mesh;
  lc_problem *p;
  lc_solver *sv;
  lc_solve_opts so;
  int32_t nf;
  int t_smooth, t_curl, t_fixed, t_free, t_bar;
  double ws;        /* the current smoothness weight */
  double *x;        /* nf x 4: the field */
  double *frame;    /* nf x 6: b1, b2 of each face */
  double *kfree;    /* (nf - 1) x 4: the free faces' references */
  int32_t *free_f;  /* the free faces (all but the constrained ones), n_free of them */
  int32_t *fix_f;   /* the constrained faces, n_fix of them */
  int32_t n_free, n_fix;
  double *kfix;     /* n_fix x 4: their references (the input field) */
  FILE *rec;
  char dir[3072];
} ff_run;

/* The rest frame (b1, b2) of every face of m into fr (nf x 6). */
static void face_frames(const lc_mesh *m, double *fr) {
  for (int32_t f = 0; f < lc_mesh_nf(m); ++f) lc_mesh_face_frame(m, f, fr + 6 * (int64_t)f, fr + 6 * (int64_t)f + 3);
}

/* Reads a rawfield (header "N nf", then nf rows of 3N numbers) for m into x
 * (nf x 4): the first two vectors of each row in the face's frame, beta
 * negated where it turns clockwise from alpha ({+-alpha, +-beta} is the
 * same field).  Refuses another face count, N < 2, a short file, and a
 * face whose two directions are parallel. */
static int read_rawfield(const char *path, const lc_mesh *m, const double *fr, double *x, lc_error *err) {
  FILE *fp = fopen(path, "r");
  int N = 0, rc = LC_OK;
  long nf = 0;
  if (!fp) return lc_error_set(err, LC_EIO, "frames: cannot read %s", path);
  if (fscanf(fp, "%d %ld", &N, &nf) != 2 || N < 2 || nf != lc_mesh_nf(m))
    rc = lc_error_set(err, LC_EINVAL, "frames: %s: header must be \"N nf\" with N >= 2 and nf = %d faces", path,
                      (int)lc_mesh_nf(m));
  for (long f = 0; !rc && f < nf; ++f) {
    double v[6], w;
    for (int i = 0; !rc && i < 3 * N; ++i)
      if (fscanf(fp, "%lf", i < 6 ? &v[i] : &w) != 1 || !isfinite(i < 6 ? v[i] : w))
        rc = lc_error_set(err, LC_EINVAL, "frames: %s: face %ld: expected %d finite numbers", path, f, 3 * N);
    const double *b1 = fr + 6 * f, *b2 = b1 + 3;
    double *xf = x + 4 * f;
    for (int k = 0; !rc && k < 2; ++k) {
      xf[2 * k] = b1[0] * v[3 * k] + b1[1] * v[3 * k + 1] + b1[2] * v[3 * k + 2];
      xf[2 * k + 1] = b2[0] * v[3 * k] + b2[1] * v[3 * k + 1] + b2[2] * v[3 * k + 2];
    }
    const double im = rc ? 0.0 : xf[3] * xf[0] - xf[2] * xf[1];
    if (!rc && im == 0.0) rc = lc_error_set(err, LC_EINVAL, "frames: %s: face %ld: the two directions are parallel", path, f);
    if (!rc && im < 0.0) xf[2] = -xf[2], xf[3] = -xf[3];
  }
  fclose(fp);
  return rc;
}

/* Adds a term of energy name over elems (NULL: all) with weight w and constants k. */
static int ff_term(ff_run *s, const char *name, double w, const int32_t *elems, int32_t n, const double *k, int *id,
                   lc_error *err) {
  lc_term_desc d = {.energy = name, .var = 0, .weight = w, .weight_set = 1, .elems = elems, .n_elems = n, .consts = k};
  return lc_problem_add_term(s->p, &d, id, err);
}

/* The fields of faces f[0..n) of x (nf x 4) into k (n x 4). */
static void gather(const double *x, const int32_t *f, int32_t n, double *k) {
  for (int32_t i = 0; i < n; ++i) memcpy(k + 4 * (int64_t)i, x + 4 * (int64_t)f[i], 4 * sizeof *k);
}

/* The constrained faces (o->constrain, default face 0) and the free ones,
 * each in ascending order; refuses a face out of range or all faces. */
static int split_faces(ff_run *s, const lc_app_opts *o, lc_error *err) {
  static const int32_t face0 = 0;
  const int32_t *c = o->n_constrain > 0 ? o->constrain : &face0;
  const int32_t nc = o->n_constrain > 0 ? o->n_constrain : 1;
  memset(s->fix_f, 0, (size_t)s->nf * sizeof *s->fix_f); /* as flags first */
  for (int32_t i = 0; i < nc; ++i) {
    if (c[i] < 0 || c[i] >= s->nf)
      return lc_error_set(err, LC_ERANGE, "frames: constrained face %d out of range [0, %d)", (int)c[i], (int)s->nf);
    s->fix_f[c[i]] = 1;
  }
  s->n_fix = s->n_free = 0;
  for (int32_t f = 0; f < s->nf; ++f)
    if (!s->fix_f[f]) s->free_f[s->n_free++] = f;
  for (int32_t f = 0; f < s->nf; ++f)
    if (s->fix_f[f]) s->fix_f[s->n_fix++] = f; /* n_fix <= f: the flags ahead are still unread */
  if (s->n_free == 0) return lc_error_set(err, LC_EINVAL, "frames: every face is constrained");
  return LC_OK;
}

/* Loads the mesh and field and builds the problem and solver. */
static int ff_setup(ff_run *s, const lc_app_opts *o, lc_error *err) {
  const char *name = o->mesh ? o->mesh : "cheburashka", *dir = o->mesh_dir ? o->mesh_dir : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.obj", dir, name);
  int rc = lc_mesh_read_obj_file(path, &s->mesh, err);
  if (rc) return rc;
  s->nf = lc_mesh_nf(s->mesh);
  if (s->nf < 2) return lc_error_set(err, LC_EINVAL, "frames: %s needs at least 2 faces", path);
  s->x = malloc((size_t)s->nf * 4 * sizeof *s->x);
  s->frame = malloc((size_t)s->nf * 6 * sizeof *s->frame);
  s->kfree = malloc((size_t)s->nf * 4 * sizeof *s->kfree);
  s->kfix = malloc((size_t)s->nf * 4 * sizeof *s->kfix);
  s->free_f = malloc((size_t)s->nf * sizeof *s->free_f);
  s->fix_f = malloc((size_t)s->nf * sizeof *s->fix_f);
  if (!s->x || !s->frame || !s->kfree || !s->kfix || !s->free_f || !s->fix_f)
    return lc_error_set(err, LC_ENOMEM, "frames: out of memory");
  face_frames(s->mesh, s->frame);
  snprintf(path, sizeof path, "%s/%s.rawfield", dir, name);
  rc = read_rawfield(path, s->mesh, s->frame, s->x, err);
  if (!rc) rc = split_faces(s, o, err);
  gather(s->x, s->fix_f, s->n_fix, s->kfix);
  gather(s->x, s->free_f, s->n_free, s->kfree);
  s->ws = 1.0;
  if (!rc) rc = lc_problem_create(s->mesh, o->device, &s->p, err);
  if (!rc && o->threads > 0) lc_problem_set_threads(s->p, o->threads);
  if (!rc) rc = lc_problem_add_variable(s->p, "field", LC_LOC_FACE, 4, s->x, NULL, err);
  if (!rc) rc = ff_term(s, "ff_smooth", s->ws, NULL, 0, NULL, &s->t_smooth, err);
  if (!rc) rc = ff_term(s, "ff_curl", 1.0, NULL, 0, NULL, &s->t_curl, err);
  if (!rc) rc = ff_term(s, "ff_close", FF_W_FIXED, s->fix_f, s->n_fix, s->kfix, &s->t_fixed, err);
  if (!rc) rc = ff_term(s, "ff_close", FF_W_FREE, s->free_f, s->n_free, s->kfree, &s->t_free, err);
  if (!rc) rc = ff_term(s, "ff_barrier", 1.0, NULL, 0, NULL, &s->t_bar, err);
  if (!rc) rc = lc_solver_create(s->p, &s->sv, err);
  lc_solve_opts_default(&s->so, LC_SOLVE_GAUSS_NEWTON);
  s->so.max_iters = 1;
  s->so.gtol = 0.0; /* the schedule, not a tolerance, ends the run */

  return rc;
}

/* The smallest Im(beta conj(alpha)) over the faces, and how many are <= 0. */
static double min_orientation(const ff_run *s, int32_t *n_bad) {
  double m = INFINITY;
  *n_bad = 0;
  for (int32_t f = 0; f < s->nf; ++f) {
    const double *x = s->x + 4 * (int64_t)f, im = x[3] * x[0] - x[2] * x[1];
    m = fmin(m, im);
    *n_bad += !(im > 0.0);
  }
  return m;
}

/* One Gauss-Newton iteration of the schedule; its figures into *ev. */
static int ff_iter(ff_run *s, int k, lc_app_event *ev, lc_solve_result *r, lc_error *err) {
  double es = 0.0, ec = 0.0;
  int rc = lc_solver_solve(s->sv, &s->so, r, err);
  if (!rc) rc = lc_problem_get_variable(s->p, 0, s->x, err);
  if (!rc) rc = lc_problem_term_energy(s->p, s->t_smooth, NULL, &es, err);
  if (!rc) rc = lc_problem_term_energy(s->p, s->t_curl, NULL, &ec, err);
  gather(s->x, s->free_f, s->n_free, s->kfree);
  if (!rc) rc = lc_problem_set_term_consts(s->p, s->t_free, s->kfree, err);
  *ev = (lc_app_event){.app = "frames", .phase = "gauss_newton", .iter = k, .energy = r->energy, .gnorm = r->gnorm,
                       .smooth = es / s->ws, .curl = ec};
  if (!rc && k % FF_BLOCK == 0) {
    s->ws *= FF_SHRINK;
    rc = lc_problem_set_term_weight(s->p, s->t_smooth, s->ws, err);
  }
  return rc;
}

/* Writes the field as a rawfield (4 vectors per face: alpha, beta, -alpha, -beta). */
static int write_rawfield(const ff_run *s, const char *path, lc_error *err) {
  FILE *fp = fopen(path, "w");
  if (!fp) return lc_error_set(err, LC_EIO, "frames: cannot write %s", path);
  fprintf(fp, "4 %d\n", (int)s->nf);
  for (int32_t f = 0; f < s->nf; ++f) {
    const double *b1 = s->frame + 6 * (int64_t)f, *b2 = b1 + 3, *x = s->x + 4 * (int64_t)f;
    double v[6];
    for (int k = 0; k < 2; ++k)
      for (int i = 0; i < 3; ++i) v[3 * k + i] = x[2 * k] * b1[i] + x[2 * k + 1] * b2[i];
    for (int sg = 1; sg >= -1; sg -= 2)
      for (int i = 0; i < 6; ++i) fprintf(fp, "%.10g ", sg * v[i]);
    fputc('\n', fp);
  }
  return fclose(fp) ? lc_error_set(err, LC_EIO, "frames: cannot write %s", path) : LC_OK;
}

/* Appends the thin quad (2 triangles) of segment c +- a (half width w
 * across, lifted by lift along n) to V, F, rgb with colour col. */
static void add_segment(const double *c, const double *a, const double *n, double w, double lift, const uint8_t *col,
                        double *V, int32_t *nv, int32_t *F, uint8_t *rgb, int32_t *nf) {
  double q[3] = {n[1] * a[2] - n[2] * a[1], n[2] * a[0] - n[0] * a[2], n[0] * a[1] - n[1] * a[0]};
  const double lq = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
  for (int i = 0; i < 3; ++i) q[i] *= lq > 0.0 ? w / lq : 0.0;
  const int32_t b = *nv;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 3; ++i)
      V[3 * (int64_t)(b + k) + i] = c[i] + (k < 2 ? -a[i] : a[i]) + (k % 2 ? q[i] : -q[i]) + lift * n[i];
  const int32_t t[6] = {b, b + 2, b + 3, b, b + 3, b + 1};
  memcpy(F + 3 * (int64_t)*nf, t, sizeof t);
  for (int k = 0; k < 2; ++k) memcpy(rgb + 3 * (int64_t)(*nf + k), col, 3);
  *nv += 4;
  *nf += 2;
}

/* The mesh (light grey) and, on every face, alpha (red) and beta (blue)
 * as segments of 0.4 mean edge lengths, rendered to path. */
static int ff_png(const ff_run *s, const char *path, lc_error *err) {
  const int32_t nv = lc_mesh_nv(s->mesh), nf = s->nf, *F0 = lc_mesh_F(s->mesh);
  const double *V0 = lc_mesh_V(s->mesh);
  const int32_t cap_v = nv + 8 * nf, cap_f = nf + 4 * nf;
  double *V = malloc((size_t)cap_v * 3 * sizeof *V), lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  int32_t *F = malloc((size_t)cap_f * 3 * sizeof *F), mv = nv, mf = nf;
  uint8_t *rgb = malloc((size_t)cap_f * 3);
  if (!V || !F || !rgb) {
    free(V), free(F), free(rgb);
    return lc_error_set(err, LC_ENOMEM, "frames: out of memory for the picture");
  }
  memcpy(V, V0, (size_t)nv * 3 * sizeof *V);
  memcpy(F, F0, (size_t)nf * 3 * sizeof *F);
  memset(rgb, 205, (size_t)nf * 3);
  double edge = 0.0;
  for (int32_t f = 0; f < nf; ++f)
    for (int k = 0; k < 3; ++k) {
      const double *p = V0 + 3 * (int64_t)F0[3 * f + k], *q = V0 + 3 * (int64_t)F0[3 * f + (k + 1) % 3];
      edge += sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]));
    }
  edge /= 3.0 * nf;
  static const uint8_t red[3] = {200, 30, 30}, blue[3] = {30, 60, 200};
  for (int32_t f = 0; f < nf; ++f) {
    const double *b1 = s->frame + 6 * (int64_t)f, *b2 = b1 + 3, *x = s->x + 4 * (int64_t)f;
    double c[3], n[3] = {b1[1] * b2[2] - b1[2] * b2[1], b1[2] * b2[0] - b1[0] * b2[2], b1[0] * b2[1] - b1[1] * b2[0]};
    for (int i = 0; i < 3; ++i)
      c[i] = (V0[3 * (int64_t)F0[3 * f] + i] + V0[3 * (int64_t)F0[3 * f + 1] + i] + V0[3 * (int64_t)F0[3 * f + 2] + i]) / 3.0;
    for (int k = 0; k < 2; ++k) {
      double a[3], l = 0.0;
      for (int i = 0; i < 3; ++i) a[i] = x[2 * k] * b1[i] + x[2 * k + 1] * b2[i], l += a[i] * a[i];
      for (int i = 0; i < 3; ++i) a[i] *= l > 0.0 ? 0.4 * edge / sqrt(l) : 0.0;
      add_segment(c, a, n, 0.05 * edge, 0.05 * edge, k ? blue : red, V, &mv, F, rgb, &mf);
    }
  }
  for (int32_t v = 0; v < nv; ++v)
    for (int i = 0; i < 3; ++i) lo[i] = fmin(lo[i], V0[3 * v + i]), hi[i] = fmax(hi[i], V0[3 * v + i]);
  const double diag = sqrt((hi[0] - lo[0]) * (hi[0] - lo[0]) + (hi[1] - lo[1]) * (hi[1] - lo[1]) + (hi[2] - lo[2]) * (hi[2] - lo[2]));
  const double mid[3] = {0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.5 * (lo[2] + hi[2])};
  const lc_render_view view = {{mid[0] + 0.35 * diag, mid[1] + 0.25 * diag, mid[2] + 1.3 * diag}, {mid[0], mid[1], mid[2]},
                               {0.0, 1.0, 0.0}, 40.0, 1200, 1200};
  int rc = lc_render_png(V, mv, F, mf, rgb, &view, path, err);
  free(V);
  free(F);
  free(rgb);
  return rc;
}

/* Opens out_dir/iters.jsonl when an output directory is asked for. */
static int ff_open_out(ff_run *s, const lc_app_opts *o, lc_error *err) {
  if (!o->out_dir) return LC_OK;
  char path[3200];
  snprintf(s->dir, sizeof s->dir, "%s", o->out_dir);
  int rc = lc_app_make_dir(s->dir, err);
  snprintf(path, sizeof path, "%s/iters.jsonl", s->dir);
  if (!rc && !(s->rec = fopen(path, "w"))) rc = lc_error_set(err, LC_EIO, "frames: cannot write %s", path);
  return rc;
}

/* Writes field.rawfield and final.png under the output directory. */
static int ff_outputs(const ff_run *s, lc_error *err) {
  char path[3200];
  snprintf(path, sizeof path, "%s/field.rawfield", s->dir);
  int rc = write_rawfield(s, path, err);
  snprintf(path, sizeof path, "%s/final.png", s->dir);
  if (!rc) rc = ff_png(s, path, err);
  return rc;
}

/* Frees what the run holds. */
static void ff_free(ff_run *s) {
  if (s->rec) fclose(s->rec);
  lc_solver_destroy(s->sv);
  lc_problem_destroy(s->p);
  lc_mesh_destroy(s->mesh);
  free(s->x);
  free(s->frame);
  free(s->kfree);
  free(s->free_f);
  free(s->fix_f);
  free(s->kfix);
}

/* Runs the frame-field app. */
int lc_app_frames(const lc_app_opts *o, lc_app_result *r, lc_error *err) {
  ff_run s = {0};
  const double t0 = lc_time_now();
  memset(r, 0, sizeof *r);
  r->tutte_diff = r->rigid_err = r->roughness0 = r->roughness = NAN;
  r->n_phases = 1;
  /* not monotone by design: the references and w_s move between iterations */
  r->phase[0] = (lc_app_phase){.name = "gauss_newton", .monotone = 0, .finite = 1, .reason = LC_STOP_MAX_ITERS};
  int rc = ff_setup(&s, o, err);
  if (!rc) rc = ff_open_out(&s, o, err);
  const int iters = o->max_iters > 0 ? o->max_iters : FF_ITERS;
  for (int k = 1; !rc && k <= iters && r->phase[0].reason != LC_STOP_CANCELLED; ++k) {
    lc_app_event ev;
    lc_solve_result sr;
    const double ws = s.ws; /* the weight of this iteration */
    rc = ff_iter(&s, k, &ev, &sr, err);
    if (rc) break;
    int32_t bad = 0;
    ev.t = lc_time_now() - t0;
    const double mo = min_orientation(&s, &bad);
    if (k == 1) r->phase[0].energy0 = sr.energy;
    r->phase[0].iters = k;
    r->phase[0].energy = sr.energy;
    r->phase[0].gnorm = sr.gnorm;
    r->phase[0].finite &= isfinite(sr.energy);
    if (s.rec)
      fprintf(s.rec, "{\"iter\": %d, \"energy\": %.10e, \"smoothness\": %.10e, \"curl\": %.10e, \"w_s\": %.6g, "
                     "\"min_orientation\": %.6e, \"t\": %.4f, \"time\": {\"derivatives\": %.6f, \"linear\": %.6f, "
                     "\"line_search\": %.6f, \"iteration\": %.6f}}\n",
              k, sr.energy, ev.smooth, ev.curl, ws, mo, ev.t, sr.t_deriv, sr.t_linear, sr.t_ls, sr.t_total);
    if (o->report && o->report(o->user, &ev)) r->phase[0].reason = LC_STOP_CANCELLED;
  }
  r->phase[0].t = lc_time_now() - t0; /* the solve; outputs not counted */
  if (!rc && s.rec) rc = ff_outputs(&s, err);
  if (!rc) {
    r->nv = lc_mesh_nv(s.mesh);
    r->nf = s.nf;
    min_orientation(&s, &r->n_flipped);
    r->converged = r->n_flipped == 0 && r->phase[0].finite;
  }
  r->t_total = lc_time_now() - t0;
  ff_free(&s);
  return rc;
}
