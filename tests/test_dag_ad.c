/* test_dag_ad.c - Check suite of engine/custom/dag_ad.h: the custom-energy
 * interpreter over the AD types.  The spring written as a DAG matches the
 * built-in spring's kernels (value, gradient, H v, Hessian); random DAGs
 * match finite differences, their H v matches H times v, and their values
 * match the double reference lc_dag_eval. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "custom/dag.h"
#include "custom/dag_build.h"
#include "custom/dag_rev.h"
#include "energies/kernels.h"
#include "energies/registry.h"
#include "testutil.h"
#include "ad/lc_ad.h"

#define LC_AD_T lc_ad_p
#include "custom/dag_ad.h"
#undef LC_AD_T
#define LC_AD_T lc_ad_g6
#include "custom/dag_ad.h"
#undef LC_AD_T
#define LC_AD_T lc_ad_v6
#include "custom/dag_ad.h"
#undef LC_AD_T
#define LC_AD_T lc_ad_h6
#include "custom/dag_ad.h"
#undef LC_AD_T

#define N 6

static unsigned long long rng = 0xad5eedULL;
static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

/* Energy, gradient, H v and Hessian of g's (single) output at x, one AD mode each. */
typedef struct {
  double e, e_p, g[N], hv[N], gv[N], H[N * N];
} results;

static void run_all(const lc_dag *g, const double *x, const double *v, const double *k, const double *p, results *o) {
  int32_t n, nr;
  int n_out;
  const lc_dag_ins *ins = lc_dag_program_regs(g, &n, &nr);
  const int32_t out = lc_dag_output_regs(g, &n_out)[0];
  lc_ad_p *rp = malloc((size_t)nr * sizeof *rp);
  lc_ad_g6 *rg = malloc((size_t)nr * sizeof *rg), xg[N];
  lc_ad_v6 *rv = malloc((size_t)nr * sizeof *rv), xv[N];
  lc_ad_h6 *rh = malloc((size_t)nr * sizeof *rh), xh[N];
  for (int i = 0; i < N; ++i) {
    xg[i] = lc_ad_g6_var(x[i], i);
    xv[i] = lc_ad_v6_var_dir(x[i], i, v[i]);
    xh[i] = lc_ad_h6_var(x[i], i);
  }
  lc_ad_p_dag_run(ins, n, rp, x, k, p);
  lc_ad_g6_dag_run(ins, n, rg, xg, k, p);
  lc_ad_v6_dag_run(ins, n, rv, xv, k, p);
  lc_ad_h6_dag_run(ins, n, rh, xh, k, p);
  o->e_p = rp[out];
  o->e = rh[out].v;
  ck_assert_double_eq(rg[out].v, o->e);
  for (int i = 0, t = 0; i < N; ++i) {
    o->g[i] = rh[out].g[i];
    o->gv[i] = rv[out].g[i];
    o->hv[i] = rv[out].dg[i];
    ck_assert_double_eq(rg[out].g[i], o->g[i]);
    for (int j = 0; j <= i; ++j, ++t) o->H[i * N + j] = o->H[j * N + i] = rh[out].h[t];
  }
  lc_dag_ctx c = {{0}, ins, n, nr, 0, {out}}; /* the reverse sweep (custom/dag_rev.h) */
  for (int i = 0; p && i < 1; ++i) c.params[i] = p[i];
  double e_rev, g_rev[N];
  ck_assert_int_eq(lc_dag_rev_grad(&c, x, k, N, g_rev, &e_rev), 1);
  ck_assert_double_eq(e_rev, o->e);
  for (int i = 0; i < N; ++i)
    ck_assert_msg(fabs(g_rev[i] - o->g[i]) <= 1e-13 * (1.0 + fabs(o->g[i])) ||
                  (isnan(g_rev[i]) && isnan(o->g[i])), "reverse gradient[%d]: %.17g vs %.17g",
                  i, g_rev[i], o->g[i]);
  free(rp), free(rg), free(rv), free(rh);
}

