/* dag.c - checking and lowering of custom-energy DAGs (dag.h): every node in
 * order gets a shape and the scalar slots holding its entries, emitting
 * scalar instructions as it goes; then the outputs are gathered, what they
 * do not use is dropped, and the program is fingerprinted.  lc_dag_eval is
 * the double-precision reference the AD evaluators are tested against. */
#include "dag.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_dag {
  int K, D, n_const, n_param, residual;
  int32_t n_ins;
  lc_dag_ins *ins;
  int n_out;
  int32_t out[LC_DAG_MAX_COUT];
  lc_dag_ins *rins;        /* register form (fused) */
  int32_t n_rins, n_regs;
  int32_t rout[LC_DAG_MAX_COUT];
  uint64_t hash;
};

/* Shapes of lowered nodes. */
enum { SH_SCALAR = 0, SH_BOOL, SH_VEC, SH_MAT };

typedef struct {
  int kind, r, c;  /* vector: r entries, c = 1; scalar and bool: 1 x 1 */
  int32_t off;     /* entries' slots at slots[off ..] (row-major) */
} dag_shape;

/* Lowering state. */
typedef struct {
  const lc_dag_desc *d;
  lc_dag_ins *ins;
  int32_t n_ins;
  dag_shape *sh;
  int32_t *slots;
  int32_t n_slots;
  int16_t *depth;
  int32_t node;    /* the node being lowered, for messages */
  lc_error *err;
} dag_low;

/* Name and argument counts of each operation. */
static const struct {
  const char *name;
  int min_args, max_args;
} dag_ops[LC_DAG_OP_COUNT] = {
    [LC_DAG_X] = {"x", 0, 0},          [LC_DAG_K] = {"k", 0, 0},          [LC_DAG_P] = {"p", 0, 0},
    [LC_DAG_C] = {"c", 0, 0},          [LC_DAG_ADD] = {"add", 2, 2},      [LC_DAG_SUB] = {"sub", 2, 2},
    [LC_DAG_MUL] = {"mul", 2, 2},      [LC_DAG_DIV] = {"div", 2, 2},      [LC_DAG_NEG] = {"neg", 1, 1},
    [LC_DAG_SQRT] = {"sqrt", 1, 1},    [LC_DAG_EXP] = {"exp", 1, 1},      [LC_DAG_LOG] = {"log", 1, 1},
    [LC_DAG_SIN] = {"sin", 1, 1},      [LC_DAG_COS] = {"cos", 1, 1},      [LC_DAG_TAN] = {"tan", 1, 1},
    [LC_DAG_ABS] = {"abs", 1, 1},      [LC_DAG_POWC] = {"powc", 1, 1},    [LC_DAG_POW] = {"pow", 2, 2},
    [LC_DAG_ATAN2] = {"atan2", 2, 2},  [LC_DAG_MIN] = {"min", 2, 2},      [LC_DAG_MAX] = {"max", 2, 2},
    [LC_DAG_LT] = {"lt", 2, 2},        [LC_DAG_LE] = {"le", 2, 2},        [LC_DAG_GT] = {"gt", 2, 2},
    [LC_DAG_GE] = {"ge", 2, 2},        [LC_DAG_EQ] = {"eq", 2, 2},        [LC_DAG_NE] = {"ne", 2, 2},
    [LC_DAG_SELECT] = {"select", 3, 3}, [LC_DAG_VEC] = {"vec", 1, LC_DAG_MAX_VEC},
    [LC_DAG_MAT] = {"mat", 1, LC_DAG_MAX_MAT * LC_DAG_MAX_MAT},
    [LC_DAG_INDEX] = {"index", 1, 1},  [LC_DAG_DOT] = {"dot", 2, 2},      [LC_DAG_CROSS] = {"cross", 2, 2},
    [LC_DAG_NORM] = {"norm", 1, 1},    [LC_DAG_SQNORM] = {"sqnorm", 1, 1}, [LC_DAG_DET2] = {"det2", 1, 1},
    [LC_DAG_DET3] = {"det3", 1, 1},    [LC_DAG_INV2] = {"inv2", 1, 1},    [LC_DAG_INV3] = {"inv3", 1, 1},
    [LC_DAG_TRANSPOSE] = {"transpose", 1, 1}, [LC_DAG_TRACE] = {"trace", 1, 1},
};

/* The name of operation op, or NULL. */
const char *lc_dag_op_name(int op) { return op >= 0 && op < LC_DAG_OP_COUNT ? dag_ops[op].name : NULL; }

/* The operation named name[0..len), or -1. */
int lc_dag_op_find(const char *name, int len) {
  for (int op = 0; op < LC_DAG_OP_COUNT; ++op)
    if ((int)strlen(dag_ops[op].name) == len && !memcmp(dag_ops[op].name, name, (size_t)len)) return op;
  return -1;
}

/* ---- errors and emission ---------------------------------------------------- */

/* Sets err to "node N (op): <message>"; returns LC_EINVAL. */
static int dag_fail(dag_low *L, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *name = lc_dag_op_name(L->d->nodes[L->node].op);
  return lc_error_set(L->err, LC_EINVAL, "node %d (%s): %s", (int)L->node, name ? name : "?", msg);
}

/* Appends one instruction; returns its slot, or -1 (err set) past the limit. */
static int32_t dag_emit(dag_low *L, int op, int32_t a, int32_t b, int32_t c, double v) {
  if (L->n_ins >= LC_DAG_MAX_INS) {
    dag_fail(L, "the lowered program exceeds %d scalar instructions", LC_DAG_MAX_INS);
    return -1;
  }
  L->ins[L->n_ins] = (lc_dag_ins){op, a, b, c, L->n_ins, v};
  return L->n_ins++;
}

/* Stores slot into *o: LC_OK, or LC_EINVAL when the emission failed (err set). */
static int dag_put(int32_t *o, int32_t slot) {
  *o = slot;
  return slot < 0 ? LC_EINVAL : LC_OK;
}

/* Gives the current node shape (kind, r, c) with room for its r*c slots. */
static int32_t *dag_shape_new(dag_low *L, int kind, int r, int c) {
  dag_shape *s = &L->sh[L->node];
  s->kind = kind, s->r = r, s->c = c, s->off = L->n_slots;
  L->n_slots += r * c;
  return L->slots + s->off;
}

