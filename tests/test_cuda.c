/* test_cuda.c - GPU Check suite (CTest label "gpu"): the CUDA backend
 * against the CPU backend.  Exits 77 (skipped) when no usable CUDA device
 * exists, so it runs unattended everywhere.
 *
 * For every energy instance on random states of grid and shared meshes:
 * energy, gradient, Hessian (exact, projected, Gauss-Newton) values in the
 * same CSR layout, HVPs (exact, projected) and Jacobians agree with the CPU
 * to 1e-12 relative (to the largest entry); two GPU runs are bitwise equal;
 * fixed DOFs behave as on the CPU; an absurd allocation fails cleanly and
 * leaves the problem usable. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "problem.h"
#include "testutil.h"
#include "workloads.h"

#define TOL 1e-12

/* A CPU problem and its GPU twin with one term of energy id on mesh m. */
typedef struct twin {
  lc_problem *cpu, *gpu;
  int64_t n;
} twin;

/* Random state for variable dimension dim on m (rest positions perturbed). */
static double *random_state(const lc_mesh *m, int dim, unsigned long long *seed) {
  const int32_t nv = lc_mesh_nv(m);
  const double *V = lc_mesh_V(m);
  double *x = malloc((size_t)nv * dim * sizeof *x);
  for (int32_t i = 0; i < nv; ++i)
    for (int c = 0; c < dim; ++c)
      x[i * dim + c] = (c < 3 ? 1.05 * V[3 * i + c] : 0.3) + lc_test_rand(seed, -0.02, 0.02);
  return x;
}

/* Explicit contact pairs on m (n x 4, malloc'ed): face f with a vertex two
 * indices past its first that is not in f (point-triangle), or edge e with
 * edge e + 3 when they share no vertex (edge-edge); neighbours on a mesh,
 * so that a perturbed state makes many of them active. */
static int32_t *contact_pairs(const lc_mesh *m, int ee, int32_t *n) {
  const int32_t nf = lc_mesh_nf(m), ne = lc_mesh_ne(m), nv = lc_mesh_nv(m);
  const int32_t *F = lc_mesh_F(m), *E = lc_mesh_edges(m);
  int32_t *out = malloc((size_t)(ee ? ne : nf) * 4 * sizeof *out), k = 0;
  for (int32_t i = 0; i < (ee ? ne - 3 : nf); ++i) {
    int32_t q[4];
    if (ee) {
      q[0] = E[2 * i], q[1] = E[2 * i + 1], q[2] = E[2 * i + 6], q[3] = E[2 * i + 7];
    } else {
      q[0] = (F[3 * i] + 2) % nv, q[1] = F[3 * i], q[2] = F[3 * i + 1], q[3] = F[3 * i + 2];
    }
    int shared = 0;
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < a; ++b) shared |= q[a] == q[b];
    if (!shared) memcpy(out + 4 * (size_t)k++, q, sizeof q);
  }
  *n = k;
  return out;
}

/* Sets up problem p with a variable for energy id, its term and a few fixed
 * vertices (contact energies: contact_pairs with dhat 0.1). */
static int build(lc_problem *p, int id, const double *x, lc_error *err) {
  const lc_energy_info *in = lc_energy_get(id);
  int rc = lc_problem_add_variable(p, "x", LC_LOC_VERTEX, in->dim, x, NULL, err);
  lc_term_desc d = {0};
  static const char *const names[] = {"dhat"};
  static const double dhat[] = {0.1};
  int32_t *pairs = NULL;
  d.energy = in->name;
  d.weight = 0.7;
  d.weight_set = 1;
  if (in->kind == LC_ELEM_LIST) {
    pairs = contact_pairs(lc_problem_mesh(p), strcmp(in->name, "contact_ee") == 0, &d.n_elems);
    d.elems = pairs;
    d.n_params = 1;
    d.param_names = names;
    d.param_values = dhat;
  }
  if (!rc) rc = lc_problem_add_term(p, &d, NULL, err);
  free(pairs);
  const int32_t fixed[] = {0, 3, 5};
  if (!rc) rc = lc_problem_fix(p, 0, 3, fixed, NULL, err);
  return rc;
}

