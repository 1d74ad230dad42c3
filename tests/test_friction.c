/* test_friction.c - Check suite of lagged friction (contact/friction.c,
 * e_friction_*.h): the closest-point weights of every distance type, the
 * friction mollifier f0, and Coulomb's law through implicit-Euler steps of a
 * sheet on a plane: a slide decelerates at mu g and stops, a sheet on an
 * incline sticks below tan(theta) = mu and slides with acceleration
 * g (sin - mu cos) above; bad settings are refused. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact/contact.h"
#include "energies/contact_geom.h"
#include "mesh/mesh.h"
#include "problem.h"
#include "solvers/dynamics.h"
#include "solvers/solver.h"
#include "testutil.h"

#define H 0.01   /* time step */
#define G 9.8    /* gravity */
#define NS 5     /* sheet: NS x NS vertices */
#define NV (NS * NS)

/* The closest-point weights reproduce the classified distance: |sum w x|^2
 * = d^2 for random pairs of every type, and sum w = 0. */
START_TEST(closest_weights_match_distance) {
  unsigned long long rng = 5;
  int seen[2][4] = {{0}};
  for (int it = 0; it < 4000; ++it) {
    double x[12], w[4], D[3] = {0, 0, 0};
    const int ee = it & 1;
    for (int i = 0; i < 12; ++i) x[i] = lc_test_rand(&rng, -1.0, 1.0);
    if (ee && it % 7 == 1) /* nearly parallel edges */
      for (int j = 0; j < 3; ++j) x[9 + j] = x[6 + j] + (x[3 + j] - x[j]) * 0.7 + 1e-9 * j;
    const lc_ct_dist t = ee ? lc_ct_classify_ee(x) : lc_ct_classify_pt(x);
    seen[ee][t.type] = 1;
    lc_ct_closest_weights(t, x, w);
    for (int a = 0; a < 4; ++a)
      for (int j = 0; j < 3; ++j) D[j] += w[a] * x[3 * a + j];
    const double d2 = lc_ct_d2(t, x), got = lc_ct_dot(D, D);
    ck_assert_msg(fabs(got - d2) <= 1e-9 * fmax(d2, 1e-3), "it %d (type %d): |sum w x|^2 %.17g, d^2 %.17g", it,
                  t.type, got, d2);
    ck_assert_msg(fabs(w[0] + w[1] + w[2] + w[3]) < 1e-12, "it %d: weights sum to %g", it, w[0] + w[1] + w[2] + w[3]);
  }
  ck_assert(seen[0][LC_CT_PP] && seen[0][LC_CT_PE] && seen[0][LC_CT_PT]);
  ck_assert(seen[1][LC_CT_PP] && seen[1][LC_CT_PE] && seen[1][LC_CT_EE]);
}
END_TEST

/* f0 as a function of s = y^2: values at the branch point, C2 in y there,
 * and its s-derivatives against central differences on both branches. */
START_TEST(friction_f0_values) {
  const double eps = 0.1;
  double g1, g2, a1, a2, b1, b2;
  ck_assert(fabs(lc_ct_friction_f0(0.0, eps, &g1, &g2) - eps / 3.0) < 1e-15);
  ck_assert(fabs(g1 - 1.0 / eps) < 1e-12 && g2 == 0.0);
  ck_assert(fabs(lc_ct_friction_f0(-1e-20, eps, &g1, &g2) - eps / 3.0) < 1e-15);
  const double lo = lc_ct_friction_f0(eps * eps * (1 - 1e-12), eps, &a1, &a2);
  const double hi = lc_ct_friction_f0(eps * eps * (1 + 1e-12), eps, &b1, &b2);
  ck_assert(fabs(lo - eps) < 1e-12 && fabs(hi - eps) < 1e-12);
  /* f1 = df0/dy = 2 y df0/ds = 1 at eps on both sides; d2f0/dy2 = 2 g1 + 4 s g2 = 0 */
  ck_assert(fabs(2 * eps * a1 - 1.0) < 1e-9 && fabs(2 * eps * b1 - 1.0) < 1e-9);
  ck_assert(fabs(2 * a1 + 4 * eps * eps * a2) < 1e-6 && fabs(2 * b1 + 4 * eps * eps * b2) < 1e-6);
  const double ss[4] = {1e-4, 3e-3, 0.02, 0.5};
  for (int i = 0; i < 4; ++i) {
    const double s = ss[i], h = 1e-7 * s;
    double p1, p2, m1, m2;
    lc_ct_friction_f0(s, eps, &g1, &g2);
    const double fp = lc_ct_friction_f0(s + h, eps, &p1, &p2), fm = lc_ct_friction_f0(s - h, eps, &m1, &m2);
    ck_assert_msg(fabs((fp - fm) / (2 * h) - g1) < 1e-6 * fabs(g1), "s %g: g1 %g vs %g", s, g1, (fp - fm) / (2 * h));
    ck_assert_msg(fabs((p1 - m1) / (2 * h) - g2) < 1e-5 * fabs(g2), "s %g: g2 %g vs %g", s, g2, (p1 - m1) / (2 * h));
  }
}
END_TEST

