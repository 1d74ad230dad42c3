/* test_dag_codec.c - Check suite of protocol/dag_codec: custom-energy
 * descriptions off the wire (written here in a JSON-like shorthand with
 * single quotes and packed to MessagePack), decoded, evaluated, packed back
 * and decoded again; every malformed description refused with a message
 * that names the key or node. */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "dag_codec.h"
#include "testutil.h"

/* ---- a JSON-like shorthand packed to MessagePack ('strings', numbers with a
 * '.' or 'e' are floats, nan/inf floats, [arrays], {maps}) ---------------------- */

static const char *sp(const char *s) {
  while (isspace((unsigned char)*s) || *s == ',' || *s == ':') ++s;
  return s;
}

/* The text after the value at s. */
static const char *skip_value(const char *s) {
  s = sp(s);
  if (*s == '[' || *s == '{') {
    const char close = *s == '[' ? ']' : '}';
    for (s = sp(s + 1); *s != close; s = sp(skip_value(s))) {}
    return s + 1;
  }
  if (*s == '\'') return strchr(s + 1, '\'') + 1;
  if (!strncmp(s, "nan", 3) || !strncmp(s, "inf", 3)) return s + 3;
  if (!strncmp(s, "true", 4)) return s + 4;
  char *end;
  strtod(s, &end);
  return end;
}

/* Packs one value at s; returns the text after it. */
static const char *pk_value(msgpack_packer *pk, const char *s) {
  s = sp(s);
  if (*s == '[' || *s == '{') {
    const char close = *s == '[' ? ']' : '}';
    int n = 0;
    for (const char *q = sp(s + 1); *q != close; q = sp(skip_value(q))) ++n;
    if (close == ']') msgpack_pack_array(pk, (size_t)n);
    else msgpack_pack_map(pk, (size_t)n / 2);
    for (s = sp(s + 1); *s != close; s = sp(pk_value(pk, s))) {}
    return s + 1;
  }
  if (*s == '\'') {
    const char *e = strchr(s + 1, '\'');
    msgpack_pack_str(pk, (size_t)(e - s - 1));
    msgpack_pack_str_body(pk, s + 1, (size_t)(e - s - 1));
    return e + 1;
  }
  if (!strncmp(s, "nan", 3)) return msgpack_pack_double(pk, NAN), s + 3;
  if (!strncmp(s, "inf", 3)) return msgpack_pack_double(pk, INFINITY), s + 3;
  if (!strncmp(s, "true", 4)) return msgpack_pack_true(pk), s + 4;
  char *end;
  const double v = strtod(s, &end);
  int is_float = 0;
  for (const char *q = s; q < end; ++q) is_float |= *q == '.' || *q == 'e';
  if (is_float) msgpack_pack_double(pk, v);
  else msgpack_pack_int64(pk, strtoll(s, NULL, 10));
  return end;
}

/* Decodes the description text into w; returns lc_dag_decode's status. */
static int decode(const char *text, lc_dag_wire *w, lc_error *err) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  pk_value(&pk, text);
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
  ck_assert_uint_eq(off, sb.size);
  const int rc = lc_dag_decode(&u.data, w, err);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

#define SPRING                                                                                       \
  "{'element': 'edge', 'dim': 3, 'n_const': 1, 'params': ['k'], 'nodes': ["                          \
  "['x', 1], ['x', 0], ['sub', 0, 1], ['norm', 2], ['k', 0], ['sub', 3, 4], ['powc', 5, 2.0],"       \
  "['p', 0], ['c', 0.5], ['mul', 8, 7], ['mul', 9, 6]], 'energy': 10}"

/* The spring off the wire: its value; packed back and decoded again, the
 * same program (hash) and value; parameter names kept. */
