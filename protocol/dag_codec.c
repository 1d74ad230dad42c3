/* dag_codec.c - decoding of custom-energy descriptions (dag_codec.h): the
 * map's keys, then each node's array [op, operands...] into an
 * lc_dag_node, then the engine's checks (lc_dag_create); and packing of a
 * lowered program back into the same form. */
#include "dag_codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "energies/registry.h"

/* Element kinds on the wire: name, kind, entities (0: given by "K"). */
static const struct {
  const char *name;
  int kind, K;
} dag_elems[] = {
    {"vertex", LC_ELEM_VERTEX, 1}, {"edge", LC_ELEM_EDGE, 2},          {"face", LC_ELEM_FACE, 3},
    {"edge_flap", LC_ELEM_FLAP, 4}, {"face_pair", LC_ELEM_FACE_PAIR, 2}, {"list", LC_ELEM_LIST, 0},
};
#define DAG_NELEMS ((int)(sizeof dag_elems / sizeof dag_elems[0]))

/* Operands after the op name: integers (i0, i1) for leaves, index, mat. */
static int dag_is_int(const msgpack_object *o) {
  return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

/* An integer operand in [-2^31, 2^31) into *v, or LC_ERANGE naming the node. */
static int dag_int(const msgpack_object *o, int i, int j, int32_t *v, lc_error *err) {
  if (!dag_is_int(o)) return lc_error_set(err, LC_ERANGE, "nodes[%d]: operand %d must be an integer", i, j);
  const int64_t x = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (o->via.u64 > INT32_MAX ? INT64_MAX : (int64_t)o->via.u64)
                                                               : o->via.i64;
  if (x < INT32_MIN || x > INT32_MAX) return lc_error_set(err, LC_ERANGE, "nodes[%d]: operand %d out of range", i, j);
  *v = (int32_t)x;
  return LC_OK;
}

/* A number operand (integer or float) into *v. */
static int dag_num(const msgpack_object *o, int i, int j, double *v, lc_error *err) {
  if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) *v = o->via.f64;
  else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) *v = (double)o->via.u64;
  else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) *v = (double)o->via.i64;
  else return lc_error_set(err, LC_ERANGE, "nodes[%d]: operand %d must be a number", i, j);
  return LC_OK;
}

/* How many leading integer operands op takes before its node arguments,
 * and how many of them are optional. */
static void dag_int_operands(int op, int *n, int *optional) {
  *n = 0, *optional = 0;
  if (op == LC_DAG_X || op == LC_DAG_K || op == LC_DAG_INDEX) *n = 2, *optional = 1;
  else if (op == LC_DAG_P) *n = 1;
  else if (op == LC_DAG_MAT) *n = 2;
}

/* Decodes node i, array a, into nd. */
static int dag_node_decode(const msgpack_object *a, int i, lc_dag_node *nd, lc_error *err) {
  const char *name;
  size_t len;
  if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 1 || !lc_codec_strbin(&a->via.array.ptr[0], &name, &len))
    return lc_error_set(err, LC_EINVAL, "nodes[%d]: must be an array [op, operands...] with op a string", i);
  memset(nd, 0, sizeof *nd);
  nd->i0 = nd->i1 = -1;
  nd->op = len < 16 ? lc_dag_op_find(name, (int)len) : -1;
  if (nd->op < 0) {
    char shown[40];
    lc_codec_printable(shown, sizeof shown, name, len);
    return lc_error_set(err, LC_ERANGE, "nodes[%d]: unknown operation '%s'", i, shown);
  }
  name = lc_dag_op_name(nd->op); /* NUL-terminated from here on */
  const msgpack_object *v = a->via.array.ptr + 1;
  const int n = (int)a->via.array.size - 1;
  int k = 0, nint, opt, rc = LC_OK;
  if (nd->op == LC_DAG_C || nd->op == LC_DAG_POWC) { /* c value; powc a exponent */
    const int at = nd->op == LC_DAG_C ? 0 : 1;
    if (n != at + 1) return lc_error_set(err, LC_ERANGE, "nodes[%d]: %s takes %d operand%s, got %d", i, name, at + 1, at ? "s" : "", n);
    rc = dag_num(&v[at], i, at, &nd->value, err);
    if (!rc && at) rc = dag_int(&v[0], i, 0, &nd->args[nd->nargs++], err);
    return rc;
  }
  dag_int_operands(nd->op, &nint, &opt);
  if (nd->op == LC_DAG_INDEX) { /* index a i [j] */
    if (n < 2 || n > 3) return lc_error_set(err, LC_ERANGE, "nodes[%d]: index takes a node and 1 or 2 indices, got %d operands", i, n);
    rc = dag_int(&v[0], i, 0, &nd->args[nd->nargs++], err);
    if (!rc) rc = dag_int(&v[1], i, 1, &nd->i0, err);
    if (!rc && n == 3) rc = dag_int(&v[2], i, 2, &nd->i1, err);
    return rc;
  }
  for (; k < nint && k < n && !rc; ++k) rc = dag_int(&v[k], i, k, k ? &nd->i1 : &nd->i0, err);
  if (rc) return rc;
  if (k < nint - opt) return lc_error_set(err, LC_ERANGE, "nodes[%d]: %s needs %d integer operand%s", i, name, nint - opt, nint - opt == 1 ? "" : "s");
  if (nint && n > nint && nd->op != LC_DAG_MAT)
    return lc_error_set(err, LC_ERANGE, "nodes[%d]: %s takes at most %d operands, got %d", i, name, nint, n);
  if (n - k > LC_DAG_MAX_ARGS)
    return lc_error_set(err, LC_ERANGE, "nodes[%d]: %d arguments, at most %d", i, n - k, LC_DAG_MAX_ARGS);
  for (int j = k; j < n && !rc; ++j) rc = dag_int(&v[j], i, j, &nd->args[nd->nargs++], err);
  return rc;
}