/* Entry j of node n's slots. */
static int32_t dag_at(const dag_low *L, int32_t n, int j) { return L->slots[L->sh[n].off + j]; }

/* The number of entries of node n. */
static int dag_len(const dag_low *L, int32_t n) { return L->sh[n].r * L->sh[n].c; }

/* "scalar", "boolean", "vector 3", "matrix 2x3" for node n, into buf. */
static const char *dag_shape_str(const dag_low *L, int32_t n, char *buf) {
  const dag_shape *s = &L->sh[n];
  if (s->kind == SH_SCALAR) return "scalar";
  if (s->kind == SH_BOOL) return "boolean";
  if (s->kind == SH_VEC) snprintf(buf, 24, "vector %d", s->r);
  else snprintf(buf, 24, "matrix %dx%d", s->r, s->c);
  return buf;
}

/* ---- per-operation lowering --------------------------------------------------- */

/* Leaves: x, k, p, c. */
static int dag_leaf(dag_low *L, const lc_dag_node *nd) {
  const lc_dag_desc *d = L->d;
  int32_t *o;
  switch (nd->op) {
  case LC_DAG_X:
    if (nd->i0 < 0 || nd->i0 >= d->K) return dag_fail(L, "entity %d out of range [0, %d)", (int)nd->i0, d->K);
    if (nd->i1 >= d->D || nd->i1 < -1) return dag_fail(L, "component %d out of range [0, %d)", (int)nd->i1, d->D);
    if (nd->i1 >= 0 || d->D == 1) {
      o = dag_shape_new(L, SH_SCALAR, 1, 1);
      return dag_put(&o[0], dag_emit(L, LC_DAG_X, nd->i0 * d->D + (nd->i1 >= 0 ? nd->i1 : 0), -1, -1, 0.0));
    }
    o = dag_shape_new(L, SH_VEC, d->D, 1);
    for (int c = 0; c < d->D; ++c)
      if ((o[c] = dag_emit(L, LC_DAG_X, nd->i0 * d->D + c, -1, -1, 0.0)) < 0) return LC_EINVAL;
    return LC_OK;
  case LC_DAG_K: {
    const int n = nd->i1 < 0 ? 1 : nd->i1;
    if (nd->i1 == 0 || nd->i1 > LC_DAG_MAX_VEC || nd->i1 < -1)
      return dag_fail(L, "length %d out of range [1, %d]", (int)nd->i1, LC_DAG_MAX_VEC);
    if (nd->i0 < 0 || nd->i0 + n > d->n_const)
      return dag_fail(L, "constants %d..%d out of range [0, %d)", (int)nd->i0, (int)nd->i0 + n - 1, d->n_const);
    o = dag_shape_new(L, nd->i1 < 0 ? SH_SCALAR : SH_VEC, n, 1);
    for (int j = 0; j < n; ++j)
      if ((o[j] = dag_emit(L, LC_DAG_K, nd->i0 + j, -1, -1, 0.0)) < 0) return LC_EINVAL;
    return LC_OK;
  }
  case LC_DAG_P:
    if (nd->i0 < 0 || nd->i0 >= d->n_param)
      return dag_fail(L, "parameter %d out of range [0, %d)", (int)nd->i0, d->n_param);
    o = dag_shape_new(L, SH_SCALAR, 1, 1);
    return dag_put(&o[0], dag_emit(L, LC_DAG_P, nd->i0, -1, -1, 0.0));
  default: /* LC_DAG_C */
    if (!isfinite(nd->value)) return dag_fail(L, "the literal is not finite");
    o = dag_shape_new(L, SH_SCALAR, 1, 1);
    return dag_put(&o[0], dag_emit(L, LC_DAG_C, -1, -1, -1, nd->value));
  }
}

/* Elementwise unary (neg, functions, powc) on any numeric shape. */
static int dag_unary(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0];
  if (nd->op == LC_DAG_POWC && !isfinite(nd->value)) return dag_fail(L, "the exponent is not finite");
  int32_t *o = dag_shape_new(L, L->sh[a].kind, L->sh[a].r, L->sh[a].c);
  for (int j = 0; j < dag_len(L, a); ++j)
    if ((o[j] = dag_emit(L, nd->op, dag_at(L, a, j), -1, -1, nd->value)) < 0) return LC_EINVAL;
  return LC_OK;
}

/* add, sub: equal shapes, elementwise. */
static int dag_addsub(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0], b = nd->args[1];
  char ba[24], bb[24];
  if (L->sh[a].kind != L->sh[b].kind || L->sh[a].r != L->sh[b].r || L->sh[a].c != L->sh[b].c)
    return dag_fail(L, "shapes differ: %s and %s", dag_shape_str(L, a, ba), dag_shape_str(L, b, bb));
  int32_t *o = dag_shape_new(L, L->sh[a].kind, L->sh[a].r, L->sh[a].c);
  for (int j = 0; j < dag_len(L, a); ++j)
    if ((o[j] = dag_emit(L, nd->op, dag_at(L, a, j), dag_at(L, b, j), -1, 0.0)) < 0) return LC_EINVAL;
  return LC_OK;
}

/* Sum of products sum_t A[a0 + t sa] B[b0 + t sb], t < n, as one slot. */
static int32_t dag_sumprod(dag_low *L, int32_t A, int a0, int sa, int32_t B, int b0, int sb, int n) {
  int32_t s = dag_emit(L, LC_DAG_MUL, dag_at(L, A, a0), dag_at(L, B, b0), -1, 0.0);
  for (int t = 1; t < n && s >= 0; ++t) {
    const int32_t m = dag_emit(L, LC_DAG_MUL, dag_at(L, A, a0 + t * sa), dag_at(L, B, b0 + t * sb), -1, 0.0);
    s = m < 0 ? -1 : dag_emit(L, LC_DAG_ADD, s, m, -1, 0.0);
  }
  return s;
}

/* mul: scaling by a scalar, matrix times vector, matrix times matrix;
 * div: anything by a scalar. */
