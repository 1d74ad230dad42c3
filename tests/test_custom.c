/* test_custom.c - Check suite of custom energies as terms (engine/custom/
 * custom.c, the CPU instances of engine/cpu/cpu_custom_*.c): every built-in
 * energy re-expressed as a DAG (contact by nested selects over the
 * closest-feature cases) gives the same energy, gradient, Hessian (exact and
 * projected) and H v through the whole problem, and residual DAGs the same
 * residuals, Jacobians and Gauss-Newton Hessians (1e-13); misuse is refused
 * with a message. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "custom/custom.h"
#include "custom/dag_build.h"
#include "energies/contact_geom.h"
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

/* A payload of kind elem from the builder's nodes: an energy (res LC_DAG_ENERGY, out[0]) or
 * residual outputs out[n] (LC_DAG_RESIDUALS). */
static lc_custom *payload_n(int elem, int Kn, int D, int nc, int np, const char *const *names, int res, int n,
                            const int32_t *out) {
  lc_dag_desc d = lc_dagb_desc(&G, Kn, D, nc, np, n, out);
  d.residual = res;
  lc_dag *g = NULL;
  lc_custom *c = NULL;
  lc_error err = {0};
  ck_assert_msg(lc_dag_create(&d, &g, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(lc_custom_create(g, elem, names, &c, &err) == LC_OK, "%s", err.msg);
  lc_dag_destroy(g);
  return c;
}

/* A payload for the builder's nodes, energy out, on elements of kind elem. */
static lc_custom *payload(int elem, int Kn, int D, int nc, int np, const char *const *names, int32_t out) {
  return payload_n(elem, Kn, D, nc, np, names, LC_DAG_ENERGY, 1, &out);
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

/* compare (and compare_gn when gn) over all of a's DOFs, then frees a, b and m. */
static void check_and_free(lc_problem *a, lc_problem *b, lc_mesh *m, int gn) {
  const int64_t n = lc_problem_n_dofs(a);
  compare(a, b, n);
  if (gn) compare_gn(a, b, n);
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
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
  check_and_free(a, b, m, 0);
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
  check_and_free(a, b, m, 0);
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
  check_and_free(a, b, m, 0);
}
END_TEST

/* Residual DAGs (an edge length, a vertex position with three outputs)
 * against the built-in residual terms, beside an energy term: residuals,
 * Jacobian, Gauss-Newton Hessian, and energy, gradient, Hessian and H v of
 * E = 1/2 |r|^2. */
START_TEST(test_residuals_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 13), *b = problem(m, 13);
  G.n = 0;
  const int32_t len = B(LC_DAG_SUB, U(LC_DAG_NORM, B(LC_DAG_SUB, X(1), X(0))), K(0));
  lc_custom *el = payload_n(LC_ELEM_EDGE, 2, 3, 1, 0, NULL, LC_DAG_RESIDUALS, 1, &len);
  G.n = 0;
  const int32_t pos = B(LC_DAG_SUB, X(0), lc_dagb(&G, LC_DAG_K, -1, -1, 0, 3, 0.0));
  lc_custom *po = payload_n(LC_ELEM_VERTEX, 1, 3, 3, 0, NULL, LC_DAG_RESIDUALS, 1, &pos);
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

/* ---- the remaining built-ins as DAGs ----------------------------------------- */

#define XC(e, c) lc_dagb_x(&G, e, c)
#define KV(i, n) lc_dagb(&G, LC_DAG_K, -1, -1, i, n, 0.0)
#define ADD(a, b) B(LC_DAG_ADD, a, b)
#define SUB(a, b) B(LC_DAG_SUB, a, b)
#define MUL(a, b) B(LC_DAG_MUL, a, b)
#define SQ(a) lc_dagb_powc(&G, a, 2.0)

/* Adds the built-in and the custom c to a and b, then drops the payload. */
static void pair_and_release(lc_problem *a, lc_problem *b, const char *energy, lc_custom *c, int np,
                             const char *const *pn, const double *pv) {
  add_pair(a, b, energy, c, np, pn, pv);
  lc_custom_release(c);
}

/* +inf as the DAG writes it: 1 / 0. */
static int32_t inf_node(void) { return B(LC_DAG_DIV, C(1.0), C(0.0)); }

/* Complex product (ar, ai) (br, bi) into *r, *i. */
static void cmul(int32_t ar, int32_t ai, int32_t br, int32_t bi, int32_t *r, int32_t *i) {
  *r = SUB(MUL(ar, br), MUL(ai, bi));
  *i = ADD(MUL(ar, bi), MUL(ai, br));
}

/* Complex square of entity e's components c, c + 1. */
static void csq(int e, int c, int32_t *r, int32_t *i) { cmul(XC(e, c), XC(e, c + 1), XC(e, c), XC(e, c + 1), r, i); }

/* Vertex and edge energies: gravity, inertia, a 4D target, the cotangent Dirichlet energy, the
 * triangle area (3D); then the 2D area and the sphere barrier on their own variables. */
START_TEST(test_small_energies_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 21), *b = problem(m, 21);
  static const char *const gn[] = {"gx", "gy", "gz", "density"}, *const dn[] = {"density"}, *const kn[] = {"k"};
  const double gv[] = {0.3, -1.0, -9.8, 2.0}, dv[] = {1.5}, kv[] = {4.0};
  G.n = 0;
  pair_and_release(a, b, "gravity", payload(LC_ELEM_VERTEX, 1, 3, 1, 4, gn,
                   MUL(B(LC_DAG_DOT, X(0), lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){P(0), P(1), P(2)}, -1, -1)),
                       U(LC_DAG_NEG, K(0)))), 4, gn, gv);
  G.n = 0;
  pair_and_release(a, b, "inertia", payload(LC_ELEM_VERTEX, 1, 3, 4, 1, dn,
                   MUL(U(LC_DAG_SQNORM, SUB(X(0), KV(1, 3))), MUL(C(0.5), K(0)))), 1, dn, dv);
  G.n = 0;
  pair_and_release(a, b, "cot_dirichlet", payload(LC_ELEM_EDGE, 2, 3, 1, 0, NULL,
                   MUL(U(LC_DAG_SQNORM, SUB(X(1), X(0))), K(0))), 0, NULL, NULL);
  G.n = 0;
  pair_and_release(a, b, "area", payload(LC_ELEM_FACE, 3, 3, 0, 0, NULL,
                   MUL(U(LC_DAG_NORM, B(LC_DAG_CROSS, SUB(X(1), X(0)), SUB(X(2), X(0)))), C(0.5))), 0, NULL, NULL);
  compare(a, b, lc_problem_n_dofs(a));
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  /* 2D area and a 4D target */
  a = problem_dim(m, 22, 2), b = problem_dim(m, 22, 2);
  G.n = 0;
  pair_and_release(a, b, "area", payload(LC_ELEM_FACE, 3, 2, 0, 0, NULL,
                   MUL(B(LC_DAG_CROSS, SUB(X(1), X(0)), SUB(X(2), X(0))), C(0.5))), 0, NULL, NULL);
  lc_error err = {0};
  int v4;
  ck_assert_int_eq(lc_problem_add_variable(a, "q", LC_LOC_VERTEX, 4, NULL, &v4, &err), LC_OK);
  ck_assert_int_eq(lc_problem_add_variable(b, "q", LC_LOC_VERTEX, 4, NULL, &v4, &err), LC_OK);
  const int64_t n = lc_problem_n_dofs(a);
  double *x = malloc((size_t)n * sizeof *x);
  unsigned long long seed = 99;
  ck_assert_int_eq(lc_problem_get_variable(a, 0, x, &err), LC_OK); /* keeps the 2D part; q random */
  for (int64_t i = 2 * (int64_t)lc_mesh_nv(m); i < n; ++i) x[i] = lc_test_rand(&seed, -1, 1);
  ck_assert_int_eq(lc_problem_set_x(a, x, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_x(b, x, &err), LC_OK);
  free(x);
  G.n = 0;
  const int32_t tgt = MUL(U(LC_DAG_SQNORM, SUB(X(0), KV(0, 4))), MUL(C(0.5), P(0)));
  lc_custom *tc = payload(LC_ELEM_VERTEX, 1, 4, 4, 1, kn, tgt);
  lc_term_desc ta = {.energy = "target", .var = v4, .n_params = 1, .param_names = kn, .param_values = kv};
  double *k4 = calloc(4 * (size_t)lc_mesh_nv(m), sizeof *k4);
  for (int32_t i = 0; i < 4 * lc_mesh_nv(m); ++i) k4[i] = urand(-1, 1);
  ta.consts = k4;
  int t;
  ck_assert_int_eq(lc_problem_add_term(a, &ta, &t, &err), LC_OK);
  ta.energy = NULL, ta.custom = tc;
  ck_assert_msg(lc_problem_add_term(b, &ta, &t, &err) == LC_OK, "%s", err.msg);
  lc_custom_release(tc);
  free(k4);
  compare(a, b, n);
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  /* the sphere barrier on x = (xy / 10 + noise, 1 + noise): every face counter-clockwise seen from 0 */
  a = problem(m, 23), b = problem(m, 23);
  x = malloc(3 * (size_t)lc_mesh_nv(m) * sizeof *x);
  ck_assert_int_eq(lc_problem_get_variable(a, 0, x, &err), LC_OK);
  for (int32_t i = 0; i < lc_mesh_nv(m); ++i)
    x[3 * i] *= 0.1, x[3 * i + 1] *= 0.1, x[3 * i + 2] = 1.0 + urand(-0.01, 0.01);
  ck_assert_int_eq(lc_problem_set_variable(a, 0, x, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_variable(b, 0, x, &err), LC_OK);
  free(x);
  static const char *const wn[] = {"edge_weight"};
  const double wv[] = {0.7};
  G.n = 0;
  const int32_t det = B(LC_DAG_DOT, X(0), B(LC_DAG_CROSS, X(1), X(2)));
  const int32_t l2 = ADD(ADD(U(LC_DAG_SQNORM, SUB(X(1), X(0))), U(LC_DAG_SQNORM, SUB(X(2), X(1)))),
                         U(LC_DAG_SQNORM, SUB(X(0), X(2))));
  const int32_t e = SUB(MUL(l2, P(0)), U(LC_DAG_LOG, MUL(det, C(1.0 / 6.0))));
  const int32_t sel[] = {B(LC_DAG_GT, det, C(0.0)), e, inf_node()};
  pair_and_release(a, b, "sphere_param", payload(LC_ELEM_FACE, 3, 3, 0, 1, wn, lc_dagb_n(&G, LC_DAG_SELECT, 3, sel, -1, -1)),
                   1, wn, wv);
  check_and_free(a, b, m, 0);
}
END_TEST

/* Two CPU problems with a 4D face variable at alpha ~ (1, 0), beta ~ (0, 0.5) plus noise. */
static void frame_problems(lc_mesh *m, lc_problem **a, lc_problem **b) {
  lc_error err = {0};
  int var;
  const int64_t n = 4 * (int64_t)lc_mesh_nf(m);
  double *x = malloc((size_t)n * sizeof *x);
  for (int64_t i = 0; i < n; ++i) x[i] = (i % 4 == 0 ? 1.0 : i % 4 == 3 ? 0.5 : 0.0) + urand(-0.1, 0.1);
  lc_problem **ps[2] = {a, b};
  for (int j = 0; j < 2; ++j) {
    ck_assert_int_eq(lc_problem_create(m, "cpu", ps[j], &err), LC_OK);
    ck_assert_int_eq(lc_problem_add_variable(*ps[j], "f", LC_LOC_FACE, 4, NULL, &var, &err), LC_OK);
    ck_assert_int_eq(lc_problem_set_variable(*ps[j], 0, x, &err), LC_OK);
  }
  free(x);
}

/* The frame-field terms (closeness, barrier, smoothness, curl; residuals on face variables):
 * residuals, Jacobians, Gauss-Newton and exact derivatives agree. */
START_TEST(test_frame_field_terms_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a, *b;
  frame_problems(m, &a, &b);
  G.n = 0;
  const int32_t close = SUB(X(0), KV(0, 4));
  pair_and_release(a, b, "ff_close", payload_n(LC_ELEM_VERTEX, 1, 4, 4, 0, NULL, LC_DAG_RESIDUALS, 1, &close), 0, NULL,
                   NULL);
  static const char *const sw[] = {"s", "w"};
  const double swv[] = {0.9, 0.1};
  G.n = 0;
  const int32_t im = SUB(MUL(XC(0, 3), XC(0, 0)), MUL(XC(0, 2), XC(0, 1)));
  const int32_t om = B(LC_DAG_SUB, C(1.0), B(LC_DAG_DIV, im, P(0)));
  const int32_t g = SUB(C(1.0), MUL(SQ(om), om));
  const int32_t r = MUL(SUB(B(LC_DAG_DIV, C(1.0), g), C(1.0)), U(LC_DAG_SQRT, P(1)));
  const int32_t in_s[] = {B(LC_DAG_GE, im, P(0)), C(0.0), r};
  const int32_t pos[] = {B(LC_DAG_GT, im, C(0.0)), lc_dagb_n(&G, LC_DAG_SELECT, 3, in_s, -1, -1), inf_node()};
  const int32_t bar = lc_dagb_n(&G, LC_DAG_SELECT, 3, pos, -1, -1);
  pair_and_release(a, b, "ff_barrier", payload_n(LC_ELEM_VERTEX, 1, 4, 0, 2, sw, LC_DAG_RESIDUALS, 1, &bar), 2, sw,
                   swv);
  /* smoothness: r = (C0_f t^4 - C0_g, C2_f t^2 - C2_g) */
  G.n = 0;
  int32_t t2r, t2i, t4r, t4i, afr, afi, bfr, bfi, agr, agi, bgr, bgi, c0fr, c0fi, c0gr, c0gi, c0r, c0i, c2r, c2i;
  cmul(K(0), K(1), K(0), K(1), &t2r, &t2i);
  cmul(t2r, t2i, t2r, t2i, &t4r, &t4i);
  csq(0, 0, &afr, &afi), csq(0, 2, &bfr, &bfi), csq(1, 0, &agr, &agi), csq(1, 2, &bgr, &bgi);
  cmul(afr, afi, bfr, bfi, &c0fr, &c0fi);
  cmul(agr, agi, bgr, bgi, &c0gr, &c0gi);
  cmul(c0fr, c0fi, t4r, t4i, &c0r, &c0i);
  cmul(ADD(afr, bfr), ADD(afi, bfi), t2r, t2i, &c2r, &c2i);
  const int32_t sm[] = {SUB(c0r, c0gr), SUB(c0i, c0gi), SUB(ADD(agr, bgr), c2r), SUB(ADD(agi, bgi), c2i)};
  pair_and_release(a, b, "ff_smooth", payload_n(LC_ELEM_FACE_PAIR, 2, 4, 2, 0, NULL, LC_DAG_RESIDUALS, 4, sm), 0, NULL,
                   NULL);
  /* curl: a = Re(alpha ebar), b = Re(beta ebar) per face */
  static const char *const wcq[] = {"wc", "wq"};
  const double wcqv[] = {100.0, 10.0};
  G.n = 0;
  const int32_t af = SUB(MUL(XC(0, 0), K(0)), MUL(XC(0, 1), K(1))), bf = SUB(MUL(XC(0, 2), K(0)), MUL(XC(0, 3), K(1)));
  const int32_t ag = SUB(MUL(XC(1, 0), K(2)), MUL(XC(1, 1), K(3))), bg = SUB(MUL(XC(1, 2), K(2)), MUL(XC(1, 3), K(3)));
  const int32_t af2 = SQ(af), bf2 = SQ(bf), ag2 = SQ(ag), bg2 = SQ(bg);
  const int32_t cu[] = {
      MUL(SUB(MUL(af2, bf2), MUL(ag2, bg2)), P(0)),
      MUL(SUB(ADD(ag2, bg2), ADD(af2, bf2)), U(LC_DAG_SQRT, P(0))),
      MUL(SUB(MUL(SUB(bf2, af2), MUL(ag, bg)), MUL(SUB(bg2, ag2), MUL(af, bf))), U(LC_DAG_SQRT, P(1)))};
  pair_and_release(a, b, "ff_curl", payload_n(LC_ELEM_FACE_PAIR, 2, 4, 4, 2, wcq, LC_DAG_RESIDUALS, 3, cu), 2, wcq,
                   wcqv);
  check_and_free(a, b, m, 1);
}
END_TEST

/* Embedded deformation (12 components per node, [t, A row-major]): fit, rotation and
 * regularisation residuals on the grid as the node graph. */
START_TEST(test_embedded_deformation_terms_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem_dim(m, 31, 12), *b = problem_dim(m, 31, 12);
  static const char *const wn[] = {"w"};
  const double w3[] = {3.0}, w5[] = {5.0}, w12[] = {12.0};
  /* fit: sqrt(w) (t + p - q) */
  G.n = 0;
  const int32_t t = lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){XC(0, 0), XC(0, 1), XC(0, 2)}, -1, -1);
  const int32_t fit = MUL(ADD(t, SUB(KV(0, 3), KV(3, 3))), U(LC_DAG_SQRT, P(0)));
  pair_and_release(a, b, "ed_fit", payload_n(LC_ELEM_VERTEX, 1, 12, 6, 1, wn, LC_DAG_RESIDUALS, 1, &fit), 1, wn, w3);
  /* rotation: the six entries of A^T A - I */
  G.n = 0;
  int32_t col[3];
  for (int c = 0; c < 3; ++c)
    col[c] = lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){XC(0, 3 + c), XC(0, 6 + c), XC(0, 9 + c)}, -1, -1);
  const int32_t sw = U(LC_DAG_SQRT, P(0));
  const int32_t rot[] = {MUL(B(LC_DAG_DOT, col[0], col[1]), sw), MUL(B(LC_DAG_DOT, col[0], col[2]), sw),
                         MUL(B(LC_DAG_DOT, col[1], col[2]), sw), MUL(SUB(U(LC_DAG_SQNORM, col[0]), C(1.0)), sw),
                         MUL(SUB(U(LC_DAG_SQNORM, col[1]), C(1.0)), sw), MUL(SUB(U(LC_DAG_SQNORM, col[2]), C(1.0)), sw)};
  pair_and_release(a, b, "ed_rot", payload_n(LC_ELEM_VERTEX, 1, 12, 0, 1, wn, LC_DAG_RESIDUALS, 6, rot), 1, wn, w5);
  /* regularisation: sqrt(w) (A_i e - e + t_i - t_j), sqrt(w) (-A_j e + e + t_j - t_i) */
  G.n = 0;
  int32_t tv[2], Am[2];
  for (int e = 0; e < 2; ++e) {
    tv[e] = lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){XC(e, 0), XC(e, 1), XC(e, 2)}, -1, -1);
    int32_t ent[9];
    for (int j = 0; j < 9; ++j) ent[j] = XC(e, 3 + j);
    Am[e] = lc_dagb_n(&G, LC_DAG_MAT, 9, ent, 3, 3);
  }
  const int32_t ev = KV(0, 3), swr = U(LC_DAG_SQRT, P(0));
  const int32_t reg[] = {MUL(ADD(SUB(MUL(Am[0], ev), ev), SUB(tv[0], tv[1])), swr),
                         MUL(ADD(SUB(ev, MUL(Am[1], ev)), SUB(tv[1], tv[0])), swr)};
  pair_and_release(a, b, "ed_reg", payload_n(LC_ELEM_EDGE, 2, 12, 3, 1, wn, LC_DAG_RESIDUALS, 2, reg), 1, wn, w12);
  check_and_free(a, b, m, 1);
}
END_TEST