/* The element kind and K of description o. */
static int dag_elem(const msgpack_object *o, lc_dag_wire *w, int *K, lc_error *err) {
  char name[24];
  int rc = lc_codec_get_str(o, "element", 1, name, sizeof name, err);
  if (rc) return rc;
  for (int e = 0; e < DAG_NELEMS; ++e) {
    if (strcmp(name, dag_elems[e].name)) continue;
    w->elem = dag_elems[e].kind;
    int64_t k = dag_elems[e].K;
    if (!k) rc = lc_codec_get_int(o, "K", 1, 1, LC_DAG_MAX_K, 1, &k, err);
    *K = (int)k;
    return rc;
  }
  return lc_error_set(err, LC_ERANGE, "element: '%s' is not vertex, edge, face, edge_flap, face_pair or list", name);
}

/* Parameter names into w (at most LC_DAG_MAX_PARAMS, each under 32 bytes). */
static int dag_params(const msgpack_object *o, lc_dag_wire *w, lc_error *err) {
  const msgpack_object *ps = NULL;
  int rc = lc_codec_get_array(o, "params", 0, &ps, err);
  if (rc || !ps) return rc;
  if (ps->via.array.size > LC_DAG_MAX_PARAMS)
    return lc_error_set(err, LC_ERANGE, "params: %u names, at most %d", ps->via.array.size, LC_DAG_MAX_PARAMS);
  for (uint32_t j = 0; j < ps->via.array.size; ++j) {
    const msgpack_object *s = &ps->via.array.ptr[j];
    if (s->type != MSGPACK_OBJECT_STR || s->via.str.size == 0 || s->via.str.size >= sizeof w->param_names[0] ||
        memchr(s->via.str.ptr, '\0', s->via.str.size))
      return lc_error_set(err, LC_ERANGE, "params[%u]: a name of 1 to 31 bytes, no NUL", j);
    memcpy(w->param_names[j], s->via.str.ptr, s->via.str.size);
    w->param_names[j][s->via.str.size] = '\0';
    for (uint32_t q = 0; q < j; ++q)
      if (!strcmp(w->param_names[q], w->param_names[j]))
        return lc_error_set(err, LC_ERANGE, "params[%u]: '%s' appears twice", j, w->param_names[j]);
  }
  w->n_param = (int)ps->via.array.size;
  return LC_OK;
}

/* A list of 1..max node indices (a msgpack array, or an i4 array map as
 * clients that pack numeric lists as arrays send it) into out[*n]. */