/* |a - b| <= tol (1 + |b|) over n entries. */
static void near(const double *a, const double *b, int n, double tol, const char *what) {
  for (int i = 0; i < n; ++i)
    ck_assert_msg(fabs(a[i] - b[i]) <= tol * (1.0 + fabs(b[i])), "%s[%d]: %.17g vs %.17g", what, i, a[i], b[i]);
}

/* ---- the node builder (custom/dag_build.h) ------------------------------------- */

static lc_dag_node bn[1024];
static lc_dag_builder G = {bn, 0, 1024};
#define B(op, a, b) lc_dagb_bin(&G, op, a, b)
#define U(op, a) lc_dagb_un(&G, op, a)
#define C(v) lc_dagb_lit(&G, v)

/* The description of the builder's nodes with output out. */
static lc_dag *made(const int32_t *out, int n_const, int n_param) {
  const lc_dag_desc desc = lc_dagb_desc(&G, 2, 3, n_const, n_param, 1, out);
  lc_dag *g = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_dag_create(&desc, &g, &err) == LC_OK, "%s", err.msg);
  return g;
}

/* The spring as a DAG against the built-in spring_3 kernels. */
START_TEST(test_spring_matches_builtin) {
  G.n = 0;
  const int32_t x1 = lc_dagb_x(&G, 1, -1), x0 = lc_dagb_x(&G, 0, -1);
  const int32_t e = B(LC_DAG_SUB, U(LC_DAG_NORM, B(LC_DAG_SUB, x1, x0)), lc_dagb_k(&G, 0));
  const int32_t e2 = lc_dagb_powc(&G, e, 2.0);
  const int32_t E = B(LC_DAG_MUL, e2, B(LC_DAG_MUL, C(0.5), lc_dagb_p(&G, 0)));
  lc_dag *g = made(&E, 1, 1);
  const lc_elem_kernel *kern = lc_cpu_kernel(LC_E_spring_3);
  for (int trial = 0; trial < 20; ++trial) {
    double x[N], v[N], k[1] = {urand(0.5, 1.5)}, p[1] = {urand(1.0, 10.0)}, ref_g[N], ref_gv[N], ref_hv[N], ref_H[N * N];
    for (int i = 0; i < N; ++i) x[i] = urand(-1, 1), v[i] = urand(-1, 1);
    results r;
    run_all(g, x, v, k, p, &r);
    const double ref = kern->value(x, k, p);
    kern->hess(x, k, p, ref_g, ref_H);
    kern->hvp(x, v, k, p, ref_gv, ref_hv);
    near(&r.e, &ref, 1, 1e-13, "energy");
    near(&r.e_p, &ref, 1, 1e-13, "passive energy");
    near(r.g, ref_g, N, 1e-13, "gradient");
    near(r.gv, ref_gv, N, 1e-13, "HVP-mode gradient");
    near(r.hv, ref_hv, N, 1e-13, "H v");
    near(r.H, ref_H, N * N, 1e-13, "Hessian");
  }
  lc_dag_destroy(g);
}
END_TEST

/* A random scalar DAG over the six local variables of an edge of 3-vectors
 * (K 2, D 3) in the builder, every operation kept inside its smooth domain;
 * returns the output node. */
