/* test_dag.c - Check suite of engine/custom/dag: custom-energy DAGs checked,
 * lowered to scalars and evaluated in doubles against closed forms; every
 * malformed description refused with a message naming the node. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custom/dag.h"
#include "testutil.h"

/* A description under construction. */
typedef struct {
  lc_dag_node nodes[LC_DAG_MAX_NODES + 8];
  int32_t n;
  int32_t out[16];
  int n_out;
  lc_dag_desc d;
} tb;

static unsigned long long rng = 0x0dA6ULL;

/* Starts a description of K entities of D components. */
static void tb_init(tb *t, int K, int D, int n_const, int n_param) {
  memset(t, 0, sizeof *t);
  t->d.K = K, t->d.D = D, t->d.n_const = n_const, t->d.n_param = n_param;
}

/* Appends a node; returns its index. */
static int32_t tb_node(tb *t, int op, int i0, int i1, double v, int nargs, const int32_t *args) {
  lc_dag_node *n = &t->nodes[t->n];
  n->op = op, n->i0 = i0, n->i1 = i1, n->value = v, n->nargs = nargs;
  for (int j = 0; j < nargs; ++j) n->args[j] = args[j];
  return t->n++;
}

static int32_t tb_x(tb *t, int e, int c) { return tb_node(t, LC_DAG_X, e, c, 0.0, 0, NULL); }
static int32_t tb_k(tb *t, int i) { return tb_node(t, LC_DAG_K, i, -1, 0.0, 0, NULL); }
static int32_t tb_p(tb *t, int i) { return tb_node(t, LC_DAG_P, i, -1, 0.0, 0, NULL); }
static int32_t tb_c(tb *t, double v) { return tb_node(t, LC_DAG_C, -1, -1, v, 0, NULL); }
static int32_t tb_1(tb *t, int op, int32_t a) { return tb_node(t, op, -1, -1, 0.0, 1, &a); }
static int32_t tb_2(tb *t, int op, int32_t a, int32_t b) {
  const int32_t args[2] = {a, b};
  return tb_node(t, op, -1, -1, 0.0, 2, args);
}
static int32_t tb_3(tb *t, int op, int32_t a, int32_t b, int32_t c) {
  const int32_t args[3] = {a, b, c};
  return tb_node(t, op, -1, -1, 0.0, 3, args);
}

/* Finishes with outputs; returns lc_dag_create's status (*g set on success). */
static int tb_make(tb *t, int residual, int n_out, const int32_t *out, lc_dag **g, lc_error *err) {
  for (int j = 0; j < n_out; ++j) t->out[j] = out[j];
  t->d.residual = residual, t->d.nodes = t->nodes, t->d.n_nodes = t->n, t->d.out = t->out, t->d.n_out = n_out;
  return lc_dag_create(&t->d, g, err);
}

/* Evaluates a made DAG's outputs at x, k, p. */
static void eval(const lc_dag *g, const double *x, const double *k, const double *p, double *out) {
  ck_assert_int_eq(lc_dag_eval(g, x, k, p, out, NULL), LC_OK);
}

static double urand(double lo, double hi) { return lc_test_rand(&rng, lo, hi); }