/* The friction mollifier f0(sqrt(s); eps) of contact_geom.h into G (eps: parameter 0). */
static int32_t friction_f0(int32_t sv) {
  const int32_t e = P(0), y = U(LC_DAG_SQRT, sv);
  const int32_t low = ADD(SUB(B(LC_DAG_DIV, sv, e), B(LC_DAG_DIV, lc_dagb_powc(&G, sv, 1.5), MUL(C(3.0), SQ(e)))),
                          B(LC_DAG_DIV, e, C(3.0)));
  const int32_t sel[] = {B(LC_DAG_GE, y, e), y, low};
  return lc_dagb_n(&G, LC_DAG_SELECT, 3, sel, -1, -1);
}

/* s = |v|^2 - (n.v)^2 of v = sum_a w_a x_a - c (w: constants 0..K-1 when K > 1; n, c after). */
static int32_t tangential_s(int Kn) {
  const int o = Kn > 1 ? Kn : 0;
  int32_t v = Kn > 1 ? MUL(X(0), K(0)) : X(0);
  for (int a = 1; a < Kn; ++a) v = ADD(v, MUL(X(a), K(a)));
  v = SUB(v, KV(o + 3, 3));
  return SUB(U(LC_DAG_SQNORM, v), SQ(B(LC_DAG_DOT, KV(o, 3), v)));
}