/* Makes the twin; returns 0 when the energy cannot be set up on m (skipped). */
static int twin_make(twin *t, lc_mesh *m, int id, unsigned long long *seed) {
  lc_error err;
  const lc_energy_info *in = lc_energy_get(id);
  double *x = random_state(m, in->dim, seed);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &t->cpu, &err), LC_OK);
  ck_assert_msg(lc_problem_create(m, "cuda:0", &t->gpu, &err) == LC_OK, "%s", err.msg);
  ck_assert_str_eq(lc_problem_device(t->gpu), "cuda:0");
  const int rc = build(t->cpu, id, x, &err);
  if (!rc) ck_assert_msg(build(t->gpu, id, x, &err) == LC_OK, "%s", err.msg);
  free(x);
  t->n = lc_problem_n_dofs(t->cpu);
  if (rc) {
    lc_problem_destroy(t->cpu);
    lc_problem_destroy(t->gpu);
  }
  return rc == LC_OK;
}

/* Largest |a_i|. */
static double amax(const double *a, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; ++i) m = fmax(m, fabs(a[i]));
  return m;
}

/* Asserts |a - b| <= TOL * max|a| entrywise (NaN/inf must match exactly). */
static void same(const char *what, const char *inst, const double *a, const double *b, int64_t n) {
  const double s = fmax(amax(a, n), 1e-300);
  for (int64_t i = 0; i < n; ++i) {
    if (!isfinite(a[i]) || !isfinite(b[i])) {
      ck_assert_msg(isnan(a[i]) ? isnan(b[i]) : a[i] == b[i], "%s %s[%lld]: %g vs %g", inst, what,
                    (long long)i, a[i], b[i]);
      continue;
    }
    ck_assert_msg(fabs(a[i] - b[i]) <= TOL * s, "%s %s[%lld]: cpu %.17g gpu %.17g", inst, what,
                  (long long)i, a[i], b[i]);
  }
}

/* Compares one energy instance in every mode. */
static void compare_instance(lc_mesh *m, int id, unsigned long long *seed) {
  const char *inst = lc_energy_get(id)->inst;
  twin t;
  if (!twin_make(&t, m, id, seed)) return;
  lc_error err;
  const int64_t n = t.n;
  double *g1 = calloc(n, 8), *g2 = calloc(n, 8), *v = calloc(n, 8), *h1 = calloc(n, 8), *h2 = calloc(n, 8);
  double e1, e2;
  lc_workload_direction(v, n);
  ck_assert_int_eq(lc_problem_energy(t.cpu, NULL, &e1, &err), LC_OK);
  ck_assert_msg(lc_problem_energy(t.gpu, NULL, &e2, &err) == LC_OK, "%s", err.msg);
  same("energy", inst, &e1, &e2, 1);
  ck_assert_int_eq(lc_problem_gradient(t.cpu, NULL, &e1, g1, &err), LC_OK);
  ck_assert_msg(lc_problem_gradient(t.gpu, NULL, &e2, g2, &err) == LC_OK, "%s", err.msg);
  same("grad energy", inst, &e1, &e2, 1);
  same("gradient", inst, g1, g2, n);
  for (int mode = 0; mode < 3; ++mode) { /* exact, projected, Gauss-Newton */
    lc_csr H1, H2;
    const int proj = mode > 0;
    if (mode < 2) {
      ck_assert_int_eq(lc_problem_hessian(t.cpu, NULL, proj, &e1, g1, &H1, &err), LC_OK);
      ck_assert_msg(lc_problem_hessian(t.gpu, NULL, proj, &e2, g2, &H2, &err) == LC_OK, "%s", err.msg);
    } else {
      ck_assert_int_eq(lc_problem_gn_hessian(t.cpu, NULL, 1, &e1, g1, &H1, &err), LC_OK);
      ck_assert_msg(lc_problem_gn_hessian(t.gpu, NULL, 1, &e2, g2, &H2, &err) == LC_OK, "%s", err.msg);
    }
    ck_assert_int_eq(H1.nnz, H2.nnz);
    ck_assert(!memcmp(H1.col, H2.col, (size_t)H1.nnz * 4));
    same("hessian", inst, H1.val, H2.val, H1.nnz);
    same("hessian gradient", inst, g1, g2, n);
    ck_assert_int_eq(lc_problem_hvp(t.cpu, NULL, v, proj, &e1, g1, h1, &err), LC_OK);
    ck_assert_msg(lc_problem_hvp(t.gpu, NULL, v, proj, &e2, g2, h2, &err) == LC_OK, "%s", err.msg);
    same("hvp", inst, h1, h2, n);
  }
  if (lc_energy_get(id)->n_resid) {
    const int64_t nr = lc_problem_n_residuals(t.cpu);
    double *r1 = calloc(nr, 8), *r2 = calloc(nr, 8);
    lc_csr J1, J2;
    ck_assert_int_eq(lc_problem_jacobian(t.cpu, NULL, r1, &J1, &err), LC_OK);
    ck_assert_msg(lc_problem_jacobian(t.gpu, NULL, r2, &J2, &err) == LC_OK, "%s", err.msg);
    same("residual", inst, r1, r2, nr);
    same("jacobian", inst, J1.val, J2.val, J1.nnz);
    free(r1);
    free(r2);
  }
  /* run-to-run identity on the GPU */
  ck_assert_int_eq(lc_problem_hvp(t.gpu, NULL, v, 1, &e1, g1, h1, &err), LC_OK);
  ck_assert_int_eq(lc_problem_hvp(t.gpu, NULL, v, 1, &e2, g2, h2, &err), LC_OK);
  ck_assert_msg(e1 == e2 && !memcmp(g1, g2, n * 8) && !memcmp(h1, h2, n * 8), "%s: GPU runs differ", inst);
  free(g1); free(g2); free(v); free(h1); free(h2);
  lc_problem_destroy(t.cpu);
  lc_problem_destroy(t.gpu);
}