static int dag_index_list(const msgpack_object *o, const char *key, int max, int32_t *out, int *n, lc_error *err) {
  lc_ndarray a = {0};
  int rc = lc_codec_ndarray_decode(o, LC_DT_I4, key, &a, err);
  if (rc) { /* an f8 array of whole numbers, as some clients pack lists of numbers */
    lc_codec_ndarray_free(&a);
    rc = lc_codec_ndarray_decode(o, LC_DT_F8, key, &a, err);
  }
  if (!rc && (a.ndim != 1 || a.n < 1 || a.n > max))
    rc = lc_error_set(err, LC_EINVAL, "%s: an array of 1 to %d node indices", key, max);
  for (int64_t j = 0; !rc && j < a.n; ++j) {
    const double v = a.dtype == LC_DT_I4 ? ((const int32_t *)a.data)[j] : ((const double *)a.data)[j];
    if (v != floor(v) || v < 0 || v > INT32_MAX) rc = lc_error_set(err, LC_ERANGE, "%s[%lld]: not a node index", key, (long long)j);
    else out[j] = (int32_t)v;
  }
  if (!rc) *n = (int)a.n;
  lc_codec_ndarray_free(&a);
  return rc;
}

/* The outputs: "energy" (one node) or "residuals" (nodes), not both. */
static int dag_outs(const msgpack_object *o, lc_dag_desc *d, int32_t *out, lc_error *err) {
  const msgpack_object *e = lc_codec_get(o, "energy"), *r = lc_codec_get(o, "residuals");
  if (!e == !r) return lc_error_set(err, LC_EINVAL, "energy / residuals: give exactly one of them");
  d->residual = r != NULL;
  if (e) {
    d->n_out = 1;
    if (!dag_is_int(e)) return lc_error_set(err, LC_EINVAL, "energy: must be a node index");
    return dag_int(e, -1, 0, &out[0], err) ? lc_error_set(err, LC_ERANGE, "energy: node index out of range") : LC_OK;
  }
  return dag_index_list(r, "residuals", LC_DAG_MAX_OUT, out, &d->n_out, err);
}

/* Decodes the node array `nodes` and creates the DAG of d (its other fields
 * set) into *out: LC_ERANGE for a wrong value, as the codec's convention. */
static int dag_make(const msgpack_object *nodes, lc_dag_desc *d, lc_dag **out, lc_error *err) {
  if (nodes->via.array.size < 1 || nodes->via.array.size > LC_DAG_MAX_NODES)
    return lc_error_set(err, LC_ERANGE, "nodes: %u nodes, 1 to %d allowed", nodes->via.array.size, LC_DAG_MAX_NODES);
  lc_dag_node *nd = malloc(nodes->via.array.size * sizeof *nd);
  int rc = nd ? LC_OK : lc_error_set(err, LC_ENOMEM, "nodes: out of memory");
  for (uint32_t i = 0; !rc && i < nodes->via.array.size; ++i) rc = dag_node_decode(&nodes->via.array.ptr[i], (int)i, &nd[i], err);
  if (!rc) {
    d->nodes = nd, d->n_nodes = (int32_t)nodes->via.array.size;
    rc = lc_dag_create(d, out, err);
    if (rc == LC_EINVAL) rc = err ? (err->code = LC_ERANGE) : LC_ERANGE; /* a wrong value, not a wrong type */
  }
  free(nd);
  return rc;
}

/* The optional "rest" section: constants from the K rest positions (dim 3),
 * {nodes, consts: [node indices]}, into w->rest.  Messages start "rest: ". */
static int dag_rest(const msgpack_object *o, int K, lc_dag_wire *w, lc_error *err) {
  const msgpack_object *r = NULL, *nodes = NULL, *cs = NULL;
  int rc = lc_codec_get_map(o, "rest", 0, &r, err);
  if (rc || !r) return rc;
  int32_t out[LC_DAG_MAX_COUT];
  lc_dag_desc d = {.K = K, .D = 3, .residual = LC_DAG_CONSTS, .out = out};
  rc = lc_codec_get_array(r, "nodes", 1, &nodes, err);
  if (!rc && !(cs = lc_codec_get(r, "consts"))) rc = lc_error_set(err, LC_EINVAL, "missing parameter 'consts'");
  if (!rc) rc = dag_index_list(cs, "consts", LC_DAG_MAX_COUT, out, &d.n_out, err);
  if (!rc) rc = dag_make(nodes, &d, &w->rest, err);
  if (rc && err) {
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    lc_error_set(err, rc, "rest: %s", msg);
  }
  return rc;
}

