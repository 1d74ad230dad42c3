/* test_contact.c - Check suite of the contact pairs: the check values of
 * shared/reference-values.md section 1 (barrier, distance types, mollifier,
 * CCD, resting distances through a Newton solve), finite-difference checks
 * of every distance type next to the boundaries between regions, additive
 * CCD against exact times of impact, the broad phase against brute force,
 * and bad contact input. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "contact/broad.h"
#include "contact/contact.h"
#include "energies/contact_geom.h"
#include "energies/kernels.h"
#include "mesh/mesh.h"
#include "problem.h"
#include "solvers/dynamics.h"
#include "solvers/solver.h"
#include "testutil.h"

#define RTOL 1e-8

/* |a - b| <= RTOL |b| (check values are given to 10 digits). */
static void near(const char *what, double a, double b, double rtol) {
  ck_assert_msg(fabs(a - b) <= rtol * fabs(b), "%s: %.12g, expected %.12g", what, a, b);
}

/* The kernels of contact_pt (ee = 0) or contact_ee (ee = 1). */
static const lc_elem_kernel *kern(int ee) {
  const int id = lc_energy_find(ee ? "contact_ee" : "contact_pt", 3);
  ck_assert_int_ge(id, 0);
  return lc_cpu_kernel(id);
}

/* The triangle T of the check values after point p: x = (p, T). */
static void pt_pair(double px, double py, double pz, double *x) {
  const double T[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  x[0] = px, x[1] = py, x[2] = pz;
  memcpy(x + 3, T, sizeof T);
}

/* ---- check values ---------------------------------------------------------- */

START_TEST(barrier_values) {
  double b1, b2;
  near("b", lc_ct_barrier(0.05, 0.1, &b1, &b2), 1.732867951e-3, RTOL);
  near("b'", b1, -0.1193147181, RTOL);
  near("b''", b2, 6.386294361, RTOL);
  near("b(d^2)", lc_ct_barrier(0.05 * 0.05, 0.01, &b1, NULL), 7.797905781e-5, RTOL);
  near("d/dd b(d^2)", b1 * 2.0 * 0.05, -4.329441542e-3, RTOL);
  /* C2 at the activation distance, +inf at contact */
  ck_assert_double_eq(lc_ct_barrier(0.1, 0.1, &b1, &b2), 0.0);
  ck_assert(b1 == 0.0 && b2 == 0.0);
  const double e = 1e-7;
  lc_ct_barrier(0.1 - e, 0.1, &b1, &b2);
  ck_assert(fabs(b1) < 1e-12 && fabs(b2) < 1e-4);
  ck_assert(isinf(lc_ct_barrier(0.0, 0.1, NULL, NULL)));
  ck_assert(isinf(lc_ct_barrier(-1e-3, 0.1, NULL, NULL)));
}
END_TEST

START_TEST(point_triangle_values) {
  const double k[1] = {1.0}, p[2] = {0.1, 0.0};
  double x[12], g[12];
  /* interior: point-plane, gradient on z only */
  pt_pair(0.25, 0.25, 0.05, x);
  lc_ct_dist t = lc_ct_classify_pt(x);
  ck_assert_int_eq(t.type, LC_CT_PT);
  near("d interior", sqrt(lc_ct_d2(t, x)), 0.05, RTOL);
  const double e = kern(0)->grad(x, k, p, g);
  near("E interior", e, 7.797905781e-5, RTOL);
  near("p_z", g[2], -4.32944e-3, 1e-5);
  near("t0_z", g[5], 2.16472e-3, 1e-5);
  near("t1_z", g[8], 1.08236e-3, 1e-5);
  near("t2_z", g[11], 1.08236e-3, 1e-5);
  for (int a = 0; a < 4; ++a) ck_assert(fabs(g[3 * a]) < 1e-15 && fabs(g[3 * a + 1]) < 1e-15);
  /* edge region t0 t1: point-line */
  pt_pair(0.5, -0.03, 0.04, x);
  t = lc_ct_classify_pt(x);
  ck_assert(t.type == LC_CT_PE && t.i == 0 && t.j == 1 && t.k == 2);
  near("d edge", sqrt(lc_ct_d2(t, x)), 0.05, RTOL);
  near("E edge", kern(0)->value(x, k, p), 7.797905781e-5, RTOL);
  /* vertex region t0: point-point */
  pt_pair(-0.03, -0.04, 0.0, x);
  t = lc_ct_classify_pt(x);
  ck_assert(t.type == LC_CT_PP && t.i == 0 && t.j == 1);
  near("d vertex", sqrt(lc_ct_d2(t, x)), 0.05, RTOL);
  /* inactive at d = dhat */
  pt_pair(0.25, 0.25, 0.1, x);
  ck_assert_double_eq(kern(0)->grad(x, k, p, g), 0.0);
  for (int i = 0; i < 12; ++i) ck_assert_double_eq(g[i], 0.0);
}
END_TEST

START_TEST(edge_edge_values) {
  const double p[2] = {0.1, 0.0};
  double x[12] = {-1, 0, 0, 1, 0, 0, 0, -1, 0.05, 0, 1, 0.05}, k[2] = {1.0, 0.0};
  double u[3], v[3], n[3];
  lc_ct_dist t = lc_ct_classify_ee(x);
  ck_assert_int_eq(t.type, LC_CT_EE);
  near("d crossing", sqrt(lc_ct_d2(t, x)), 0.05, RTOL);
  lc_ct_sub(x + 3, x, u);
  lc_ct_sub(x + 9, x + 6, v);
  lc_ct_cross(u, v, n);
  near("c crossing", lc_ct_dot(n, n), 16.0, RTOL);
  k[1] = lc_ct_moll_eps(u, v);
  near("eps crossing", k[1], 0.016, RTOL);
  near("m crossing", lc_ct_mollifier(16.0, k[1]), 1.0, RTOL);
  near("E crossing", kern(1)->value(x, k, p), 7.797905781e-5, RTOL);
  /* nearly parallel: mollified line-line */
  const double eb[6] = {-0.5, -0.01, 0.05, 1.5, 0.03, 0.05};
  memcpy(x + 6, eb, sizeof eb);
  t = lc_ct_classify_ee(x);
  ck_assert_int_eq(t.type, LC_CT_EE);
  near("d parallel", sqrt(lc_ct_d2(t, x)), 0.05, RTOL);
  lc_ct_sub(x + 9, x + 6, v);
  lc_ct_cross(u, v, n);
  near("c parallel", lc_ct_dot(n, n), 0.0064, RTOL);
  k[1] = lc_ct_moll_eps(u, v);
  near("eps parallel", k[1], 0.0160064, RTOL);
  near("m parallel", lc_ct_mollifier(0.0064, k[1]), 0.639808051, RTOL);
  near("m b parallel", kern(1)->value(x, k, p), 4.989162901e-5, RTOL);
}
END_TEST

START_TEST(ccd_values) {
  double x[12], d[12] = {0};
  pt_pair(0.25, 0.25, 0.1, x);
  d[2] = -0.2;
  near("ACCD", lc_ct_accd(0, x, d, 0.0, 1.0), 0.45, 1e-12);
  /* the bound the line search sees, through the registry */
  const lc_energy_info *in = lc_energy_get(lc_energy_find("contact_pt", 3));
  const double k[1] = {1.0}, p[2] = {0.1, 0.0};
  const double a = in->max_step(x, d, k, p);
  ck_assert(a > 0.0 && a <= 0.5);
  /* moving apart: the whole searched range is safe, never +inf */
  d[2] = 0.2;
  ck_assert_double_eq(in->max_step(x, d, k, p), LC_CT_ACCD_TMAX);
  /* starting inside the thickness: no step at all */
  ck_assert_double_eq(lc_ct_accd(0, x, d, 0.2, 1.0), 0.0);
}
END_TEST

/* ---- finite differences next to region boundaries -------------------------- */

/* Central-difference gradient and Hessian of pair (ee) at x against the
 * kernels; tolerances relative to the largest entry. */
static void fd_check(int ee, const double *x0, const double *k, const double *p, const char *what) {
  const lc_elem_kernel *K = kern(ee);
  const double h = 1e-7;
  double g[12], H[144], x[12], gp[12], gm[12];
  const double e = K->hess(x0, k, p, g, H);
  ck_assert_msg(e > 0.0 && isfinite(e), "%s: pair not active (E = %g)", what, e);
  double gmax = 0.0, hmax = 0.0;
  for (int i = 0; i < 12; ++i) gmax = fmax(gmax, fabs(g[i]));
  for (int i = 0; i < 144; ++i) hmax = fmax(hmax, fabs(H[i]));
  for (int i = 0; i < 12; ++i) {
    memcpy(x, x0, sizeof x);
    x[i] = x0[i] + h;
    const double ep = K->grad(x, k, p, gp);
    x[i] = x0[i] - h;
    const double em = K->grad(x, k, p, gm);
    const double fd = (ep - em) / (2 * h);
    ck_assert_msg(fabs(fd - g[i]) <= 1e-6 * gmax, "%s: g[%d] %.10g fd %.10g", what, i, g[i], fd);
    for (int j = 0; j < 12; ++j) {
      const double fh = (gp[j] - gm[j]) / (2 * h);
      ck_assert_msg(fabs(fh - H[j * 12 + i]) <= 1e-5 * hmax, "%s: H[%d][%d] %.10g fd %.10g", what, j, i,
                    H[j * 12 + i], fh);
    }
  }
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < i; ++j) ck_assert(fabs(H[i * 12 + j] - H[j * 12 + i]) <= 1e-12 * hmax);
}

