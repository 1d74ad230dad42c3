/* test_frames.c - Check suite of the integrable PolyVector frame-field
 * terms (ff_smooth, ff_curl, ff_close, ff_barrier on face variables of
 * dimension 4): the check values of shared/reference-values.md section 2
 * through real problems (the fields converted to face frames here, with
 * this file's own frame code), zero edge residuals for a constant field on
 * a planar mesh, the orientation step bound, and the frame-field app on
 * cheburashka (60 Gauss-Newton iterations of the reference schedule). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"
#include "energies/max_step.h"
#include "mesh/mesh.h"
#include "problem.h"
#include "testutil.h"

#define RTOL 1e-8

/* The square (0,0,0) (1,0,0) (1,1,0) (0,1,0), faces (0,1,2) and (0,2,3). */
static const double SQ_V[12] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
static const int32_t SQ_F[6] = {0, 1, 2, 0, 2, 3};

/* w in the frame of triangle (p0, p1, p2) as (Re, Im) into c[2]:
 * b1 = (p1 - p0)/|.|, n = b1 x (p2 - p0) normalised, b2 = n x b1. */
static void in_frame(const double *p0, const double *p1, const double *p2, const double *w, double *c) {
  double b1[3], e[3], n[3], b2[3], l = 0.0, ln = 0.0;
  for (int i = 0; i < 3; ++i) b1[i] = p1[i] - p0[i], e[i] = p2[i] - p0[i], l += b1[i] * b1[i];
  for (int i = 0; i < 3; ++i) b1[i] /= sqrt(l);
  n[0] = b1[1] * e[2] - b1[2] * e[1], n[1] = b1[2] * e[0] - b1[0] * e[2], n[2] = b1[0] * e[1] - b1[1] * e[0];
  for (int i = 0; i < 3; ++i) ln += n[i] * n[i];
  for (int i = 0; i < 3; ++i) n[i] /= sqrt(ln);
  b2[0] = n[1] * b1[2] - n[2] * b1[1], b2[1] = n[2] * b1[0] - n[0] * b1[2], b2[2] = n[0] * b1[1] - n[1] * b1[0];
  c[0] = b1[0] * w[0] + b1[1] * w[1] + b1[2] * w[2];
  c[1] = b2[0] * w[0] + b2[1] * w[1] + b2[2] * w[2];
}

/* A problem on the square with the check-value fields as variable 0 (face,
 * D = 4): face 0 alpha = (1,0,0), beta = (0,1,0); face 1 alpha = (1,0,0),
 * beta = (1/2, sqrt(3)/2, 0). */
static lc_problem *square_problem(lc_mesh **m) {
  static const double al[2][3] = {{1, 0, 0}, {1, 0, 0}}, be[2][3] = {{0, 1, 0}, {0.5, 0.86602540378443865, 0}};
  lc_error err;
  double x[8];
  ck_assert_int_eq(lc_mesh_create(SQ_V, 4, SQ_F, 2, m, &err), LC_OK);
  for (int f = 0; f < 2; ++f) {
    const int32_t *t = SQ_F + 3 * f;
    in_frame(SQ_V + 3 * t[0], SQ_V + 3 * t[1], SQ_V + 3 * t[2], al[f], x + 4 * f);
    in_frame(SQ_V + 3 * t[0], SQ_V + 3 * t[1], SQ_V + 3 * t[2], be[f], x + 4 * f + 2);
  }
  lc_problem *p = NULL;
  ck_assert_int_eq(lc_problem_create(*m, "cpu", &p, &err), LC_OK);
  ck_assert_msg(lc_problem_add_variable(p, "field", LC_LOC_FACE, 4, x, NULL, &err) == LC_OK, "%s", err.msg);
  return p;
}

/* Sum of squared residuals (2 E) of one term of energy name with n params. */
static double sum_r2(lc_problem *p, const char *name, int n, const char *const *pn, const double *pv,
                     const int32_t *elems, int32_t ne) {
  lc_error err;
  int id = -1;
  double E = NAN;
  lc_term_desc d = {.energy = name, .var = 0, .weight = 1.0, .weight_set = 1, .n_params = n,
                    .param_names = pn, .param_values = pv, .elems = elems, .n_elems = ne};
  ck_assert_msg(lc_problem_add_term(p, &d, &id, &err) == LC_OK, "%s: %s", name, err.msg);
  ck_assert_int_eq(lc_problem_energy(p, NULL, &E, &err), LC_OK);
  ck_assert_int_eq(lc_problem_remove_term(p, id, &err), LC_OK);
  return 2.0 * E;
}