static int dag_muldiv(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0], b = nd->args[1];
  const dag_shape *sa = &L->sh[a], *sb = &L->sh[b];
  char ba[24], bb[24];
  if (sb->kind == SH_SCALAR || (nd->op == LC_DAG_MUL && sa->kind == SH_SCALAR)) {
    const int32_t s = sb->kind == SH_SCALAR ? b : a, m = s == b ? a : b;
    int32_t *o = dag_shape_new(L, L->sh[m].kind, L->sh[m].r, L->sh[m].c);
    for (int j = 0; j < dag_len(L, m); ++j) {
      const int32_t x = dag_at(L, m, j), y = dag_at(L, s, 0);
      if ((o[j] = dag_emit(L, nd->op, s == b ? x : y, s == b ? y : x, -1, 0.0)) < 0) return LC_EINVAL;
    }
    return LC_OK;
  }
  if (nd->op == LC_DAG_DIV)
    return dag_fail(L, "divides %s by %s: only by a scalar", dag_shape_str(L, a, ba), dag_shape_str(L, b, bb));
  if (sa->kind == SH_MAT && (sb->kind == SH_VEC || sb->kind == SH_MAT) && sa->c == sb->r) {
    const int q = sb->kind == SH_VEC ? 1 : sb->c;
    int32_t *o = dag_shape_new(L, sb->kind, sa->r, q);
    for (int i = 0; i < sa->r; ++i)
      for (int j = 0; j < q; ++j)
        if ((o[i * q + j] = dag_sumprod(L, a, i * sa->c, 1, b, j, q, sa->c)) < 0) return LC_EINVAL;
    return LC_OK;
  }
  return dag_fail(L, "cannot multiply %s by %s (vectors: use dot or cross)", dag_shape_str(L, a, ba),
                  dag_shape_str(L, b, bb));
}

/* pow, atan2, min, max, comparisons: two scalars. */
static int dag_scalar2(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0], b = nd->args[1];
  const int cmp = nd->op >= LC_DAG_LT && nd->op <= LC_DAG_NE;
  char ba[24], bb[24];
  if (L->sh[a].kind != SH_SCALAR || L->sh[b].kind != SH_SCALAR)
    return dag_fail(L, "takes two scalars, not %s and %s", dag_shape_str(L, a, ba), dag_shape_str(L, b, bb));
  int32_t *o = dag_shape_new(L, cmp ? SH_BOOL : SH_SCALAR, 1, 1);
  return dag_put(&o[0], dag_emit(L, nd->op, dag_at(L, a, 0), dag_at(L, b, 0), -1, 0.0));
}

/* select(cond, a, b): a boolean and two equal numeric shapes. */
static int dag_select(dag_low *L, const lc_dag_node *nd) {
  const int32_t c = nd->args[0], a = nd->args[1], b = nd->args[2];
  char ba[24], bb[24];
  if (L->sh[c].kind != SH_BOOL)
    return dag_fail(L, "the condition (node %d) is %s, not a comparison", (int)c, dag_shape_str(L, c, ba));
  if (L->sh[a].kind != L->sh[b].kind || L->sh[a].r != L->sh[b].r || L->sh[a].c != L->sh[b].c)
    return dag_fail(L, "branches differ: %s and %s", dag_shape_str(L, a, ba), dag_shape_str(L, b, bb));
  int32_t *o = dag_shape_new(L, L->sh[a].kind, L->sh[a].r, L->sh[a].c);
  for (int j = 0; j < dag_len(L, a); ++j)
    if ((o[j] = dag_emit(L, LC_DAG_SELECT, dag_at(L, c, 0), dag_at(L, a, j), dag_at(L, b, j), 0.0)) < 0)
      return LC_EINVAL;
  return LC_OK;
}

/* vec(scalars), mat(scalars; i0 rows, i1 columns). */
static int dag_build(dag_low *L, const lc_dag_node *nd) {
  int r = nd->nargs, c = 1, kind = SH_VEC;
  if (nd->op == LC_DAG_MAT) {
    r = nd->i0, c = nd->i1, kind = SH_MAT;
    if (r < 1 || r > LC_DAG_MAX_MAT || c < 1 || c > LC_DAG_MAX_MAT)
      return dag_fail(L, "shape %dx%d out of range (1 to %d each)", (int)r, (int)c, LC_DAG_MAX_MAT);
    if (nd->nargs != r * c) return dag_fail(L, "%d entries for a %dx%d matrix", nd->nargs, r, c);
  }
  for (int j = 0; j < nd->nargs; ++j)
    if (L->sh[nd->args[j]].kind != SH_SCALAR)
      return dag_fail(L, "entry %d (node %d) is not a scalar", j, (int)nd->args[j]);
  int32_t *o = dag_shape_new(L, kind, r, c);
  for (int j = 0; j < nd->nargs; ++j) o[j] = dag_at(L, nd->args[j], 0);
  return LC_OK;
}

/* index(v, i) and index(m, i, j). */
static int dag_index(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0];
  const dag_shape *s = &L->sh[a];
  char ba[24];
  if (s->kind != SH_VEC && s->kind != SH_MAT) return dag_fail(L, "indexes a %s", dag_shape_str(L, a, ba));
  const int j = s->kind == SH_VEC ? 0 : nd->i1; /* the column */
  if (nd->i0 < 0 || nd->i0 >= s->r || j < 0 || j >= s->c || (s->kind == SH_VEC && nd->i1 != -1))
    return dag_fail(L, "index (%d, %d) out of range for a %s", (int)nd->i0, (int)nd->i1, dag_shape_str(L, a, ba));
  int32_t *o = dag_shape_new(L, SH_SCALAR, 1, 1);
  o[0] = dag_at(L, a, s->kind == SH_VEC ? nd->i0 : nd->i0 * s->c + j);
  return LC_OK;
}