static int32_t random_dag(void) {
  G.n = 0;
  for (int i = 0; i < N; ++i) lc_dagb_x(&G, i / 3, i % 3);
  lc_dagb_p(&G, 0);
  lc_dagb_k(&G, 0);
  const int leaves = G.n;
  for (int step = 0; step < 24; ++step) {
    const int32_t a = (int32_t)(urand(0.0, 1.0) * G.n) % G.n, b = (int32_t)(urand(0.0, 1.0) * G.n) % G.n;
    switch ((int)urand(0.0, 12.0)) {
    case 0: B(LC_DAG_ADD, a, b); break;
    case 1: B(LC_DAG_SUB, a, b); break;
    case 2: B(LC_DAG_MUL, a, b); break;
    case 3: B(LC_DAG_DIV, a, B(LC_DAG_ADD, C(2.0), U(LC_DAG_SIN, b))); break; /* a / (2 + sin b) */
    case 4: U(LC_DAG_SIN, a); break;
    case 5: U(LC_DAG_COS, B(LC_DAG_MUL, C(0.7), a)); break;
    case 6: U(LC_DAG_EXP, U(LC_DAG_SIN, a)); break;                            /* a bounded argument */
    case 7: U(LC_DAG_SQRT, B(LC_DAG_ADD, C(1.0), B(LC_DAG_MUL, a, a))); break; /* sqrt(1 + a^2) */
    case 8: U(LC_DAG_LOG, B(LC_DAG_ADD, C(2.5), U(LC_DAG_COS, a))); break;    /* log(2.5 + cos a) */
    case 9: B(LC_DAG_ATAN2, U(LC_DAG_SIN, a), B(LC_DAG_ADD, C(2.0), U(LC_DAG_COS, b))); break;
    case 10: lc_dagb_powc(&G, B(LC_DAG_ADD, C(1.5), U(LC_DAG_SIN, a)), 1.7); break;
    default: B(LC_DAG_POW, B(LC_DAG_ADD, C(1.5), U(LC_DAG_COS, a)), U(LC_DAG_SIN, b)); break;
    }
  }
  const int32_t last = G.n - 1;
  int32_t acc = last;
  for (int back = 1; back < 5 && last - back >= leaves; ++back) acc = B(LC_DAG_ADD, acc, last - back);
  return acc;
}

/* Random DAGs: values as lc_dag_eval; gradient against central differences
 * of the value, Hessian against central differences of the gradient, and
 * H v (HVP mode) against the Hessian times v. */
START_TEST(test_random_fd) {
  for (int trial = 0; trial < 40; ++trial) {
    const int32_t out = random_dag();
    lc_dag *g = made(&out, 1, 1);
    double x[N], v[N], k[1] = {urand(-1, 1)}, p[1] = {urand(-1, 1)}, ref;
    for (int i = 0; i < N; ++i) x[i] = urand(-1, 1), v[i] = urand(-1, 1);
    results r, rp, rm;
    run_all(g, x, v, k, p, &r);
    ck_assert_int_eq(lc_dag_eval(g, x, k, p, &ref, NULL), LC_OK);
    ck_assert_double_eq(r.e, ref);
    ck_assert_double_eq(r.e_p, ref);
    const double h = 1e-6;
    for (int j = 0; j < N; ++j) {
      double xp[N], xm[N], ep, em, fd_H[N];
      memcpy(xp, x, sizeof xp), memcpy(xm, x, sizeof xm);
      xp[j] += h, xm[j] -= h;
      lc_dag_eval(g, xp, k, p, &ep, NULL);
      lc_dag_eval(g, xm, k, p, &em, NULL);
      const double fd = (ep - em) / (2 * h);
      near(&r.g[j], &fd, 1, 1e-6, "gradient vs differences");
      run_all(g, xp, v, k, p, &rp);
      run_all(g, xm, v, k, p, &rm);
      for (int i = 0; i < N; ++i) fd_H[i] = (rp.g[i] - rm.g[i]) / (2 * h);
      double col[N];
      for (int i = 0; i < N; ++i) col[i] = r.H[i * N + j];
      near(col, fd_H, N, 1e-5, "Hessian vs differences of the gradient");
    }
    double Hv[N];
    for (int i = 0; i < N; ++i) {
      Hv[i] = 0.0;
      for (int j = 0; j < N; ++j) Hv[i] += r.H[i * N + j] * v[j];
    }
    near(r.hv, Hv, N, 1e-12, "H v vs H times v");
    near(r.gv, r.g, N, 1e-15, "HVP-mode gradient");
    lc_dag_destroy(g);
  }
}
END_TEST

