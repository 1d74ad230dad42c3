/* test_custom.c - Check suite of custom energies as terms (engine/custom/
 * custom.c, the CPU instances of engine/cpu/cpu_custom.c): built-in
 * energies re-expressed as DAGs give the same energy, gradient, Hessian
 * (exact and projected) and H v through the whole problem (1e-13), a Newton
 * solve ends where the built-in's does, and misuse is refused with a
 * message. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "custom/custom.h"
#include "custom/dag_build.h"
#include "problem.h"
#include "testutil.h"
#include "workloads.h"

static unsigned long long rng = 0xc0570dULL;
static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

/* ---- the node builder (custom/dag_build.h) ------------------------------------- */

static lc_dag_node bn[256];
static lc_dag_builder G = {bn, 0, 256};
#define B(op, a, b) lc_dagb_bin(&G, op, a, b)
#define U(op, a) lc_dagb_un(&G, op, a)
#define X(e) lc_dagb_x(&G, e, -1)
#define C(v) lc_dagb_lit(&G, v)
#define K(i) lc_dagb_k(&G, i)
#define P(i) lc_dagb_p(&G, i)

/* A payload for the builder's nodes, output out, on elements of kind elem. */
static lc_custom *payload(int elem, int Kn, int D, int nc, int np, const char *const *names, int32_t out) {
  const lc_dag_desc d = lc_dagb_desc(&G, Kn, D, nc, np, 1, &out);
  lc_dag *g = NULL;
  lc_custom *c = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_dag_create(&d, &g, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_custom_create(g, elem, names, &c, &err) == LC_OK, "%s", err.msg);
  lc_dag_destroy(g); /* the payload keeps its own copy */
  return c;
}

/* The spring (W3) and StVK (W2) of bench/workloads.c as payloads. */
static lc_custom *spring_dag(void) {
  static const char *const names[] = {"k"};
  int32_t out;
  ck_assert_int_eq(lc_workload_custom_dag(3, &G, &out), LC_OK);
  return payload(LC_ELEM_EDGE, 2, 3, 1, 1, names, out);
}

static lc_custom *bending_dag(void) {
  static const char *const names[] = {"k"};
  int32_t out;
  ck_assert_int_eq(lc_workload_custom_dag(4, &G, &out), LC_OK);
  return payload(LC_ELEM_FLAP, 4, 3, 2, 1, names, out);
}

static lc_custom *symdir_dag(void) {
  int32_t out;
  ck_assert_int_eq(lc_workload_custom_dag(1, &G, &out), LC_OK);
  return payload(LC_ELEM_FACE, 3, 2, 5, 0, NULL, out);
}

static lc_custom *stvk_dag(void) {
  static const char *const names[] = {"mu", "lambda"};
  int32_t out;
  ck_assert_int_eq(lc_workload_custom_dag(2, &G, &out), LC_OK);
  return payload(LC_ELEM_FACE, 3, 3, 5, 2, names, out);
}

/* The membrane invariants of a face into G: c00, c11, c01 of C = F^T F,
 * F = [x1 - x0, x2 - x0] Mr^-1 (constants 0..3). */
static void membrane_c(int32_t *c00, int32_t *c11, int32_t *c01) {
  const int32_t d1 = B(LC_DAG_SUB, X(1), X(0)), d2 = B(LC_DAG_SUB, X(2), X(0));
  const int32_t f0 = B(LC_DAG_ADD, B(LC_DAG_MUL, d1, K(0)), B(LC_DAG_MUL, d2, K(2)));
  const int32_t f1 = B(LC_DAG_ADD, B(LC_DAG_MUL, d1, K(1)), B(LC_DAG_MUL, d2, K(3)));
  *c00 = U(LC_DAG_SQNORM, f0), *c11 = U(LC_DAG_SQNORM, f1), *c01 = B(LC_DAG_DOT, f0, f1);
}

/* Neo-Hookean: A (mu/2 (I1 - 2) - mu log J + lambda/2 (log J)^2), log J = log(det C)/2. */
static lc_custom *neohookean_dag(void) {
  static const char *const names[] = {"mu", "lambda"};
  int32_t c00, c11, c01;
  G.n = 0;
  membrane_c(&c00, &c11, &c01);
  const int32_t det = B(LC_DAG_SUB, B(LC_DAG_MUL, c00, c11), lc_dagb_powc(&G, c01, 2.0));
  const int32_t logj = B(LC_DAG_MUL, U(LC_DAG_LOG, det), C(0.5));
  int32_t w = B(LC_DAG_MUL, B(LC_DAG_SUB, B(LC_DAG_ADD, c00, c11), C(2.0)), B(LC_DAG_MUL, C(0.5), P(0)));
  w = B(LC_DAG_SUB, w, B(LC_DAG_MUL, logj, P(0)));
  w = B(LC_DAG_ADD, w, B(LC_DAG_MUL, lc_dagb_powc(&G, logj, 2.0), B(LC_DAG_MUL, C(0.5), P(1))));
  return payload(LC_ELEM_FACE, 3, 3, 5, 2, names, B(LC_DAG_MUL, w, K(4)));
}