/* Adds the built-in energy and the custom c over elems[n x K] (NULL: the natural ones) with
 * constants k to a and b; drops c. */
static void add_pair_given(lc_problem *a, lc_problem *b, const char *energy, lc_custom *c, const int32_t *elems,
                           int32_t n, const double *k, int np, const char *const *pn, const double *pv) {
  lc_error err = {0};
  int t;
  lc_term_desc d = {.energy = energy, .var = 0, .elems = elems, .n_elems = n, .consts = k, .n_params = np,
                    .param_names = pn, .param_values = pv};
  ck_assert_msg(lc_problem_add_term(a, &d, &t, &err) == LC_OK, "%s", err.msg);
  d.energy = NULL, d.custom = c;
  ck_assert_msg(lc_problem_add_term(b, &d, &t, &err) == LC_OK, "%s", err.msg);
  lc_custom_release(c);
}

/* The contact terms that need no distance classification: the plane barrier, the margin
 * (always 0), and lagged friction of a vertex and of a four-point pair. */
START_TEST(test_plane_contact_and_friction_match_builtins) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 41), *b = problem(m, 41);
  const int32_t nv = lc_mesh_nv(m);
  /* plane z = -0.35, dhat 0.3: some vertices inside the barrier's reach, some beyond */
  static const char *const pn[] = {"dhat", "dmin", "ox", "oy", "oz", "nx", "ny", "nz"};
  const double pv[] = {0.3, 0.01, 0.0, 0.0, -0.35, 0.0, 0.0, 1.0};
  G.n = 0;
  const int32_t o = lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){P(2), P(3), P(4)}, -1, -1);
  const int32_t nn = lc_dagb_n(&G, LC_DAG_VEC, 3, (int32_t[]){P(5), P(6), P(7)}, -1, -1);
  const int32_t d = B(LC_DAG_DOT, SUB(X(0), o), nn);
  const int32_t sv = SUB(SQ(d), SQ(P(1)));
  const int32_t sh = MUL(ADD(MUL(C(2.0), P(1)), P(0)), P(0));
  const int32_t bar = U(LC_DAG_NEG, MUL(SQ(SUB(sv, sh)), U(LC_DAG_LOG, B(LC_DAG_DIV, sv, sh))));
  const int32_t in_reach[] = {B(LC_DAG_LT, sv, sh), bar, C(0.0)};
  const int32_t ahead[] = {B(LC_DAG_GT, d, P(1)), lc_dagb_n(&G, LC_DAG_SELECT, 3, in_reach, -1, -1), inf_node()};
  pair_and_release(a, b, "contact_plane", payload(LC_ELEM_VERTEX, 1, 3, 0, 8, pn, lc_dagb_n(&G, LC_DAG_SELECT, 3, ahead, -1, -1)),
                   8, pn, pv);
  G.n = 0;
  pair_and_release(a, b, "contact_margin", payload(LC_ELEM_VERTEX, 1, 3, 4, 0, NULL, MUL(C(0.0), K(3))), 0, NULL, NULL);
  /* friction of every vertex: n a random unit normal, c = x + noise (sliding and sticking), mu lambda 2 */
  static const char *const en[] = {"eps"};
  const double ev[] = {0.05};
  lc_error err = {0};
  double *x = malloc(3 * (size_t)nv * sizeof *x), *k = malloc(11 * (size_t)nv * sizeof *k);
  int32_t *el = malloc(4 * (size_t)nv * sizeof *el);
  ck_assert_int_eq(lc_problem_get_variable(a, 0, x, &err), LC_OK);
  for (int32_t i = 0; i < nv; ++i) {
    double *q = k + 7 * i, nrm = 0.0;
    for (int c = 0; c < 3; ++c) q[c] = urand(-1, 1), nrm += q[c] * q[c];
    for (int c = 0; c < 3; ++c) q[c] /= sqrt(nrm), q[3 + c] = x[3 * i + c] + urand(-0.06, 0.06);
    q[6] = 2.0;
    el[i] = i;
  }
  G.n = 0;
  pair_and_release(a, b, "friction_point", payload(LC_ELEM_VERTEX, 1, 3, 7, 1, en, MUL(friction_f0(tangential_s(1)), K(6))),
                   1, en, ev); /* the setup's constants, replaced below */
  const int tf = lc_problem_n_terms(a) - 1;
  ck_assert_int_eq(lc_problem_set_term_consts(a, tf, k, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_term_consts(b, tf, k, &err), LC_OK);
  /* friction of pairs (vertex i, the face f's corners) with weights (1, -w0, -w1, -w2) */
  const int32_t nf = lc_mesh_nf(m), np = nf < nv ? nf : nv;
  const int32_t *F = lc_mesh_F(m);
  int32_t n_pairs = 0;
  for (int32_t f = 0; f < np; ++f) {
    const int32_t i = (f * 7 + 3) % nv;
    if (i == F[3 * f] || i == F[3 * f + 1] || i == F[3 * f + 2]) continue;
    int32_t *e = el + 4 * n_pairs;
    double *q = k + 11 * n_pairs, w0 = urand(0, 0.5), w1 = urand(0, 0.5), nrm = 0.0;
    e[0] = i, e[1] = F[3 * f], e[2] = F[3 * f + 1], e[3] = F[3 * f + 2];
    q[0] = 1.0, q[1] = -w0, q[2] = -w1, q[3] = -(1.0 - w0 - w1);
    for (int c = 0; c < 3; ++c) q[4 + c] = urand(-1, 1), nrm += q[4 + c] * q[4 + c];
    for (int c = 0; c < 3; ++c) {
      q[4 + c] /= sqrt(nrm);
      q[7 + c] = urand(-0.06, 0.06);
      for (int a2 = 0; a2 < 4; ++a2) q[7 + c] += q[a2] * x[3 * e[a2] + c];
    }
    q[10] = 1.5;
    ++n_pairs;
  }
  G.n = 0;
  add_pair_given(a, b, "friction_pair", payload(LC_ELEM_LIST, 4, 3, 11, 1, en, MUL(friction_f0(tangential_s(4)), K(10))),
                 el, n_pairs, k, 1, en, ev);
  free(x), free(k), free(el);
  check_and_free(a, b, m, 0);
}
END_TEST