/* select, min, max, abs and comparisons carry the branch taken. */
START_TEST(test_branches) {
  G.n = 0;
  const int32_t a = lc_dagb_x(&G, 0, 0), b = lc_dagb_x(&G, 0, 1);
  const int32_t lt = B(LC_DAG_LT, a, b), sq = B(LC_DAG_MUL, a, a);
  const int32_t sel = lc_dagb_n(&G, LC_DAG_SELECT, 3, (const int32_t[]){lt, sq, b}, -1, -1);
  const int32_t out = B(LC_DAG_ADD, B(LC_DAG_ADD, sel, B(LC_DAG_MIN, a, b)), U(LC_DAG_ABS, a));
  lc_dag *g = made(&out, 0, 0);
  const double v[N] = {0};
  results r;
  const double x1[N] = {-0.5, 0.25, 0, 0, 0, 0}; /* a < b: a^2 + a + |a| */
  run_all(g, x1, v, NULL, NULL, &r);
  ck_assert_double_eq(r.e, 0.25 - 0.5 + 0.5);
  ck_assert_double_eq(r.g[0], 2 * -0.5 + 1.0 - 1.0);
  ck_assert_double_eq(r.g[1], 0.0);
  ck_assert_double_eq(r.H[0], 2.0);
  const double x2[N] = {0.75, 0.25, 0, 0, 0, 0}; /* a >= b: b + b + |a| */
  run_all(g, x2, v, NULL, NULL, &r);
  ck_assert_double_eq(r.e, 0.25 + 0.25 + 0.75);
  ck_assert_double_eq(r.g[0], 1.0);
  ck_assert_double_eq(r.g[1], 2.0);
  ck_assert_double_eq(r.H[0], 0.0);
  lc_dag_destroy(g);
}
END_TEST

/* The branch select does not take adds nothing to the gradient, even where
 * its derivatives are infinite (sqrt at 0); min on a tie and pow of a
 * negative base with a literal exponent, both modes alike (run_all checks
 * the reverse sweep against the forward one). */
START_TEST(test_branches_singular) {
  G.n = 0;
  const int32_t a = lc_dagb_x(&G, 0, 0), b = lc_dagb_x(&G, 0, 1);
  const int32_t pos = B(LC_DAG_GT, a, C(0.0)), root = U(LC_DAG_SQRT, a);
  const int32_t sel = lc_dagb_n(&G, LC_DAG_SELECT, 3, (const int32_t[]){pos, root, b}, -1, -1);
  const int32_t out = B(LC_DAG_ADD, B(LC_DAG_ADD, sel, B(LC_DAG_MIN, b, a)), B(LC_DAG_POW, b, C(3.0)));
  lc_dag *g = made(&out, 0, 0);
  const double v[N] = {0}, x[N] = {0.0, 0.0, 0, 0, 0, 0}, y[N] = {-0.5, -0.5, 0, 0, 0, 0};
  results r;
  run_all(g, x, v, NULL, NULL, &r); /* a = 0: select takes b; min ties on b; b^3 */
  ck_assert_double_eq(r.g[0], 0.0);
  ck_assert_double_eq(r.g[1], 2.0);
  run_all(g, y, v, NULL, NULL, &r); /* b + b + b^3 at b = -0.5 */
  ck_assert_double_eq(r.g[0], 0.0);
  ck_assert_double_eq(r.g[1], 2.0 + 3.0 * 0.25);
  lc_dag_destroy(g);
}
END_TEST

static Suite *dag_ad_suite(void) {
  Suite *s = suite_create("dag_ad");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_spring_matches_builtin);
  tcase_add_test(tc, test_random_fd);
  tcase_add_test(tc, test_branches);
  tcase_add_test(tc, test_branches_singular);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(dag_ad_suite()); }
