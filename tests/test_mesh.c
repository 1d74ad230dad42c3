/* test_mesh.c - Check suite for engine/mesh: construction, validation,
 * topology, OBJ reading/writing and the shared test meshes. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mesh/mesh.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

/* Creates a mesh that must be valid. */
static lc_mesh *make_mesh(const double *V, int32_t nv, const int32_t *F, int32_t nf) {
  lc_mesh *m = NULL;
  lc_error err = {0, ""};
  int rc = lc_mesh_create(V, nv, F, nf, &m, &err);
  ck_assert_msg(rc == LC_OK, "lc_mesh_create failed: %d %s", rc, err.msg);
  ck_assert_ptr_nonnull(m);
  return m;
}

/* Creates a mesh that must fail with code; checks that msg names every needle. */
static void expect_create_error(const double *V, int32_t nv, const int32_t *F, int32_t nf,
                                int code, const char *n1, const char *n2) {
  lc_mesh *m = (lc_mesh *)&m; /* must be reset to NULL */
  lc_error err = {0, ""};
  int rc = lc_mesh_create(V, nv, F, nf, &m, &err);
  ck_assert_msg(rc == code, "expected %d, got %d (%s)", code, rc, err.msg);
  ck_assert_int_eq(err.code, code);
  ck_assert_ptr_null(m);
  ck_assert_msg(!n1 || strstr(err.msg, n1), "message '%s' lacks '%s'", err.msg, n1);
  ck_assert_msg(!n2 || strstr(err.msg, n2), "message '%s' lacks '%s'", err.msg, n2);
}

/* Loads OBJ text from an exactly sized, not NUL-terminated copy. */
static int load_obj_text(const char *text, lc_mesh **m, lc_error *err) {
  size_t len = strlen(text);
  char *buf = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(buf);
  memcpy(buf, text, len);
  int rc = lc_mesh_load_obj(buf, len, m, err);
  free(buf);
  return rc;
}

/* Loads OBJ text that must be valid. */
static lc_mesh *obj_ok(const char *text) {
  lc_mesh *m = NULL;
  lc_error err = {0, ""};
  int rc = load_obj_text(text, &m, &err);
  ck_assert_msg(rc == LC_OK, "lc_mesh_load_obj failed: %d %s", rc, err.msg);
  return m;
}

/* Loads OBJ text that must fail with code; checks that msg names every needle. */
static void obj_fail(const char *text, int code, const char *n1, const char *n2) {
  lc_mesh *m = NULL;
  lc_error err = {0, ""};
  int rc = load_obj_text(text, &m, &err);
  ck_assert_msg(rc == code, "expected %d, got %d (%s)", code, rc, err.msg);
  ck_assert_ptr_null(m);
  ck_assert_msg(!n1 || strstr(err.msg, n1), "message '%s' lacks '%s'", err.msg, n1);
  ck_assert_msg(!n2 || strstr(err.msg, n2), "message '%s' lacks '%s'", err.msg, n2);
}

/* True if face f of F is (a, b, c) up to a cyclic rotation. */
static int face_is(const int32_t *F, int32_t f, int32_t a, int32_t b, int32_t c) {
  const int32_t *t = F + 3 * f;
  for (int r = 0; r < 3; r++)
    if (t[r] == a && t[(r + 1) % 3] == b && t[(r + 2) % 3] == c) return 1;
  return 0;
}

/* True if face f has the half-edge a->b. */
static int face_has_he(const int32_t *F, int32_t f, int32_t a, int32_t b) {
  const int32_t *t = F + 3 * f;
  for (int r = 0; r < 3; r++)
    if (t[r] == a && t[(r + 1) % 3] == b) return 1;
  return 0;
}

