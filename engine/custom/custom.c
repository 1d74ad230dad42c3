/* custom.c - custom-energy payloads (custom.h): the instance for the DAG's
 * element shape, an energy info the problem layer reads like a built-in's,
 * and the interpreter context. */
#include "custom/custom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_custom {
  int refs;
  int id;                     /* lc_custom_id */
  lc_dag *dag;                /* a private copy */
  lc_dag *rest;               /* constants from the rest shape (a copy), or NULL */
  lc_energy_info info;
  char names[LC_ENERGY_MAX_PARAMS][32];
};

/* Element shapes of the instances, in LC_CUSTOM_LIST order. */
#define LC_CUSTOM_SHAPE_(inst, K, D) {K, D},
static const int custom_shapes[LC_EC_COUNT][2] = {LC_CUSTOM_LIST(LC_CUSTOM_SHAPE_)};

/* The custom instance for K entities of D components, or -1. */
int lc_custom_find(int K, int D) {
  for (int i = 0; i < LC_EC_COUNT; ++i)
    if (custom_shapes[i][0] == K && custom_shapes[i][1] == D) return i;
  return -1;
}

/* The K a natural element kind implies (0: any, from the list). */
static int custom_kind_K(int elem) {
  switch (elem) {
  case LC_ELEM_VERTEX: return 1;
  case LC_ELEM_EDGE: case LC_ELEM_FACE_PAIR: return 2;
  case LC_ELEM_FACE: return 3;
  case LC_ELEM_FLAP: return 4;
  default: return 0;
  }
}

/* Fills c->info from the DAG's shape and the names. */
static void custom_fill_info(lc_custom *c, int elem, int K, int D, int nc, int np, const char *const *names) {
  lc_energy_info *f = &c->info;
  memset(f, 0, sizeof *f);
  f->inst = "custom";
  f->name = "custom";
  f->kind = (lc_elem_kind)elem;
  f->loc = elem == LC_ELEM_FACE_PAIR ? LC_LOC_FACE : LC_LOC_VERTEX;
  f->K = K, f->dim = D, f->n_const = nc, f->n_param = np;
  for (int i = 0; i < np; ++i) {
    snprintf(c->names[i], sizeof c->names[i], "%s", names && names[i] ? names[i] : "");
    f->param_names[i] = c->names[i];
    f->param_defaults[i] = NAN;
  }
  f->const_doc = "the constants the description's k nodes read, given with the term";
  f->formula = "custom: an expression DAG from the client"; /* n_resid 0: lc_custom_create sets it for residuals */
}

/* Creates a payload. */
int lc_custom_create(const lc_dag *dag, int elem, const char *const *names, lc_custom **out, lc_error *err) {
  if (out) *out = NULL;
  if (!dag || !out) return lc_error_set(err, LC_EINVAL, "custom: dag or out is NULL");
  int K, D, nc, np, res;
  int32_t n, nr;
  lc_dag_shape(dag, &K, &D, &nc, &np, &res);
  if (res != LC_DAG_ENERGY && res != LC_DAG_RESIDUALS)
    return lc_error_set(err, LC_EINVAL, "custom: a constants DAG is not an energy (give energy or residuals)");
  if (elem < 0 || elem >= LC_ELEM_COUNT || (custom_kind_K(elem) && custom_kind_K(elem) != K))
    return lc_error_set(err, LC_EINVAL, "custom: this element kind has %d entities, the description %d",
                        custom_kind_K(elem), K);
  const int id = lc_custom_find(K, D);
  if (id < 0)
    return lc_error_set(err, LC_EINVAL, "custom: no instance for elements of %d entities of dimension %d "
                        "(K 1-4 with D 1-3, K 1-2 with D 4, K 1-2 with D 12)", K, D);
  lc_dag_program_regs(dag, &n, &nr);
  if (nr > LC_DAG_MAX_REGS)
    return lc_error_set(err, LC_EINVAL, "custom: the program keeps %d values alive at once; at most %d", (int)nr,
                        LC_DAG_MAX_REGS);
  lc_custom *c = calloc(1, sizeof *c);
  if (!c) return lc_error_set(err, LC_ENOMEM, "custom: out of memory");
  const int rc = lc_dag_clone(dag, &c->dag, err);
  if (rc) {
    free(c);
    return rc;
  }
  c->refs = 1;
  c->id = id;
  custom_fill_info(c, elem, K, D, nc, np, names);
  if (res == LC_DAG_RESIDUALS) lc_dag_outputs(dag, &c->info.n_resid);
  *out = c;
  return LC_OK;
}