/* dot, cross, norm, sqnorm. */
static int dag_vector(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0], b = nd->nargs > 1 ? nd->args[1] : a;
  char ba[24], bb[24];
  if (L->sh[a].kind != SH_VEC || L->sh[b].kind != SH_VEC || L->sh[a].r != L->sh[b].r)
    return dag_fail(L, "takes vectors of one length, not %s%s%s", dag_shape_str(L, a, ba), nd->nargs > 1 ? " and " : "",
                    nd->nargs > 1 ? dag_shape_str(L, b, bb) : "");
  const int n = L->sh[a].r;
  if (nd->op != LC_DAG_CROSS) {
    int32_t *o = dag_shape_new(L, SH_SCALAR, 1, 1);
    int32_t s = dag_sumprod(L, a, 0, 1, b, 0, 1, n);
    if (s >= 0 && nd->op == LC_DAG_NORM) s = dag_emit(L, LC_DAG_SQRT, s, -1, -1, 0.0);
    return dag_put(&o[0], s);
  }
  if (n != 2 && n != 3) return dag_fail(L, "cross takes vectors of length 2 or 3, not %d", n);
  int32_t *o = dag_shape_new(L, n == 3 ? SH_VEC : SH_SCALAR, n == 3 ? 3 : 1, 1);
  for (int i = 0; i < (n == 3 ? 3 : 1); ++i) {
    const int p = n == 3 ? (i + 1) % 3 : 0, q = n == 3 ? (i + 2) % 3 : 1;
    const int32_t u = dag_emit(L, LC_DAG_MUL, dag_at(L, a, p), dag_at(L, b, q), -1, 0.0);
    const int32_t w = u < 0 ? -1 : dag_emit(L, LC_DAG_MUL, dag_at(L, a, q), dag_at(L, b, p), -1, 0.0);
    if (w < 0 || (o[i] = dag_emit(L, LC_DAG_SUB, u, w, -1, 0.0)) < 0) return LC_EINVAL;
  }
  return LC_OK;
}

/* Emits a_i b_j - a_k b_l over entries of matrix node m (a 2x2 minor). */
static int32_t dag_minor(dag_low *L, int32_t m, int i, int j, int k, int l) {
  const int32_t u = dag_emit(L, LC_DAG_MUL, dag_at(L, m, i), dag_at(L, m, j), -1, 0.0);
  const int32_t w = u < 0 ? -1 : dag_emit(L, LC_DAG_MUL, dag_at(L, m, k), dag_at(L, m, l), -1, 0.0);
  return w < 0 ? -1 : dag_emit(L, LC_DAG_SUB, u, w, -1, 0.0);
}

/* det2, det3, inv2, inv3 (adjugate over determinant), transpose, trace. */
static int dag_matrix(dag_low *L, const lc_dag_node *nd) {
  const int32_t a = nd->args[0];
  const dag_shape *s = &L->sh[a];
  const int want = nd->op == LC_DAG_DET2 || nd->op == LC_DAG_INV2 ? 2 : nd->op == LC_DAG_DET3 || nd->op == LC_DAG_INV3 ? 3 : 0;
  char ba[24];
  if (s->kind != SH_MAT || (want && (s->r != want || s->c != want)) || (nd->op == LC_DAG_TRACE && s->r != s->c))
    return dag_fail(L, "takes a %s matrix, not a %s", want == 2 ? "2x2" : want == 3 ? "3x3" : "square",
                    dag_shape_str(L, a, ba));
  if (nd->op == LC_DAG_TRANSPOSE) {
    int32_t *o = dag_shape_new(L, SH_MAT, s->c, s->r);
    for (int i = 0; i < s->c; ++i)
      for (int j = 0; j < s->r; ++j) o[i * s->r + j] = dag_at(L, a, j * s->c + i);
    return LC_OK;
  }
  if (nd->op == LC_DAG_TRACE) {
    int32_t *o = dag_shape_new(L, SH_SCALAR, 1, 1);
    int32_t t = dag_at(L, a, 0);
    for (int i = 1; i < s->r && t >= 0; ++i) t = dag_emit(L, LC_DAG_ADD, t, dag_at(L, a, i * s->c + i), -1, 0.0);
    return dag_put(&o[0], t);
  }
  const int n = want;
  int32_t cof[9]; /* cofactors C_ij */
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      if (n == 2) {
        const int32_t e = dag_at(L, a, (1 - i) * 2 + (1 - j));
        cof[i * 2 + j] = (i + j) % 2 ? dag_emit(L, LC_DAG_NEG, e, -1, -1, 0.0) : e;
      } else {
        const int r0 = (i + 1) % 3, r1 = (i + 2) % 3, c0 = (j + 1) % 3, c1 = (j + 2) % 3;
        cof[i * 3 + j] = dag_minor(L, a, r0 * 3 + c0, r1 * 3 + c1, r0 * 3 + c1, r1 * 3 + c0);
      }
      if (cof[i * n + j] < 0) return LC_EINVAL;
    }
  int32_t det = dag_emit(L, LC_DAG_MUL, dag_at(L, a, 0), cof[0], -1, 0.0);
  for (int j = 1; j < n && det >= 0; ++j) {
    const int32_t m = dag_emit(L, LC_DAG_MUL, dag_at(L, a, j), cof[j], -1, 0.0);
    det = m < 0 ? -1 : dag_emit(L, LC_DAG_ADD, det, m, -1, 0.0);
  }
  if (det < 0) return LC_EINVAL;
  if (nd->op == LC_DAG_DET2 || nd->op == LC_DAG_DET3) {
    dag_shape_new(L, SH_SCALAR, 1, 1)[0] = det;
    return LC_OK;
  }
  int32_t *o = dag_shape_new(L, SH_MAT, n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) /* inverse = adj / det, adj_ij = C_ji */
      if ((o[i * n + j] = dag_emit(L, LC_DAG_DIV, cof[j * n + i], det, -1, 0.0)) < 0) return LC_EINVAL;
  return LC_OK;
}

/* ---- nodes, outputs, dead code, fingerprint ------------------------------------ */

/* Checks node L->node's arguments (count, order, no booleans but select's
 * condition) and depth. */