/* True if u is in the sorted adjacency row of v. */
static int adjacent(const lc_mesh *m, int32_t v, int32_t u) {
  const int32_t *p = lc_mesh_vadj_ptr(m), *a = lc_mesh_vadj(m);
  int32_t lo = p[v], hi = p[v + 1];
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    if (a[mid] == u) return 1;
    if (a[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* Topology checks return 0 or the failing line (no Check calls in hot loops). */
#define REQ(c)                \
  do {                        \
    if (!(c)) return __LINE__; \
  } while (0)

/* Checks edges and edge_faces against the conventions of mesh.h. */
static int check_edges(const lc_mesh *m) {
  const int32_t *E = lc_mesh_edges(m), *EF = lc_mesh_edge_faces(m), *F = lc_mesh_F(m);
  for (int32_t e = 0; e < lc_mesh_ne(m); e++) {
    const int32_t *x = E + 2 * e, *ef = EF + 2 * e;
    REQ(x[0] < x[1]);
    REQ(e == 0 || E[2 * e - 2] < x[0] || (E[2 * e - 2] == x[0] && E[2 * e - 1] < x[1]));
    REQ(ef[0] >= 0 || ef[1] >= 0);
    REQ(ef[0] < 0 || face_has_he(F, ef[0], x[0], x[1]));
    REQ(ef[1] < 0 || face_has_he(F, ef[1], x[1], x[0]));
  }
  REQ(lc_mesh_nflaps(m) + lc_mesh_ne(m) == 3 * lc_mesh_nf(m));
  return 0;
}

/* Checks flaps, flap_edges and face_pairs. */
static int check_flaps(const lc_mesh *m) {
  const int32_t *E = lc_mesh_edges(m), *EF = lc_mesh_edge_faces(m), *F = lc_mesh_F(m);
  const int32_t *X = lc_mesh_flaps(m), *FE = lc_mesh_flap_edges(m), *FP = lc_mesh_face_pairs(m);
  for (int32_t k = 0; k < lc_mesh_nflaps(m); k++) {
    const int32_t *x = X + 4 * k, e = FE[k];
    REQ(k == 0 || FE[k - 1] < e);
    REQ(x[0] == E[2 * e] && x[1] == E[2 * e + 1]);
    REQ(FP[2 * k] == EF[2 * e] && FP[2 * k + 1] == EF[2 * e + 1]);
    REQ(face_is(F, FP[2 * k], x[0], x[1], x[2]));
    REQ(face_is(F, FP[2 * k + 1], x[1], x[0], x[3]));
  }
  return 0;
}

/* Checks the vertex adjacency: sorted rows, one entry per edge end. */
static int check_vadj(const lc_mesh *m) {
  const int32_t *p = lc_mesh_vadj_ptr(m), *a = lc_mesh_vadj(m), *E = lc_mesh_edges(m);
  REQ(p[0] == 0 && p[lc_mesh_nv(m)] == 2 * lc_mesh_ne(m));
  for (int32_t v = 0; v < lc_mesh_nv(m); v++)
    for (int32_t j = p[v]; j < p[v + 1]; j++) REQ(a[j] != v && (j == p[v] || a[j - 1] < a[j]));
  for (int32_t e = 0; e < lc_mesh_ne(m); e++)
    REQ(adjacent(m, E[2 * e], E[2 * e + 1]) && adjacent(m, E[2 * e + 1], E[2 * e]));
  return 0;
}

/* Checks boundary edges and vertex flags against edge_faces. */
static int check_boundary(const lc_mesh *m) {
  const int32_t *E = lc_mesh_edges(m), *EF = lc_mesh_edge_faces(m);
  int32_t nb = -1, j = 0, bad = 0;
  const int32_t *B = lc_mesh_boundary_edges(m, &nb);
  const uint8_t *bv = lc_mesh_boundary_vertices(m);
  uint8_t *flag = calloc((size_t)lc_mesh_nv(m) + 1, 1);
  REQ(flag != NULL);
  for (int32_t e = 0; e < lc_mesh_ne(m) && !bad; e++) {
    if (EF[2 * e] >= 0 && EF[2 * e + 1] >= 0) continue;
    if (j >= nb || B[j++] != e) bad = __LINE__;
    flag[E[2 * e]] = flag[E[2 * e + 1]] = 1;
  }
  if (!bad && j != nb) bad = __LINE__;
  for (int32_t v = 0; v < lc_mesh_nv(m) && !bad; v++)
    if (bv[v] != flag[v]) bad = __LINE__;
  free(flag);
  return bad;
}

/* Checks every topology invariant of mesh.h. */
static void check_topology(const lc_mesh *m) {
  int bad;
  ck_assert_msg(!(bad = check_edges(m)), "edges check failed at line %d", bad);
  ck_assert_msg(!(bad = check_flaps(m)), "flaps check failed at line %d", bad);
  ck_assert_msg(!(bad = check_vadj(m)), "vertex adjacency check failed at line %d", bad);
  ck_assert_msg(!(bad = check_boundary(m)), "boundary check failed at line %d", bad);
  ck_assert_int_eq(lc_mesh_euler(m), lc_mesh_nv(m) - lc_mesh_ne(m) + lc_mesh_nf(m));
}

/* Checks that the adjacency row of v is exactly the n entries of want. */
static void check_row(const lc_mesh *m, int32_t v, const int32_t *want, int32_t n) {
  const int32_t *p = lc_mesh_vadj_ptr(m), *a = lc_mesh_vadj(m);
  ck_assert_int_eq(p[v + 1] - p[v], n);
  for (int32_t j = 0; j < n; j++) ck_assert_int_eq(a[p[v] + j], want[j]);
}

/* Checks an int32 array against expected values. */
static void check_ints(const int32_t *got, const int32_t *want, int32_t n) {
  for (int32_t i = 0; i < n; i++) ck_assert_msg(got[i] == want[i], "[%d]: %d != %d", i, got[i], want[i]);
}

/* ---- tiny hand-made meshes ----------------------------------------------- */

static const double tri_V[] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
static const int32_t tri_F[] = {0, 1, 2};

static const double sq_V[] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0};
static const int32_t sq_F[] = {0, 1, 2, 0, 2, 3};

static const double tet_V[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
static const int32_t tet_F[] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};

START_TEST(test_single_triangle) {
  lc_mesh *m = make_mesh(tri_V, 3, tri_F, 1);
  int32_t nb = 0, nd = -1;
  ck_assert_int_eq(lc_mesh_nv(m), 3);
  ck_assert_int_eq(lc_mesh_nf(m), 1);
  ck_assert_int_eq(lc_mesh_ne(m), 3);
  ck_assert_int_eq(lc_mesh_nflaps(m), 0);
  check_ints(lc_mesh_edges(m), (const int32_t[]){0, 1, 0, 2, 1, 2}, 6);
  check_ints(lc_mesh_edge_faces(m), (const int32_t[]){0, -1, -1, 0, 0, -1}, 6);
  const int32_t *B = lc_mesh_boundary_edges(m, &nb);
  ck_assert_int_eq(nb, 3);
  check_ints(B, (const int32_t[]){0, 1, 2}, 3);
  for (int v = 0; v < 3; v++) ck_assert_int_eq(lc_mesh_boundary_vertices(m)[v], 1);
  check_row(m, 0, (const int32_t[]){1, 2}, 2);
  check_row(m, 1, (const int32_t[]){0, 2}, 2);
  check_row(m, 2, (const int32_t[]){0, 1}, 2);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), 1);
  ck_assert_int_eq(lc_mesh_euler(m), 1);
  lc_mesh_degenerate_faces(m, &nd);
  ck_assert_int_eq(nd, 0);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_square) {
  lc_mesh *m = make_mesh(sq_V, 4, sq_F, 2);
  int32_t nb = 0;
  ck_assert_int_eq(lc_mesh_ne(m), 5);
  ck_assert_int_eq(lc_mesh_nflaps(m), 1);
  check_ints(lc_mesh_edges(m), (const int32_t[]){0, 1, 0, 2, 0, 3, 1, 2, 2, 3}, 10);
  check_ints(lc_mesh_edge_faces(m), (const int32_t[]){0, -1, 1, 0, -1, 1, 0, -1, 1, -1}, 10);
  check_ints(lc_mesh_flaps(m), (const int32_t[]){0, 2, 3, 1}, 4);
  check_ints(lc_mesh_flap_edges(m), (const int32_t[]){1}, 1);
  check_ints(lc_mesh_face_pairs(m), (const int32_t[]){1, 0}, 2);
  check_ints(lc_mesh_boundary_edges(m, &nb), (const int32_t[]){0, 2, 3, 4}, 4);
  ck_assert_int_eq(nb, 4);
  check_row(m, 0, (const int32_t[]){1, 2, 3}, 3);
  check_row(m, 1, (const int32_t[]){0, 2}, 2);
  check_row(m, 2, (const int32_t[]){0, 1, 3}, 3);
  check_row(m, 3, (const int32_t[]){0, 2}, 2);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), 1);
  ck_assert_int_eq(lc_mesh_euler(m), 1);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_tetrahedron) {
  lc_mesh *m = make_mesh(tet_V, 4, tet_F, 4);
  int32_t nb = -1;
  ck_assert_int_eq(lc_mesh_ne(m), 6);
  ck_assert_int_eq(lc_mesh_nflaps(m), 6);
  check_ints(lc_mesh_edges(m), (const int32_t[]){0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3}, 12);
  check_ints(lc_mesh_edge_faces(m), (const int32_t[]){1, 0, 0, 2, 2, 1, 3, 0, 1, 3, 3, 2}, 12);
  check_ints(lc_mesh_face_pairs(m), lc_mesh_edge_faces(m), 12);
  check_ints(lc_mesh_flap_edges(m), (const int32_t[]){0, 1, 2, 3, 4, 5}, 6);
  check_ints(lc_mesh_flaps(m), (const int32_t[]){0, 1, 3, 2, 0, 2, 1, 3, 0, 3, 2, 1,
                                                 1, 2, 3, 0, 1, 3, 0, 2, 2, 3, 1, 0}, 24);
  lc_mesh_boundary_edges(m, &nb);
  ck_assert_int_eq(nb, 0);
  for (int v = 0; v < 4; v++) ck_assert_int_eq(lc_mesh_boundary_vertices(m)[v], 0);
  check_row(m, 0, (const int32_t[]){1, 2, 3}, 3);
  check_row(m, 3, (const int32_t[]){0, 1, 2}, 3);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), 0);
  ck_assert_int_eq(lc_mesh_euler(m), 2);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_two_loops_and_isolated_vertex) {
  /* Two separate triangles and an unused vertex 6: two boundary loops. */
  const double V[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 0, 0, 6, 0, 0, 5, 1, 0, 9, 9, 9};
  const int32_t F[] = {0, 1, 2, 3, 4, 5};
  lc_mesh *m = make_mesh(V, 7, F, 2);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), 2);
  ck_assert_int_eq(lc_mesh_euler(m), 7 - 6 + 2);
  ck_assert_int_eq(lc_mesh_boundary_vertices(m)[6], 0);
  check_row(m, 6, NULL, 0);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_copies_refcount_bytes) {
  double V[12];
  int32_t F[12];
  memcpy(V, tet_V, sizeof V);
  memcpy(F, tet_F, sizeof F);
  lc_mesh *m = make_mesh(V, 4, F, 4);
  V[0] = 42;
  F[0] = 3;
  ck_assert(lc_mesh_V(m)[0] == 0.0);
  ck_assert_int_eq(lc_mesh_F(m)[0], 0);
  ck_assert_uint_ge(lc_mesh_bytes(m), sizeof V + sizeof F + 6 * 2 * sizeof(int32_t));
  ck_assert_ptr_eq(lc_mesh_retain(m), m);
  ck_assert_ptr_eq(lc_mesh_retain(m), m);
  lc_mesh_destroy(m);
  lc_mesh_destroy(m);
  ck_assert_int_eq(lc_mesh_nv(m), 4); /* still alive: one reference left */
  lc_mesh_destroy(m);
  lc_mesh_destroy(NULL);
  ck_assert_ptr_null(lc_mesh_retain(NULL));
}
END_TEST