START_TEST(fd_point_triangle_regions) {
  const double k[1] = {1.3}, p[2] = {0.3, 0.01};
  const double off = 1e-4; /* distance to the boundary; the FD step is 1e-7 */
  /* (x, y) on each side of every boundary between the 7 regions, z = 0.12 */
  const double pts[][2] = {
      {-off, 0.3},         {off, 0.3},          /* t0 t2 edge | interior */
      {0.3, -off},         {0.3, off},          /* t0 t1 edge | interior */
      {0.5 + off, 0.5 + off}, {0.5 - off, 0.5 - off}, /* t1 t2 edge | interior */
      {-off, -0.2},        {off, -0.2},         /* t0 vertex | t0 t1 edge */
      {1.0 + off, -0.2},   {1.0 - off, -0.2},   /* t1 vertex | t0 t1 edge */
      {-0.2, 1.0 + off},   {-0.2, 1.0 - off},   /* t2 vertex | t0 t2 edge */
      {0.1, 0.1},                               /* deep interior */
  };
  int seen[3] = {0, 0, 0};
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; ++i) {
    double x[12];
    char what[64];
    pt_pair(pts[i][0], pts[i][1], 0.12, x);
    seen[lc_ct_classify_pt(x).type]++;
    snprintf(what, sizeof what, "point-triangle (%g, %g)", pts[i][0], pts[i][1]);
    fd_check(0, x, k, p, what);
  }
  ck_assert(seen[LC_CT_PP] > 0 && seen[LC_CT_PE] > 0 && seen[LC_CT_PT] > 0);
}
END_TEST

START_TEST(fd_edge_edge_regions) {
  const double p[2] = {0.3, 0.01};
  const double off = 1e-4;
  /* ea = (0,0,0)-(1,0,0); eb crosses above at parameter s along ea, its
   * own closest parameter t (ends at t = 0, 1) */
  const double s_vals[] = {-off, off, 0.5, 1.0 - off, 1.0 + off, -0.2, 1.2};
  const double t_ends[] = {-off, off, 0.5, 1.0 - off, 1.0 + off};
  int seen[4] = {0, 0, 0, 0};
  for (size_t a = 0; a < sizeof s_vals / sizeof s_vals[0]; ++a)
    for (size_t b = 0; b < sizeof t_ends / sizeof t_ends[0]; ++b) {
      const double s = s_vals[a], t = t_ends[b];
      /* eb along y from y = -t to y = 1 - t, above ea at x = s, height 0.1 */
      double x[12] = {0, 0, 0, 1, 0, 0, s, -t, 0.1, s, 1.0 - t, 0.1}, k[2] = {0.8, 0.0};
      double u[3], v[3];
      lc_ct_sub(x + 3, x, u);
      lc_ct_sub(x + 9, x + 6, v);
      k[1] = lc_ct_moll_eps(u, v);
      char what[64];
      const lc_ct_dist c = lc_ct_classify_ee(x);
      seen[c.type]++;
      if (sqrt(lc_ct_d2(c, x)) - p[1] >= sqrt(lc_ct_shat(p[0], p[1]))) continue; /* inactive */
      snprintf(what, sizeof what, "edge-edge s %g t %g", s, t);
      fd_check(1, x, k, p, what);
    }
  ck_assert(seen[LC_CT_PP] > 0 && seen[LC_CT_PE] > 0 && seen[LC_CT_EE] > 0);
  /* nearly parallel, mollified (c < eps), and exactly parallel */
  double x[12] = {0, 0, 0, 1, 0, 0, 0.2, 0.001, 0.1, 1.2, -0.001, 0.1}, k[2] = {1.0, 0.0};
  double u[3], v[3], n[3];
  lc_ct_sub(x + 3, x, u);
  lc_ct_sub(x + 9, x + 6, v);
  k[1] = lc_ct_moll_eps(u, v);
  lc_ct_cross(u, v, n);
  ck_assert(lc_ct_dot(n, n) < k[1]);
  fd_check(1, x, k, p, "edge-edge mollified");
  x[7] = x[10] = 0.0;
  ck_assert_int_ne(lc_ct_classify_ee(x).type, LC_CT_EE);
  ck_assert_double_eq(kern(1)->value(x, k, p), 0.0); /* m(0) = 0 */
}
END_TEST