static int dag_check_args(dag_low *L, const lc_dag_node *nd) {
  const int op = nd->op;
  if (nd->nargs < dag_ops[op].min_args || nd->nargs > dag_ops[op].max_args) {
    if (dag_ops[op].min_args == dag_ops[op].max_args)
      return dag_fail(L, "takes %d argument%s, got %d", dag_ops[op].min_args, dag_ops[op].min_args == 1 ? "" : "s",
                      nd->nargs);
    return dag_fail(L, "takes %d to %d arguments, got %d", dag_ops[op].min_args, dag_ops[op].max_args, nd->nargs);
  }
  int depth = 1;
  for (int j = 0; j < nd->nargs; ++j) {
    const int32_t a = nd->args[j];
    if (a < 0 || a >= L->node)
      return dag_fail(L, "argument %d refers to node %d, which is not an earlier node (nodes come in order, so "
                      "a DAG has no cycles)", j, (int)a);
    if (L->sh[a].kind == SH_BOOL && !(op == LC_DAG_SELECT && j == 0))
      return dag_fail(L, "argument %d (node %d) is a comparison: only select's condition takes one", j, (int)a);
    if (L->depth[a] + 1 > depth) depth = L->depth[a] + 1;
  }
  if (depth > LC_DAG_MAX_DEPTH) return dag_fail(L, "the DAG is deeper than %d nodes", LC_DAG_MAX_DEPTH);
  L->depth[L->node] = (int16_t)depth;
  return LC_OK;
}

/* Lowers node L->node. */
static int dag_node(dag_low *L) {
  const lc_dag_node *nd = &L->d->nodes[L->node];
  if (nd->op < 0 || nd->op >= LC_DAG_OP_COUNT)
    return lc_error_set(L->err, LC_EINVAL, "node %d: unknown operation %d", (int)L->node, nd->op);
  int rc = dag_check_args(L, nd);
  if (rc) return rc;
  switch (nd->op) {
  case LC_DAG_X: case LC_DAG_K: case LC_DAG_P: case LC_DAG_C: return dag_leaf(L, nd);
  case LC_DAG_ADD: case LC_DAG_SUB: return dag_addsub(L, nd);
  case LC_DAG_MUL: case LC_DAG_DIV: return dag_muldiv(L, nd);
  case LC_DAG_POW: case LC_DAG_ATAN2: case LC_DAG_MIN: case LC_DAG_MAX:
  case LC_DAG_LT: case LC_DAG_LE: case LC_DAG_GT: case LC_DAG_GE: case LC_DAG_EQ: case LC_DAG_NE:
    return dag_scalar2(L, nd);
  case LC_DAG_SELECT: return dag_select(L, nd);
  case LC_DAG_VEC: case LC_DAG_MAT: return dag_build(L, nd);
  case LC_DAG_INDEX: return dag_index(L, nd);
  case LC_DAG_DOT: case LC_DAG_CROSS: case LC_DAG_NORM: case LC_DAG_SQNORM: return dag_vector(L, nd);
  case LC_DAG_DET2: case LC_DAG_DET3: case LC_DAG_INV2: case LC_DAG_INV3: case LC_DAG_TRANSPOSE:
  case LC_DAG_TRACE: return dag_matrix(L, nd);
  default: return dag_unary(L, nd);
  }
}

/* Gathers the outputs' slots into g->out. */
static int dag_outputs(dag_low *L, lc_dag *g) {
  const lc_dag_desc *d = L->d;
  if (d->n_out < 1 || !d->out) return lc_error_set(L->err, LC_EINVAL, "no output node");
  if (!d->residual && d->n_out != 1)
    return lc_error_set(L->err, LC_EINVAL, "an energy has one output node, not %d", d->n_out);
  g->n_out = 0;
  for (int j = 0; j < d->n_out; ++j) {
    const int32_t n = d->out[j];
    if (n < 0 || n >= d->n_nodes)
      return lc_error_set(L->err, LC_EINVAL, "output %d refers to node %d, outside [0, %d)", j, (int)n, (int)d->n_nodes);
    const dag_shape *s = &L->sh[n];
    if (s->kind != SH_SCALAR && !(d->residual && s->kind == SH_VEC))
      return lc_error_set(L->err, LC_EINVAL, "output %d (node %d) must be a scalar%s", j, (int)n,
                          d->residual ? " or a vector" : " (the energy)");
    for (int i = 0; i < s->r; ++i) {
      const int cap = d->residual == LC_DAG_CONSTS ? LC_DAG_MAX_COUT : LC_DAG_MAX_OUT;
      if (g->n_out >= cap)
        return lc_error_set(L->err, LC_EINVAL, "over %d %s", cap,
                            d->residual == LC_DAG_CONSTS ? "constants" : "residual components");
      g->out[g->n_out++] = dag_at(L, n, i);
    }
  }
  return LC_OK;
}

/* The number of slot operands of op (a, b, c in that order). */
int lc_dag_ins_nargs(int op) {
  if (op <= LC_DAG_C) return 0;
  if (op >= LC_DAG_ADDC) return 1; /* fused: a and a constant */
  if (op == LC_DAG_SELECT) return 3;
  if ((op >= LC_DAG_ADD && op <= LC_DAG_DIV) || op >= LC_DAG_POW) return 2;
  return 1;
}

/* Drops instructions no output uses and renumbers the rest (order kept). */
static void dag_prune(lc_dag *g, int32_t *map) {
  for (int32_t i = 0; i < g->n_ins; ++i) map[i] = 0;
  for (int j = 0; j < g->n_out; ++j) map[g->out[j]] = 1;
  for (int32_t i = g->n_ins - 1; i >= 0; --i) {
    if (!map[i]) continue;
    const lc_dag_ins *s = &g->ins[i];
    const int na = lc_dag_ins_nargs(s->op);
    if (na > 0) map[s->a] = 1;
    if (na > 1) map[s->b] = 1;
    if (na > 2) map[s->c] = 1;
  }
  int32_t w = 0;
  for (int32_t i = 0; i < g->n_ins; ++i) {
    if (!map[i]) continue;
    lc_dag_ins s = g->ins[i];
    const int na = lc_dag_ins_nargs(s.op);
    if (na > 0) s.a = map[s.a];
    if (na > 1) s.b = map[s.b];
    if (na > 2) s.c = map[s.c];
    s.d = w;
    g->ins[w] = s;
    map[i] = w++;
  }
  for (int j = 0; j < g->n_out; ++j) g->out[j] = map[g->out[j]];
  g->n_ins = w;
}

