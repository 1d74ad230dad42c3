/* test_apps.c - Check suite for implicit-Euler dynamics (exact free fall,
 * pinned vertices, damping, external forces, potential) and the five demo
 * applications at test sizes: cloth settles, Tutte matches the reference
 * layout and symmetric-Dirichlet Newton ends within 1% of a converged
 * reference without flips, smoothing decreases monotonically with GD and
 * L-BFGS, ARAP follows a rigid handle motion exactly, and the spherical
 * parameterization of spot has no flipped face. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/apps.h"
#include "solvers/dynamics.h"
#include "testutil.h"

/* ---- dynamics ----------------------------------------------------------- */

typedef struct dyn_fixture {
  lc_mesh *m;
  lc_problem *p;
  lc_solver *s;
  lc_dynamics *d;
  int inertia;
  double mass; /* of the free vertex 3 */
} dyn_fixture;

static const double H = 0.01, G = -9.8;

/* 2 x 2 grid, vertices 0-2 pinned, vertex 3 free; inertia (+ gravity weighted h^2). */
static void dyn_make(dyn_fixture *f, int gravity) {
  static const char *const gn[] = {"gz", "density"};
  const double gv[] = {G, 1.0};
  static const int32_t pinned[] = {0, 1, 2};
  lc_error err;
  lc_term_desc d = {0};
  ck_assert_int_eq(lc_app_grid(2, 1.0, &f->m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(f->m, "cpu", &f->p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(f->p, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  d.energy = "inertia";
  ck_assert_msg(lc_problem_add_term(f->p, &d, &f->inertia, &err) == LC_OK, "%s", err.msg);
  if (gravity) {
    d.energy = "gravity";
    d.weight = H * H;
    d.weight_set = 1;
    d.n_params = 2;
    d.param_names = gn;
    d.param_values = gv;
    ck_assert_msg(lc_problem_add_term(f->p, &d, NULL, &err) == LC_OK, "%s", err.msg);
  }
  ck_assert_int_eq(lc_problem_fix(f->p, 0, 3, pinned, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_solver_create(f->p, &f->s, &err), LC_OK);
  ck_assert_msg(lc_dynamics_create(f->p, 0, f->inertia, H, &f->d, &err) == LC_OK, "%s", err.msg);
  double k[16];
  ck_assert_int_eq(lc_problem_get_term_consts(f->p, f->inertia, k, &err), LC_OK);
  f->mass = k[12];
  ck_assert_double_gt(f->mass, 0.0);
}

static void dyn_free(dyn_fixture *f) {
  lc_dynamics_destroy(f->d);
  lc_solver_destroy(f->s);
  lc_problem_destroy(f->p);
  lc_mesh_destroy(f->m);
}

/* Newton options for an exact quadratic step: one iteration, no shift. */
static lc_solve_opts exact_newton(void) {
  lc_solve_opts o;
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.reg = 0.0;
  o.max_iters = 1;
  o.gtol = 0.0;
  return o;
}

/* Steps n times and checks v_{k+1} = v_k / (1 + c h) + h g and x_{k+1} = x_k + h v_{k+1}. */
static void check_free_fall(dyn_fixture *f, double c, int n) {
  const lc_solve_opts o = exact_newton();
  const double v0[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, -0.2, 0.5};
  double v[3] = {0.3, -0.2, 0.5}, x[3] = {1.0, 1.0, 0.0}, rest[12];
  lc_error err;
  memcpy(rest, lc_problem_x(f->p), sizeof rest);
  ck_assert_int_eq(lc_dynamics_set_velocity(f->d, v0, &err), LC_OK);
  for (int k = 0; k < n; ++k) {
    lc_solve_result r;
    ck_assert_msg(lc_dynamics_step(f->d, f->s, &o, &r, &err) == LC_OK, "%s", err.msg);
    for (int i = 0; i < 3; ++i) {
      v[i] = v[i] / (1.0 + c * H) + (i == 2 ? H * G : 0.0);
      x[i] += H * v[i];
    }
    const double *vd = lc_dynamics_velocity(f->d), *xp = lc_problem_x(f->p);
    for (int i = 0; i < 3; ++i) {
      ck_assert_double_le(fabs(vd[9 + i] - v[i]), 1e-12 * (1.0 + k));
      ck_assert_double_le(fabs(xp[9 + i] - x[i]), 1e-13 * (1.0 + k));
    }
    for (int j = 0; j < 9; ++j) { /* pinned vertices never move, zero velocity */
      ck_assert_double_eq(xp[j], rest[j]);
      ck_assert_double_eq(vd[j], 0.0);
    }
  }
  ck_assert_int_eq(lc_dynamics_steps(f->d), n);
}

START_TEST(test_dynamics_free_fall) {
  dyn_fixture f;
  dyn_make(&f, 1);
  check_free_fall(&f, 0.0, 60);
  ck_assert_double_le(fabs(lc_dynamics_time(f.d) - 60 * H), 1e-12);
  /* at rest the potential is -m g z and the imbalance is m |g| */
  double W = 0.0, res = 0.0;
  lc_error err;
  ck_assert_int_eq(lc_dynamics_potential(f.d, &W, &res, &err), LC_OK);
  ck_assert_double_le(fabs(W + f.mass * G * lc_problem_x(f.p)[11]), 1e-12);
  ck_assert_double_le(fabs(res - f.mass * fabs(G)), 1e-9);
  dyn_free(&f);
}
END_TEST

START_TEST(test_dynamics_damping_and_force) {
  dyn_fixture f;
  dyn_make(&f, 1);
  lc_error err;
  ck_assert_int_eq(lc_dynamics_set_damping(f.d, 3.0, &err), LC_OK);
  check_free_fall(&f, 3.0, 30);
  dyn_free(&f);
  /* the same fall from an external force m g instead of a gravity term */
  dyn_make(&f, 0);
  double force[12] = {0};
  for (int i = 0; i < 4; ++i) force[3 * i + 2] = f.mass * G; /* pinned ones are ignored */
  ck_assert_int_eq(lc_dynamics_set_force(f.d, force, &err), LC_OK);
  check_free_fall(&f, 0.0, 30);
  double res = 1.0;
  ck_assert_int_eq(lc_dynamics_potential(f.d, NULL, &res, &err), LC_OK);
  ck_assert_double_le(fabs(res - f.mass * fabs(G)), 1e-9);
  dyn_free(&f);
}
END_TEST

START_TEST(test_dynamics_errors) {
  dyn_fixture f;
  dyn_make(&f, 1);
  lc_dynamics *d = NULL;
  lc_error err;
  ck_assert_int_eq(lc_dynamics_create(f.p, 0, 1, H, &d, &err), LC_EINVAL);  /* gravity term */
  ck_assert_int_eq(lc_dynamics_create(f.p, 0, f.inertia, 0.0, &d, &err), LC_EINVAL);
  ck_assert_int_eq(lc_dynamics_create(f.p, 5, f.inertia, H, &d, &err), LC_ENOTFOUND);
  ck_assert_int_eq(lc_dynamics_set_damping(f.d, -1.0, &err), LC_EINVAL);
  const double bad[12] = {NAN};
  ck_assert_int_eq(lc_dynamics_set_velocity(f.d, bad, &err), LC_EINVAL);
  const double v[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  ck_assert_int_eq(lc_dynamics_set_velocity(f.d, v, &err), LC_OK);
  ck_assert_double_eq(lc_dynamics_velocity(f.d)[0], 0.0); /* pinned */
  ck_assert_double_eq(lc_dynamics_velocity(f.d)[9], 1.0);
  ck_assert_double_eq(lc_dynamics_max_speed(f.d), sqrt(3.0));
  ck_assert_double_le(fabs(lc_dynamics_kinetic(f.d) - 1.5 * f.mass), 1e-15);
  dyn_free(&f);
}
END_TEST

/* ---- helpers for the apps ------------------------------------------------ */

/* Energy trace per phase, recorded from the report callback. */
typedef struct trace {
  char phase[4][16];
  int n[4];
  double e[4][4096];
  int n_phases;
  int bad; /* a non-finite energy was reported */
} trace;

static int record(void *user, const lc_app_event *ev) {
  trace *t = user;
  if (ev->iter < 1) return 0; /* informational events */
  int k = t->n_phases - 1;
  if (k < 0 || strcmp(t->phase[k], ev->phase)) {
    k = t->n_phases < 4 ? t->n_phases++ : 3;
    snprintf(t->phase[k], sizeof t->phase[k], "%s", ev->phase);
    t->n[k] = 0;
  }
  if (!isfinite(ev->energy)) t->bad = 1;
  if (t->n[k] < 4096) t->e[k][t->n[k]++] = ev->energy;
  return 0;
}

/* 1 if the recorded energies of phase k never increase, starting from E0. */
static int monotone(const trace *t, int k, double E0) {
  double prev = E0;
  for (int i = 0; i < t->n[k]; ++i) {
    if (!(t->e[k][i] <= prev)) return 0;
    prev = t->e[k][i];
  }
  return 1;
}

/* Options for an app with the test mesh directory, a report trace and an output file. */
static lc_app_opts app_opts(trace *t, char *out, size_t cap, const char *tag) {
  lc_app_opts o;
  lc_app_opts_default(&o);
  o.mesh_dir = lc_test_mesh_dir();
  o.report = record;
  o.user = t;
  memset(t, 0, sizeof *t);
  snprintf(out, cap, "/tmp/locad_test_apps_%ld_%s.obj", (long)getpid(), tag);
  o.out = out;
  return o;
}

/* Reads back an OBJ written by an app. */
static lc_mesh *read_out(const char *path) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_read_obj_file(path, &m, &err) == LC_OK, "%s", err.msg);
  return m;
}

/* Skips (returns 1) when the shared meshes are missing. */
static int no_meshes(const char *file) {
  FILE *f = fopen(lc_test_mesh_path(file), "r");
  if (f) fclose(f);
  else fprintf(stderr, "test_apps: %s missing, test skipped\n", lc_test_mesh_path(file));
  return !f;
}

/* ---- generators ------------------------------------------------------------ */

START_TEST(test_generators) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_int_eq(lc_app_icosphere(2, &m, &err), LC_OK);
  ck_assert_int_eq(lc_mesh_nv(m), 162);
  ck_assert_int_eq(lc_mesh_nf(m), 320);
  ck_assert_int_eq(lc_mesh_euler(m), 2);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), 0);
  const double *V = lc_mesh_V(m);
  const int32_t *F = lc_mesh_F(m);
  for (int32_t f = 0; f < lc_mesh_nf(m); ++f) { /* outward: det[x0, x1, x2] > 0 */
    const double *a = V + 3 * F[3 * f], *b = V + 3 * F[3 * f + 1], *c = V + 3 * F[3 * f + 2];
    const double det = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
                       a[2] * (b[0] * c[1] - b[1] * c[0]);
    ck_assert_double_gt(det, 0.0);
  }
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i)
    ck_assert_double_le(fabs(sqrt(V[3 * i] * V[3 * i] + V[3 * i + 1] * V[3 * i + 1] + V[3 * i + 2] * V[3 * i + 2]) - 1.0), 1e-15);
  lc_mesh_destroy(m);
  /* grid boundary loop: from vertex 0 counter-clockwise */
  ck_assert_int_eq(lc_app_grid(4, 2.0, &m, &err), LC_OK);
  int32_t loop[16], n = 0;
  ck_assert_int_eq(lc_app_boundary_loop(m, loop, &n, &err), LC_OK);
  static const int32_t expect[12] = {0, 1, 2, 3, 7, 11, 15, 14, 13, 12, 8, 4};
  ck_assert_int_eq(n, 12);
  for (int i = 0; i < 12; ++i) ck_assert_int_eq(loop[i], expect[i]);
  ck_assert_double_eq(lc_mesh_V(m)[3 * 15], 2.0);
  lc_mesh_destroy(m);
  ck_assert_int_eq(lc_app_parse("arap"), LC_APP_ARAP);
  ck_assert_int_eq(lc_app_parse("nope"), LC_ENOTFOUND);
}
END_TEST