/* The spring energy 1/2 p0 (|x1 - x0| - k0)^2 as a DAG, against the formula. */
START_TEST(test_spring) {
  static tb t;
  tb_init(&t, 2, 3, 1, 1);
  const int32_t d = tb_2(&t, LC_DAG_SUB, tb_x(&t, 1, -1), tb_x(&t, 0, -1));
  const int32_t e = tb_2(&t, LC_DAG_SUB, tb_1(&t, LC_DAG_NORM, d), tb_k(&t, 0));
  tb_c(&t, 42.0); /* unused: pruned */
  const int32_t E = tb_2(&t, LC_DAG_MUL, tb_2(&t, LC_DAG_MUL, tb_c(&t, 0.5), tb_p(&t, 0)),
                         tb_node(&t, LC_DAG_POWC, -1, -1, 2.0, 1, &e));
  lc_dag *g = NULL;
  lc_error err = {0};
  ck_assert_msg(tb_make(&t, 0, 1, &E, &g, &err) == LC_OK, "%s", err.msg);
  int32_t n;
  const lc_dag_ins *ins = lc_dag_program(g, &n);
  for (int32_t i = 0; i < n; ++i) ck_assert(!(ins[i].op == LC_DAG_C && ins[i].v == 42.0));
  for (int trial = 0; trial < 20; ++trial) {
    double x[6], k[1] = {urand(0.5, 2.0)}, p[1] = {urand(1.0, 10.0)}, out;
    for (int i = 0; i < 6; ++i) x[i] = urand(-1.0, 1.0);
    eval(g, x, k, p, &out);
    const double L = sqrt((x[3] - x[0]) * (x[3] - x[0]) + (x[4] - x[1]) * (x[4] - x[1]) + (x[5] - x[2]) * (x[5] - x[2]));
    ck_assert_double_eq_tol(out, 0.5 * p[0] * (L - k[0]) * (L - k[0]), 1e-14);
  }
  int K, D, nc, np, res;
  lc_dag_shape(g, &K, &D, &nc, &np, &res);
  ck_assert(K == 2 && D == 3 && nc == 1 && np == 1 && res == 0);
  lc_dag_destroy(g);
}
END_TEST

/* A 3x3 matrix from the nine local variables of a face (K 3, D 3). */
static int32_t face_mat(tb *t) {
  int32_t e[9];
  for (int i = 0; i < 9; ++i) e[i] = tb_x(t, i / 3, i % 3);
  return tb_node(t, LC_DAG_MAT, 3, 3, 0.0, 9, e);
}

/* det3, inv3 (M^-1 M = I through matrix products), trace, transpose, and
 * the 2x2 forms, against direct formulas. */
START_TEST(test_matrix_helpers) {
  static tb t;
  tb_init(&t, 3, 3, 0, 0);
  const int32_t M = face_mat(&t);
  const int32_t det = tb_1(&t, LC_DAG_DET3, M), I = tb_2(&t, LC_DAG_MUL, tb_1(&t, LC_DAG_INV3, M), M);
  const int32_t tr = tb_1(&t, LC_DAG_TRACE, M), Mt = tb_1(&t, LC_DAG_TRANSPOSE, M);
  int32_t outs[6] = {det, tr, tb_node(&t, LC_DAG_INDEX, 0, 1, 0.0, 1, &Mt)};
  const int32_t M2args[4] = {tb_x(&t, 0, 0), tb_x(&t, 0, 1), tb_x(&t, 1, 0), tb_x(&t, 1, 1)};
  const int32_t M2 = tb_node(&t, LC_DAG_MAT, 2, 2, 0.0, 4, M2args);
  outs[3] = tb_1(&t, LC_DAG_DET2, M2);
  const int32_t J = tb_2(&t, LC_DAG_MUL, M2, tb_1(&t, LC_DAG_INV2, M2));
  outs[4] = tb_node(&t, LC_DAG_INDEX, 0, 1, 0.0, 1, &J); /* off-diagonal of M2 M2^-1: 0 */
  outs[5] = tb_node(&t, LC_DAG_INDEX, 1, 1, 0.0, 1, &J); /* diagonal: 1 */
  lc_dag *g = NULL;
  lc_error err = {0};
  ck_assert_msg(tb_make(&t, 1, 6, outs, &g, &err) == LC_OK, "%s", err.msg);
  /* the product's entries as a second DAG over the same nodes */
  static tb u;
  memcpy(&u, &t, sizeof u);
  int32_t idx[6];
  for (int j = 0; j < 6; ++j) idx[j] = tb_node(&u, LC_DAG_INDEX, j / 3, (j % 3 + j / 3) % 3, 0.0, 1, &I);
  lc_dag *h = NULL;
  ck_assert_msg(tb_make(&u, 1, 6, idx, &h, &err) == LC_OK, "%s", err.msg);
  for (int trial = 0; trial < 20; ++trial) {
    double x[9], o[6], q[6];
    for (int i = 0; i < 9; ++i) x[i] = urand(-1.0, 1.0) + (i % 4 == 0 ? 2.0 : 0.0);
    eval(g, x, NULL, NULL, o);
    const double d3 = x[0] * (x[4] * x[8] - x[5] * x[7]) - x[1] * (x[3] * x[8] - x[5] * x[6]) +
                      x[2] * (x[3] * x[7] - x[4] * x[6]);
    ck_assert_double_eq_tol(o[0], d3, 1e-13);
    ck_assert_double_eq_tol(o[1], x[0] + x[4] + x[8], 1e-15);
    ck_assert_double_eq(o[2], x[3]); /* (M^T)_01 = M_10 */
    ck_assert_double_eq_tol(o[3], x[0] * x[4] - x[1] * x[3], 1e-15);
    ck_assert_double_eq_tol(o[4], 0.0, 1e-13);
    ck_assert_double_eq_tol(o[5], 1.0, 1e-13);
    eval(h, x, NULL, NULL, q); /* (0,0) (0,1) (0,2) (1,1) (1,2) (1,0) of M^-1 M */
    for (int j = 0; j < 6; ++j) ck_assert_double_eq_tol(q[j], j == 0 || j == 3 ? 1.0 : 0.0, 1e-12);
  }
  lc_dag_destroy(g);
  lc_dag_destroy(h);
}
END_TEST