static double dag_eval1(const lc_dag_ins *s, const double *w, const double *x, const double *k, const double *p);

/* 1 when slot instruction s is a constant leaf (k, p, c). */
static int dag_is_const(const lc_dag_ins *s) { return s->op == LC_DAG_K || s->op == LC_DAG_P || s->op == LC_DAG_C; }

static uint64_t dag_fnv(uint64_t h, const void *p, size_t n);

/* The earlier instruction of f equal to *s (op, operands, constant), or -1
 * after recording s (at index s->d) in the open-addressing table seen[cap]. */
static int32_t dag_seen(int32_t *seen, int32_t cap, const lc_dag_ins *f, const lc_dag_ins *s) {
  const int32_t key[4] = {s->op, s->a, s->b, s->c};
  uint64_t h = dag_fnv(dag_fnv(1469598103934665603ull, key, sizeof key), &s->v, sizeof s->v);
  for (int32_t at = (int32_t)(h & (uint64_t)(cap - 1));; at = (at + 1) & (cap - 1)) {
    const int32_t e = seen[at];
    if (e < 0) {
      seen[at] = s->d;
      return -1;
    }
    const lc_dag_ins *t = &f[e];
    if (t->op == s->op && t->a == s->a && t->b == s->b && t->c == s->c && !memcmp(&t->v, &s->v, sizeof s->v)) return e;
  }
}

/* The fused form of g's slot program into f: add, sub, mul and div with
 * exactly one constant leaf operand become ADDC..CDIV, literal-only
 * operations are folded, leaves left unused are dropped, and equal
 * instructions are made once (x(0) - x(1) written twice is one value).
 * Returns the count; map[i] (n_ins entries) is the new index of slot i
 * (-1: dropped); uses is scratch of n_ins entries. */
static int32_t dag_fuse(const lc_dag *g, lc_dag_ins *f, int32_t *map, int32_t *uses) {
  for (int32_t i = 0; i < g->n_ins; ++i) uses[i] = 0;
  for (int j = 0; j < g->n_out; ++j) uses[g->out[j]]++;
  for (int32_t i = 0; i < g->n_ins; ++i) {
    const lc_dag_ins *s = &g->ins[i];
    const int na = lc_dag_ins_nargs(s->op);
    if (na > 0) uses[s->a]++;
    if (na > 1) uses[s->b]++;
    if (na > 2) uses[s->c]++;
  }
  static const int fused[4][2] = {{LC_DAG_ADDC, LC_DAG_ADDC}, {LC_DAG_SUBC, LC_DAG_CSUB}, {LC_DAG_MULC, LC_DAG_MULC},
                                  {LC_DAG_DIVC, LC_DAG_CDIV}}; /* [op][constant on the left] */
  lc_dag_ins *w = f;
  double lit[3];
  for (int32_t i = 0; i < g->n_ins; ++i) { /* fuse in place into a copy; leaves stay for now */
    lc_dag_ins s = g->ins[i];
    const int na = lc_dag_ins_nargs(s.op);
    int all_lit = na > 0;
    for (int q = 0; q < na; ++q) all_lit &= w[q == 0 ? s.a : q == 1 ? s.b : s.c].op == LC_DAG_C;
    if (all_lit) { /* literals only: folded to one (it may be +inf, e.g. an inadmissible branch 1/0) */
      for (int q = 0; q < na; ++q) {
        const int32_t o = q == 0 ? s.a : q == 1 ? s.b : s.c;
        lit[q] = w[o].v;
        uses[o]--;
      }
      lc_dag_ins t = s;
      t.a = 0, t.b = 1, t.c = 2;
      s = (lc_dag_ins){LC_DAG_C, -1, -1, -1, s.d, dag_eval1(&t, lit, NULL, NULL, NULL)};
    }
    if (s.op >= LC_DAG_ADD && s.op <= LC_DAG_DIV) {
      const int ca = dag_is_const(&w[s.a]), cb = dag_is_const(&w[s.b]);
      if (ca != cb) {
        const lc_dag_ins *k = &w[ca ? s.a : s.b];
        const int32_t other = ca ? s.b : s.a;
        uses[ca ? s.a : s.b]--;
        s = (lc_dag_ins){fused[s.op - LC_DAG_ADD][ca], other, k->op, k->a, s.d, k->v};
      }
    }
    w[i] = s;
  }
  int32_t n = 0, cap = 16;
  while (cap < 2 * g->n_ins) cap *= 2;
  int32_t *seen = malloc((size_t)cap * sizeof *seen); /* equal instructions once (none: no sharing) */
  if (seen)
    for (int32_t h = 0; h < cap; ++h) seen[h] = -1;
  for (int32_t i = 0; i < g->n_ins; ++i) {
    if (dag_is_const(&f[i]) && uses[i] == 0) {
      map[i] = -1;
      continue;
    }
    lc_dag_ins s = f[i];
    const int na = lc_dag_ins_nargs(s.op);
    if (na > 0) s.a = map[s.a];
    if (na > 1) s.b = map[s.b];
    if (na > 2) s.c = map[s.c];
    s.d = n;
    const int32_t same = seen ? dag_seen(seen, cap, f, &s) : -1;
    if (same >= 0) {
      map[i] = same;
      continue;
    }
    map[i] = n;
    f[n++] = s;
  }
  free(seen);
  return n;
}

/* Register form: linear scan over the slot program.  An instruction's
 * operands are released at their last use before its result takes a
 * register (evaluators read operands before writing), outputs never; the
 * lowest free register is taken, so the form is deterministic.  last and
 * freel are scratch of n_ins entries each. */