/* ---- cloth ---------------------------------------------------------------- */

START_TEST(test_app_cloth) {
  trace t;
  char out[256];
  lc_app_opts o = app_opts(&t, out, sizeof out, "cloth");
  lc_app_result r;
  lc_error err;
  o.n = 12;
  o.h = 1.0 / 30.0; /* test size: 12 x 12, 30 steps per second */
  o.max_iters = 1500;
  ck_assert_msg(lc_app_cloth(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(r.converged, "cloth did not settle in %d steps (speed %g, residual %g)", r.phase[0].iters,
                r.speed, r.phase[0].gnorm);
  ck_assert_int_eq(t.bad, 0);
  ck_assert(r.phase[0].finite);
  ck_assert_double_lt(r.speed, 1e-3);
  ck_assert_double_lt(r.phase[0].gnorm, 1e-3 * 0.2 * 9.81 / (11.0 * 11.0)); /* of a vertex weight */
  ck_assert(monotone(&t, 0, r.phase[0].energy0)); /* implicit Euler dissipates: E_kin + W decreases */
  lc_mesh *m = read_out(out);
  const double *V = lc_mesh_V(m);
  double zmin = 0.0;
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i) {
    for (int c = 0; c < 3; ++c) ck_assert(isfinite(V[3 * i + c]));
    zmin = fmin(zmin, V[3 * i + 2]);
  }
  ck_assert_double_lt(zmin, -0.5); /* it hangs down */
  const double pin0[3] = {0.0, 1.0, 0.0}, pin1[3] = {1.0, 1.0, 0.0};
  for (int c = 0; c < 3; ++c) {
    ck_assert_double_eq(V[3 * 132 + c], pin0[c]);
    ck_assert_double_eq(V[3 * 143 + c], pin1[c]);
  }
  lc_mesh_destroy(m);
  remove(out);
}
END_TEST

/* ---- UV parameterization -------------------------------------------------- */

/* Total area of the rest mesh. */
static double mesh_area(const lc_mesh *m) {
  const double *V = lc_mesh_V(m);
  const int32_t *F = lc_mesh_F(m);
  double a = 0.0;
  for (int32_t f = 0; f < lc_mesh_nf(m); ++f) {
    const double *p = V + 3 * F[3 * f], *q = V + 3 * F[3 * f + 1], *r = V + 3 * F[3 * f + 2];
    const double u[3] = {q[0] - p[0], q[1] - p[1], q[2] - p[2]}, v[3] = {r[0] - p[0], r[1] - p[1], r[2] - p[2]};
    const double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    a += 0.5 * sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  }
  return a;
}

/* Reference: Newton continued from the app's result (its OBJ) until the relative energy
 * change per iteration is below 1e-8 (Newton converges at least linearly here, so the
 * remaining gap is ~1e-7 relative); *area gets the 3D area of the mesh. */
static double uv_reference(const lc_app_opts *o, const char *out, double *area) {
  lc_app_scene s;
  lc_solver *sv = NULL;
  lc_solve_result r;
  lc_error err;
  ck_assert_msg(lc_app_uv_setup(o, &s, &err) == LC_OK, "%s", err.msg);
  *area = mesh_area(s.mesh);
  lc_mesh *m = read_out(out);
  const int32_t nv = lc_mesh_nv(m);
  double *uv = malloc(2 * (size_t)nv * sizeof *uv);
  for (int32_t i = 0; i < nv; ++i) memcpy(uv + 2 * i, lc_mesh_V(m) + 3 * i, 2 * sizeof *uv);
  ck_assert_int_eq(lc_problem_set_variable(s.p, s.var, uv, &err), LC_OK);
  lc_solve_opts so = s.solve;
  so.max_iters = 80;
  so.ftol = 1e-8;
  ck_assert_int_eq(lc_solver_create(s.p, &sv, &err), LC_OK);
  ck_assert_int_eq(lc_solver_solve(sv, &so, &r, &err), LC_OK);
  ck_assert_msg(r.reason == LC_STOP_FTOL || r.reason == LC_STOP_GRAD, "reference stopped: %s after %d",
                lc_stop_reason_name(r.reason), r.iters);
  lc_solver_destroy(sv);
  lc_app_scene_free(&s);
  lc_mesh_destroy(m);
  free(uv);
  return r.energy;
}

START_TEST(test_app_uv) {
  if (no_meshes("camelhead.obj")) return;
  trace t;
  char out[256];
  lc_app_opts o = app_opts(&t, out, sizeof out, "uv");
  lc_app_result r;
  lc_error err;
  o.max_iters = 18;
  ck_assert_msg(lc_app_uv(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.n_phases, 2);
  ck_assert_msg(r.tutte_diff < 1e-10, "Tutte layout differs from the reference by %g", r.tutte_diff);
  ck_assert_int_eq(r.n_flipped, 0);
  ck_assert_int_eq(t.bad, 0);  /* finite at every iterate: no flipped triangle */
  ck_assert_int_eq(t.n[1], 18);
  ck_assert(monotone(&t, 1, r.phase[1].energy0));
  ck_assert(r.phase[1].monotone && r.phase[1].finite);
  ck_assert_double_le(fabs(r.phase[1].energy0 - 144.95861683552215), 1e-9 * 145.0); /* W1 check value */
  double area = 0.0;
  const double ref = uv_reference(&o, out, &area);
  ck_assert_double_le(ref, r.phase[1].energy);
  ck_assert_msg((r.phase[1].energy - ref) / ref <= 0.01, "E %.9g vs reference %.9g", r.phase[1].energy, ref);
  ck_assert_double_ge(ref, 4.0 * area); /* symmetric Dirichlet >= 4 x the 3D area */
  remove(out);
}
END_TEST

/* ---- smoothing --------------------------------------------------------------- */

START_TEST(test_app_smooth) {
  trace t;
  char out[256];
  lc_app_opts o = app_opts(&t, out, sizeof out, "smooth");
  lc_app_result r;
  lc_error err;
  o.n = 3;
  ck_assert_msg(lc_app_smooth(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.n_phases, 2);
  ck_assert_int_eq(t.n_phases, 2);
  ck_assert_str_eq(t.phase[0], "gd");
  ck_assert_str_eq(t.phase[1], "lbfgs");
  for (int k = 0; k < 2; ++k) {
    ck_assert_msg(r.phase[k].reason == LC_STOP_GRAD, "%s stopped: %s", r.phase[k].name,
                  lc_stop_reason_name(r.phase[k].reason));
    ck_assert_int_eq(t.n[k], r.phase[k].iters);
    ck_assert(monotone(&t, k, r.phase[k].energy0));
    ck_assert_double_lt(r.phase[k].energy, r.phase[k].energy0);
  }
  ck_assert_double_eq(r.phase[0].energy0, r.phase[1].energy0); /* same start */
  ck_assert_double_le(lc_test_reldiff(r.phase[0].energy, r.phase[1].energy, 1e-300), 1e-9);
  ck_assert_int_lt(r.phase[1].iters, r.phase[0].iters);
  ck_assert_double_lt(r.roughness, r.roughness0 / 3.0);
  remove(out);
}
END_TEST

/* ---- ARAP ------------------------------------------------------------------------ */

START_TEST(test_app_arap_rigid) {
  for (int dim = 2; dim <= 3; ++dim) {
    trace t;
    char out[256];
    lc_app_opts o = app_opts(&t, out, sizeof out, "arap");
    lc_app_result r;
    lc_error err;
    o.n = dim == 2 ? 12 : 8;
    o.dim = dim;
    o.arap_rigid = 1;
    ck_assert_msg(lc_app_arap(&o, &r, &err) == LC_OK, "%s", err.msg);
    ck_assert(r.converged);
    ck_assert_double_gt(r.phase[0].energy0, 1.0); /* free vertices start at rest */
    ck_assert(monotone(&t, 0, r.phase[0].energy0));
    ck_assert_int_eq(t.bad, 0);
    /* D = 2: exact; D = 3 on a flat sheet: out-of-plane bending is free to
     * second order (quartic energy), so the solution is rigid only to ~1e-4 */
    ck_assert_msg(r.rigid_err < (dim == 2 ? 1e-10 : 1e-3), "D=%d rigid error %g", dim, r.rigid_err);
    ck_assert_double_lt(fabs(r.phase[0].energy), (dim == 2 ? 1e-14 : 1e-12));
    remove(out);
  }
}
END_TEST

START_TEST(test_app_arap_handles) {
  trace t;
  char out[256];
  lc_app_opts o = app_opts(&t, out, sizeof out, "arap_demo");
  lc_app_result r;
  lc_error err;
  o.n = 12;
  ck_assert_msg(lc_app_arap(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert(r.converged);
  ck_assert(monotone(&t, 0, r.phase[0].energy0));
  ck_assert_double_gt(r.phase[0].energy, 1e-3); /* a real (non-rigid) deformation */
  lc_mesh *m = read_out(out);
  const double *V = lc_mesh_V(m);
  for (int j = 0; j < 12; ++j) { /* the low handle (x <= 0.1) stays at rest */
    ck_assert_double_eq(V[3 * (12 * j)], 0.0);
    ck_assert_double_eq(V[3 * (12 * j) + 1], (double)j / 11.0);
  }
  ck_assert_double_gt(V[3 * 11], 1.1); /* the high handle moved out */
  lc_mesh_destroy(m);
  remove(out);
}
END_TEST

/* ---- spherical parameterization --------------------------------------------- */

START_TEST(test_app_sphere) {
  if (no_meshes("spot.obj")) return;
  trace t;
  char out[256];
  lc_app_opts o = app_opts(&t, out, sizeof out, "sphere");
  lc_app_result r;
  lc_error err;
  o.max_iters = 12;
  ck_assert_msg(lc_app_sphere(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_gt(r.n_flipped0, 0); /* the radial projection of spot folds over */
  ck_assert_int_gt(r.untangle_sweeps, 0);
  ck_assert_int_eq(r.n_flipped, 0);
  ck_assert_int_eq(t.bad, 0); /* finite energy at every iterate */
  ck_assert_int_eq(t.n[0], 12);
  ck_assert(monotone(&t, 0, r.phase[0].energy0));
  ck_assert_double_lt(r.phase[0].energy, 0.8 * r.phase[0].energy0);
  lc_mesh *m = read_out(out);
  const double *V = lc_mesh_V(m);
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i)
    ck_assert_double_le(fabs(sqrt(V[3 * i] * V[3 * i] + V[3 * i + 1] * V[3 * i + 1] + V[3 * i + 2] * V[3 * i + 2]) - 1.0), 1e-12);
  lc_mesh_destroy(m);
  remove(out);
}
END_TEST

static Suite *apps_suite(void) {
  Suite *s = suite_create("apps");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_dynamics_free_fall);
  tcase_add_test(tc, test_dynamics_damping_and_force);
  tcase_add_test(tc, test_dynamics_errors);
  tcase_add_test(tc, test_generators);
  tcase_add_test(tc, test_app_cloth);
  tcase_add_test(tc, test_app_uv);
  tcase_add_test(tc, test_app_smooth);
  tcase_add_test(tc, test_app_arap_rigid);
  tcase_add_test(tc, test_app_arap_handles);
  tcase_add_test(tc, test_app_sphere);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(apps_suite()); }