/* Scalar functions, comparisons and select, cross and dot, and scaling, on
 * random points against libm. */
START_TEST(test_scalar_ops) {
  static tb t;
  tb_init(&t, 2, 3, 2, 1);
  const int32_t a = tb_x(&t, 0, 0), b = tb_x(&t, 0, 1), pa = tb_1(&t, LC_DAG_ABS, a);
  const int32_t u = tb_x(&t, 0, -1), v = tb_x(&t, 1, -1);
  const int ops1[] = {LC_DAG_SQRT, LC_DAG_EXP, LC_DAG_LOG, LC_DAG_SIN, LC_DAG_COS, LC_DAG_TAN, LC_DAG_NEG};
  const int ops2[] = {LC_DAG_POW, LC_DAG_ATAN2, LC_DAG_MIN, LC_DAG_MAX, LC_DAG_ADD, LC_DAG_SUB, LC_DAG_DIV};
  int32_t out[6];
  int32_t acc = tb_c(&t, 0.0);
  for (int i = 0; i < 7; ++i) acc = tb_2(&t, LC_DAG_ADD, acc, tb_1(&t, ops1[i], pa));
  for (int i = 0; i < 7; ++i) acc = tb_2(&t, LC_DAG_ADD, acc, tb_2(&t, ops2[i], pa, tb_1(&t, LC_DAG_ABS, b)));
  out[0] = acc;
  out[1] = tb_3(&t, LC_DAG_SELECT, tb_2(&t, LC_DAG_LT, a, b), tb_k(&t, 0), tb_k(&t, 1));
  out[2] = tb_2(&t, LC_DAG_DOT, tb_2(&t, LC_DAG_CROSS, u, v), u); /* (u x v) . u = 0 */
  const int32_t w = tb_2(&t, LC_DAG_MUL, tb_p(&t, 0), tb_2(&t, LC_DAG_CROSS, u, v));
  out[3] = tb_node(&t, LC_DAG_INDEX, 2, -1, 0.0, 1, &w);
  out[4] = tb_1(&t, LC_DAG_SQNORM, tb_2(&t, LC_DAG_DIV, v, tb_p(&t, 0)));
  out[5] = tb_3(&t, LC_DAG_SELECT, tb_2(&t, LC_DAG_GE, a, b), tb_node(&t, LC_DAG_POWC, -1, -1, 1.5, 1, &pa), b);
  lc_dag *g = NULL;
  lc_error err = {0};
  ck_assert_msg(tb_make(&t, 1, 6, out, &g, &err) == LC_OK, "%s", err.msg);
  for (int trial = 0; trial < 50; ++trial) {
    double x[6], k[2] = {urand(-1, 1), urand(-1, 1)}, p[1] = {urand(0.5, 2.0)}, o[6];
    for (int i = 0; i < 6; ++i) x[i] = urand(-1.0, 1.0);
    eval(g, x, k, p, o);
    const double A = fabs(x[0]), B = fabs(x[1]);
    double ref = A > 0 ? 0.0 : 0.0;
    ref += sqrt(A), ref += exp(A), ref += log(A), ref += sin(A), ref += cos(A), ref += tan(A), ref += -A;
    ref += pow(A, B), ref += atan2(A, B), ref += fmin(A, B), ref += fmax(A, B), ref += A + B, ref += A - B, ref += A / B;
    ck_assert_double_eq_tol(o[0], ref, 1e-12 * (1.0 + fabs(ref)));
    ck_assert_double_eq(o[1], x[0] < x[1] ? k[0] : k[1]);
    ck_assert_double_eq_tol(o[2], 0.0, 1e-15);
    ck_assert_double_eq_tol(o[3], p[0] * (x[0] * x[4] - x[1] * x[3]), 1e-15);
    ck_assert_double_eq_tol(o[4], (x[3] * x[3] + x[4] * x[4] + x[5] * x[5]) / (p[0] * p[0]), 1e-14);
    ck_assert_double_eq_tol(o[5], x[0] >= x[1] ? pow(A, 1.5) : x[1], 1e-15);
  }
  lc_dag_destroy(g);
}
END_TEST