/* select(c1 && c2 && c3, yes, no) (c2, c3 may be -1: absent). */
static int32_t sel_and(int32_t c1, int32_t c2, int32_t c3, int32_t yes, int32_t no) {
  int32_t v = yes;
  const int32_t cs[3] = {c3, c2, c1};
  for (int i = 0; i < 3; ++i)
    if (cs[i] >= 0) v = lc_dagb_n(&G, LC_DAG_SELECT, 3, (int32_t[]){cs[i], v, no}, -1, -1);
  return v;
}

/* |d0 x d1|^2 / |d1|^2: the squared distance of a point from a line (contact_geom.h's PE form). */
static int32_t d2_line(int32_t d0, int32_t d1) {
  return B(LC_DAG_DIV, U(LC_DAG_SQNORM, B(LC_DAG_CROSS, d0, d1)), U(LC_DAG_SQNORM, d1));
}

/* The point-triangle contact barrier of e_contact_pt.h as a DAG: the closest feature chosen as
 * lc_ct_classify_pt chooses it, its squared distance, the barrier (dhat, dmin: parameters). */
static int32_t contact_pt_dag(void) {
  const int32_t p = X(0), a = X(1), b = X(2), c = X(3), zero = C(0.0);
  const int32_t ab = SUB(b, a), ac = SUB(c, a), ap = SUB(p, a), bp = SUB(p, b), cp = SUB(p, c);
  const int32_t d1 = B(LC_DAG_DOT, ab, ap), d2 = B(LC_DAG_DOT, ac, ap), d3 = B(LC_DAG_DOT, ab, bp);
  const int32_t d4 = B(LC_DAG_DOT, ac, bp), d5 = B(LC_DAG_DOT, ab, cp), d6 = B(LC_DAG_DOT, ac, cp);
  const int32_t n = B(LC_DAG_CROSS, ab, ac), pn = B(LC_DAG_DOT, ap, n);
  int32_t d = B(LC_DAG_DIV, SQ(pn), U(LC_DAG_SQNORM, n)); /* point-plane */
  d = sel_and(B(LC_DAG_LE, SUB(MUL(d3, d6), MUL(d5, d4)), zero), B(LC_DAG_GE, SUB(d4, d3), zero),
              B(LC_DAG_GE, SUB(d5, d6), zero), d2_line(bp, SUB(c, b)), d);
  d = sel_and(B(LC_DAG_LE, SUB(MUL(d5, d2), MUL(d1, d6)), zero), B(LC_DAG_GE, d2, zero), B(LC_DAG_LE, d6, zero),
              d2_line(cp, SUB(a, c)), d);
  d = sel_and(B(LC_DAG_GE, d6, zero), B(LC_DAG_LE, d5, d6), -1, U(LC_DAG_SQNORM, cp), d);
  d = sel_and(B(LC_DAG_LE, SUB(MUL(d1, d4), MUL(d3, d2)), zero), B(LC_DAG_GE, d1, zero), B(LC_DAG_LE, d3, zero),
              d2_line(ap, ab), d);
  d = sel_and(B(LC_DAG_GE, d3, zero), B(LC_DAG_LE, d4, d3), -1, U(LC_DAG_SQNORM, bp), d);
  d = sel_and(B(LC_DAG_LE, d1, zero), B(LC_DAG_LE, d2, zero), -1, U(LC_DAG_SQNORM, ap), d);
  const int32_t s = SUB(d, SQ(P(1))), sh = MUL(ADD(MUL(C(2.0), P(1)), P(0)), P(0));
  const int32_t bar = U(LC_DAG_NEG, MUL(SQ(SUB(s, sh)), U(LC_DAG_LOG, B(LC_DAG_DIV, s, sh))));
  const int32_t e = sel_and(B(LC_DAG_GT, s, zero), -1, -1, sel_and(B(LC_DAG_LT, s, sh), -1, -1, bar, zero), inf_node());
  return MUL(e, K(0));
}