/* ARAP of a triangle in 3D: A (I1 + 2 - 2 sqrt(I1 + 2 sqrt(det C))). */
static lc_custom *arap_dag(void) {
  int32_t c00, c11, c01;
  G.n = 0;
  membrane_c(&c00, &c11, &c01);
  const int32_t i1 = B(LC_DAG_ADD, c00, c11);
  const int32_t j = U(LC_DAG_SQRT, B(LC_DAG_SUB, B(LC_DAG_MUL, c00, c11), lc_dagb_powc(&G, c01, 2.0)));
  const int32_t sig = U(LC_DAG_SQRT, B(LC_DAG_ADD, i1, B(LC_DAG_MUL, j, C(2.0))));
  const int32_t e = B(LC_DAG_SUB, B(LC_DAG_ADD, i1, C(2.0)), B(LC_DAG_MUL, sig, C(2.0)));
  return payload(LC_ELEM_FACE, 3, 3, 5, 0, NULL, B(LC_DAG_MUL, e, K(4)));
}

/* ---- problems ----------------------------------------------------------------- */

/* A 6 x 6 vertex grid in the plane, rest z jittered. */
static lc_mesh *grid(void) {
  enum { NG = 6 };
  double V[NG * NG * 3];
  int32_t F[(NG - 1) * (NG - 1) * 6];
  for (int j = 0; j < NG; ++j)
    for (int i = 0; i < NG; ++i) {
      double *v = V + 3 * (j * NG + i);
      v[0] = i, v[1] = j, v[2] = urand(-0.1, 0.1);
    }
  int nf = 0;
  for (int j = 0; j + 1 < NG; ++j)
    for (int i = 0; i + 1 < NG; ++i) {
      const int a = j * NG + i, b = a + 1, c = a + NG, d = c + 1;
      int32_t *f = F + 3 * nf;
      f[0] = a, f[1] = b, f[2] = d, f[3] = a, f[4] = d, f[5] = c;
      nf += 2;
    }
  lc_mesh *m = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_mesh_create(V, NG * NG, F, nf, &m, &err) == LC_OK, "%s", err.msg);
  return m;
}

/* A CPU problem on m with variable x of dimension dim (2 or 3) at the rest
 * positions (their first dim coordinates) plus noise (seeded). */
static lc_problem *problem_dim(lc_mesh *m, unsigned long long seed, int dim) {
  lc_problem *p = NULL;
  lc_error err = {0};
  int var;
  ck_assert_msg(lc_problem_create(m, "cpu", &p, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, dim, NULL, &var, &err), LC_OK);
  const int64_t n = dim * (int64_t)lc_mesh_nv(m);
  double *x = malloc((size_t)n * sizeof *x);
  ck_assert_int_eq(lc_problem_get_variable(p, 0, x, &err), LC_OK);
  unsigned long long s = seed;
  for (int64_t i = 0; i < n; ++i) x[i] += lc_test_rand(&s, -0.2, 0.2);
  ck_assert_int_eq(lc_problem_set_variable(p, 0, x, &err), LC_OK);
  free(x);
  return p;
}

/* The same with a 3D variable. */
static lc_problem *problem(lc_mesh *m, unsigned long long seed) { return problem_dim(m, seed, 3); }