START_TEST(test_degenerate_faces) {
  /* Face 1 is collinear, face 2 has two coincident positions; both accepted. */
  const double V[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0, 0.5, 1e-9, 0};
  const int32_t F[] = {0, 1, 2, 0, 3, 1, 1, 4, 2};
  int32_t nd = 0;
  lc_mesh *m = make_mesh(V, 6, F, 3);
  const int32_t *D = lc_mesh_degenerate_faces(m, &nd);
  ck_assert_int_eq(nd, 2);
  ck_assert_int_eq(D[0], 1);
  ck_assert_int_eq(D[1], 2);
  lc_mesh_destroy(m);
  /* A thin sliver is not degenerate. */
  const int32_t F2[] = {0, 1, 5};
  m = make_mesh(V, 6, F2, 1);
  lc_mesh_degenerate_faces(m, &nd);
  ck_assert_int_eq(nd, 0);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- invalid meshes -------------------------------------------------------- */

START_TEST(test_err_index_out_of_range) {
  const int32_t F[] = {0, 1, 2, 0, 2, 5};
  expect_create_error(sq_V, 4, F, 2, LC_ERANGE, "face 1", "index 5");
}
END_TEST

START_TEST(test_err_negative_index) {
  const int32_t F[] = {0, -1, 2};
  expect_create_error(sq_V, 4, F, 1, LC_ERANGE, "face 0", "index -1");
}
END_TEST

START_TEST(test_err_repeated_vertex) {
  const int32_t F[] = {0, 1, 2, 0, 2, 2};
  expect_create_error(sq_V, 4, F, 2, LC_EMESH, "face 1", "repeated vertex 2");
}
END_TEST

START_TEST(test_err_nonfinite) {
  double V[12];
  memcpy(V, tet_V, sizeof V);
  V[3 * 2 + 1] = NAN;
  expect_create_error(V, 4, tet_F, 4, LC_EMESH, "vertex 2", "non-finite");
  V[3 * 2 + 1] = 0;
  V[3 * 3 + 2] = -INFINITY;
  expect_create_error(V, 4, tet_F, 4, LC_EMESH, "vertex 3", "non-finite");
}
END_TEST

START_TEST(test_err_nonmanifold) {
  /* Three triangles on edge (0, 1). */
  const double V[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1};
  const int32_t F[] = {0, 1, 2, 1, 0, 3, 0, 1, 4};
  expect_create_error(V, 5, F, 3, LC_EMESH, "edge (0, 1)", "3 faces");
}
END_TEST

START_TEST(test_err_orientation) {
  /* Both faces use the directed edge 1->2 (F) or 2->0 (G). */
  const int32_t F[] = {0, 1, 2, 1, 2, 3};
  const int32_t G[] = {0, 1, 2, 0, 3, 2};
  expect_create_error(sq_V, 4, F, 2, LC_EMESH, "directed edge 1->2", "faces 0 and 1");
  expect_create_error(sq_V, 4, G, 2, LC_EMESH, "directed edge 2->0", "faces 0 and 1");
}
END_TEST

START_TEST(test_err_arguments) {
  lc_error err = {0, ""};
  expect_create_error(sq_V, 4, sq_F, 0, LC_EMESH, "no faces", NULL);
  expect_create_error(sq_V, -1, sq_F, 2, LC_EINVAL, "nv = -1", NULL);
  expect_create_error(sq_V, 4, sq_F, -2, LC_EINVAL, "nf = -2", NULL);
  expect_create_error(NULL, 4, sq_F, 2, LC_EINVAL, "V is NULL", NULL);
  expect_create_error(sq_V, 4, NULL, 2, LC_EINVAL, "F is NULL", NULL);
  expect_create_error(NULL, 0, sq_F, 2, LC_ERANGE, "face 0", NULL);
  ck_assert_int_eq(lc_mesh_create(sq_V, 4, sq_F, 2, NULL, &err), LC_EINVAL);
  ck_assert_int_eq(lc_mesh_create(sq_V, 4, sq_F, 2, NULL, NULL), LC_EINVAL);
  ck_assert_int_eq(lc_mesh_load_obj("f", 1, NULL, NULL), LC_EINVAL);
  ck_assert_int_eq(lc_mesh_read_obj_file(NULL, NULL, &err), LC_EINVAL);
}
END_TEST

/* ---- OBJ reading -------------------------------------------------------------- */

#define QUAD_V "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"

START_TEST(test_obj_triangle_forms) {
  const char *texts[] = {QUAD_V "f 1 2 3\n", QUAD_V "f 1/1 2/2 3/3\n", QUAD_V "f 1//4 2//4 3//4\n",
                         QUAD_V "f 1/1/1 2/2/2 3/3/3\n", QUAD_V "f -4 -3 -2\n",
                         QUAD_V "f -4/1/1 2//-1 -2/3\n"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    lc_mesh *m = obj_ok(texts[i]);
    ck_assert_int_eq(lc_mesh_nv(m), 4);
    ck_assert_int_eq(lc_mesh_nf(m), 1);
    check_ints(lc_mesh_F(m), tri_F, 3);
    lc_mesh_destroy(m);
  }
}
END_TEST

START_TEST(test_obj_polygons) {
  lc_mesh *m = obj_ok(QUAD_V "f 1 2 3 4\n");
  ck_assert_int_eq(lc_mesh_nf(m), 2);
  check_ints(lc_mesh_F(m), sq_F, 6);
  for (int i = 0; i < 12; i++) ck_assert(lc_mesh_V(m)[i] == sq_V[i]);
  lc_mesh_destroy(m);
  m = obj_ok(QUAD_V "v 0.5 1.5 0\nf 1 2 3 5 4\n");
  ck_assert_int_eq(lc_mesh_nf(m), 3);
  check_ints(lc_mesh_F(m), (const int32_t[]){0, 1, 2, 0, 2, 4, 0, 4, 3}, 9);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_obj_relative_indices) {
  /* A relative index counts back from the vertices read so far. */
  lc_mesh *m = obj_ok("v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 1 1 0\nf -2 -3 -1\n");
  check_ints(lc_mesh_F(m), (const int32_t[]){0, 1, 2, 2, 1, 3}, 6);
  lc_mesh_destroy(m);
  /* Positive indices may refer to vertices defined later. */
  m = obj_ok("f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n");
  check_ints(lc_mesh_F(m), tri_F, 3);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_obj_ignored_crlf_no_newline) {
  const char *text =
      "# comment\r\nmtllib x.mtl\r\no thing\r\ng group\r\ns 1\r\nusemtl red\r\n"
      "vt 0.5 0.5\r\nvn 0 0 1\r\nvp 0.1\r\n\r\n   \r\n\t v 0 0 0 # a comment\r\n"
      "v 1 0 0 1.0\r\nv 1 1 0 0.2 0.3 0.4\r\nv 0 1 0\r\nl 1 2\r\nf 1/1/1 2/2/1 3/3/1 # c\r\n"
      "f 1 3 4";
  lc_mesh *m = obj_ok(text);
  ck_assert_int_eq(lc_mesh_nv(m), 4);
  ck_assert_int_eq(lc_mesh_nf(m), 2);
  check_ints(lc_mesh_F(m), sq_F, 6);
  for (int i = 0; i < 12; i++) ck_assert(lc_mesh_V(m)[i] == sq_V[i]);
  lc_mesh_destroy(m);
  obj_fail("v 0 0 0\r\nv 1 x 0\r\n", LC_EPARSE, "line 2", "'x'");
}
END_TEST

START_TEST(test_obj_errors) {
  obj_fail("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 2 abc\n", LC_EPARSE, "line 4", "abc");
  obj_fail("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1.0.0 2 3\n", LC_EPARSE, "line 4", "1.0.0");
  obj_fail("v 0 0 0\nv 1 0\n", LC_EPARSE, "line 2", "coordinates");
  obj_fail(QUAD_V "f 1 2\n", LC_EPARSE, "line 5", "2 vertices");
  obj_fail(QUAD_V "f 1 2 3\nf 1\n", LC_EPARSE, "line 6", "1 vertices");
  obj_fail(QUAD_V "f 1 0 3\n", LC_EPARSE, "line 5", "index 0");
  obj_fail(QUAD_V "f 1 2x 3\n", LC_EPARSE, "line 5", "2x");
  obj_fail(QUAD_V "f 1 2 3/a\n", LC_EPARSE, "line 5", "3/a");
  obj_fail(QUAD_V "f 1 2 9\n", LC_ERANGE, "line 5", "index 9");
  obj_fail(QUAD_V "\nf -1 -2 -5\n", LC_ERANGE, "line 6", "index -5");
  obj_fail("v 0 0 0\nv 1 0 0\nf -1 -2 -3\nv 0 1 0\n", LC_ERANGE, "line 3", "index -3");
  obj_fail(QUAD_V "f 1 2 99999999999999999999\n", LC_ERANGE, "line 5", NULL);
  obj_fail("v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n", LC_EMESH, "line 2", "vertex 1");
  obj_fail("v 0 0 0\nv 0 inf 0\nv 0 1 0\nf 1 2 3\n", LC_EMESH, "line 2", "non-finite");
  obj_fail(QUAD_V "f 1 2 2\n", LC_EMESH, "face 0", "repeated");
  obj_fail(QUAD_V, LC_EMESH, "no faces", NULL);
  obj_fail("", LC_EMESH, "no faces", NULL);
  obj_fail(QUAD_V "f 1 2 3\nf 1 2 4\n", LC_EMESH, "edge 0->1", NULL);
}
END_TEST

START_TEST(test_obj_numbers_match_strtod) {
  /* Every accepted number must equal strtod's result bit for bit. */
  static const char *fmts[] = {"%.17g", "%.9g", "%.6f", "%.3e", "%.15g", "%.20e", "%.1f"};
  static const char *fixed[] = {"1e22", "1e23", "9007199254740993", "0.1", "-0", "1.", "+.5",
                                "123456789012345678901234567890", "4.9e-324", "1e-320",
                                "0x1p-3", "1E+3", "-2.5e-3", "0000.000100", "1e400",
                                "7.2057594037927933e16"};
  unsigned long long st = 12345;
  char line[256], *text = malloc(400 * 256);
  size_t n = 0, nnum = 0;
  double want[400 * 3];
  ck_assert_ptr_nonnull(text);
  text[0] = '\0';
  for (int i = 0; i < 300; i++) {
    double x = lc_test_rand(&st, -1, 1) * pow(10.0, (double)(i % 41) - 20.0);
    snprintf(line, sizeof line, fmts[i % 7], x);
    n += (size_t)sprintf(text + n, "v %s 0 0\n", line);
    want[3 * nnum++] = strtod(line, NULL);
  }
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
    if (!isfinite(strtod(fixed[i], NULL))) continue;
    n += (size_t)sprintf(text + n, "v 0 %s 0\n", fixed[i]);
    want[3 * nnum++ + 1] = strtod(fixed[i], NULL);
  }
  sprintf(text + n, "f 1 2 3\n");
  lc_mesh *m = obj_ok(text);
  ck_assert_int_eq(lc_mesh_nv(m), (int)nnum);
  for (size_t i = 0; i < nnum; i++) {
    double got = lc_mesh_V(m)[3 * i + (i < 300 ? 0 : 1)], w = want[3 * i + (i < 300 ? 0 : 1)];
    ck_assert_msg(memcmp(&got, &w, sizeof w) == 0, "vertex %zu: %.17g != %.17g", i, got, w);
  }
  lc_mesh_destroy(m);
  free(text);
}
END_TEST