START_TEST(test_spring_round_trip) {
  lc_dag_wire w, w2;
  lc_error err = {0};
  ck_assert_msg(decode(SPRING, &w, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(w.n_param, 1);
  ck_assert_str_eq(w.param_names[0], "k");
  const double x[6] = {0, 0, 0, 3, 4, 0}, k[1] = {2.0}, p[1] = {10.0};
  double e;
  ck_assert_int_eq(lc_dag_eval(w.dag, x, k, p, &e, NULL), LC_OK);
  ck_assert_double_eq_tol(e, 0.5 * 10.0 * 9.0, 1e-14);
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  lc_dag_pack(&pk, &w);
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
  ck_assert_msg(lc_dag_decode(&u.data, &w2, &err) == LC_OK, "%s", err.msg);
  ck_assert(lc_dag_hash(w.dag) == lc_dag_hash(w2.dag));
  ck_assert_str_eq(w2.param_names[0], "k");
  double e2;
  ck_assert_int_eq(lc_dag_eval(w2.dag, x, k, p, &e2, NULL), LC_OK);
  ck_assert_double_eq(e, e2);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
  lc_dag_destroy(w.dag);
  lc_dag_destroy(w2.dag);
}
END_TEST

/* Residuals, a list element with K, index and mat operands. */
START_TEST(test_residuals_list) {
  lc_dag_wire w;
  lc_error err = {0};
  ck_assert_msg(decode("{'element': 'list', 'K': 2, 'dim': 2, 'nodes': [['x', 0], ['x', 1, 1], ['index', 0, 1],"
                       "['mat', 2, 2, 1, 2, 2, 1], ['det2', 3], ['sub', 2, 1]], 'residuals': [0, 4, 5]}",
                       &w, &err) == LC_OK,
                "%s", err.msg);
  const double x[4] = {1.0, 2.0, 3.0, 5.0};
  double r[4];
  int n;
  lc_dag_outputs(w.dag, &n);
  ck_assert_int_eq(n, 4);
  ck_assert_int_eq(lc_dag_eval(w.dag, x, NULL, NULL, r, NULL), LC_OK);
  ck_assert_double_eq(r[0], 1.0);
  ck_assert_double_eq(r[1], 2.0);
  ck_assert_double_eq(r[2], 5.0 * 5.0 - 2.0 * 2.0); /* [[5, 2], [2, 5]] */
  ck_assert_double_eq(r[3], 2.0 - 5.0);
  lc_dag_destroy(w.dag);
}
END_TEST

/* Expects decode(text) to fail with code and a message containing want. */
static void refused(const char *text, int code, const char *want) {
  lc_dag_wire w;
  lc_error err = {0};
  ck_assert_int_eq(decode(text, &w, &err), code);
  ck_assert_ptr_null(w.dag);
  ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
}

START_TEST(test_malformed) {
  refused("[1, 2]", LC_EINVAL, "energy description: must be a map");
  refused("{'dim': 3, 'nodes': [['c', 1]], 'energy': 0}", LC_EINVAL, "element");
  refused("{'element': 'tet', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0}", LC_ERANGE,
          "element: 'tet' is not vertex, edge, face, edge_flap, face_pair or list");
  refused("{'element': 'list', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0}", LC_EINVAL, "K");
  refused("{'element': 'edge', 'dim': 0, 'nodes': [['c', 1]], 'energy': 0}", LC_ERANGE, "dim");
  refused("{'element': 'edge', 'dim': 3, 'nodes': 5, 'energy': 0}", LC_EINVAL, "nodes");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [], 'energy': 0}", LC_ERANGE, "nodes: 0 nodes, 1 to 4096 allowed");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]]}", LC_EINVAL,
          "energy / residuals: give exactly one of them");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0, 'residuals': [0]}", LC_EINVAL,
          "give exactly one");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'residuals': [0, 0, 0, 0, 0, 0, 0]}", LC_EINVAL,
          "residuals: an array of 1 to 6 node indices");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 'x'}", LC_EINVAL, "energy: must be a node index");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [5], 'energy': 0}", LC_EINVAL,
          "nodes[0]: must be an array [op, operands...] with op a string");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [[7, 1]], 'energy': 0}", LC_EINVAL, "nodes[0]: must be an array");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1], ['frob', 0]], 'energy': 1}", LC_ERANGE,
          "nodes[1]: unknown operation 'frob'");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c']], 'energy': 0}", LC_ERANGE, "nodes[0]: c takes 1 operand, got 0");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 'one']], 'energy': 0}", LC_ERANGE,
          "nodes[0]: operand 0 must be a number");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1], ['neg', 0.5]], 'energy': 1}", LC_ERANGE,
          "nodes[1]: operand 0 must be an integer");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['x']], 'energy': 0}", LC_ERANGE, "nodes[0]: x needs 1 integer operand");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['x', 0, 1, 2]], 'energy': 0}", LC_ERANGE,
          "nodes[0]: x takes at most 2 operands, got 3");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1], ['index', 0]], 'energy': 1}", LC_ERANGE,
          "nodes[1]: index takes a node and 1 or 2 indices");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1], ['neg', 99999999999]], 'energy': 1}", LC_ERANGE,
          "nodes[1]: operand 0 out of range");
  refused("{'element': 'edge', 'dim': 3, 'params': ['k', 'k'], 'nodes': [['c', 1]], 'energy': 0}", LC_ERANGE,
          "params[1]: 'k' appears twice");
  refused("{'element': 'edge', 'dim': 3, 'params': ['a','b','c','d','e','f','g','h','i'], 'nodes': [['c', 1]], 'energy': 0}",
          LC_ERANGE, "params: 9 names, at most 8");
  refused("{'element': 'edge', 'dim': 3, 'params': [''], 'nodes': [['c', 1]], 'energy': 0}", LC_ERANGE,
          "params[0]: a name of 1 to 31 bytes, no NUL");
  /* the engine's checks come through, naming the node */
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['x', 0], ['c', 1], ['add', 0, 1]], 'energy': 2}", LC_ERANGE,
          "node 2 (add): shapes differ: vector 3 and scalar");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['add', 1, 1], ['c', 1]], 'energy': 0}", LC_ERANGE,
          "node 0 (add): argument 0 refers to node 1, which is not an earlier node");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', nan]], 'energy': 0}", LC_ERANGE,
          "node 0 (c): the literal is not finite");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 3}", LC_ERANGE,
          "output 0 refers to node 3, outside [0, 1)");
  refused("{'element': 'face', 'dim': 9, 'nodes': [['c', 1]], 'energy': 0}", LC_ERANGE, "K*D <= 24");
}
END_TEST