/* Residual outputs flatten vectors; equal programs hash alike, and a
 * different literal changes the hash. */
START_TEST(test_residual_and_hash) {
  static tb t;
  lc_dag *g = NULL, *h = NULL, *f = NULL;
  lc_error err = {0};
  double x[6] = {1, 2, 3, 4, 6, 8}, o[6];
  for (int variant = 0; variant < 3; ++variant) {
    tb_init(&t, 2, 3, 0, 0);
    const int32_t d = tb_2(&t, LC_DAG_SUB, tb_x(&t, 1, -1), tb_x(&t, 0, -1));
    const int32_t out[2] = {tb_2(&t, LC_DAG_MUL, tb_c(&t, variant == 2 ? 3.0 : 2.0), d), tb_1(&t, LC_DAG_NORM, d)};
    ck_assert_msg(tb_make(&t, 1, 2, out, variant == 0 ? &g : variant == 1 ? &h : &f, &err) == LC_OK, "%s", err.msg);
  }
  int n;
  lc_dag_outputs(g, &n);
  ck_assert_int_eq(n, 4);
  eval(g, x, NULL, NULL, o);
  ck_assert_double_eq(o[0], 6.0);
  ck_assert_double_eq(o[1], 8.0);
  ck_assert_double_eq(o[2], 10.0);
  ck_assert_double_eq_tol(o[3], sqrt(9.0 + 16.0 + 25.0), 1e-15);
  ck_assert(lc_dag_hash(g) == lc_dag_hash(h));
  ck_assert(lc_dag_hash(g) != lc_dag_hash(f));
  lc_dag_destroy(g), lc_dag_destroy(h), lc_dag_destroy(f);
}
END_TEST