/* A 1 m x 1 m sheet of NS x NS vertices lying on the plane through the
 * origin with normal (-sin th, 0, cos th), at height d0 above it. */
static lc_mesh *tilted_sheet(double th, double d0) {
  double V[NV * 3];
  int32_t F[(NS - 1) * (NS - 1) * 6], f = 0;
  for (int i = 0; i < NS; ++i)
    for (int j = 0; j < NS; ++j) {
      double *v = V + 3 * (i * NS + j);
      const double u = (double)j / (NS - 1);
      v[0] = u * cos(th) - d0 * sin(th), v[1] = (double)i / (NS - 1), v[2] = u * sin(th) + d0 * cos(th);
    }
  for (int i = 0; i + 1 < NS; ++i)
    for (int j = 0; j + 1 < NS; ++j) {
      const int32_t a = i * NS + j, b = a + 1, c = a + NS, d = c + 1, t[6] = {a, b, d, a, d, c};
      memcpy(F + 6 * f++, t, sizeof t);
    }
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_create(V, NV, F, 2 * f, &m, &err) == LC_OK, "%s", err.msg);
  return m;
}

/* A stepping sheet: problem (stiff springs and gravity weighted h^2,
 * inertia, density 1: 1 kg), contact with friction mu on the tilted plane,
 * a Newton solver and the time stepper. */
typedef struct sheet {
  lc_mesh *m;
  lc_problem *p;
  lc_contact *c;
  lc_solver *s;
  lc_dynamics *d;
  lc_solve_opts so;
} sheet;

/* Adds term `energy` with weight w and one parameter (name NULL: none). */
static void add_term(lc_problem *p, const char *energy, double w, const char *name, double v, int *id) {
  lc_error err;
  const char *const names[1] = {name};
  lc_term_desc t = {.energy = energy, .weight = w, .weight_set = 1, .n_params = name ? 1 : 0,
                    .param_names = names, .param_values = &v};
  ck_assert_msg(lc_problem_add_term(p, &t, id, &err) == LC_OK, "%s: %s", energy, err.msg);
}

/* Builds the sheet on the plane tilted by th with friction mu, at height
 * d0 above it, lagging friction iters times per step. */