/* A "rest" section: constants from the rest positions (here the rest
 * length), evaluated in doubles; its errors start with "rest: ". */
START_TEST(test_rest_section) {
  lc_dag_wire w;
  lc_error err = {0};
  ck_assert_msg(decode("{'element': 'edge', 'dim': 3, 'n_const': 1, 'nodes': [['x', 1], ['x', 0], ['sub', 0, 1],"
                       "['norm', 2], ['k', 0], ['sub', 3, 4]], 'energy': 5,"
                       "'rest': {'nodes': [['x', 0], ['x', 1], ['sub', 1, 0], ['norm', 2]], 'consts': [3]}}",
                       &w, &err) == LC_OK,
                "%s", err.msg);
  ck_assert_ptr_nonnull(w.rest);
  const double X[6] = {0, 0, 0, 3, 4, 0};
  double L;
  ck_assert_int_eq(lc_dag_eval(w.rest, X, NULL, NULL, &L, NULL), LC_OK);
  ck_assert_double_eq(L, 5.0);
  lc_dag_destroy(w.dag);
  lc_dag_destroy(w.rest);
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0, 'rest': {'nodes': [['x', 0], ['c', 1], ['add', 0, 1]], 'consts': [2]}}",
          LC_ERANGE, "rest: node 2 (add): shapes differ: vector 3 and scalar");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0, 'rest': {'nodes': [['c', 1]]}}", LC_EINVAL,
          "rest: missing parameter 'consts'");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0, 'rest': {'nodes': [['c', 1]], 'consts': []}}",
          LC_EINVAL, "rest: consts: an array of 1 to 16 node indices");
  refused("{'element': 'edge', 'dim': 3, 'nodes': [['c', 1]], 'energy': 0, 'rest': 7}", LC_EINVAL, "rest");
}
END_TEST

static Suite *dag_codec_suite(void) {
  Suite *s = suite_create("dag_codec");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_spring_round_trip);
  tcase_add_test(tc, test_residuals_list);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_rest_section);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(dag_codec_suite()); }