/* Adds a reference. */
lc_custom *lc_custom_retain(lc_custom *c) {
  if (c) ++c->refs;
  return c;
}

/* Drops a reference. */
void lc_custom_release(lc_custom *c) {
  if (!c || --c->refs > 0) return;
  lc_dag_destroy(c->dag);
  lc_dag_destroy(c->rest);
  free(c);
}

int lc_custom_energy(const lc_custom *c) { return LC_E_CUSTOM_BASE + c->id; }
const lc_energy_info *lc_custom_info(const lc_custom *c) { return &c->info; }

/* Fills a term's context. */
void lc_custom_context(const lc_custom *c, const double *params, lc_dag_ctx *ctx) {
  int n_out;
  memcpy(ctx->params, params, sizeof ctx->params);
  ctx->ins = lc_dag_program_regs(c->dag, &ctx->n_ins, &ctx->n_regs);
  const int32_t *o = lc_dag_output_regs(c->dag, &n_out);
  memset(ctx->outs, 0, sizeof ctx->outs);
  for (int i = 0; i < n_out && i < LC_DAG_MAX_OUT; ++i) ctx->outs[i] = o[i];
  ctx->n_res = c->info.n_resid;
}
const lc_dag *lc_custom_dag(const lc_custom *c) { return c->dag; }

/* Sets the rest DAG. */
int lc_custom_set_rest(lc_custom *c, const lc_dag *rest, lc_error *err) {
  int K, D, nc, np, kind, n_out;
  lc_dag_shape(rest, &K, &D, &nc, &np, &kind);
  lc_dag_outputs(rest, &n_out);
  if (kind != LC_DAG_CONSTS || K != c->info.K || D != 3 || nc || np)
    return lc_error_set(err, LC_EINVAL, "rest: a constants DAG over the %d rest positions (dim 3), without constants "
                        "or parameters", c->info.K);
  int32_t n, nr;
  lc_dag_program_regs(rest, &n, &nr);
  if (nr > LC_DAG_MAX_REGS)
    return lc_error_set(err, LC_EINVAL, "rest: the program keeps %d values alive at once; at most %d", (int)nr,
                        LC_DAG_MAX_REGS);
  if (c->info.loc != LC_LOC_VERTEX)
    return lc_error_set(err, LC_EINVAL, "rest: constants from the rest shape need vertex elements (these are faces)");
  if (n_out != c->info.n_const)
    return lc_error_set(err, LC_EINVAL, "rest: gives %d constants; the energy reads %d (n_const)", n_out,
                        c->info.n_const);
  lc_dag *copy = NULL;
  const int rc = lc_dag_clone(rest, &copy, err);
  if (rc) return rc;
  lc_dag_destroy(c->rest);
  c->rest = copy;
  return LC_OK;
}

const lc_dag *lc_custom_rest(const lc_custom *c) { return c->rest; }

/* One element's constants from the rest positions. */
int lc_custom_rest_consts(const lc_custom *c, const lc_mesh *m, const int32_t *ent, double *k, char *why) {
  double X[LC_DAG_MAX_K * 3], work[LC_DAG_MAX_REGS]; /* lc_custom_set_rest capped the registers */
  for (int a = 0; a < c->info.K; ++a) {
    if (ent[a] < 0 || ent[a] >= lc_mesh_nv(m)) {
      snprintf(why, 128, "vertex %ld out of range [0, %ld)", (long)ent[a], (long)lc_mesh_nv(m));
      return LC_EMESH;
    }
    memcpy(X + 3 * a, lc_mesh_V(m) + 3 * (size_t)ent[a], 3 * sizeof *X);
  }
  const int rc = lc_dag_eval(c->rest, X, NULL, NULL, k, work);
  if (rc) return rc;
  for (int j = 0; j < c->info.n_const; ++j)
    if (!isfinite(k[j])) {
      snprintf(why, 128, "rest constant %d is %g", j, k[j]);
      return LC_EMESH;
    }
  return LC_OK;
}