/* Adds the contact energy and its DAG (output out, nc constants, parameters dhat 0.1 and dmin
 * 0.01) over the pairs el[n x 4] with constants k to a and b, compares, frees a, b and m. */
static void contact_pairs_match(lc_problem *a, lc_problem *b, lc_mesh *m, const char *energy, int nc, int32_t out,
                                const int32_t *el, int32_t n, const double *k) {
  static const char *const pn[] = {"dhat", "dmin"};
  const double pv[] = {0.1, 0.01};
  add_pair_given(a, b, energy, payload(LC_ELEM_LIST, 4, 3, nc, 2, pn, out), el, n, k, 2, pn, pv);
  check_and_free(a, b, m, 0);
}

/* The point-triangle contact barrier: 12 pairs (a top-row vertex, a bottom-row face) with the
 * point placed at barycentric coordinates that reach every closest-feature type (inside: the
 * plane; just outside a corner or an edge: point-point, point-edge), 0.03-0.07 above the face. */
START_TEST(test_point_triangle_contact_matches_builtin) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 51), *b = problem(m, 51);
  static const double bary[12][3] = {{0.3, 0.3, 0.4},     {0.2, 0.5, 0.3},     {1.04, -0.02, -0.02},
                                     {-0.02, 1.04, -0.02}, {-0.03, -0.01, 1.04}, {0.52, 0.52, -0.04},
                                     {-0.04, 0.52, 0.52},  {0.52, -0.04, 0.52}, {0.6, 0.1, 0.3},
                                     {1.02, 0.01, -0.03},  {0.47, 0.55, -0.02}, {0.1, 0.1, 0.8}};
  const int32_t nv = lc_mesh_nv(m), *F = lc_mesh_F(m);
  lc_error err = {0};
  double *x = malloc(3 * (size_t)nv * sizeof *x), k[12];
  int32_t el[48];
  ck_assert_int_eq(lc_problem_get_variable(a, 0, x, &err), LC_OK);
  for (int q = 0; q < 12; ++q) {
    const int32_t f = q, i = nv - 1 - q; /* faces of the bottom rows, vertices of the top rows */
    const double *c0 = x + 3 * F[3 * f], *c1 = x + 3 * F[3 * f + 1], *c2 = x + 3 * F[3 * f + 2];
    double u[3], v[3], nrm[3], len = 0.0, *pt = x + 3 * i;
    for (int c = 0; c < 3; ++c) u[c] = c1[c] - c0[c], v[c] = c2[c] - c0[c];
    nrm[0] = u[1] * v[2] - u[2] * v[1], nrm[1] = u[2] * v[0] - u[0] * v[2], nrm[2] = u[0] * v[1] - u[1] * v[0];
    for (int c = 0; c < 3; ++c) len += nrm[c] * nrm[c];
    for (int c = 0; c < 3; ++c)
      pt[c] = bary[q][0] * c0[c] + bary[q][1] * c1[c] + bary[q][2] * c2[c] + (0.03 + 0.004 * q) * nrm[c] / sqrt(len);
    el[4 * q] = i, el[4 * q + 1] = F[3 * f], el[4 * q + 2] = F[3 * f + 1], el[4 * q + 3] = F[3 * f + 2];
    k[q] = 1.0 + 0.1 * q;
  }
  ck_assert_int_eq(lc_problem_set_variable(a, 0, x, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_variable(b, 0, x, &err), LC_OK);
  int seen[3] = {0, 0, 0};
  for (int q = 0; q < 12; ++q) { /* every feature type occurs, every pair within reach */
    double xl[12];
    for (int e = 0; e < 4; ++e) memcpy(xl + 3 * e, x + 3 * el[4 * q + e], 3 * sizeof *xl);
    const lc_ct_dist t = lc_ct_classify_pt(xl);
    seen[t.type] = 1;
    ck_assert_double_lt(lc_ct_d2(t, xl) - 1e-4, lc_ct_shat(0.1, 0.01));
  }
  ck_assert_msg(seen[LC_CT_PP] && seen[LC_CT_PE] && seen[LC_CT_PT], "feature types %d %d %d", seen[0], seen[1], seen[2]);
  free(x);
  G.n = 0;
  contact_pairs_match(a, b, m, "contact_pt", 1, contact_pt_dag(), el, 12, k);
}
END_TEST