/* The slot form evaluated directly: the reference for the register form. */
static void eval_slots(const lc_dag *g, const double *x, const double *k, const double *p, double *out) {
  int32_t n;
  int n_out;
  const lc_dag_ins *ins = lc_dag_program(g, &n);
  const int32_t *o = lc_dag_outputs(g, &n_out);
  double *w = malloc((size_t)n * sizeof *w);
  for (int32_t i = 0; i < n; ++i) {
    const lc_dag_ins *s = &ins[i];
    ck_assert_int_eq(s->d, i);
    const double a = s->a >= 0 && s->op > LC_DAG_C ? w[s->a] : 0.0, b = s->b >= 0 ? w[s->b] : 0.0;
    switch (s->op) {
    case LC_DAG_X: w[i] = x[s->a]; break;
    case LC_DAG_K: w[i] = k[s->a]; break;
    case LC_DAG_P: w[i] = p[s->a]; break;
    case LC_DAG_C: w[i] = s->v; break;
    case LC_DAG_ADD: w[i] = a + b; break;
    case LC_DAG_SUB: w[i] = a - b; break;
    case LC_DAG_MUL: w[i] = a * b; break;
    case LC_DAG_DIV: w[i] = a / b; break;
    case LC_DAG_NEG: w[i] = -a; break;
    case LC_DAG_SQRT: w[i] = sqrt(a); break;
    case LC_DAG_POWC: w[i] = pow(a, s->v); break;
    case LC_DAG_LT: w[i] = a < b; break;
    case LC_DAG_SELECT: w[i] = a != 0.0 ? b : w[s->c]; break;
    default: ck_abort_msg("op %d not in this reference", s->op);
    }
  }
  for (int j = 0; j < n_out; ++j) out[j] = w[o[j]];
  free(w);
}

/* The register form: far fewer registers than instructions on a long sum
 * of products of a face's coordinates (values die at their last use), every
 * operand register written before it is read, and the same outputs as the
 * slot form. */
START_TEST(test_registers) {
  static tb t;
  tb_init(&t, 3, 3, 1, 1);
  int32_t acc = tb_c(&t, 0.0);
  for (int i = 0; i < 9; ++i)
    for (int j = i; j < 9; ++j)
      acc = tb_2(&t, LC_DAG_ADD, acc, tb_2(&t, LC_DAG_MUL, tb_x(&t, i / 3, i % 3), tb_x(&t, j / 3, j % 3)));
  const int32_t sq = tb_1(&t, LC_DAG_SQRT, acc);
  const int32_t sel = tb_3(&t, LC_DAG_SELECT, tb_2(&t, LC_DAG_LT, sq, tb_k(&t, 0)), sq, tb_p(&t, 0));
  const int32_t outs[2] = {sel, tb_2(&t, LC_DAG_DIV, acc, tb_node(&t, LC_DAG_POWC, -1, -1, 0.5, 1, &sq))};
  lc_dag *g = NULL;
  lc_error err = {0};
  ck_assert_msg(tb_make(&t, 1, 2, outs, &g, &err) == LC_OK, "%s", err.msg);
  int32_t n, nr, n2;
  const lc_dag_ins *r = lc_dag_program_regs(g, &n, &nr);
  lc_dag_program(g, &n2);
  ck_assert_int_lt(n, n2); /* the constant k, p and c leaves are fused into their uses */
  ck_assert_int_gt(n, 100);
  ck_assert_int_le(nr, 12); /* the nine coordinates, loaded once and shared, the sum and a product */
  int written[64] = {0};
  for (int32_t i = 0; i < n; ++i) {
    const int na = lc_dag_ins_nargs(r[i].op);
    const int32_t ops[3] = {r[i].a, r[i].b, r[i].c};
    for (int q = 0; q < na; ++q) ck_assert(ops[q] >= 0 && ops[q] < nr && written[ops[q]]);
    ck_assert(r[i].d >= 0 && r[i].d < nr);
    written[r[i].d] = 1;
  }
  for (int trial = 0; trial < 10; ++trial) {
    double x[9], k[1] = {urand(0.0, 3.0)}, p[1] = {urand(-1, 1)}, o1[2], o2[2];
    for (int i = 0; i < 9; ++i) x[i] = urand(-1.0, 1.0);
    eval(g, x, k, p, o1);
    eval_slots(g, x, k, p, o2);
    ck_assert_double_eq(o1[0], o2[0]);
    ck_assert_double_eq(o1[1], o2[1]);
  }
  lc_dag_destroy(g);
}
END_TEST