/* Adds built-in `energy` (params given) to a and the custom c to b with a's constants. */
static void add_pair(lc_problem *a, lc_problem *b, const char *energy, lc_custom *c, int np, const char *const *pn,
                     const double *pv) {
  lc_error err = {0};
  int ta, tb, nc = lc_custom_info(c)->n_const;
  int32_t ne;
  lc_term_desc d = {.energy = energy, .var = 0, .n_params = np, .param_names = pn, .param_values = pv};
  ck_assert_msg(lc_problem_add_term(a, &d, &ta, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_term_info(a, ta, NULL, NULL, &ne, NULL, &err), LC_OK);
  double *k = malloc(((size_t)ne * nc + 1) * sizeof *k);
  ck_assert_int_eq(lc_problem_get_term_consts(a, ta, k, &err), LC_OK);
  lc_term_desc e = {.custom = c, .var = 0, .n_params = np, .param_names = pn, .param_values = pv, .consts = k};
  ck_assert_msg(lc_problem_add_term(b, &e, &tb, &err) == LC_OK, "%s", err.msg);
  ck_assert_str_eq(lc_problem_term_energy_info(b, tb)->name, "custom");
  ck_assert_ptr_eq(lc_problem_term_custom(b, tb), c);
  free(k);
}

/* |a - b| <= 1e-13 max(|b|_inf, 1) entrywise. */
static void same(const double *a, const double *b, int64_t n, const char *what) {
  double s = 1.0;
  for (int64_t i = 0; i < n; ++i) s = fmax(s, fabs(b[i]));
  for (int64_t i = 0; i < n; ++i)
    ck_assert_msg(fabs(a[i] - b[i]) <= 1e-13 * s, "%s[%lld]: %.17g vs %.17g", what, (long long)i, a[i], b[i]);
}

/* Energy, gradient, Hessians (exact and projected) and H v of a and b agree. */
static void compare(lc_problem *a, lc_problem *b, int64_t n) {
  lc_error err = {0};
  double Ea, Eb, *ga = malloc((size_t)n * sizeof *ga), *gb = malloc((size_t)n * sizeof *gb);
  double *v = malloc((size_t)n * sizeof *v), *ha = malloc((size_t)n * sizeof *ha), *hb = malloc((size_t)n * sizeof *hb);
  for (int64_t i = 0; i < n; ++i) v[i] = urand(-1, 1);
  ck_assert_int_eq(lc_problem_gradient(a, NULL, &Ea, ga, &err), LC_OK);
  ck_assert_msg(lc_problem_gradient(b, NULL, &Eb, gb, &err) == LC_OK, "%s", err.msg);
  same(&Eb, &Ea, 1, "energy");
  same(gb, ga, n, "gradient");
  for (int project = 0; project < 2; ++project) {
    lc_csr Ha, Hb;
    ck_assert_int_eq(lc_problem_hessian(a, NULL, project, &Ea, NULL, &Ha, &err), LC_OK);
    double *va = malloc((size_t)Ha.nnz * sizeof *va);
    memcpy(va, Ha.val, (size_t)Ha.nnz * sizeof *va);
    ck_assert_int_eq(lc_problem_hessian(b, NULL, project, &Eb, NULL, &Hb, &err), LC_OK);
    ck_assert_int_eq(Ha.nnz, Hb.nnz);
    ck_assert_int_eq(memcmp(Ha.col, Hb.col, (size_t)Hb.nnz * sizeof *Hb.col), 0);
    same(Hb.val, va, Hb.nnz, project ? "projected Hessian" : "Hessian");
    free(va);
    ck_assert_int_eq(lc_problem_hvp(a, NULL, v, project, &Ea, NULL, ha, &err), LC_OK);
    ck_assert_int_eq(lc_problem_hvp(b, NULL, v, project, &Eb, NULL, hb, &err), LC_OK);
    same(hb, ha, n, "H v");
  }
  free(ga), free(gb), free(v), free(ha), free(hb);
}

START_TEST(test_spring_stvk_bending_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 7), *b = problem(m, 7);
  lc_custom *sp = spring_dag(), *st = stvk_dag(), *be = bending_dag();
  static const char *const kn[] = {"k"}, *const ml[] = {"mu", "lambda"};
  const double kv[] = {3.0}, mlv[] = {2.0, 5.0}, bk[] = {0.5};
  add_pair(a, b, "spring", sp, 1, kn, kv);
  add_pair(a, b, "stvk", st, 2, ml, mlv);
  add_pair(a, b, "bending", be, 1, kn, bk);
  lc_custom_release(sp); /* the terms hold their references */
  lc_custom_release(st);
  lc_custom_release(be);
  compare(a, b, 3 * (int64_t)lc_mesh_nv(m));
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
}
END_TEST

/* Neo-Hookean and 3D ARAP as DAGs against the built-ins. */
START_TEST(test_neohookean_and_arap_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 5), *b = problem(m, 5);
  lc_custom *nh = neohookean_dag(), *ar = arap_dag();
  static const char *const ml[] = {"mu", "lambda"};
  const double mlv[] = {3.0, 7.0};
  add_pair(a, b, "neohookean", nh, 2, ml, mlv);
  add_pair(a, b, "arap", ar, 0, NULL, NULL);
  lc_custom_release(nh);
  lc_custom_release(ar);
  compare(a, b, 3 * (int64_t)lc_mesh_nv(m));
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
}
END_TEST

