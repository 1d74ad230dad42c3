/* test_embedded.c - Check suite of embedded deformation (12 variables per
 * vertex; shared/reference-values.md section 3): the residuals of ed_fit,
 * ed_rot and ed_reg against this file's own formulas on random nodes,
 * refusals (a 13-component variable, the energies on a 3-component one),
 * and the embedded app on spot: four handle regions moved by one rigid
 * motion are met within 1e-6 with A^T A within 1e-3 of I, by Gauss-Newton
 * with the direct solve, with PCG and with the matrices condensed out; a
 * non-rigid pull decreases the energy at every iteration, by more than 10x
 * in 20, through the same iterates with and without condensation. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"
#include "mesh/mesh.h"
#include "problem.h"
#include "testutil.h"

/* Two triangles (0,1,2), (0,2,3) of a bent quad. */
static const double Q_V[12] = {0, 0, 0, 1, 0, 0.2, 1, 1, 0, 0, 1, -0.3};
static const int32_t Q_F[6] = {0, 1, 2, 0, 2, 3};

/* Column dot product c_a . c_b of the row-major A. */
static double coldot(const double *A, int a, int b) {
  return A[a] * A[b] + A[3 + a] * A[3 + b] + A[6 + a] * A[6 + b];
}

START_TEST(residuals_match_formulas) {
  lc_mesh *m = NULL;
  lc_problem *p = NULL;
  lc_error err;
  ck_assert_int_eq(lc_mesh_create(Q_V, 4, Q_F, 2, &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  double x[48];
  unsigned long long seed = 31;
  for (int i = 0; i < 48; ++i) x[i] = lc_test_rand(&seed, -1.0, 1.0);
  ck_assert_int_eq(lc_problem_add_variable(p, "node", LC_LOC_VERTEX, 12, x, NULL, &err), LC_OK);
  const int32_t fit_v[2] = {3, 1};
  const double fit_k[12] = {0, 1, -0.3, 0.5, 0.5, 0.5, 1, 0, 0.2, -1, 2, 0}; /* [p, q] each */
  const char *wn[1] = {"w"};
  const double w7[1] = {7.0};
  lc_term_desc d[3] = {{.energy = "ed_fit", .var = 0, .elems = fit_v, .n_elems = 2, .consts = fit_k},
                       {.energy = "ed_rot", .var = 0, .n_params = 1, .param_names = wn, .param_values = w7},
                       {.energy = "ed_reg", .var = 0}};
  for (int i = 0; i < 3; ++i) ck_assert_msg(lc_problem_add_term(p, &d[i], NULL, &err) == LC_OK, "%s", err.msg);
  lc_csr J;
  ck_assert_int_eq(lc_problem_jacobian(p, NULL, NULL, &J, &err), LC_OK);
  const int32_t ne = lc_mesh_ne(m), *E = lc_mesh_edges(m);
  ck_assert_int_eq(J.nrows, 2 * 3 + 4 * 6 + ne * 6);
  double *r = malloc(sizeof *r * (size_t)J.nrows), want[6];
  ck_assert_int_eq(lc_problem_jacobian(p, NULL, r, &J, &err), LC_OK);
  int row = 0;
  for (int i = 0; i < 2; ++i, row += 3) /* fit: sqrt(3) (p + t - q) */
    for (int c = 0; c < 3; ++c) {
      const double w = sqrt(3.0) * (fit_k[6 * i + c] + x[12 * fit_v[i] + c] - fit_k[6 * i + 3 + c]);
      ck_assert_msg(fabs(r[row + c] - w) < 1e-14, "fit %d.%d: %.17g vs %.17g", i, c, r[row + c], w);
    }
  for (int v = 0; v < 4; ++v, row += 6) { /* rot: sqrt(7) (A^T A - I), off-diagonal then diagonal */
    const double *A = x + 12 * v + 3;
    const double g[6] = {coldot(A, 0, 1), coldot(A, 0, 2), coldot(A, 1, 2), coldot(A, 0, 0) - 1,
                         coldot(A, 1, 1) - 1, coldot(A, 2, 2) - 1};
    for (int c = 0; c < 6; ++c) ck_assert(fabs(r[row + c] - sqrt(7.0) * g[c]) < 1e-13);
  }
  for (int e = 0; e < ne; ++e, row += 6) { /* reg: both directions of each edge */
    for (int dir = 0; dir < 2; ++dir) {
      const int32_t i = E[2 * e + dir], j = E[2 * e + 1 - dir];
      const double *Ai = x + 12 * i + 3, *ti = x + 12 * i, *tj = x + 12 * j;
      const double *pi = Q_V + 3 * i, *pj = Q_V + 3 * j;
      for (int c = 0; c < 3; ++c) {
        double a = 0.0;
        for (int k = 0; k < 3; ++k) a += Ai[3 * c + k] * (pj[k] - pi[k]);
        want[3 * dir + c] = sqrt(12.0) * (a + pi[c] + ti[c] - (pj[c] + tj[c]));
      }
    }
    for (int c = 0; c < 6; ++c)
      ck_assert_msg(fabs(r[row + c] - want[c]) < 1e-13, "reg edge %d.%d: %.17g vs %.17g", e, c, r[row + c], want[c]);
  }
  free(r);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(refusals) {
  lc_mesh *m = NULL;
  lc_problem *p = NULL;
  lc_error err;
  ck_assert_int_eq(lc_mesh_create(Q_V, 4, Q_F, 2, &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(p, "big", LC_LOC_VERTEX, 13, NULL, NULL, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "1..12") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_add_variable(p, "pos", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  lc_term_desc d = {.energy = "ed_reg", .var = 0};
  ck_assert_int_ne(lc_problem_add_term(p, &d, NULL, &err), LC_OK);
  ck_assert_msg(strstr(err.msg, "ed_reg") != NULL, "%s", err.msg);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Report callback: the energies, in order, into the int-prefixed buffer. */
static int collect(void *user, const lc_app_event *ev) {
  double *e = user;
  if (ev->iter < 64) e[ev->iter] = ev->energy;
  return 0;
}

/* Runs the app on spot with the given linear solver and motion. */
static void run_spot(lc_lin_kind lin, int condense, int rigid, int iters, lc_app_result *r, double *energies) {
  lc_app_opts o;
  lc_error err;
  lc_app_opts_default(&o);
  o.mesh_dir = lc_test_mesh_dir();
  o.mesh = "spot";
  o.device = "cpu";
  o.linear = lin;
  o.no_condense = !condense;
  o.arap_rigid = rigid;
  o.max_iters = iters;
  o.report = collect;
  o.user = energies;
  ck_assert_msg(lc_app_embedded(&o, r, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(r->nv, 2930);
  ck_assert_int_gt(r->n_handles, 50);
  printf("embedded spot (%s%s, %s): %d iterations, %.2f s, E %.3e -> %.3e, handles %.2e, |A^T A - I| %.2e\n",
         lin == LC_LIN_PCG ? "pcg" : "cholmod", condense ? " condensed" : "", rigid ? "rigid" : "pull", r->phase[0].iters, r->phase[0].t,
         r->phase[0].energy0, r->phase[0].energy, r->handle_err, r->orth_err);
}

START_TEST(rigid_handles_met) {
  const lc_lin_kind lin[3] = {LC_LIN_CHOLMOD, LC_LIN_PCG, LC_LIN_CHOLMOD};
  for (int k = 0; k < 3; ++k) {
    lc_app_result r;
    double e[64];
    run_spot(lin[k], k == 2, 1, 30, &r, e);
    ck_assert(r.converged && r.phase[0].finite && r.phase[0].monotone);
    ck_assert_double_le(r.handle_err, 1e-6);
    ck_assert_double_le(r.orth_err, 1e-3);
  }
}
END_TEST

START_TEST(pull_converges_monotonically) {
  lc_app_result r, rc;
  double e[64], ec[64];
  run_spot(LC_LIN_CHOLMOD, 0, 0, 20, &r, e);
  run_spot(LC_LIN_CHOLMOD, 1, 0, 20, &rc, ec); /* the same steps, condensed */
  for (int k = 1; k <= 20; ++k)
    ck_assert_msg(fabs(ec[k] - e[k]) <= 1e-8 * e[k], "condensed: iteration %d: %.17g vs %.17g", k, ec[k], e[k]);
  ck_assert(r.phase[0].finite && r.phase[0].iters == 20);
  for (int k = 2; k <= r.phase[0].iters; ++k)
    ck_assert_msg(e[k] <= e[k - 1], "energy rose at iteration %d: %.17g -> %.17g", k, e[k - 1], e[k]);
  /* a real deformation: the soft handles pull against the rest, and
   * Gauss-Newton on this large residual converges linearly (measured: E 36.2
   * -> 2.40 in 20 iterations, 2.31 in 60) */
  ck_assert_double_lt(r.phase[0].energy, 0.1 * r.phase[0].energy0);
  ck_assert_double_gt(r.phase[0].energy, 1.0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("embedded");
  TCase *tc = tcase_create("terms");
  tcase_add_test(tc, residuals_match_formulas);
  tcase_add_test(tc, refusals);
  suite_add_tcase(s, tc);
  TCase *app = tcase_create("app");
  tcase_set_timeout(app, 600);
  tcase_add_test(app, rigid_handles_met);
  tcase_add_test(app, pull_converges_monotonically);
  suite_add_tcase(s, app);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