static int dag_regs(lc_dag *g, int32_t *last, int32_t *freel) {
  g->rins = malloc((size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *g->rins);
  if (!g->rins) return LC_ENOMEM;
  lc_dag_ins *f = malloc((size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *f);
  if (!f) return LC_ENOMEM;
  const int32_t nf = dag_fuse(g, f, last, freel);
  const lc_dag_ins *src = f;
  int32_t out[LC_DAG_MAX_COUT];
  for (int j = 0; j < g->n_out; ++j) out[j] = last[g->out[j]]; /* dag_fuse left the slot map in last */
  for (int32_t i = 0; i < nf; ++i) last[i] = i;
  for (int32_t i = 0; i < nf; ++i) {
    const lc_dag_ins *s = &src[i];
    const int na = lc_dag_ins_nargs(s->op);
    if (na > 0) last[s->a] = i;
    if (na > 1) last[s->b] = i;
    if (na > 2) last[s->c] = i;
  }
  for (int j = 0; j < g->n_out; ++j) last[out[j]] = nf;
  int32_t nfree = 0;
  g->n_regs = 0;
  g->n_rins = nf;
  for (int32_t i = 0; i < nf; ++i) {
    lc_dag_ins r = src[i];
    const int na = lc_dag_ins_nargs(r.op);
    const int32_t ops[3] = {r.a, r.b, r.c};
    int32_t rr[3] = {r.a, r.b, r.c};
    for (int q = 0; q < na; ++q) rr[q] = g->rins[ops[q]].d;
    for (int q = 0; q < na; ++q) { /* release operands used for the last time here (once each) */
      int dup = 0;
      for (int u = 0; u < q; ++u) dup |= ops[u] == ops[q];
      if (!dup && last[ops[q]] == i) freel[nfree++] = rr[q];
    }
    int32_t best = -1, at = -1;
    for (int32_t q = 0; q < nfree; ++q)
      if (best < 0 || freel[q] < best) best = freel[q], at = q;
    if (at >= 0) freel[at] = freel[--nfree];
    else best = g->n_regs++;
    r.a = rr[0], r.b = rr[1], r.c = rr[2], r.d = best;
    g->rins[i] = r;
  }
  for (int j = 0; j < g->n_out; ++j) g->rout[j] = g->rins[out[j]].d;
  free(f);
  return LC_OK;
}

/* FNV-1a over n bytes, continuing h. */
static uint64_t dag_fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  return h;
}

/* The fingerprint of g's shape, outputs and program. */
static uint64_t dag_fingerprint(const lc_dag *g) {
  const int32_t head[7] = {g->K, g->D, g->n_const, g->n_param, g->residual, g->n_out, g->n_ins};
  uint64_t h = dag_fnv(1469598103934665603ull, head, sizeof head);
  h = dag_fnv(h, g->out, (size_t)g->n_out * sizeof *g->out);
  for (int32_t i = 0; i < g->n_ins; ++i) {
    const lc_dag_ins *s = &g->ins[i];
    const int32_t w[4] = {s->op, s->a, s->b, s->c};
    h = dag_fnv(h, w, sizeof w);
    h = dag_fnv(h, &s->v, sizeof s->v);
  }
  return h;
}

/* Checks the description's counts. */
static int dag_check_desc(const lc_dag_desc *d, lc_error *err) {
  if (d->K < 1 || d->K > LC_DAG_MAX_K || d->D < 1 || d->K * d->D > LC_DAG_MAX_N)
    return lc_error_set(err, LC_EINVAL, "element of %d entities of %d components: K in [1, %d], K*D <= %d", d->K,
                        d->D, LC_DAG_MAX_K, LC_DAG_MAX_N);
  if (d->n_const < 0 || d->n_const > LC_DAG_MAX_CONSTS)
    return lc_error_set(err, LC_EINVAL, "%d constants: at most %d", d->n_const, LC_DAG_MAX_CONSTS);
  if (d->residual < LC_DAG_ENERGY || d->residual > LC_DAG_CONSTS)
    return lc_error_set(err, LC_EINVAL, "output kind %d unknown", d->residual);
  if (d->n_param < 0 || d->n_param > LC_DAG_MAX_PARAMS)
    return lc_error_set(err, LC_EINVAL, "%d parameters: at most %d", d->n_param, LC_DAG_MAX_PARAMS);
  if (d->n_nodes < 1 || !d->nodes) return lc_error_set(err, LC_EINVAL, "no nodes");
  if (d->n_nodes > LC_DAG_MAX_NODES)
    return lc_error_set(err, LC_EINVAL, "%d nodes: at most %d", (int)d->n_nodes, LC_DAG_MAX_NODES);
  return LC_OK;
}

/* Checks and lowers d. */
int lc_dag_create(const lc_dag_desc *d, lc_dag **out, lc_error *err) {
  if (out) *out = NULL;
  if (!d || !out) return lc_error_set(err, LC_EINVAL, "dag: description or out is NULL");
  int rc = dag_check_desc(d, err);
  if (rc) return rc;
  dag_low L = {.d = d, .err = err};
  int32_t *map = NULL;
  lc_dag *g = calloc(1, sizeof *g);
  L.ins = malloc(LC_DAG_MAX_INS * sizeof *L.ins);
  L.sh = calloc((size_t)d->n_nodes, sizeof *L.sh);
  L.slots = malloc((size_t)d->n_nodes * LC_DAG_MAX_VEC * sizeof *L.slots); /* <= 12 entries a node */
  L.depth = calloc((size_t)d->n_nodes, sizeof *L.depth);
  if (!g || !L.ins || !L.sh || !L.slots || !L.depth) {
    rc = lc_error_set(err, LC_ENOMEM, "dag: out of memory (%d nodes)", (int)d->n_nodes);
    goto done;
  }
  for (L.node = 0; L.node < d->n_nodes && !rc; ++L.node) rc = dag_node(&L);
  g->K = d->K, g->D = d->D, g->n_const = d->n_const, g->n_param = d->n_param, g->residual = d->residual;
  if (!rc) rc = dag_outputs(&L, g);
  if (rc) goto done;
  g->ins = L.ins, g->n_ins = L.n_ins, L.ins = NULL;
  map = malloc((size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *map);
  if (!map) {
    rc = lc_error_set(err, LC_ENOMEM, "dag: out of memory (%d instructions)", (int)g->n_ins);
    goto done;
  }
  dag_prune(g, map);
  free(map);
  map = malloc(2 * (size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *map);
  if (!map || dag_regs(g, map, map + (g->n_ins > 0 ? g->n_ins : 1))) {
    rc = lc_error_set(err, LC_ENOMEM, "dag: out of memory (%d instructions)", (int)g->n_ins);
    goto done;
  }
  g->hash = dag_fingerprint(g);
  lc_dag_ins *shrunk = realloc(g->ins, (size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *g->ins);
  if (shrunk) g->ins = shrunk;
  *out = g;
  g = NULL;
done:
  free(L.ins), free(L.sh), free(L.slots), free(L.depth), free(map);
  lc_dag_destroy(g);
  return rc;
}

/* Copies g. */
int lc_dag_clone(const lc_dag *g, lc_dag **out, lc_error *err) {
  *out = NULL;
  lc_dag *c = malloc(sizeof *c);
  const size_t bytes = (size_t)(g->n_ins > 0 ? g->n_ins : 1) * sizeof *g->ins;
  if (c) *c = *g, c->ins = malloc(bytes), c->rins = malloc(bytes);
  if (!c || !c->ins || !c->rins) {
    lc_dag_destroy(c);
    return lc_error_set(err, LC_ENOMEM, "dag: out of memory (copy of %d instructions)", (int)g->n_ins);
  }
  memcpy(c->ins, g->ins, (size_t)g->n_ins * sizeof *g->ins);
  memcpy(c->rins, g->rins, (size_t)g->n_rins * sizeof *g->rins);
  *out = c;
  return LC_OK;
}

/* Frees g. */
void lc_dag_destroy(lc_dag *g) {
  if (!g) return;
  free(g->ins);
  free(g->rins);
  free(g);
}

/* The lowered program. */
const lc_dag_ins *lc_dag_program(const lc_dag *g, int32_t *n) {
  *n = g->n_ins;
  return g->ins;
}

/* The register form. */
const lc_dag_ins *lc_dag_program_regs(const lc_dag *g, int32_t *n, int32_t *n_regs) {
  *n = g->n_rins;
  *n_regs = g->n_regs;
  return g->rins;
}

/* The output registers. */
const int32_t *lc_dag_output_regs(const lc_dag *g, int *n) {
  *n = g->n_out;
  return g->rout;
}

/* The output slots. */
const int32_t *lc_dag_outputs(const lc_dag *g, int *n) {
  *n = g->n_out;
  return g->out;
}

/* Shape and counts. */
void lc_dag_shape(const lc_dag *g, int *K, int *D, int *n_const, int *n_param, int *residual) {
  if (K) *K = g->K;
  if (D) *D = g->D;
  if (n_const) *n_const = g->n_const;
  if (n_param) *n_param = g->n_param;
  if (residual) *residual = g->residual;
}

/* The fingerprint. */
uint64_t lc_dag_hash(const lc_dag *g) { return g->hash; }

/* One instruction in doubles over the slots w. */
static double dag_eval1(const lc_dag_ins *s, const double *w, const double *x, const double *k, const double *p) {
  switch (s->op) {
  case LC_DAG_X: return x[s->a];
  case LC_DAG_K: return k[s->a];
  case LC_DAG_P: return p[s->a];
  case LC_DAG_C: return s->v;
  case LC_DAG_ADD: return w[s->a] + w[s->b];
  case LC_DAG_SUB: return w[s->a] - w[s->b];
  case LC_DAG_MUL: return w[s->a] * w[s->b];
  case LC_DAG_DIV: return w[s->a] / w[s->b];
  case LC_DAG_NEG: return -w[s->a];
  case LC_DAG_SQRT: return sqrt(w[s->a]);
  case LC_DAG_EXP: return exp(w[s->a]);
  case LC_DAG_LOG: return log(w[s->a]);
  case LC_DAG_SIN: return sin(w[s->a]);
  case LC_DAG_COS: return cos(w[s->a]);
  case LC_DAG_TAN: return tan(w[s->a]);
  case LC_DAG_ABS: return fabs(w[s->a]);
  case LC_DAG_POWC: return s->v == 2.0 ? w[s->a] * w[s->a] : pow(w[s->a], s->v);
  case LC_DAG_POW: return pow(w[s->a], w[s->b]);
  case LC_DAG_ATAN2: return atan2(w[s->a], w[s->b]);
  case LC_DAG_MIN: return w[s->b] < w[s->a] ? w[s->b] : w[s->a];
  case LC_DAG_MAX: return w[s->b] > w[s->a] ? w[s->b] : w[s->a];
  case LC_DAG_LT: return w[s->a] < w[s->b];
  case LC_DAG_LE: return w[s->a] <= w[s->b];
  case LC_DAG_GT: return w[s->a] > w[s->b];
  case LC_DAG_GE: return w[s->a] >= w[s->b];
  case LC_DAG_EQ: return w[s->a] == w[s->b];
  case LC_DAG_NE: return w[s->a] != w[s->b];
  case LC_DAG_SELECT: return w[s->a] != 0.0 ? w[s->b] : w[s->c];
  default: break;
  }
  const double c = s->b == LC_DAG_K ? k[s->c] : s->b == LC_DAG_P ? p[s->c] : s->v; /* fused */
  switch (s->op) {
  case LC_DAG_ADDC: return w[s->a] + c;
  case LC_DAG_SUBC: return w[s->a] - c;
  case LC_DAG_CSUB: return c - w[s->a];
  case LC_DAG_MULC: return w[s->a] * c;
  case LC_DAG_DIVC: return w[s->a] / c;
  case LC_DAG_CDIV: return c / w[s->a];
  default: return NAN; /* lowered away */
  }
}

/* Evaluates the outputs in doubles over the register form. */
int lc_dag_eval(const lc_dag *g, const double *x, const double *k, const double *p, double *out, double *work) {
  double *w = work ? work : malloc((size_t)(g->n_regs > 0 ? g->n_regs : 1) * sizeof *w);
  if (!w) return LC_ENOMEM;
  for (int32_t i = 0; i < g->n_rins; ++i) w[g->rins[i].d] = dag_eval1(&g->rins[i], w, x, k, p);
  for (int j = 0; j < g->n_out; ++j) out[j] = w[g->rout[j]];
  if (!work) free(w);
  return LC_OK;
}