/* The symmetric Dirichlet (W1: a select between the energy and 1/0 for
 * flipped triangles) on a 2D variable, against the built-in. */
START_TEST(test_symdir_matches_builtin) {
  lc_mesh *m = grid();
  lc_problem *a = problem_dim(m, 11, 2), *b = problem_dim(m, 11, 2);
  lc_custom *sd = symdir_dag();
  add_pair(a, b, "symmetric_dirichlet", sd, 0, NULL, NULL);
  lc_custom_release(sd);
  compare(a, b, 2 * (int64_t)lc_mesh_nv(m));
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
}
END_TEST

/* A payload for residual outputs out[n] of the builder's nodes. */
static lc_custom *residual_payload(int elem, int Kn, int D, int nc, int n, const int32_t *out) {
  lc_dag_desc d = lc_dagb_desc(&G, Kn, D, nc, 0, n, out);
  d.residual = LC_DAG_RESIDUALS;
  lc_dag *g = NULL;
  lc_custom *c = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_dag_create(&d, &g, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_custom_create(g, elem, NULL, &c, &err) == LC_OK, "%s", err.msg);
  lc_dag_destroy(g);
  return c;
}

/* Residuals, Jacobian and Gauss-Newton Hessian of a and b agree. */
static void compare_gn(lc_problem *a, lc_problem *b, int64_t n) {
  lc_error err = {0};
  const int64_t m = lc_problem_n_residuals(a);
  ck_assert_int_eq(lc_problem_n_residuals(b), m);
  double *ra = malloc((size_t)m * sizeof *ra), *rb = malloc((size_t)m * sizeof *rb);
  lc_csr Ja, Jb, Ha, Hb;
  ck_assert_int_eq(lc_problem_jacobian(a, NULL, ra, &Ja, &err), LC_OK);
  double *ja = malloc((size_t)Ja.nnz * sizeof *ja);
  memcpy(ja, Ja.val, (size_t)Ja.nnz * sizeof *ja);
  ck_assert_msg(lc_problem_jacobian(b, NULL, rb, &Jb, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(Ja.nnz, Jb.nnz);
  ck_assert_int_eq(memcmp(Ja.col, Jb.col, (size_t)Jb.nnz * sizeof *Jb.col), 0);
  same(rb, ra, m, "residual");
  same(Jb.val, ja, Jb.nnz, "Jacobian");
  double Ea, Eb, *ga = malloc((size_t)n * sizeof *ga), *gb = malloc((size_t)n * sizeof *gb);
  ck_assert_int_eq(lc_problem_gn_hessian(a, NULL, 1, &Ea, ga, &Ha, &err), LC_OK);
  double *ha = malloc((size_t)Ha.nnz * sizeof *ha);
  memcpy(ha, Ha.val, (size_t)Ha.nnz * sizeof *ha);
  ck_assert_int_eq(lc_problem_gn_hessian(b, NULL, 1, &Eb, gb, &Hb, &err), LC_OK);
  ck_assert_int_eq(Ha.nnz, Hb.nnz);
  same(&Eb, &Ea, 1, "energy (Gauss-Newton)");
  same(gb, ga, n, "gradient (Gauss-Newton)");
  same(Hb.val, ha, Hb.nnz, "Gauss-Newton Hessian");
  free(ra), free(rb), free(ja), free(ga), free(gb), free(ha);
}

/* Residual DAGs (an edge length, a vertex position with three outputs)
 * against the built-in residual terms, beside an energy term: residuals,
 * Jacobian, Gauss-Newton Hessian, and energy, gradient, Hessian and H v of
 * E = 1/2 |r|^2. */
START_TEST(test_residuals_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 13), *b = problem(m, 13);
  G.n = 0;
  const int32_t len = B(LC_DAG_SUB, U(LC_DAG_NORM, B(LC_DAG_SUB, X(1), X(0))), K(0));
  lc_custom *el = residual_payload(LC_ELEM_EDGE, 2, 3, 1, 1, &len);
  G.n = 0;
  const int32_t pos = B(LC_DAG_SUB, X(0), lc_dagb(&G, LC_DAG_K, -1, -1, 0, 3, 0.0));
  lc_custom *po = residual_payload(LC_ELEM_VERTEX, 1, 3, 3, 1, &pos);
  ck_assert_int_eq(lc_custom_info(po)->n_resid, 3);
  static const char *const kn[] = {"k"};
  const double kv[] = {3.0};
  lc_custom *sp = spring_dag();
  add_pair(a, b, "res_edge_length", el, 0, NULL, NULL);
  add_pair(a, b, "spring", sp, 1, kn, kv);
  add_pair(a, b, "res_position", po, 0, NULL, NULL);
  lc_custom_release(el);
  lc_custom_release(po);
  lc_custom_release(sp);
  const int64_t n = 3 * (int64_t)lc_mesh_nv(m);
  compare(a, b, n);
  compare_gn(a, b, n);
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
}
END_TEST

/* Misuse: a dimension the DAG is not written for, a missing parameter, an
 * unknown one, constants missing, a constants DAG, an element kind of
 * another size. */
START_TEST(test_refusals) {
  lc_mesh *m = grid();
  lc_problem *p = problem(m, 3);
  lc_error err = {0};
  int var2, t;
  ck_assert_int_eq(lc_problem_add_variable(p, "u", LC_LOC_VERTEX, 2, NULL, &var2, &err), LC_OK);
  lc_custom *sp = spring_dag();
  static const char *const kn[] = {"k"}, *const bad[] = {"stiffness"};
  const double kv[] = {1.0};
  lc_term_desc d = {.custom = sp, .var = var2, .n_params = 1, .param_names = kn, .param_values = kv};
  ck_assert_int_eq(lc_problem_add_term(p, &d, &t, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "written for dimension 3; variable 'u' has 2"), "%s", err.msg);
  d.var = 0;
  d.n_params = 0;
  ck_assert_int_eq(lc_problem_add_term(p, &d, &t, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "needs per-element constants") || strstr(err.msg, "parameter 'k' has no value"), "%s",
                err.msg);
  d.n_params = 1;
  d.param_names = bad;
  ck_assert_int_eq(lc_problem_add_term(p, &d, &t, &err), LC_ENOTFOUND);
  ck_assert_msg(strstr(err.msg, "no parameter 'stiffness' (its parameters: k)"), "%s", err.msg);
  d.param_names = kn;
  ck_assert_int_eq(lc_problem_add_term(p, &d, &t, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "needs per-element constants"), "%s", err.msg);
  ck_assert_int_eq(lc_problem_n_terms(p), 0);
  /* a constants DAG as an energy, and an edge DAG on faces */
  G.n = 0;
  const int32_t r = B(LC_DAG_SUB, X(1), X(0));
  lc_dag_desc rd = lc_dagb_desc(&G, 2, 3, 0, 0, 1, &r);
  rd.residual = LC_DAG_CONSTS;
  lc_dag *g = NULL;
  lc_custom *c = NULL;
  ck_assert_int_eq(lc_dag_create(&rd, &g, &err), LC_OK);
  ck_assert_int_eq(lc_custom_create(g, LC_ELEM_EDGE, NULL, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "a constants DAG is not an energy"), "%s", err.msg);
  lc_dag_destroy(g);
  G.n = 0;
  const int32_t e = U(LC_DAG_SQNORM, B(LC_DAG_SUB, X(1), X(0)));
  const lc_dag_desc ed = lc_dagb_desc(&G, 2, 3, 0, 0, 1, &e);
  ck_assert_int_eq(lc_dag_create(&ed, &g, &err), LC_OK);
  ck_assert_int_eq(lc_custom_create(g, LC_ELEM_FACE, NULL, &c, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, "this element kind has 3 entities, the description 2"), "%s", err.msg);
  ck_assert_int_eq(lc_custom_create(g, LC_ELEM_EDGE, NULL, &c, &err), LC_OK); /* dirichlet: no constants */
  lc_term_desc dd = {.custom = c, .var = 0};
  ck_assert_msg(lc_problem_add_term(p, &dd, &t, &err) == LC_OK, "%s", err.msg);
  double E, Eref;
  ck_assert_int_eq(lc_problem_energy(p, NULL, &E, &err), LC_OK);
  lc_term_desc bd = {.energy = "dirichlet", .var = 0};
  ck_assert_int_eq(lc_problem_add_term(p, &bd, &t, &err), LC_OK);
  ck_assert_int_eq(lc_problem_term_energy(p, t, NULL, &Eref, &err), LC_OK);
  ck_assert_double_eq_tol(E, Eref, 1e-13 * Eref);
  lc_dag_destroy(g);
  lc_custom_release(c);
  lc_custom_release(sp);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

static Suite *custom_suite(void) {
  Suite *s = suite_create("custom");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_spring_stvk_bending_match_builtins);
  tcase_add_test(tc, test_symdir_matches_builtin);
  tcase_add_test(tc, test_neohookean_and_arap_match_builtins);
  tcase_add_test(tc, test_residuals_match_builtins);
  tcase_add_test(tc, test_refusals);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(custom_suite()); }