/* Expects tb_make to fail with LC_EINVAL and a message containing want. */
static void refused(tb *t, int residual, int n_out, const int32_t *out, const char *want) {
  lc_dag *g = (lc_dag *)&rng;
  lc_error err = {0};
  ck_assert_int_eq(tb_make(t, residual, n_out, out, &g, &err), LC_EINVAL);
  ck_assert_ptr_null(g);
  ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
}

/* Every malformed description: its own message, naming the node. */
START_TEST(test_malformed) {
  static tb t;
  int32_t o;
  tb_init(&t, 2, 3, 1, 1); /* a forward reference: a cycle cannot be written otherwise */
  o = tb_2(&t, LC_DAG_ADD, 1, 0);
  tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "node 0 (add): argument 0 refers to node 1, which is not an earlier node");
  tb_init(&t, 2, 3, 1, 1); /* itself */
  tb_c(&t, 1.0);
  o = tb_2(&t, LC_DAG_ADD, 0, 1);
  refused(&t, 0, 1, &o, "node 1 (add): argument 1 refers to node 1");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_1(&t, LC_DAG_ADD, tb_c(&t, 1.0));
  refused(&t, 0, 1, &o, "node 1 (add): takes 2 arguments, got 1");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_node(&t, 999, -1, -1, 0.0, 0, NULL);
  refused(&t, 0, 1, &o, "node 0: unknown operation 999");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_x(&t, 2, -1);
  refused(&t, 0, 1, &o, "node 0 (x): entity 2 out of range [0, 2)");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_x(&t, 0, 3);
  refused(&t, 0, 1, &o, "node 0 (x): component 3 out of range [0, 3)");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_k(&t, 1);
  refused(&t, 0, 1, &o, "node 0 (k): constants 1..1 out of range [0, 1)");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_p(&t, 1);
  refused(&t, 0, 1, &o, "node 0 (p): parameter 1 out of range [0, 1)");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_c(&t, NAN);
  refused(&t, 0, 1, &o, "node 0 (c): the literal is not finite");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_node(&t, LC_DAG_POWC, -1, -1, INFINITY, 1, (int32_t[]){tb_c(&t, 2.0)});
  refused(&t, 0, 1, &o, "node 1 (powc): the exponent is not finite");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_2(&t, LC_DAG_ADD, tb_x(&t, 0, -1), tb_c(&t, 1.0));
  refused(&t, 0, 1, &o, "node 2 (add): shapes differ: vector 3 and scalar");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_2(&t, LC_DAG_MUL, tb_x(&t, 0, -1), tb_x(&t, 1, -1));
  refused(&t, 0, 1, &o, "node 2 (mul): cannot multiply vector 3 by vector 3 (vectors: use dot or cross)");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_2(&t, LC_DAG_LT, tb_c(&t, 1.0), tb_c(&t, 2.0)); /* node 2; C leaves the order of arguments open */
  o = tb_2(&t, LC_DAG_ADD, o, tb_c(&t, 1.0));
  refused(&t, 0, 1, &o, "node 4 (add): argument 0 (node 2) is a comparison");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_c(&t, 1.0); /* node 0, the condition */
  o = tb_3(&t, LC_DAG_SELECT, o, tb_c(&t, 2.0), tb_c(&t, 3.0));
  refused(&t, 0, 1, &o, "node 3 (select): the condition (node 0) is scalar, not a comparison");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_1(&t, LC_DAG_DET3, tb_x(&t, 0, -1));
  refused(&t, 0, 1, &o, "node 1 (det3): takes a 3x3 matrix, not a vector 3");
  tb_init(&t, 2, 3, 1, 1);
  o = tb_node(&t, LC_DAG_INDEX, 3, -1, 0.0, 1, (int32_t[]){tb_x(&t, 0, -1)});
  refused(&t, 0, 1, &o, "node 1 (index): index (3, -1) out of range for a vector 3");
  tb_init(&t, 2, 3, 1, 1); /* outputs */
  o = tb_x(&t, 0, -1);
  refused(&t, 0, 1, &o, "output 0 (node 0) must be a scalar (the energy)");
  o = 5;
  refused(&t, 0, 1, &o, "output 0 refers to node 5, outside [0, 1)");
  refused(&t, 0, 0, &o, "no output node");
  tb_init(&t, 2, 3, 1, 1);
  const int32_t v = tb_x(&t, 0, -1), vv[3] = {v, v, v};
  refused(&t, 1, 3, vv, "over 6 residual components");
}
END_TEST