/* |a - b| <= tol |b|. */
static void near(const char *what, double a, double b, double tol) {
  ck_assert_msg(fabs(a - b) <= tol * fabs(b), "%s: %.12g, expected %.12g", what, a, b);
}

/* The check values of section 2 on the square. */
START_TEST(square_check_values) {
  lc_mesh *m = NULL;
  lc_problem *p = square_problem(&m);
  static const char *const cq[2] = {"wc", "wq"};
  const double only_curl[2] = {100.0, 0.0}, only_quot[2] = {0.0, 10.0};
  near("smoothness", sum_r2(p, "ff_smooth", 0, NULL, NULL, NULL, 0), 2.0, RTOL);
  near("curl", sum_r2(p, "ff_curl", 2, cq, only_curl, NULL, 0), 487.5, RTOL);
  near("quotient", sum_r2(p, "ff_curl", 2, cq, only_quot, NULL, 0), 0.46875, RTOL);
  const double *x = lc_problem_x(p);
  near("face 1 Im(beta conj alpha)", x[7] * x[4] - x[6] * x[5], 0.866025404, 1e-9);
  const int32_t f1 = 1;
  near("face 1 barrier", sqrt(sum_r2(p, "ff_barrier", 0, NULL, NULL, &f1, 1)), 1.7012e-5, 1e-4);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Barrier values at x = 0.5 and 0.1 (alpha = 1, beta = x i), +inf at 0. */
START_TEST(barrier_values) {
  lc_mesh *m = NULL;
  lc_problem *p = square_problem(&m);
  lc_error err;
  const int32_t f0 = 0;
  const double xs[3] = {0.5, 0.1, 0.0}, want[2] = {0.030433950, 0.746122655};
  for (int i = 0; i < 3; ++i) {
    double x[8] = {1, 0, 0, xs[i], 1, 0, 0, 1};
    ck_assert_int_eq(lc_problem_set_variable(p, 0, x, &err), LC_OK);
    const double r2 = sum_r2(p, "ff_barrier", 0, NULL, NULL, &f0, 1);
    if (i < 2) near("barrier", sqrt(r2), want[i], 1e-7); /* given to 8 digits */
    else ck_assert_msg(isinf(r2), "barrier at x = 0: %g", r2);
  }
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* A constant field on a planar mesh (a bent-free grid) has zero edge
 * residuals whatever the faces' frames. */
START_TEST(constant_field_is_smooth) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_int_eq(lc_app_grid(6, 1.0, &m, &err), LC_OK);
  const int32_t nf = lc_mesh_nf(m), *F = lc_mesh_F(m);
  const double *V = lc_mesh_V(m), a[3] = {0.8, 0.6, 0}, b[3] = {-0.3, 0.9, 0};
  double *x = malloc((size_t)nf * 4 * sizeof *x);
  for (int32_t f = 0; f < nf; ++f) {
    const int32_t *t = F + 3 * f;
    in_frame(V + 3 * t[0], V + 3 * t[1], V + 3 * t[2], a, x + 4 * f);
    in_frame(V + 3 * t[0], V + 3 * t[1], V + 3 * t[2], b, x + 4 * f + 2);
  }
  lc_problem *p = NULL;
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(p, "field", LC_LOC_FACE, 4, x, NULL, &err), LC_OK);
  ck_assert_double_lt(sum_r2(p, "ff_smooth", 0, NULL, NULL, NULL, 0), 1e-24);
  ck_assert_double_lt(sum_r2(p, "ff_curl", 0, NULL, NULL, NULL, 0), 1e-20);
  free(x);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* The orientation bound: the exact step at which Im(beta conj alpha)
 * reaches 0 (beta rotating through alpha), 0 when it is not positive. */
START_TEST(orientation_step_bound) {
  const double x[4] = {1, 0, 0, 1}, d[4] = {0, 0, 1, -2}; /* beta = (t, 1 - 2t): Im = 1 - 2t */
  near("bound", lc_max_step_elem(LC_BOUND_FF_ORIENT, x, d, NULL, NULL), 0.5, 1e-14);
  const double flipped[4] = {1, 0, 0, -1};
  ck_assert(lc_max_step_elem(LC_BOUND_FF_ORIENT, flipped, d, NULL, NULL) == 0.0);
  const double away[4] = {0, 0, 0, 1};
  ck_assert(isinf(lc_max_step_elem(LC_BOUND_FF_ORIENT, x, away, NULL, NULL)));
}
END_TEST

/* Bad frame-field elements are refused: two faces without a common edge,
 * a face out of range, a face energy on a vertex variable. */
START_TEST(bad_elements) {
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_int_eq(lc_app_grid(4, 1.0, &m, &err), LC_OK);
  lc_problem *p = NULL;
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(p, "field", LC_LOC_FACE, 4, NULL, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, 4, NULL, NULL, &err), LC_OK);
  const int32_t far[2] = {0, 17}, out[1] = {99};
  lc_term_desc d = {.energy = "ff_smooth", .var = 0, .elems = far, .n_elems = 1};
  ck_assert_int_eq(lc_problem_add_term(p, &d, NULL, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "share no edge") != NULL, "%s", err.msg);
  d = (lc_term_desc){.energy = "ff_close", .var = 0, .elems = out, .n_elems = 1};
  ck_assert_int_eq(lc_problem_add_term(p, &d, NULL, &err), LC_ERANGE);
  d = (lc_term_desc){.energy = "ff_barrier", .var = 1};
  ck_assert_int_eq(lc_problem_add_term(p, &d, NULL, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "face") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(p), 0);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Collects the unweighted smoothness of every iteration. */
static int collect(void *user, const lc_app_event *ev) {
  double *sm = user;
  if (ev->iter >= 1 && ev->iter <= 60) sm[ev->iter] = ev->smooth;
  return 0;
}

/* The frame-field app on cheburashka, 60 iterations of the reference
 * schedule: no face with Im(beta conj alpha) <= 0, every energy finite, and
 * the smoothness energy lower at the end of every 5-iteration block (one
 * w_s) than at its start. */
START_TEST(cheburashka_60_iterations) {
  lc_app_opts o;
  lc_app_result r;
  lc_error err;
  double sm[61];
  for (int i = 0; i < 61; ++i) sm[i] = NAN;
  lc_app_opts_default(&o);
  o.mesh_dir = lc_test_mesh_dir();
  o.device = "cpu";
  o.report = collect;
  o.user = sm;
  ck_assert_msg(lc_app_frames(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.nf, 13334);
  ck_assert_int_eq(r.phase[0].iters, 60);
  ck_assert_int_eq(r.n_flipped, 0);
  ck_assert(r.phase[0].finite && r.converged);
  ck_assert_double_lt(r.phase[0].energy, 0.05 * r.phase[0].energy0);
  for (int b = 0; b < 12; ++b)
    ck_assert_msg(sm[5 * b + 5] < sm[5 * b + 1], "block %d: smoothness %.9g at iteration %d, %.9g at %d", b,
                  sm[5 * b + 1], 5 * b + 1, sm[5 * b + 5], 5 * b + 5);
  printf("frames: 60 iterations in %.2f s, energy %.6g -> %.6g\n", r.phase[0].t, r.phase[0].energy0,
         r.phase[0].energy);
}
END_TEST

/* Constrained faces: several are accepted (3 iterations run), one out of
 * range is refused with a reason. */
START_TEST(constrained_faces) {
  lc_app_opts o;
  lc_app_result r;
  lc_error err;
  const int32_t good[3] = {0, 4000, 13333}, bad[2] = {5, 13334};
  lc_app_opts_default(&o);
  o.mesh_dir = lc_test_mesh_dir();
  o.device = "cpu";
  o.max_iters = 3;
  o.constrain = good;
  o.n_constrain = 3;
  ck_assert_msg(lc_app_frames(&o, &r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r.phase[0].iters, 3);
  ck_assert_int_eq(r.n_flipped, 0);
  o.constrain = bad;
  o.n_constrain = 2;
  ck_assert_int_eq(lc_app_frames(&o, &r, &err), LC_ERANGE);
  ck_assert_msg(strstr(err.msg, "13334") != NULL, "%s", err.msg);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("frames");
  TCase *tc = tcase_create("terms");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, square_check_values);
  tcase_add_test(tc, barrier_values);
  tcase_add_test(tc, constant_field_is_smooth);
  tcase_add_test(tc, orientation_step_bound);
  tcase_add_test(tc, bad_elements);
  suite_add_tcase(s, tc);
  TCase *app = tcase_create("app");
  tcase_set_timeout(app, 600);
  tcase_add_test(app, cheburashka_60_iterations);
  tcase_add_test(app, constrained_faces);
  suite_add_tcase(s, app);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