/* min(max(v, 0), 1) as lc_ct_clamp01 clamps. */
static int32_t clamp01(int32_t v) { return B(LC_DAG_MIN, B(LC_DAG_MAX, v, C(0.0)), C(1.0)); }

/* The edge-edge contact barrier of e_contact_ee.h as a DAG, for pairs that are not parallel
 * (the built-in's parallel branch, |u x v|^2 < 2.5e-16 |u|^2 |v|^2, is not written): the closest
 * points as lc_ct_classify_ee finds them, the squared distance of their feature type, the
 * barrier, the mollifier (constants w, eps; parameters dhat, dmin). */
static int32_t contact_ee_dag(void) {
  const int32_t a0 = X(0), a1 = X(1), b0 = X(2), b1 = X(3), zero = C(0.0), one = C(1.0);
  const int32_t u = SUB(a1, a0), v = SUB(b1, b0), r = SUB(a0, b0), n = B(LC_DAG_CROSS, u, v);
  const int32_t A = U(LC_DAG_SQNORM, u), E = U(LC_DAG_SQNORM, v), Bd = B(LC_DAG_DOT, u, v);
  const int32_t Cc = B(LC_DAG_DOT, u, r), Fd = B(LC_DAG_DOT, v, r), den = U(LC_DAG_SQNORM, n);
  const int32_t s0 = clamp01(B(LC_DAG_DIV, SUB(MUL(Bd, Fd), MUL(Cc, E)), den));
  const int32_t t0 = B(LC_DAG_DIV, ADD(MUL(Bd, s0), Fd), E);
  const int32_t lo = B(LC_DAG_LE, t0, zero), hi = B(LC_DAG_GE, t0, one);
  const int32_t t = sel_and(lo, -1, -1, zero, sel_and(hi, -1, -1, one, t0));
  const int32_t sv = sel_and(lo, -1, -1, clamp01(B(LC_DAG_DIV, U(LC_DAG_NEG, Cc), A)),
                             sel_and(hi, -1, -1, clamp01(B(LC_DAG_DIV, SUB(Bd, Cc), A)), s0));
  const int32_t s1 = B(LC_DAG_GE, sv, one), t1 = B(LC_DAG_GE, t, one);
  const int32_t pa = sel_and(s1, -1, -1, a1, a0), pb = sel_and(t1, -1, -1, b1, b0);
  const int32_t ee = B(LC_DAG_DIV, SQ(B(LC_DAG_DOT, r, n)), den);
  const int32_t pe_a = d2_line(SUB(pb, a0), u), pe_b = d2_line(SUB(pa, b0), v);
  const int32_t pp = U(LC_DAG_SQNORM, SUB(pa, pb));
  const int32_t s_in = B(LC_DAG_GT, sv, zero), s_in1 = B(LC_DAG_LT, sv, one);
  const int32_t t_in = B(LC_DAG_GT, t, zero), t_in1 = B(LC_DAG_LT, t, one);
  int32_t d = sel_and(t_in, t_in1, -1, pe_b, pp);
  d = sel_and(s_in, s_in1, -1, sel_and(t_in, t_in1, -1, ee, pe_a), d);
  const int32_t s = SUB(d, SQ(P(1))), sh = MUL(ADD(MUL(C(2.0), P(1)), P(0)), P(0));
  const int32_t bar = U(LC_DAG_NEG, MUL(SQ(SUB(s, sh)), U(LC_DAG_LOG, B(LC_DAG_DIV, s, sh))));
  const int32_t e = sel_and(B(LC_DAG_GT, s, zero), -1, -1, sel_and(B(LC_DAG_LT, s, sh), -1, -1, bar, zero), inf_node());
  const int32_t y = B(LC_DAG_DIV, den, K(1));
  const int32_t moll = sel_and(B(LC_DAG_LT, den, K(1)), -1, -1, MUL(SUB(C(2.0), y), y), one);
  return MUL(MUL(e, K(0)), moll);
}