START_TEST(every_instance_matches_cpu) {
  unsigned long long seed = 99;
  lc_mesh *grid;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(17, &grid, &err), LC_OK);
  for (int id = 0; id < LC_E_COUNT; ++id) compare_instance(grid, id, &seed);
  lc_mesh_destroy(grid);
  const char *meshes[] = {"camelhead.obj", "spot.obj"};
  for (size_t i = 0; i < 2; ++i) {
    lc_mesh *m;
    if (lc_mesh_read_obj_file(lc_test_mesh_path(meshes[i]), &m, &err)) continue;
    for (int id = 0; id < LC_E_COUNT; ++id) compare_instance(m, id, &seed);
    lc_mesh_destroy(m);
  }
}
END_TEST

START_TEST(workloads_match_cpu) {
  for (int id = 1; id <= 6; ++id) {
    lc_workload a, b;
    lc_error err;
    const char *mesh = id == 1 ? "camelhead" : id == 2 ? "spot" : id <= 4 ? "face" : NULL;
    ck_assert_msg(lc_workload_setup(id, mesh, lc_test_mesh_dir(), 60, "cpu", &a, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(lc_workload_setup(id, mesh, lc_test_mesh_dir(), 60, "cuda:0", &b, &err) == LC_OK, "%s", err.msg);
    const int64_t n = lc_problem_n_dofs(a.p);
    double *g1 = calloc(n, 8), *g2 = calloc(n, 8), e1, e2;
    lc_csr H1, H2;
    ck_assert_int_eq(lc_problem_hessian(a.p, NULL, 1, &e1, g1, &H1, &err), LC_OK);
    ck_assert_msg(lc_problem_hessian(b.p, NULL, 1, &e2, g2, &H2, &err) == LC_OK, "%s", err.msg);
    same("W energy", "workload", &e1, &e2, 1);
    same("W gradient", "workload", g1, g2, n);
    same("W hessian", "workload", H1.val, H2.val, H1.nnz);
    free(g1);
    free(g2);
    lc_workload_free(&a);
    lc_workload_free(&b);
  }
}
END_TEST

START_TEST(out_of_memory_is_clean) {
  lc_mesh *m;
  lc_problem *p;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(8, &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cuda:0", &p, &err), LC_OK);
  unsigned long long seed = 5;
  double *x = random_state(m, 3, &seed);
  ck_assert_int_eq(build(p, lc_energy_find("stvk", 3), x, &err), LC_OK);
  /* an absurd request through the backend: a clear error, nothing changed */
  lc_backend *b = (lc_backend *)lc_problem_backend(p);
  void *huge = NULL;
  const int rc = b->ops->alloc(b, (size_t)1 << 50, &huge, &err);
  ck_assert_int_eq(rc, LC_ENOMEM);
  ck_assert_ptr_null(huge);
  ck_assert_ptr_nonnull(strstr(err.msg, "cuda:0"));
  ck_assert_ptr_nonnull(strstr(err.msg, "out of device memory"));
  double e, *g = calloc(lc_problem_n_dofs(p), 8);
  ck_assert_msg(lc_problem_gradient(p, NULL, &e, g, &err) == LC_OK, "%s", err.msg);
  ck_assert(isfinite(e));
  free(g);
  free(x);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cuda");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, every_instance_matches_cpu);
  tcase_add_test(tc, workloads_match_cpu);
  tcase_add_test(tc, out_of_memory_is_clean);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  const int skip = lc_test_require_cuda("test_cuda");
  return skip ? skip : lc_test_run_suite(suite());
}