/* ---- CCD against exact impacts ---------------------------------------------- */

/* Exact impact time of a point moving along -z through T at height z0:
 * z0 / speed; ACCD must stay below it, and not be useless: above 0.7 of
 * it (0.9 without sliding; the sliding motion makes it more cautious). */
START_TEST(ccd_conservative_random) {
  unsigned long long rng = 7;
  for (int it = 0; it < 2000; ++it) {
    double x[12], d[12];
    pt_pair(lc_test_rand(&rng, 0.05, 0.45), lc_test_rand(&rng, 0.05, 0.45), lc_test_rand(&rng, 0.01, 0.5), x);
    for (int i = 0; i < 12; ++i) d[i] = lc_test_rand(&rng, -0.05, 0.05);
    d[2] = -lc_test_rand(&rng, 0.2, 2.0);
    for (int a = 1; a < 4; ++a) d[3 * a + 2] = 0.0; /* the triangle slides in its plane */
    const double toi = x[2] / -d[2], t = lc_ct_accd(0, x, d, 0.0, 10.0);
    if (toi > 10.0) continue;
    /* the point stays over T while it falls: exact impact at toi */
    const double xs = x[0] + toi * (d[0] - d[3]), ys = x[1] + toi * (d[1] - d[4]);
    if (xs <= 0.0 || ys <= 0.0 || xs + ys >= 1.0) continue;
    ck_assert_msg(t < toi && t > 0.7 * toi, "ACCD %.10g, impact %.10g", t, toi);
  }
  /* edge-edge: eb falls onto ea, crossing at the middle */
  double x[12] = {-1, 0, 0, 1, 0, 0, 0, -1, 0.3, 0, 1, 0.3}, d[12] = {0};
  d[8] = d[11] = -1.0;
  const double t = lc_ct_accd(1, x, d, 0.0, 1.0);
  ck_assert(t < 0.3 && t > 0.25);
  ck_assert(lc_ct_accd(1, x, d, 0.05, 1.0) < 0.25); /* thickness: stops 0.05 earlier */
}
END_TEST

/* ---- through the engine ------------------------------------------------------ */

/* One free vertex (0) above a fixed large triangle (1, 2, 3) at z = 0:
 * contact_pt with weight kappa (dhat 0.1) plus gravity m g z (m = 1);
 * returns the height where a Newton solve stops. */