static void sheet_make_at(sheet *sh, double th, double mu, double d0, int iters) {
  lc_error err;
  int inertia = -1;
  memset(sh, 0, sizeof *sh);
  sh->m = tilted_sheet(th, d0);
  ck_assert_int_eq(lc_problem_create(sh->m, "cpu", &sh->p, &err), LC_OK);
  lc_problem_set_threads(sh->p, 1);
  ck_assert_int_eq(lc_problem_add_variable(sh->p, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  add_term(sh->p, "spring", H * H, "k", 1e4, NULL);
  add_term(sh->p, "inertia", 1.0, NULL, 0.0, &inertia);
  add_term(sh->p, "gravity", H * H, NULL, 0.0, NULL);
  lc_contact_opts co;
  lc_contact_opts_default(&co);
  co.dhat = 0.01;
  co.kappa = 1.0;
  co.mu = mu;
  co.friction_iters = iters;
  ck_assert_msg(lc_contact_create(sh->p, 0, &co, &sh->c, &err) == LC_OK, "%s", err.msg);
  const double o[3] = {0, 0, 0}, n[3] = {-sin(th), 0, cos(th)};
  ck_assert_msg(lc_contact_add_plane(sh->c, o, n, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_dynamics_create(sh->p, 0, inertia, H, &sh->d, &err), LC_OK);
  lc_dynamics_set_contact(sh->d, sh->c);
  ck_assert_int_eq(lc_solver_create(sh->p, &sh->s, &err), LC_OK);
  lc_solve_opts_default(&sh->so, LC_SOLVE_NEWTON);
  sh->so.max_iters = 100;
  sh->so.gtol = 1e-9;
}

/* Builds the sheet 5 mm above the plane, one friction lag per step. */
static void sheet_make(sheet *sh, double th, double mu) { sheet_make_at(sh, th, mu, 0.005, 1); }

/* Steps n times; every vertex stays on the plane's free side. */
static void sheet_steps(sheet *sh, int n, double th) {
  lc_error err;
  double x[NV * 3];
  for (int k = 0; k < n; ++k) {
    lc_solve_result r;
    ck_assert_msg(lc_dynamics_step(sh->d, sh->s, &sh->so, &r, &err) == LC_OK, "step %d: %s", k, err.msg);
    ck_assert_int_eq(lc_problem_get_variable(sh->p, 0, x, &err), LC_OK);
    for (int v = 0; v < NV; ++v)
      ck_assert_msg(-sin(th) * x[3 * v] + cos(th) * x[3 * v + 2] > 0.0, "step %d: vertex %d through the plane", k, v);
  }
}

/* The mean velocity of the sheet along (cos th, 0, sin th) (up the slope). */
static double sheet_speed(const sheet *sh, double th) {
  const double *v = lc_dynamics_velocity(sh->d);
  double s = 0.0;
  for (int i = 0; i < NV; ++i) s += v[3 * i] * cos(th) + v[3 * i + 2] * sin(th);
  return s / NV;
}

/* Elements of p's friction terms (friction_pair, friction_point). */
static int64_t friction_elements(const lc_problem *p) {
  int64_t n = 0;
  for (int t = 0; t < 64; ++t) {
    int energy = -1, var = -1;
    int32_t ne = 0;
    if (lc_problem_term_info(p, t, &energy, &var, &ne, NULL, NULL) != LC_OK) continue;
    if (strncmp(lc_energy_get(energy)->name, "friction_", 9) == 0) n += ne;
  }
  return n;
}

/* Frees the sheet. */
static void sheet_free(sheet *sh) {
  lc_solver_destroy(sh->s);
  lc_dynamics_destroy(sh->d);
  lc_contact_destroy(sh->c);
  lc_problem_destroy(sh->p);
  lc_mesh_destroy(sh->m);
}

/* A sheet settled on a level plane slides off at 1 m/s: it slows down by
 * mu g per second (implicit Euler: mu g h per step) and stops; without
 * friction it keeps its speed.  Every step lags friction and clears it. */
START_TEST(slide_decelerates_at_mu_g) {
  const double mus[2] = {0.5, 0.0};
  for (int t = 0; t < 2; ++t) {
    sheet sh;
    lc_error err;
    sheet_make(&sh, 0.0, mus[t]);
    sheet_steps(&sh, 30, 0.0); /* settle: the normal force becomes m g */
    ck_assert_int_eq(friction_elements(sh.p), 0); /* friction lived for the steps only */
    double v[NV * 3] = {0};
    for (int i = 0; i < NV; ++i) v[3 * i] = 1.0;
    ck_assert_int_eq(lc_dynamics_set_velocity(sh.d, v, &err), LC_OK);
    sheet_steps(&sh, 10, 0.0);
    const double want = 1.0 - 10 * mus[t] * G * H, got = sheet_speed(&sh, 0.0);
    printf("mu %.1f: speed after 10 steps %.5f (Coulomb: %.5f)\n", mus[t], got, want);
    ck_assert_msg(fabs(got - want) < 0.02 * want, "mu %g: speed %g, want %g", mus[t], got, want);
    lc_contact_stats st;
    ck_assert_int_eq(lc_contact_stats_get(sh.c, &st, &err), LC_OK);
    ck_assert_int_eq(st.friction_planes, mus[t] > 0.0 ? NV : 0);
    ck_assert_int_eq(st.friction_pairs, 0);
    if (mus[t] > 0.0) {
      sheet_steps(&sh, 20, 0.0);
      ck_assert_msg(fabs(sheet_speed(&sh, 0.0)) < 2e-3, "still sliding at %g", sheet_speed(&sh, 0.0));
    }
    sheet_free(&sh);
  }
}
END_TEST

/* On a slope of tan(th) = 0.3 a sheet with mu = 0.5 sticks (creeps below
 * eps_v); with mu = 0.1 it slides down with acceleration g (sin - mu cos). */
START_TEST(incline_sticks_or_slides) {
  const double th = atan(0.3), mus[2] = {0.5, 0.1};
  for (int t = 0; t < 2; ++t) {
    sheet sh;
    sheet_make(&sh, th, mus[t]);
    sheet_steps(&sh, 30, th);
    const double v30 = sheet_speed(&sh, th);
    sheet_steps(&sh, 30, th);
    const double v60 = sheet_speed(&sh, th), a = (v60 - v30) / (30 * H);
    const double want = mus[t] > 0.3 ? 0.0 : -G * (sin(th) - mus[t] * cos(th));
    printf("incline mu %.1f: speed %.3g at step 60, acceleration %.5f (Coulomb: %.5f)\n", mus[t], v60, a, want);
    if (want == 0.0) {
      ck_assert_msg(fabs(v60) < 1e-3, "mu %g: creeps at %g m/s", mus[t], v60);
    } else {
      ck_assert_msg(fabs(a - want) < 0.02 * fabs(want), "mu %g: acceleration %g, want %g", mus[t], a, want);
    }
    sheet_free(&sh);
  }
}
END_TEST

/* A sheet lands within one step while sliding at 1 m/s: lagged once at
 * x_n (still in the air) the landing step has no friction; lagged again at
 * the iterate (friction_iters = 3) the landing already slows it, and no
 * friction ever reverses the motion. */
START_TEST(friction_iterations_at_impact) {
  double speed[2];
  const int iters[2] = {1, 3};
  for (int t = 0; t < 2; ++t) {
    sheet sh;
    lc_error err;
    sheet_make_at(&sh, 0.0, 0.5, 0.012, iters[t]);
    double v[NV * 3] = {0};
    for (int i = 0; i < NV; ++i) v[3 * i] = 1.0, v[3 * i + 2] = -1.5;
    ck_assert_int_eq(lc_dynamics_set_velocity(sh.d, v, &err), LC_OK);
    sheet_steps(&sh, 1, 0.0);
    lc_contact_stats st;
    ck_assert_int_eq(lc_contact_stats_get(sh.c, &st, &err), LC_OK);
    ck_assert_int_gt(st.active_plane, 0); /* landed */
    speed[t] = sheet_speed(&sh, 0.0);
    sheet_free(&sh);
  }
  printf("landing step at 1 m/s: speed %.5f with one lag, %.5f with three\n", speed[0], speed[1]);
  ck_assert_msg(fabs(speed[0] - 1.0) < 1e-6, "one lag at x_n (in the air): no friction, speed %g", speed[0]);
  ck_assert_msg(speed[1] < 0.99 && speed[1] > 0.0, "three lags: speed %g", speed[1]);
}
END_TEST

/* Bad friction settings are refused with a reason; lagging needs h > 0. */
START_TEST(friction_bad_input) {
  sheet sh;
  lc_error err;
  sheet_make(&sh, 0.0, 0.5);
  lc_contact_opts co;
  lc_contact_opts_default(&co);
  lc_contact *c = NULL;
  co.mu = -0.1;
  ck_assert_int_eq(lc_contact_create(sh.p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "mu") != NULL, "%s", err.msg);
  co.mu = 0.1;
  co.friction_iters = -1;
  ck_assert_int_eq(lc_contact_create(sh.p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "friction_iters") != NULL, "%s", err.msg);
  co.friction_iters = 0;
  co.eps_v = 0.0;
  ck_assert_int_eq(lc_contact_create(sh.p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "eps_v") != NULL, "%s", err.msg);
  ck_assert_ptr_null(c);
  const int n_terms = lc_problem_n_terms(sh.p);
  ck_assert_int_eq(lc_contact_friction_lag(sh.c, 0.0, &err), LC_EINVAL);
  ck_assert_int_eq(lc_problem_n_terms(sh.p), n_terms);
  ck_assert_int_eq(friction_elements(sh.p), 0);
  ck_assert_int_eq(lc_contact_friction_lag(sh.c, H, &err), LC_OK);
  ck_assert_int_eq(lc_problem_n_terms(sh.p), n_terms + 1); /* the plane contacts' term */
  ck_assert_int_eq(friction_elements(sh.p), NV);
  lc_contact_friction_clear(sh.c); /* emptied, kept for the next lag */
  ck_assert_int_eq(lc_problem_n_terms(sh.p), n_terms + 1);
  ck_assert_int_eq(friction_elements(sh.p), 0);
  ck_assert_int_eq(lc_contact_friction_lag(sh.c, 2 * H, &err), LC_OK); /* another eps: a new term */
  ck_assert_int_eq(lc_problem_n_terms(sh.p), n_terms + 1);
  ck_assert_int_eq(friction_elements(sh.p), NV);
  sheet_free(&sh);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("friction");
  TCase *tc = tcase_create("friction");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, closest_weights_match_distance);
  tcase_add_test(tc, friction_f0_values);
  tcase_add_test(tc, slide_decelerates_at_mu_g);
  tcase_add_test(tc, incline_sticks_or_slides);
  tcase_add_test(tc, friction_iterations_at_impact);
  tcase_add_test(tc, friction_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