/* Decodes description o. */
int lc_dag_decode(const msgpack_object *o, lc_dag_wire *w, lc_error *err) {
  memset(w, 0, sizeof *w);
  if (!o || o->type != MSGPACK_OBJECT_MAP) return lc_error_set(err, LC_EINVAL, "energy description: must be a map");
  lc_dag_desc d = {0};
  int32_t out[LC_DAG_MAX_OUT];
  int64_t D = 0, nc = 0;
  const msgpack_object *nodes = NULL;
  int rc = dag_elem(o, w, &d.K, err);
  if (!rc) rc = lc_codec_get_int(o, "dim", 1, 1, LC_DAG_MAX_N, 1, &D, err);
  if (!rc) rc = lc_codec_get_int(o, "n_const", 0, 0, LC_DAG_MAX_CONSTS, 0, &nc, err);
  if (!rc) rc = dag_params(o, w, err);
  if (!rc) rc = lc_codec_get_array(o, "nodes", 1, &nodes, err);
  if (!rc) rc = dag_outs(o, &d, out, err);
  if (!rc) {
    d.D = (int)D, d.n_const = (int)nc, d.n_param = w->n_param, d.out = out;
    rc = dag_make(nodes, &d, &w->dag, err);
  }
  if (!rc) rc = dag_rest(o, d.K, w, err);
  if (rc) {
    lc_dag_destroy(w->dag);
    lc_dag_destroy(w->rest);
    w->dag = w->rest = NULL;
  }
  return rc;
}

/* Packs one lowered instruction as a node array. */
static void dag_pack_ins(msgpack_packer *pk, const lc_dag_ins *s, int D) {
  const char *name = lc_dag_op_name(s->op);
  const int args = lc_dag_ins_nargs(s->op);
  switch (s->op) {
  case LC_DAG_X:
    msgpack_pack_array(pk, 3), lc_codec_pack_str(pk, name);
    msgpack_pack_int32(pk, s->a / D), msgpack_pack_int32(pk, s->a % D);
    return;
  case LC_DAG_K: case LC_DAG_P:
    msgpack_pack_array(pk, 2), lc_codec_pack_str(pk, name), msgpack_pack_int32(pk, s->a);
    return;
  case LC_DAG_C:
    msgpack_pack_array(pk, 2), lc_codec_pack_str(pk, name), msgpack_pack_double(pk, s->v);
    return;
  case LC_DAG_POWC:
    msgpack_pack_array(pk, 3), lc_codec_pack_str(pk, name), msgpack_pack_int32(pk, s->a), msgpack_pack_double(pk, s->v);
    return;
  default:
    msgpack_pack_array(pk, (size_t)args + 1), lc_codec_pack_str(pk, name);
    msgpack_pack_int32(pk, s->a);
    if (args > 1) msgpack_pack_int32(pk, s->b);
    if (args > 2) msgpack_pack_int32(pk, s->c);
  }
}

/* Packs w's lowered program as a description map. */
void lc_dag_pack(msgpack_packer *pk, const lc_dag_wire *w) {
  int K, D, nc, np, res, n_out;
  int32_t n;
  lc_dag_shape(w->dag, &K, &D, &nc, &np, &res);
  const lc_dag_ins *ins = lc_dag_program(w->dag, &n);
  const int32_t *out = lc_dag_outputs(w->dag, &n_out);
  const char *elem = "list";
  for (int e = 0; e < DAG_NELEMS; ++e)
    if (dag_elems[e].kind == w->elem) elem = dag_elems[e].name;
  msgpack_pack_map(pk, 7);
  lc_codec_pack_str(pk, "element"), lc_codec_pack_str(pk, elem);
  lc_codec_pack_str(pk, "K"), msgpack_pack_int(pk, K);
  lc_codec_pack_str(pk, "dim"), msgpack_pack_int(pk, D);
  lc_codec_pack_str(pk, "n_const"), msgpack_pack_int(pk, nc);
  lc_codec_pack_str(pk, "params"), msgpack_pack_array(pk, (size_t)np);
  for (int j = 0; j < np; ++j) lc_codec_pack_str(pk, w->param_names[j]);
  lc_codec_pack_str(pk, "nodes"), msgpack_pack_array(pk, (size_t)n);
  for (int32_t i = 0; i < n; ++i) dag_pack_ins(pk, &ins[i], D);
  lc_codec_pack_str(pk, res ? "residuals" : "energy");
  if (res) {
    msgpack_pack_array(pk, (size_t)n_out);
    for (int j = 0; j < n_out; ++j) msgpack_pack_int32(pk, out[j]);
  } else {
    msgpack_pack_int32(pk, out[0]);
  }
}