/* The edge-edge contact barrier: edges of the bottom rows against segments between top-row
 * vertices placed across them (line-line), ending above them (point-edge), beyond their ends
 * (point-point) and nearly parallel (the mollifier), 0.03-0.06 above. */
START_TEST(test_edge_edge_contact_matches_builtin) {
  lc_mesh *m = grid();
  lc_problem *a = problem(m, 61), *b = problem(m, 61);
  const int32_t nv = lc_mesh_nv(m);
  lc_error err = {0};
  double *x = malloc(3 * (size_t)nv * sizeof *x), k[16];
  int32_t el[32];
  ck_assert_int_eq(lc_problem_get_variable(a, 0, x, &err), LC_OK);
  /* segment b = mid(a) + h z + (p0, p1) along (u, w): w in-plane across a, per kind */
  static const double ends[8][4] = {{-0.1, -0.4, 0.1, 0.4},  {0.2, -0.3, -0.1, 0.5}, /* crossing */
                                    {0.0, 0.02, 0.1, 0.6},   {0.3, 0.03, 0.2, 0.7},  /* ending above */
                                    {0.53, 0.0, 1.2, 0.2},   {-0.54, 0.01, -1.1, -0.3}, /* beyond an end */
                                    {-0.4, 0.0, 0.4, 0.008}, {-0.3, 0.01, 0.45, 0.012}}; /* nearly parallel */
  int seen_ee = 0, seen_pe = 0, seen_pp = 0, moll = 0;
  for (int q = 0; q < 8; ++q) {
    const int32_t i0 = q < 5 ? q : q + 1, i1 = i0 + 1, j0 = nv - 1 - 2 * q, j1 = nv - 2 - 2 * q; /* a bottom-row edge; top vertices */
    const double *p0 = x + 3 * i0, *p1 = x + 3 * i1;
    double uu[3], w[3], mid[3], lu = 0.0;
    for (int c = 0; c < 3; ++c) uu[c] = p1[c] - p0[c], mid[c] = 0.5 * (p0[c] + p1[c]), lu += uu[c] * uu[c];
    w[0] = -uu[1] / sqrt(lu), w[1] = uu[0] / sqrt(lu), w[2] = 0.0;
    const double h = 0.03 + 0.004 * q;
    for (int c = 0; c < 3; ++c) {
      x[3 * j0 + c] = mid[c] + ends[q][0] * uu[c] + ends[q][1] * w[c] + (c == 2 ? h : 0.0);
      x[3 * j1 + c] = mid[c] + ends[q][2] * uu[c] + ends[q][3] * w[c] + (c == 2 ? h : 0.0);
    }
    el[4 * q] = i0, el[4 * q + 1] = i1, el[4 * q + 2] = j0, el[4 * q + 3] = j1;
    double xl[12], ua[3], ub[3], cx[3];
    for (int e = 0; e < 4; ++e) memcpy(xl + 3 * e, x + 3 * el[4 * q + e], 3 * sizeof *xl);
    lc_ct_sub(xl + 3, xl, ua);
    lc_ct_sub(xl + 9, xl + 6, ub);
    lc_ct_cross(ua, ub, cx);
    k[2 * q] = 1.0 + 0.1 * q, k[2 * q + 1] = lc_ct_moll_eps(ua, ub);
    const lc_ct_dist t = lc_ct_classify_ee(xl);
    seen_ee |= t.type == LC_CT_EE, seen_pe |= t.type == LC_CT_PE, seen_pp |= t.type == LC_CT_PP;
    moll |= lc_ct_dot(cx, cx) < k[2 * q + 1];
    ck_assert_double_lt(lc_ct_d2(t, xl) - 1e-4, lc_ct_shat(0.1, 0.01));
  }
  ck_assert_msg(seen_ee && seen_pe && seen_pp && moll, "types %d %d %d, mollified %d", seen_ee, seen_pe, seen_pp, moll);
  ck_assert_int_eq(lc_problem_set_variable(a, 0, x, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_variable(b, 0, x, &err), LC_OK);
  free(x);
  G.n = 0;
  contact_pairs_match(a, b, m, "contact_ee", 2, contact_ee_dag(), el, 8, k);
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
  tcase_add_test(tc, test_small_energies_match_builtins);
  tcase_add_test(tc, test_frame_field_terms_match_builtins);
  tcase_add_test(tc, test_embedded_deformation_terms_match_builtins);
  tcase_add_test(tc, test_plane_contact_and_friction_match_builtins);
  tcase_add_test(tc, test_point_triangle_contact_matches_builtin);
  tcase_add_test(tc, test_edge_edge_contact_matches_builtin);
  tcase_add_test(tc, test_refusals);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(custom_suite()); }