/* ---- files ------------------------------------------------------------------- */

START_TEST(test_obj_write_read_roundtrip) {
  char path[] = "/tmp/locad_test_mesh_XXXXXX";
  int fd = mkstemp(path);
  lc_error err = {0, ""};
  lc_mesh *m = NULL, *r = NULL;
  double V[12];
  ck_assert_int_ne(fd, -1);
  close(fd);
  for (int i = 0; i < 12; i++) V[i] = tet_V[i] + 0.1 * i + 1e-13 / 3.0;
  m = make_mesh(V, 4, tet_F, 4);
  ck_assert_int_eq(lc_mesh_write_obj_file(m, NULL, path, &err), LC_OK);
  ck_assert_int_eq(lc_mesh_read_obj_file(path, &r, &err), LC_OK);
  ck_assert_int_eq(lc_mesh_nv(r), 4);
  ck_assert_int_eq(lc_mesh_nf(r), 4);
  ck_assert(memcmp(lc_mesh_V(r), V, sizeof V) == 0);
  check_ints(lc_mesh_F(r), tet_F, 12);
  lc_mesh_destroy(r);
  /* Explicit positions replace the mesh's own. */
  ck_assert_int_eq(lc_mesh_write_obj_file(m, tet_V, path, &err), LC_OK);
  ck_assert_int_eq(lc_mesh_read_obj_file(path, &r, &err), LC_OK);
  ck_assert(memcmp(lc_mesh_V(r), tet_V, sizeof tet_V) == 0);
  lc_mesh_destroy(r);
  unlink(path);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(test_file_errors) {
  lc_error err = {0, ""};
  lc_mesh *m = make_mesh(tri_V, 3, tri_F, 1), *r = (lc_mesh *)&r;
  ck_assert_int_eq(lc_mesh_read_obj_file("/nonexistent/locad/no.obj", &r, &err), LC_EIO);
  ck_assert_ptr_null(r);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/locad/no.obj"));
  ck_assert_int_eq(lc_mesh_write_obj_file(m, NULL, "/nonexistent/locad/x.obj", &err), LC_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/locad/x.obj"));
  ck_assert_int_eq(lc_mesh_write_obj_file(NULL, NULL, "/tmp/x.obj", &err), LC_EINVAL);
  /* A parse error from a file names the file and the line. */
  char path[] = "/tmp/locad_test_mesh_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ne(fd, -1);
  ck_assert_int_eq(write(fd, "v 0 0 0\nf 1 2 3\n", 16), 16);
  close(fd);
  ck_assert_int_eq(lc_mesh_read_obj_file(path, &r, &err), LC_ERANGE);
  ck_assert_ptr_nonnull(strstr(err.msg, strrchr(path, '/') + 1));
  ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
  unlink(path);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- shared test meshes --------------------------------------------------------- */

typedef struct shared_mesh {
  const char *file;
  int32_t nv, nf, ne, nbe, loops, euler;
} shared_mesh;

static const shared_mesh shared_meshes[] = {
    {"spot.obj", 2930, 5856, 8784, 0, 0, 2},
    {"camelhead.obj", 11381, 22704, 34084, 56, 1, 1},
    {"face.obj", 25905, 51712, 77616, 96, 1, 1},
    {"armadillo.obj", 43243, 86482, 129723, 0, 0, 2},
    {"grid_224.obj", 50625, 100352, 150976, 896, 1, 1},
    {"igea.obj", 134345, 268686, 403029, 0, 0, 2},
};

START_TEST(test_shared_meshes) {
  const shared_mesh *s = &shared_meshes[_i];
  const char *path = lc_test_mesh_path(s->file);
  lc_error err = {0, ""};
  lc_mesh *m = NULL;
  int32_t nb = -1, nd = -1;
  ck_assert_msg(access(path, R_OK) == 0,
                "shared test mesh '%s' is missing: the meshes are part of the project setup "
                "(set LOCAD_MESHES to the mesh directory)", path);
  int rc = lc_mesh_read_obj_file(path, &m, &err);
  ck_assert_msg(rc == LC_OK, "%s: %d %s", path, rc, err.msg);
  ck_assert_int_eq(lc_mesh_nv(m), s->nv);
  ck_assert_int_eq(lc_mesh_nf(m), s->nf);
  ck_assert_int_eq(lc_mesh_ne(m), s->ne);
  lc_mesh_boundary_edges(m, &nb);
  ck_assert_int_eq(nb, s->nbe);
  ck_assert_int_eq(lc_mesh_nflaps(m), s->ne - s->nbe);
  ck_assert_int_eq(lc_mesh_n_boundary_loops(m), s->loops);
  ck_assert_int_eq(lc_mesh_euler(m), s->euler);
  lc_mesh_degenerate_faces(m, &nd);
  ck_assert_int_eq(nd, 0);
  check_topology(m);
  lc_mesh_destroy(m);
}
END_TEST

/* Builds the mesh suite. */
static Suite *mesh_suite(void) {
  Suite *s = suite_create("mesh");
  TCase *tiny = tcase_create("tiny"), *bad = tcase_create("invalid");
  TCase *obj = tcase_create("obj"), *real = tcase_create("shared");
  tcase_add_test(tiny, test_single_triangle);
  tcase_add_test(tiny, test_square);
  tcase_add_test(tiny, test_tetrahedron);
  tcase_add_test(tiny, test_two_loops_and_isolated_vertex);
  tcase_add_test(tiny, test_copies_refcount_bytes);
  tcase_add_test(tiny, test_degenerate_faces);
  tcase_add_test(bad, test_err_index_out_of_range);
  tcase_add_test(bad, test_err_negative_index);
  tcase_add_test(bad, test_err_repeated_vertex);
  tcase_add_test(bad, test_err_nonfinite);
  tcase_add_test(bad, test_err_nonmanifold);
  tcase_add_test(bad, test_err_orientation);
  tcase_add_test(bad, test_err_arguments);
  tcase_add_test(obj, test_obj_triangle_forms);
  tcase_add_test(obj, test_obj_polygons);
  tcase_add_test(obj, test_obj_relative_indices);
  tcase_add_test(obj, test_obj_ignored_crlf_no_newline);
  tcase_add_test(obj, test_obj_errors);
  tcase_add_test(obj, test_obj_numbers_match_strtod);
  tcase_add_test(obj, test_obj_write_read_roundtrip);
  tcase_add_test(obj, test_file_errors);
  tcase_add_loop_test(real, test_shared_meshes, 0,
                      (int)(sizeof shared_meshes / sizeof *shared_meshes));
  tcase_set_timeout(real, 60);
  suite_add_tcase(s, tiny);
  suite_add_tcase(s, bad);
  suite_add_tcase(s, obj);
  suite_add_tcase(s, real);
  return s;
}

int main(void) { return lc_test_run_suite(mesh_suite()); }
