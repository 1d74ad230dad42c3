/* dag_build.h - building DAG descriptions (custom/dag.h) from C: a builder
 * over a caller's node array, and one short function per kind of node, each
 * returning the new node's index (-1 once the array is full; lc_dag_create
 * then refuses the description).  Used by tests, benchmarks and
 * applications that write custom energies in C. */
#ifndef LC_DAG_BUILD_H
#define LC_DAG_BUILD_H

#include <string.h>

#include "custom/dag.h"

/* A description under construction: nodes[0 .. n) of cap. */
typedef struct lc_dag_builder {
  lc_dag_node *nodes;
  int32_t n, cap;
} lc_dag_builder;

/* Appends a node with up to two node arguments (-1: none). */
static inline int32_t lc_dagb(lc_dag_builder *b, int op, int32_t a0, int32_t a1, int i0, int i1, double v) {
  if (b->n >= b->cap) return -1;
  lc_dag_node *d = &b->nodes[b->n];
  memset(d, 0, sizeof *d);
  d->op = op, d->i0 = i0, d->i1 = i1, d->value = v;
  if (a0 >= 0) d->args[d->nargs++] = a0;
  if (a1 >= 0) d->args[d->nargs++] = a1;
  return b->n++;
}

/* Appends a node with the n arguments args (select, vec, mat: i0, i1 as for lc_dagb). */
static inline int32_t lc_dagb_n(lc_dag_builder *b, int op, int n, const int32_t *args, int i0, int i1) {
  const int32_t k = lc_dagb(b, op, -1, -1, i0, i1, 0.0);
  if (k < 0 || n > LC_DAG_MAX_ARGS) return -1;
  for (int j = 0; j < n; ++j) b->nodes[k].args[j] = args[j];
  b->nodes[k].nargs = n;
  return k;
}

static inline int32_t lc_dagb_bin(lc_dag_builder *b, int op, int32_t x, int32_t y) { return lc_dagb(b, op, x, y, -1, -1, 0.0); }
static inline int32_t lc_dagb_un(lc_dag_builder *b, int op, int32_t x) { return lc_dagb(b, op, x, -1, -1, -1, 0.0); }
static inline int32_t lc_dagb_lit(lc_dag_builder *b, double v) { return lc_dagb(b, LC_DAG_C, -1, -1, -1, -1, v); }
static inline int32_t lc_dagb_x(lc_dag_builder *b, int e, int c) { return lc_dagb(b, LC_DAG_X, -1, -1, e, c, 0.0); }
static inline int32_t lc_dagb_k(lc_dag_builder *b, int i) { return lc_dagb(b, LC_DAG_K, -1, -1, i, -1, 0.0); }
static inline int32_t lc_dagb_p(lc_dag_builder *b, int i) { return lc_dagb(b, LC_DAG_P, -1, -1, i, -1, 0.0); }
static inline int32_t lc_dagb_powc(lc_dag_builder *b, int32_t x, double e) { return lc_dagb(b, LC_DAG_POWC, x, -1, -1, -1, e); }

/* The description of b's nodes: shape K x D, counts, outputs out[n_out]. */
static inline lc_dag_desc lc_dagb_desc(const lc_dag_builder *b, int K, int D, int n_const, int n_param, int n_out,
                                       const int32_t *out) {
  const lc_dag_desc d = {.K = K, .D = D, .n_const = n_const, .n_param = n_param, .n_nodes = b->n, .nodes = b->nodes,
                         .n_out = n_out, .out = out};
  return d;
}

#endif