static double rest_height(double kappa) {
  const double V[15] = {0, 0, 0.09, -5, -5, 0, 5, -5, 0, 0, 5, 0, 0.1, 0.1, 0.09};
  const int32_t F[6] = {1, 2, 3, 0, 4, 1};
  lc_mesh *m = NULL;
  lc_problem *pr = NULL;
  lc_solver *s = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_create(V, 5, F, 2, &m, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &pr, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(pr, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  const int32_t pair[4] = {0, 1, 2, 3}, one[1] = {0}, fixed[4] = {1, 2, 3, 4};
  const char *const names[] = {"dhat"};
  const double dhat[] = {0.1}, mass[] = {1.0};
  lc_term_desc c = {.energy = "contact_pt", .weight = kappa, .weight_set = 1, .elems = pair, .n_elems = 1,
                    .n_params = 1, .param_names = names, .param_values = dhat};
  lc_term_desc g = {.energy = "gravity", .weight = 1.0, .weight_set = 1, .elems = one, .n_elems = 1,
                    .consts = mass};
  ck_assert_msg(lc_problem_add_term(pr, &c, NULL, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_problem_add_term(pr, &g, NULL, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_fix(pr, 0, 4, fixed, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_solver_create(pr, &s, &err), LC_OK);
  lc_solve_opts o;
  lc_solve_result r;
  lc_solve_opts_default(&o, LC_SOLVE_NEWTON);
  o.gtol = 1e-12;
  o.max_iters = 100;
  ck_assert_msg(lc_solver_solve(s, &o, &r, &err) == LC_OK, "%s", err.msg);
  double x[15];
  ck_assert_int_eq(lc_problem_get_variable(pr, 0, x, &err), LC_OK);
  lc_solver_destroy(s);
  lc_problem_destroy(pr);
  lc_mesh_destroy(m);
  return x[2];
}

START_TEST(resting_distance_squared_form) {
  near("d* kappa 1e3", rest_height(1e3), 0.024511177, 1e-7);
  near("d* kappa 1e5", rest_height(1e5), 0.093468166, 1e-7);
}
END_TEST

/* The linear form k b(d; dhat) + m g d of the reference, by 1D Newton on
 * the scalar barrier (its derivatives as contact_geom.h gives them). */
START_TEST(resting_distance_linear_form) {
  const double kap[2] = {1e3, 1e5}, want[2] = {0.083013893, 0.098203497};
  for (int c = 0; c < 2; ++c) {
    double d = 0.09;
    for (int it = 0; it < 100; ++it) {
      double b1, b2;
      lc_ct_barrier(d, 0.1, &b1, &b2);
      double step = (kap[c] * b1 + 9.8) / (kap[c] * b2);
      while (d - step <= 0.0 || d - step >= 0.1) step *= 0.5;
      d -= step;
    }
    near("d* linear", d, want[c], 1e-7);
  }
}
END_TEST

START_TEST(bad_contact_input) {
  const double V[12] = {0, 0, 0.05, 0, 0, 0, 1, 0, 0, 0, 1, 0};
  const int32_t F[3] = {1, 2, 3};
  lc_mesh *m = NULL;
  lc_problem *pr = NULL;
  lc_error err;
  ck_assert_int_eq(lc_mesh_create(V, 4, F, 1, &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &pr, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(pr, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  const int32_t bad[4] = {0, 1, 2, 7}, dup[4] = {0, 1, 2, 0};
  lc_term_desc c = {.energy = "contact_pt", .elems = bad, .n_elems = 1};
  ck_assert_int_eq(lc_problem_add_term(pr, &c, NULL, &err), LC_ERANGE);
  ck_assert_msg(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
  c.elems = dup;
  ck_assert_int_eq(lc_problem_add_term(pr, &c, NULL, &err), LC_EINVAL);
  c.elems = NULL;
  c.n_elems = 0;
  ck_assert_int_eq(lc_problem_add_term(pr, &c, NULL, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "explicit element list") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(pr), 0);
  lc_problem_destroy(pr);
  lc_mesh_destroy(m);
}
END_TEST


/* ---- broad phase ------------------------------------------------------------- */

/* Two n x n grid sheets of [0,1]^2, at z = 0 and z = gap, z jittered by
 * +-jit: one mesh of two components (self-contact and contact between
 * objects alike). */
static lc_mesh *two_sheets(int n, double gap, double jit, unsigned long long *rng) {
  const int32_t nv = 2 * n * n, nf = 4 * (n - 1) * (n - 1);
  double *V = malloc((size_t)nv * 3 * sizeof *V);
  int32_t *F = malloc((size_t)nf * 3 * sizeof *F), k = 0;
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double *v = V + 3 * ((int64_t)l * n * n + i * n + j);
        v[0] = (double)j / (n - 1), v[1] = (double)i / (n - 1);
        v[2] = l * gap + lc_test_rand(rng, -jit, jit);
      }
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i + 1 < n; ++i)
      for (int j = 0; j + 1 < n; ++j) {
        const int32_t a = l * n * n + i * n + j, b = a + 1, c = a + n, d = c + 1;
        const int32_t t[6] = {a, b, d, a, d, c};
        memcpy(F + 3 * k, t, sizeof t);
        k += 2;
      }
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_create(V, nv, F, nf, &m, &err) == LC_OK, "%s", err.msg);
  free(V);
  free(F);
  return m;
}

/* 1 if (a, b) is in the sorted pair list p[0..n). */
static int has_pair(const int32_t *p, int64_t n, int32_t a, int32_t b) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (p[2 * mid] < a || (p[2 * mid] == a && p[2 * mid + 1] < b)) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && p[2 * lo] == a && p[2 * lo + 1] == b;
}

/* 1 if the list is strictly increasing (canonical). */
static int sorted_pairs(const int32_t *p, int64_t n) {
  for (int64_t i = 1; i < n; ++i)
    if (p[2 * i - 2] > p[2 * i] || (p[2 * i - 2] == p[2 * i] && p[2 * i - 1] >= p[2 * i + 1])) return 0;
  return 1;
}

/* Every pair closer than pad is a candidate; the list is canonical and the
 * same with 1 and 2 threads. */
START_TEST(broad_phase_complete_and_canonical) {
  unsigned long long rng = 3;
  lc_mesh *m = two_sheets(10, 0.04, 0.02, &rng);
  const double pad = 0.03, *V = lc_mesh_V(m);
  const int32_t *F = lc_mesh_F(m), *E = lc_mesh_edges(m);
  lc_pairs c1, c2;
  lc_error err;
  omp_set_num_threads(1);
  ck_assert_int_eq(lc_contact_candidates(m, NULL, NULL, pad, &c1, &err), LC_OK);
  omp_set_num_threads(2);
  ck_assert_int_eq(lc_contact_candidates(m, NULL, NULL, pad, &c2, &err), LC_OK);
  ck_assert(c1.n_pt == c2.n_pt && c1.n_ee == c2.n_ee);
  ck_assert(!memcmp(c1.pt, c2.pt, (size_t)c1.n_pt * 8) && !memcmp(c1.ee, c2.ee, (size_t)c1.n_ee * 8));
  ck_assert(sorted_pairs(c1.pt, c1.n_pt) && sorted_pairs(c1.ee, c1.n_ee));
  int64_t near_pt = 0, near_ee = 0;
  for (int32_t v = 0; v < lc_mesh_nv(m); ++v)
    for (int32_t f = 0; f < lc_mesh_nf(m); ++f) {
      const int32_t *t = F + 3 * f;
      if (t[0] == v || t[1] == v || t[2] == v) continue;
      double x[12];
      memcpy(x, V + 3 * v, 24);
      for (int a = 0; a < 3; ++a) memcpy(x + 3 + 3 * a, V + 3 * t[a], 24);
      if (lc_ct_pair_d2(0, x) >= pad * pad) continue;
      near_pt++;
      ck_assert_msg(has_pair(c1.pt, c1.n_pt, v, f), "vertex %d face %d missing", v, f);
    }
  for (int32_t a = 0; a < lc_mesh_ne(m); ++a)
    for (int32_t b = a + 1; b < lc_mesh_ne(m); ++b) {
      const int32_t *ea = E + 2 * a, *eb = E + 2 * b;
      if (ea[0] == eb[0] || ea[0] == eb[1] || ea[1] == eb[0] || ea[1] == eb[1]) continue;
      double x[12];
      memcpy(x, V + 3 * ea[0], 24), memcpy(x + 3, V + 3 * ea[1], 24);
      memcpy(x + 6, V + 3 * eb[0], 24), memcpy(x + 9, V + 3 * eb[1], 24);
      if (lc_ct_pair_d2(1, x) >= pad * pad) continue;
      near_ee++;
      ck_assert_msg(has_pair(c1.ee, c1.n_ee, a, b), "edges %d %d missing", a, b);
    }
  ck_assert(near_pt > 0 && near_ee > 0); /* the sheets do come close */
  /* no incident pairs, and the elements name the right vertices */
  int32_t *pe = malloc((size_t)c1.n_pt * 16), *ee = malloc((size_t)c1.n_ee * 16);
  lc_pairs_elements(m, &c1, pe, ee);
  for (int64_t i = 0; i < c1.n_pt; ++i)
    for (int a = 1; a < 4; ++a) ck_assert_int_ne(pe[4 * i], pe[4 * i + a]);
  for (int64_t i = 0; i < c1.n_ee; ++i)
    for (int a = 0; a < 2; ++a) ck_assert(ee[4 * i + a] != ee[4 * i + 2] && ee[4 * i + a] != ee[4 * i + 3]);
  free(pe);
  free(ee);
  lc_pairs_free(&c1);
  lc_pairs_free(&c2);
  lc_mesh_destroy(m);
}
END_TEST

/* Point-triangle candidates between the two sheets of two_sheets. */
static int64_t cross_pairs(const lc_mesh *m, const lc_pairs *c) {
  const int32_t half = lc_mesh_nv(m) / 2;
  int64_t n = 0;
  for (int64_t i = 0; i < c->n_pt; ++i)
    n += (c->pt[2 * i] < half) != (lc_mesh_F(m)[3 * (int64_t)c->pt[2 * i + 1]] < half);
  return n;
}

/* A motion d sweeps the boxes: a sheet moving through the other one finds
 * the pairs it passes; a negative padding is refused. */
START_TEST(broad_phase_swept_and_errors) {
  unsigned long long rng = 5;
  lc_mesh *m = two_sheets(6, 0.5, 0.0, &rng);
  const int32_t nv = lc_mesh_nv(m);
  double *d = calloc((size_t)nv * 3, sizeof *d);
  for (int32_t v = nv / 2; v < nv; ++v) d[3 * v + 2] = -1.0; /* the top sheet falls through */
  lc_pairs c;
  lc_error err;
  ck_assert_int_eq(lc_contact_candidates(m, NULL, NULL, 0.01, &c, &err), LC_OK);
  ck_assert_int_eq(cross_pairs(m, &c), 0); /* 0.5 apart: neighbours in a sheet only */
  const int64_t n_ee_static = c.n_ee;
  lc_pairs_free(&c);
  ck_assert_int_eq(lc_contact_candidates(m, NULL, d, 0.01, &c, &err), LC_OK);
  ck_assert(cross_pairs(m, &c) > 0 && c.n_ee > n_ee_static);
  lc_pairs_free(&c);
  ck_assert_int_eq(lc_contact_candidates(m, NULL, NULL, -1.0, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "padding") != NULL, "%s", err.msg);
  ck_assert(c.n_pt == 0 && c.pt == NULL);
  free(d);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- contact on a problem ------------------------------------------------------- */

/* A fixed floor square [-2, 3]^2 at z = 0 (vertices 0-3) and k sheets of
 * n x n vertices over [0, 1]^2, sheet l at height z0 + l gap, tilted by
 * (tx, ty) (z += tx x + ty y). */
static lc_mesh *floor_and_sheets(int k, int n, double z0, double gap, double tx, double ty) {
  const int32_t nv = 4 + k * n * n, nf = 2 + 2 * k * (n - 1) * (n - 1);
  double *V = malloc((size_t)nv * 3 * sizeof *V);
  int32_t *F = malloc((size_t)nf * 3 * sizeof *F), f = 2;
  const double fl[12] = {-2, -2, 0, 3, -2, 0, 3, 3, 0, -2, 3, 0};
  const int32_t ff[6] = {0, 1, 2, 0, 2, 3};
  memcpy(V, fl, sizeof fl);
  memcpy(F, ff, sizeof ff);
  for (int l = 0; l < k; ++l)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        double *v = V + 3 * (4 + (int64_t)l * n * n + i * n + j);
        v[0] = (double)j / (n - 1), v[1] = (double)i / (n - 1);
        v[2] = z0 + l * gap + tx * v[0] + ty * v[1];
      }
  for (int l = 0; l < k; ++l)
    for (int i = 0; i + 1 < n; ++i)
      for (int j = 0; j + 1 < n; ++j) {
        const int32_t a = 4 + l * n * n + i * n + j, b = a + 1, c = a + n, d = c + 1;
        const int32_t t[6] = {a, b, d, a, d, c};
        memcpy(F + 3 * f, t, sizeof t);
        f += 2;
      }
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_create(V, nv, F, nf, &m, &err) == LC_OK, "%s", err.msg);
  free(V);
  free(F);
  return m;
}

/* A cloth problem on m: springs, inertia, gravity; the inertia term id into *inertia. */
static lc_problem *cloth_problem(lc_mesh *m, int *inertia) {
  lc_problem *p = NULL;
  lc_error err;
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, 3, NULL, NULL, &err), LC_OK);
  const char *const kn[] = {"k"};
  const double kv[] = {2e3};
  lc_term_desc sp = {.energy = "spring", .n_params = 1, .param_names = kn, .param_values = kv};
  lc_term_desc in = {.energy = "inertia"}, gr = {.energy = "gravity"};
  ck_assert_msg(lc_problem_add_term(p, &sp, NULL, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_problem_add_term(p, &in, inertia, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_problem_add_term(p, &gr, NULL, &err) == LC_OK, "%s", err.msg);
  return p;
}

/* cloth_problem on a floor_and_sheets mesh with the floor (vertices 0-3) fixed. */
static lc_problem *cloth_on(lc_mesh *m, int *inertia) {
  lc_problem *p = cloth_problem(m, inertia);
  lc_error err;
  const int32_t fl[4] = {0, 1, 2, 3};
  ck_assert_int_eq(lc_problem_fix(p, 0, 4, fl, NULL, &err), LC_OK);
  return p;
}

/* Contact on variable 0 of p with dhat 0.01 and kappa 1e3. */
static lc_contact *contact_on(lc_problem *p) {
  lc_contact_opts co;
  lc_contact_opts_default(&co);
  co.dhat = 0.01;
  co.kappa = 1e3;
  lc_contact *c = NULL;
  lc_error err;
  ck_assert_msg(lc_contact_create(p, 0, &co, &c, &err) == LC_OK, "%s", err.msg);
  return c;
}

/* Starts a stepping run on p under contact c: implicit Euler (h = 0.01,
 * inertia term `inertia`) from velocities v, a solver, Newton options
 * (60 iterations, gtol 1e-5). */
static void start_run(lc_problem *p, lc_contact *c, int inertia, const double *v, lc_dynamics **d, lc_solver **s,
                      lc_solve_opts *o) {
  lc_error err;
  ck_assert_msg(lc_dynamics_create(p, 0, inertia, 0.01, d, &err) == LC_OK, "%s", err.msg);
  lc_dynamics_set_contact(*d, c);
  ck_assert_int_eq(lc_dynamics_set_velocity(*d, v, &err), LC_OK);
  ck_assert_int_eq(lc_solver_create(p, s, &err), LC_OK);
  lc_solve_opts_default(o, LC_SOLVE_NEWTON);
  o->max_iters = 60;
  o->gtol = 1e-5;
}

/* Destroys a stepping run's handles (the contact before its problem). */
static void free_run(lc_solver *s, lc_dynamics *d, lc_contact *c, lc_problem *p, lc_mesh *m) {
  lc_solver_destroy(s);
  lc_dynamics_destroy(d);
  lc_contact_destroy(c);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}

/* One time step of d (solver s, options o) under contact c, checked: no
 * edge crosses a face of p's mesh and every pair stays apart.  The state
 * goes to x, the statistics to *st; returns the Newton iterations.  tag
 * names the step in messages. */
static int checked_step(lc_problem *p, lc_dynamics *d, lc_solver *s, const lc_solve_opts *o, lc_contact *c,
                        double *x, lc_contact_stats *st, int tag) {
  lc_error err;
  lc_solve_result r;
  int64_t hits = -1;
  ck_assert_msg(lc_dynamics_step(d, s, o, &r, &err) == LC_OK, "step %d: %s", tag, err.msg);
  ck_assert_int_eq(lc_problem_get_variable(p, 0, x, &err), LC_OK);
  ck_assert_int_eq(lc_contact_intersections(lc_problem_mesh(p), x, &hits, &err), LC_OK);
  ck_assert_msg(hits == 0, "step %d: %lld crossings", tag, (long long)hits);
  ck_assert_int_eq(lc_contact_stats_get(c, st, &err), LC_OK);
  ck_assert_msg(st->min_dist > 0.0, "step %d: distance %g", tag, st->min_dist);
  return r.iters;
}

/* Random drops: sheets fall onto the floor and onto each other; at every
 * accepted state no edge crosses a face and every pair stays apart. */
START_TEST(drops_never_interpenetrate) {
  unsigned long long rng = 11;
  for (int run = 0; run < 3; ++run) {
    const double tx = lc_test_rand(&rng, -0.1, 0.1), ty = lc_test_rand(&rng, -0.1, 0.1);
    lc_mesh *m = floor_and_sheets(2, 6, 0.15, 0.08, tx, ty);
    int inertia = -1;
    lc_problem *p = cloth_on(m, &inertia);
    lc_problem_set_threads(p, 1); /* 76 vertices: threads would only wait on each other */
    lc_error err;
    lc_contact_opts co; /* run 1 with a pattern reserve of 2 x the padding, run 2 with friction */
    lc_contact_opts_default(&co);
    co.dhat = 0.01;
    co.kappa = 1e3;
    co.reserve = run == 1 ? 2.0 : 0.0;
    co.mu = run == 2 ? 0.3 : 0.0;
    lc_contact *c = NULL;
    ck_assert_msg(lc_contact_create(p, 0, &co, &c, &err) == LC_OK, "%s", err.msg);
    const double dhat = 0.01;
    const int32_t nv = lc_mesh_nv(m);
    double *v = calloc((size_t)nv * 3, sizeof *v);
    for (int32_t i = 4; i < nv; ++i) v[3 * i + 2] = -lc_test_rand(&rng, 1.0, 3.0) / (1 + (i >= 4 + 36));
    lc_dynamics *d = NULL;
    lc_solver *s = NULL;
    lc_solve_opts o;
    start_run(p, c, inertia, v, &d, &s, &o);
    double *x = malloc((size_t)nv * 3 * sizeof *x), min_seen = INFINITY;
    int64_t active_steps = 0, iters = 0, rounds = 0, fric_pairs = 0;
    for (int step = 0; step < 200; ++step) {
      lc_contact_stats st;
      iters += checked_step(p, d, s, &o, c, x, &st, 1000 * run + step);
      min_seen = fmin(min_seen, st.min_dist);
      active_steps += st.active[0] + st.active[1] + st.active[2] + st.active[3] > 0;
      rounds += st.rounds;
      fric_pairs += st.friction_pairs;
    }
    lc_contact_stats fin;
    ck_assert_int_eq(lc_contact_stats_get(c, &fin, &err), LC_OK);
    printf("drop %d: 200 steps, %lld Newton iterations, %lld candidate lists (%lld kept the pattern, %lld rebuilt "
           "it), min distance %.3g\n",
           run, (long long)iters, (long long)rounds, (long long)fin.lists_kept, (long long)fin.pattern_rebuilds,
           min_seen);
    ck_assert_int_eq(fin.lists_kept + fin.pattern_rebuilds, rounds + 1); /* + the list of lc_contact_create */
    ck_assert_int_gt(fin.lists_kept, 0);
    ck_assert_msg((fric_pairs > 0) == (run == 2), "run %d: %lld pair-steps under friction", run, (long long)fric_pairs);
    ck_assert_msg(active_steps > 50 && min_seen < dhat, "run %d: contact never happened (min %g)", run, min_seen);
    for (int32_t i = 4; i < nv; ++i) ck_assert(x[3 * i + 2] > -1e-9); /* above the floor */
    free(x);
    free(v);
    free_run(s, d, c, p, m);
  }
}
END_TEST

/* Bad settings and bad starting states are refused and change nothing. */
START_TEST(contact_bad_input) {
  lc_mesh *m = floor_and_sheets(1, 3, 0.0, 0.0, 0.3, 0.0); /* the sheet crosses the floor */
  int inertia;
  lc_problem *p = cloth_on(m, &inertia);
  lc_error err;
  lc_contact_opts co;
  lc_contact *c = (lc_contact *)&co;
  const int n_terms = lc_problem_n_terms(p);
  lc_contact_opts_default(&co);
  co.dhat = -1.0;
  ck_assert_int_eq(lc_contact_create(p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "dhat") != NULL, "%s", err.msg);
  ck_assert_ptr_null(c);
  lc_contact_opts_default(&co);
  ck_assert_int_eq(lc_contact_create(p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "already intersects") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_contact_create(p, 7, &co, &c, &err), LC_ENOTFOUND);
  ck_assert_int_eq(lc_problem_n_terms(p), n_terms);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
  /* a sheet resting 1e-4 above the floor with thickness 1e-3 */
  m = floor_and_sheets(1, 3, 1e-4, 0.0, 0.0, 0.0);
  p = cloth_on(m, &inertia);
  co.dmin = 1e-3;
  ck_assert_int_eq(lc_contact_create(p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "dmin") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(p), n_terms);
  /* and without the thickness it is accepted; destroying it removes its terms */
  co.dmin = 0.0;
  ck_assert_msg(lc_contact_create(p, 0, &co, &c, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_gt(lc_problem_n_terms(p), n_terms);
  lc_contact_destroy(c);
  ck_assert_int_eq(lc_problem_n_terms(p), n_terms);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* The plane bound: exact time to reach dmin, 10% short; tmax when moving
 * away; 0 when already at dmin. */
START_TEST(plane_step_values) {
  const double o[3] = {0, 0, 0}, n[3] = {0, 0, 1}, x[3] = {0.25, 0.25, 0.1};
  const double down[3] = {0, 0, -0.2}, up[3] = {0.3, 0, 0.1}, low[3] = {0, 0, 0.01};
  near("plane step", lc_ct_plane_step(x, down, o, n, 0.0, 2.0), 0.45, 1e-15);
  near("plane step dmin", lc_ct_plane_step(x, down, o, n, 0.05, 2.0), 0.9 * 0.05 / 0.2, 1e-15);
  ck_assert(lc_ct_plane_step(x, up, o, n, 0.0, 2.0) == 2.0);
  ck_assert(lc_ct_plane_step(low, down, o, n, 0.01, 2.0) == 0.0);
}
END_TEST

/* A 5 x 5 sheet over [0, 1]^2 at height z0 + tx x. */
static lc_mesh *sheet_mesh(double z0, double tx) {
  enum { N = 5 };
  double V[N * N * 3];
  int32_t F[(N - 1) * (N - 1) * 6], f = 0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      double *v = V + 3 * (i * N + j);
      v[0] = (double)j / (N - 1), v[1] = (double)i / (N - 1), v[2] = z0 + tx * v[0];
    }
  for (int i = 0; i + 1 < N; ++i)
    for (int j = 0; j + 1 < N; ++j) {
      const int32_t a = i * N + j, b = a + 1, c = a + N, d = c + 1, t[6] = {a, b, d, a, d, c};
      memcpy(F + 6 * f++, t, sizeof t);
    }
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_msg(lc_mesh_create(V, N * N, F, 2 * f, &m, &err) == LC_OK, "%s", err.msg);
  return m;
}

/* Steps the 5 x 5 sheet of p (contact c on the plane z = 0) `steps` times:
 * every vertex stays above the plane at every step and rests within dhat =
 * 0.01 at the end; returns the number of steps with a vertex near the plane. */
static int64_t drop_on_plane(lc_problem *p, lc_contact *c, int inertia, int steps) {
  lc_error err;
  lc_dynamics *d = NULL;
  ck_assert_int_eq(lc_dynamics_create(p, 0, inertia, 0.01, &d, &err), LC_OK);
  lc_dynamics_set_contact(d, c);
  lc_solver *s = NULL;
  ck_assert_int_eq(lc_solver_create(p, &s, &err), LC_OK);
  lc_solve_opts so;
  lc_solve_opts_default(&so, LC_SOLVE_NEWTON);
  so.max_iters = 60;
  so.gtol = 1e-6;
  double x[25 * 3];
  int64_t touched = 0;
  for (int step = 0; step < steps; ++step) {
    lc_solve_result r;
    ck_assert_msg(lc_dynamics_step(d, s, &so, &r, &err) == LC_OK, "step %d: %s", step, err.msg);
    ck_assert_int_eq(lc_problem_get_variable(p, 0, x, &err), LC_OK);
    for (int v = 0; v < 25; ++v) ck_assert_msg(x[3 * v + 2] > 0.0, "step %d: vertex %d at %g", step, v, x[3 * v + 2]);
    lc_contact_stats st;
    ck_assert_int_eq(lc_contact_stats_get(c, &st, &err), LC_OK);
    touched += st.active_plane > 0;
  }
  for (int v = 0; v < 25; ++v) ck_assert_msg(x[3 * v + 2] < 0.01, "vertex %d rests at %g", v, x[3 * v + 2]);
  lc_solver_destroy(s);
  lc_dynamics_destroy(d);
  return touched;
}

/* A tilted sheet falls onto a plane obstacle: no vertex ever reaches the
 * plane, it comes to rest within dhat; bad planes are refused unchanged. */
START_TEST(plane_obstacle_drop) {
  lc_mesh *m = sheet_mesh(0.1, 0.05);
  int inertia = -1;
  lc_problem *p = cloth_problem(m, &inertia);
  lc_problem_set_threads(p, 1);
  lc_error err;
  lc_contact *c = contact_on(p);
  const int n_terms = lc_problem_n_terms(p);
  const double o[3] = {0, 0, 0}, zn[3] = {0, 0, 0}, n[3] = {0, 0, 2}, high[3] = {0, 0, 0.11};
  ck_assert_int_eq(lc_contact_add_plane(c, o, zn, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "normal") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_contact_add_plane(c, high, n, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "vertex") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(p), n_terms);
  ck_assert_msg(lc_contact_add_plane(c, o, n, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(p), n_terms + 1);
  ck_assert_int_gt(drop_on_plane(p, c, inertia, 150), 20);
  lc_contact_destroy(c);
  ck_assert_int_eq(lc_problem_n_terms(p), 3); /* spring, inertia, gravity: every contact term gone */
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* lc_contact_advance: a triangle heading through a plane stops short of it
 * (the plane bound of its body), a free triangle takes its whole motion. */
START_TEST(advance_per_body) {
  const double V[18] = {0, 0, 0.05, 1, 0, 0.05, 0, 1, 0.05, 3, 0, 1, 4, 0, 1, 3, 1, 1};
  const int32_t F[6] = {0, 1, 2, 3, 4, 5};
  lc_mesh *m = NULL;
  lc_error err;
  ck_assert_int_eq(lc_mesh_create(V, 6, F, 2, &m, &err), LC_OK);
  int inertia = -1;
  lc_problem *p = cloth_problem(m, &inertia);
  lc_contact *c = contact_on(p);
  const double o[3] = {0, 0, 0}, n[3] = {0, 0, 1};
  ck_assert_int_eq(lc_contact_add_plane(c, o, n, &err), LC_OK);
  double target[18], x[18], alpha = -1.0;
  memcpy(target, V, sizeof V);
  for (int v = 0; v < 6; ++v) target[3 * v + 2] -= v < 3 ? 0.1 : 0.5;
  ck_assert_msg(lc_contact_advance(c, target, &alpha, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_get_variable(p, 0, x, &err), LC_OK);
  for (int v = 0; v < 3; ++v) near("held back", x[3 * v + 2], 0.05 - 0.9 * 0.05, 1e-12);
  for (int v = 3; v < 6; ++v) near("free", x[3 * v + 2], 0.5, 1e-12);
  near("alpha", alpha, 1.0, 1e-15);
  lc_contact_destroy(c);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Adaptive stiffness: kappa_min from the formula, kappa0 within its bounds
 * once the sheet touches the plane, and the drop stays above the plane. */
START_TEST(adaptive_kappa_drop) {
  lc_mesh *m = sheet_mesh(0.1, 0.05);
  int inertia = -1;
  lc_problem *p = cloth_problem(m, &inertia);
  lc_problem_set_threads(p, 1);
  lc_error err;
  lc_contact *c = contact_on(p);
  const double o[3] = {0, 0, 0}, n[3] = {0, 0, 1}, mbar = 0.04;
  ck_assert_int_eq(lc_contact_add_plane(c, o, n, &err), LC_OK);
  ck_assert_int_eq(lc_contact_set_adaptive(c, -1.0, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "mass") != NULL, "%s", err.msg);
  ck_assert_msg(lc_contact_set_adaptive(c, mbar, &err) == LC_OK, "%s", err.msg);
  const double diag = sqrt(2.0 + 0.05 * 0.05), d0 = 1e-16 * diag * diag;
  double b1, b2;
  lc_ct_barrier(d0, lc_ct_shat(0.01, 0.0), &b1, &b2);
  const double kmin = 1e11 * mbar / (4.0 * d0 * b2);
  near("kappa_min", lc_contact_kappa(c), kmin, 1e-12);
  ck_assert_int_gt(drop_on_plane(p, c, inertia, 100), 10);
  const double k = lc_contact_kappa(c);
  ck_assert_msg(k >= kmin * (1 - 1e-12) && k <= 100.0 * kmin * (1 + 1e-12), "kappa %g not in [%g, %g]", k, kmin,
                100 * kmin);
  printf("adaptive kappa: kappa_min %.4g, kappa after the drop %.4g\n", kmin, k);
  lc_contact_destroy(c);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Static mesh obstacles are still vertices (every DOF fixed): their own
 * pairs never enter the list and their own crossings do not refuse the
 * contact, while a free sheet dropped on them never passes through. */
START_TEST(static_mesh_obstacle) {
  lc_error err;
  /* two fixed triangles crossing each other, one free triangle far away */
  const double V[27] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0.2, 0.2, -0.5, 0.2, 0.2, 0.5, 0.8, 0.2, 0, 5, 5, 5, 6, 5, 5, 5, 6, 5};
  const int32_t F[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, obst[6] = {0, 1, 2, 3, 4, 5};
  lc_mesh *mx = NULL;
  ck_assert_int_eq(lc_mesh_create(V, 9, F, 3, &mx, &err), LC_OK);
  int inertia = -1;
  lc_problem *p = cloth_problem(mx, &inertia);
  lc_contact_opts co;
  lc_contact_opts_default(&co);
  co.dhat = 0.01;
  lc_contact *c = NULL;
  ck_assert_int_eq(lc_contact_create(p, 0, &co, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "intersects") != NULL, "%s", err.msg);
  ck_assert_int_eq(lc_problem_fix(p, 0, 6, obst, NULL, &err), LC_OK);
  ck_assert_msg(lc_contact_create(p, 0, &co, &c, &err) == LC_OK, "a crossing static obstacle: %s", err.msg);
  lc_contact_destroy(c);
  lc_problem_destroy(p);
  lc_mesh_destroy(mx);
  /* the floor and two sheets 4 mm apart fixed (an obstacle with pairs of its own), a third sheet free */
  lc_mesh *m = floor_and_sheets(3, 6, 0.003, 0.004, 0.0, 0.0);
  p = cloth_problem(m, &inertia);
  lc_problem_set_threads(p, 1);
  const int32_t nv = lc_mesh_nv(m);
  double *x = malloc((size_t)nv * 3 * sizeof *x), *v = calloc((size_t)nv * 3, sizeof *v);
  ck_assert_int_eq(lc_problem_get_variable(p, 0, x, &err), LC_OK);
  for (int32_t i = 4 + 72; i < nv; ++i) x[3 * i + 2] += 0.2, v[3 * i + 2] = -2.0;
  ck_assert_int_eq(lc_problem_set_variable(p, 0, x, &err), LC_OK);
  lc_contact *loose = contact_on(p); /* nothing fixed: the obstacle's own pairs are listed */
  lc_contact_stats st0, st;
  ck_assert_int_eq(lc_contact_stats_get(loose, &st0, &err), LC_OK);
  lc_contact_destroy(loose);
  int32_t *fixed = malloc((size_t)(4 + 72) * sizeof *fixed);
  for (int32_t i = 0; i < 4 + 72; ++i) fixed[i] = i;
  ck_assert_int_eq(lc_problem_fix(p, 0, 4 + 72, fixed, NULL, &err), LC_OK);
  c = contact_on(p);
  ck_assert_int_eq(lc_contact_stats_get(c, &st, &err), LC_OK);
  ck_assert_msg(st0.n_pt + st0.n_ee > 1000 && st.n_pt + st.n_ee == 0, "pairs %lld loose, %lld with the obstacle still",
                (long long)(st0.n_pt + st0.n_ee), (long long)(st.n_pt + st.n_ee));
  lc_dynamics *d = NULL;
  lc_solver *s = NULL;
  lc_solve_opts o;
  start_run(p, c, inertia, v, &d, &s, &o);
  int64_t touching = 0;
  for (int step = 0; step < 60; ++step) {
    checked_step(p, d, s, &o, c, x, &st, step);
    touching += st.active[0] + st.active[1] + st.active[2] + st.active[3] > 0;
  }
  for (int i = 1; i < 5; ++i) /* the free sheet's interior rests on the upper fixed sheet (its rim may drape) */
    for (int j = 1; j < 5; ++j) {
      const int32_t q = 4 + 72 + 6 * i + j;
      ck_assert_msg(x[3 * q + 2] > 0.007, "vertex %d at %g", q, x[3 * q + 2]);
    }
  ck_assert_int_gt(touching, 10);
  free(fixed);
  free(x);
  free(v);
  free_run(s, d, c, p, m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("contact");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, barrier_values);
  tcase_add_test(tc, point_triangle_values);
  tcase_add_test(tc, edge_edge_values);
  tcase_add_test(tc, ccd_values);
  tcase_add_test(tc, fd_point_triangle_regions);
  tcase_add_test(tc, fd_edge_edge_regions);
  tcase_add_test(tc, ccd_conservative_random);
  tcase_add_test(tc, resting_distance_squared_form);
  tcase_add_test(tc, resting_distance_linear_form);
  tcase_add_test(tc, bad_contact_input);
  tcase_add_test(tc, broad_phase_complete_and_canonical);
  tcase_add_test(tc, broad_phase_swept_and_errors);
  tcase_add_test(tc, contact_bad_input);
  tcase_add_test(tc, drops_never_interpenetrate);
  tcase_add_test(tc, plane_step_values);
  tcase_add_test(tc, plane_obstacle_drop);
  tcase_add_test(tc, advance_per_body);
  tcase_add_test(tc, adaptive_kappa_drop);
  tcase_add_test(tc, static_mesh_obstacle);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