/* Limits: element shape, counts, nodes, depth and program size. */
START_TEST(test_limits) {
  static tb t;
  int32_t o = 0;
  tb_init(&t, 5, 3, 0, 0);
  tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "element of 5 entities of 3 components");
  tb_init(&t, 4, 7, 0, 0);
  tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "K*D <= 24");
  tb_init(&t, 2, 3, 17, 0);
  tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "17 constants: at most 16");
  tb_init(&t, 2, 3, 0, 9);
  tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "9 parameters: at most 8");
  tb_init(&t, 2, 3, 0, 0);
  for (int i = 0; i < LC_DAG_MAX_NODES + 1; ++i) tb_c(&t, 1.0);
  refused(&t, 0, 1, &o, "4097 nodes: at most 4096");
  tb_init(&t, 2, 3, 0, 0);
  o = tb_c(&t, 1.0);
  for (int i = 0; i < LC_DAG_MAX_DEPTH; ++i) o = tb_1(&t, LC_DAG_NEG, o);
  refused(&t, 0, 1, &o, "node 256 (neg): the DAG is deeper than 256 nodes");
  tb_init(&t, 3, 3, 0, 0); /* many independent inverses: too many instructions */
  const int32_t M = face_mat(&t);
  for (int i = 0; i < 500; ++i) o = tb_1(&t, LC_DAG_INV3, M);
  refused(&t, 0, 1, &o, "the lowered program exceeds 16384 scalar instructions");
  lc_error err = {0};
  lc_dag *g = NULL;
  ck_assert_int_eq(lc_dag_create(NULL, &g, &err), LC_EINVAL);
  ck_assert_str_eq(lc_dag_op_name(LC_DAG_INV3), "inv3");
  ck_assert_int_eq(lc_dag_op_find("select", 6), LC_DAG_SELECT);
  ck_assert_int_eq(lc_dag_op_find("selec", 5), -1);
  ck_assert_int_eq(lc_dag_ins_nargs(LC_DAG_X), 0);
  ck_assert_int_eq(lc_dag_ins_nargs(LC_DAG_SQRT), 1);
  ck_assert_int_eq(lc_dag_ins_nargs(LC_DAG_ATAN2), 2);
  ck_assert_int_eq(lc_dag_ins_nargs(LC_DAG_SELECT), 3);
  ck_assert_int_eq(lc_dag_ins_nargs(LC_DAG_MULC), 1);
  ck_assert_ptr_null(lc_dag_op_name(LC_DAG_OP_COUNT));
}
END_TEST

static Suite *dag_suite(void) {
  Suite *s = suite_create("dag");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_spring);
  tcase_add_test(tc, test_matrix_helpers);
  tcase_add_test(tc, test_scalar_ops);
  tcase_add_test(tc, test_residual_and_hash);
  tcase_add_test(tc, test_registers);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_limits);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(dag_suite()); }
