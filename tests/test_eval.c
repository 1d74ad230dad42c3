/* test_eval.c - Check suite for the shared element loop and the backend
 * interface on the CPU: the column-by-column Hessian (the path the CUDA
 * backend takes for large elements) against the packed Hessian of every
 * energy instance, the low-memory projection against the reference
 * projection, the backend's vector operations and counted reads, device
 * names (resolution, errors, the device list), and the element Hessian
 * cache of matrix-free Newton-CG (STORE then USE against plain HVPs,
 * staleness errors, thread-count independence, allocation failure). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backend.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "problem.h"
#include "problem_impl.h"
#include "testutil.h"
#include "workloads.h"

/* ---- the column-built Hessian of every instance ------------------------- */

typedef double (*hess_fn)(const double *x, const double *k, const double *p, double *g, double *H);

#define LC_EINST_TEMPLATE "test_eval_einst.h"
#include "ad/lc_ad.h"
#include "energies/instances.h"

#define COLS_ENTRY_(inst, name, dim) LC_CAT(elk_hesscols_, inst),
static const hess_fn cols[LC_E_COUNT] = {LC_ENERGY_LIST(COLS_ENTRY_)};

/* Random local state and constants for instance id (constants in [0.5, 1.5]). */
static void random_element(int id, unsigned long long *seed, double *x, double *k) {
  const lc_energy_info *in = lc_energy_get(id);
  for (int i = 0; i < in->K * in->dim; ++i) x[i] = lc_test_rand(seed, -1.0, 1.0);
  for (int i = 0; i < in->n_const; ++i) k[i] = lc_test_rand(seed, 0.5, 1.5);
}

START_TEST(hessian_by_columns_matches_packed) {
  unsigned long long seed = 12345;
  for (int id = 0; id < LC_E_COUNT; ++id) {
    const lc_energy_info *in = lc_energy_get(id);
    const int N = in->K * in->dim;
    int compared = 0;
    for (int trial = 0; trial < 40 && compared < 8; ++trial) {
      double x[LC_ENERGY_MAX_N], k[LC_ENERGY_MAX_CONSTS], g1[LC_ENERGY_MAX_N], g2[LC_ENERGY_MAX_N];
      double H1[LC_ENERGY_MAX_N * LC_ENERGY_MAX_N], H2[LC_ENERGY_MAX_N * LC_ENERGY_MAX_N];
      random_element(id, &seed, x, k);
      const double e1 = lc_cpu_kernel(id)->hess(x, k, in->param_defaults, g1, H1);
      const double e2 = cols[id](x, k, in->param_defaults, g2, H2);
      if (!isfinite(e1)) {
        ck_assert_msg(!isfinite(e2), "%s: packed inf, columns finite", in->inst);
        continue;
      }
      ck_assert_msg(e1 == e2, "%s: energy differs", in->inst);
      double scale = 0.0;
      for (int i = 0; i < N * N; ++i) scale = fmax(scale, fabs(H1[i]));
      for (int i = 0; i < N; ++i) ck_assert_msg(g1[i] == g2[i], "%s: gradient differs", in->inst);
      for (int i = 0; i < N * N; ++i)
        ck_assert_msg(fabs(H1[i] - H2[i]) <= 1e-13 * fmax(scale, 1e-300), "%s: H[%d] %.17g vs %.17g",
                      in->inst, i, H1[i], H2[i]);
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) ck_assert(H2[i * N + j] == H2[j * N + i]);
      compared++;
    }
    ck_assert_msg(compared > 0, "%s: no finite element among 40 random ones", in->inst);
  }
}
END_TEST

/* ---- projection in a caller workspace ------------------------------------ */

START_TEST(elem_projection_matches_reference) {
  unsigned long long seed = 777;
  const int shapes[][2] = {{2, 2}, {3, 2}, {2, 3}, {3, 3}, {4, 3}, {1, 3}, {4, 1}};
  for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; ++sh) {
    const int K = shapes[sh][0], D = shapes[sh][1], n = K * D;
    for (int trial = 0; trial < 50; ++trial) {
      double A[144], B[144], P[144], ws[LC_PSD_ELEM_WS(12, 1)];
      /* random symmetric, translation-free when trial is even */
      for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) A[i * n + j] = A[j * n + i] = lc_test_rand(&seed, -1, 1);
      if (trial % 2 == 0 && K > 1) /* A <- C^T A' C: remove the translations */
        for (int pass = 0; pass < 2; ++pass)
          for (int i = 0; i < n; ++i)
            for (int d = 0; d < D; ++d) {
              double s = 0.0;
              for (int a = 0; a < K; ++a) s += pass ? A[(a * D + d) * n + i] : A[i * n + a * D + d];
              for (int a = 0; a < K; ++a) {
                if (pass) A[(a * D + d) * n + i] -= s / K;
                else A[i * n + a * D + d] -= s / K;
              }
            }
      for (int i = 0; i < n; ++i) /* exact symmetry after the passes */
        for (int j = 0; j < i; ++j) A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j] + A[j * n + i]);
      memcpy(B, A, sizeof(double) * n * n);
      memcpy(P, A, sizeof(double) * n * n);
      const int r1 = lc_psd_project_elem_ws(B, K, D, 1e-9, ws);
      const int r2 = lc_psd_project(P, n, 1e-9);
      ck_assert_int_ge(r1, 0);
      ck_assert_int_ge(r2, 0);
      double scale = 0.0;
      for (int i = 0; i < n * n; ++i) scale = fmax(scale, fabs(A[i]));
      for (int i = 0; i < n * n; ++i)
        ck_assert_msg(fabs(B[i] - P[i]) <= 1e-12 * scale, "K=%d D=%d trial %d entry %d: %g vs %g", K, D,
                      trial, i, B[i], P[i]);
    }
  }
}
END_TEST

/* ---- the backend interface on the CPU ------------------------------------ */

START_TEST(cpu_backend_vector_ops) {
  lc_backend b;
  lc_error err;
  ck_assert_int_eq(lc_backend_open(&b, "cpu", &err), LC_OK);
  ck_assert_str_eq(b.id, "cpu");
  const int64_t n = 50000;
  double *x, *y, *s;
  ck_assert_int_eq(b.ops->alloc(&b, n * sizeof *x, (void **)&x, &err), LC_OK);
  ck_assert_int_eq(b.ops->alloc(&b, n * sizeof *y, (void **)&y, &err), LC_OK);
  ck_assert_int_eq(b.ops->alloc(&b, 2 * sizeof *s, (void **)&s, &err), LC_OK);
  double ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = sin(0.1 * i);
    y[i] = cos(0.3 * i);
  }
  ck_assert_int_eq(b.ops->dot(&b, n, x, y, s), LC_OK);
  ck_assert_int_eq(b.ops->nrm_inf(&b, n, y, s + 1), LC_OK);
  double h[2];
  ck_assert_int_eq(lc_backend_read_scalars(&b, h, s, 2, &err), LC_OK);
  ck_assert_uint_eq(b.n_reads, 0); /* a CPU read is a host copy, not a synchronisation */
  b.kind = LC_DEV_CUDA;             /* the same read on a device counts */
  ck_assert_int_eq(lc_backend_read_scalars(&b, h, s, 2, &err), LC_OK);
  ck_assert_uint_eq(b.n_reads, 1);
  b.kind = LC_DEV_CPU;
  for (int64_t i = 0; i < n; ++i) ref += x[i] * y[i];
  ck_assert(fabs(h[0] - ref) <= 1e-10 * fabs(ref));
  ck_assert(h[1] <= 1.0 && h[1] > 0.999);
  const double e7 = 2.0 * x[7] - y[7];
  ck_assert_int_eq(b.ops->axpby(&b, n, 2.0, x, -1.0, y), LC_OK);
  ck_assert(y[7] == e7);
  ck_assert_int_eq(b.ops->scale(&b, n, 0.5, y), LC_OK);
  ck_assert_int_eq(b.ops->copy(&b, n, y, x), LC_OK);
  ck_assert(x[7] == y[7]);
  double sph[6] = {0, 0, 2, 1, 1, 1}, d[6] = {1, 1, 1, 1, 1, 1};
  ck_assert_int_eq(b.ops->sphere_retract(&b, 0, 2, sph), LC_OK);
  ck_assert(sph[2] == 1.0 && fabs(sph[3] - 1 / sqrt(3.0)) < 1e-15);
  ck_assert_int_eq(b.ops->sphere_tangent(&b, 0, 2, sph, d), LC_OK);
  ck_assert(d[2] == 0.0 && fabs(d[3] + d[4] + d[5]) < 1e-15);
  b.ops->free(&b, x);
  b.ops->free(&b, y);
  b.ops->free(&b, s);
  lc_backend_close(&b);
}
END_TEST

START_TEST(device_names) {
  lc_device_kind kind;
  int ord;
  lc_error err = {0};
  ck_assert_int_eq(lc_device_resolve("cpu", &kind, &ord, &err), LC_OK);
  ck_assert_int_eq(kind, LC_DEV_CPU);
  ck_assert_int_eq(lc_device_resolve(NULL, &kind, &ord, &err), LC_OK);
  ck_assert_int_eq(lc_device_resolve("auto", &kind, &ord, &err), LC_OK);
  const char *bad[] = {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:0x", "", "CPU"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    ck_assert_int_eq(lc_device_resolve(bad[i], &kind, &ord, &err), LC_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected cpu, cuda:N or auto"));
  }
  lc_device_info list[LC_DEVICE_MAX];
  int n = 0;
  lc_device_list(list, LC_DEVICE_MAX, &n);
  ck_assert_int_ge(n, 1);
  ck_assert_str_eq(list[0].id, "cpu");
  ck_assert_int_gt(list[0].cores, 0);
  /* cuda:N is usable exactly when it is listed; otherwise the error says why */
  for (int d = 0; d < 3; ++d) {
    char spec[16];
    snprintf(spec, sizeof spec, "cuda:%d", d);
    int listed = 0;
    for (int i = 0; i < n; ++i) listed |= !strcmp(list[i].id, spec);
    const int rc = lc_device_resolve(spec, &kind, &ord, &err);
    ck_assert_int_eq(rc, listed ? LC_OK : LC_ENOTSUP);
    if (!listed) ck_assert_ptr_nonnull(strstr(err.msg, spec));
  }
}
END_TEST

START_TEST(problem_reports_its_device) {
  lc_mesh *m;
  lc_problem *p;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(4, &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  ck_assert_str_eq(lc_problem_device(p), "cpu");
  lc_problem_destroy(p);
  ck_assert_int_eq(lc_problem_create(m, "bogus", &p, &err), LC_EINVAL);
  if (!lc_device_have_cuda()) {
    ck_assert_int_eq(lc_problem_create(m, "cuda:0", &p, &err), LC_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(err.msg, "no CUDA backend"));
  }
  lc_mesh_destroy(m);
}
END_TEST

/* ---- the staged host API (what a GPU problem runs), on the CPU ---------- */

/* Counts uploads, so the test can see the state's upload being skipped. */
static int uploads;
static int (*cpu_upload)(lc_backend *, void *, const void *, size_t, lc_error *);
static int counting_upload(lc_backend *b, void *dst, const void *src, size_t n, lc_error *err) {
  uploads++;
  return cpu_upload(b, dst, src, n, err);
}

/* A problem with springs, bending and a residual term on a perturbed grid. */
static lc_problem *staged_problem(lc_mesh *m, const char *device) {
  lc_problem *p;
  lc_error err;
  ck_assert_int_eq(lc_problem_create(m, device, &p, &err), LC_OK);
  unsigned long long seed = 3;
  const int32_t nv = lc_mesh_nv(m);
  double *x = malloc((size_t)nv * 3 * sizeof *x);
  for (int32_t i = 0; i < 3 * nv; ++i) x[i] = lc_mesh_V(m)[i] + lc_test_rand(&seed, -0.05, 0.05);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, 3, x, NULL, &err), LC_OK);
  const char *energies[] = {"spring", "bending", "res_edge_length"};
  for (int e = 0; e < 3; ++e) {
    lc_term_desc d = {0};
    d.energy = energies[e];
    ck_assert_msg(lc_problem_add_term(p, &d, NULL, &err) == LC_OK, "%s", err.msg);
  }
  const int32_t fixed[] = {0, 7};
  ck_assert_int_eq(lc_problem_fix(p, 0, 2, fixed, NULL, &err), LC_OK);
  free(x);
  return p;
}

/* Every host call through the staging path of eval.c (a CPU backend that
 * pretends to be a device) gives bit-identical results to the direct path,
 * uploads the state only when it changed and counts every download. */
START_TEST(staged_calls_match_direct) {
  lc_mesh *m;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(9, &m, &err), LC_OK);
  lc_problem *a = staged_problem(m, "cpu"), *b = staged_problem(m, "cpu");
  static lc_backend_ops staged;
  staged = *lc_backend_cpu_ops();
  cpu_upload = staged.upload;
  staged.upload = counting_upload;
  lc_backend *be = lc_problem_backend(b);
  be->ops = &staged;
  be->kind = LC_DEV_CUDA; /* host memory all the same: only the path changes */
  const int64_t n = lc_problem_n_dofs(a), nr = lc_problem_n_residuals(a);
  double *g1 = calloc(n, 8), *g2 = calloc(n, 8), *v = calloc(n, 8), *h1 = calloc(n, 8), *h2 = calloc(n, 8);
  double *r1 = calloc(nr, 8), *r2 = calloc(nr, 8), e1, e2;
  lc_workload_direction(v, n);
  lc_csr H1, H2;
  for (int pr = 0; pr < 2; ++pr) {
    ck_assert_int_eq(lc_problem_hessian(a, NULL, pr, &e1, g1, &H1, &err), LC_OK);
    ck_assert_int_eq(lc_problem_hessian(b, NULL, pr, &e2, g2, &H2, &err), LC_OK);
    ck_assert(e1 == e2 && !memcmp(g1, g2, n * 8) && !memcmp(H1.val, H2.val, H1.nnz * 8));
    ck_assert_int_eq(lc_problem_gn_hessian(a, NULL, pr, &e1, g1, &H1, &err), LC_OK);
    ck_assert_int_eq(lc_problem_gn_hessian(b, NULL, pr, &e2, g2, &H2, &err), LC_OK);
    ck_assert(e1 == e2 && !memcmp(H1.val, H2.val, H1.nnz * 8));
    ck_assert_int_eq(lc_problem_hvp(a, NULL, v, pr, &e1, g1, h1, &err), LC_OK);
    ck_assert_int_eq(lc_problem_hvp(b, NULL, v, pr, &e2, g2, h2, &err), LC_OK);
    ck_assert(e1 == e2 && !memcmp(g1, g2, n * 8) && !memcmp(h1, h2, n * 8));
  }
  lc_csr J1, J2;
  ck_assert_int_eq(lc_problem_jacobian(a, NULL, r1, &J1, &err), LC_OK);
  ck_assert_int_eq(lc_problem_jacobian(b, NULL, r2, &J2, &err), LC_OK);
  ck_assert(!memcmp(r1, r2, nr * 8) && !memcmp(J1.val, J2.val, J1.nnz * 8));
  /* the state goes up once while it does not change; a new state or an explicit x goes up */
  uploads = 0;
  const uint64_t reads0 = lc_problem_host_reads(b);
  ck_assert_int_eq(lc_problem_gradient(b, NULL, &e2, g2, &err), LC_OK);
  ck_assert_int_eq(lc_problem_gradient(b, NULL, &e2, g2, &err), LC_OK);
  ck_assert_int_eq(uploads, 0);
  ck_assert_uint_eq(lc_problem_host_reads(b) - reads0, 4); /* E and g, twice */
  for (int64_t i = 0; i < n; ++i) h1[i] = lc_problem_x(b)[i] * 1.01;
  ck_assert_int_eq(lc_problem_set_x(b, h1, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_x(a, h1, &err), LC_OK);
  ck_assert_int_eq(lc_problem_energy(b, NULL, &e2, &err), LC_OK);
  ck_assert_int_eq(lc_problem_energy(a, NULL, &e1, &err), LC_OK);
  ck_assert_int_eq(uploads, 1);
  ck_assert(e1 == e2);
  ck_assert_int_eq(lc_problem_energy(b, v, &e2, &err), LC_OK);
  ck_assert_int_eq(lc_problem_energy(a, v, &e1, &err), LC_OK);
  ck_assert_int_eq(uploads, 2);
  ck_assert(e1 == e2 || (isnan(e1) && isnan(e2)));
  ck_assert_int_eq(lc_problem_energy(b, NULL, &e2, &err), LC_OK); /* back to the state: up again */
  ck_assert_int_eq(uploads, 3);
  free(g1); free(g2); free(v); free(h1); free(h2); free(r1); free(r2);
  be->ops = lc_backend_cpu_ops();
  be->kind = LC_DEV_CPU;
  lc_problem_destroy(a);
  lc_problem_destroy(b);
  lc_mesh_destroy(m);
}
END_TEST

/* ---- the element Hessian cache (lc_eval_req.cache) ---------------------- */

/* One HVP request on p's backend with host arrays (x: the state). */
static int hvp_req(lc_problem *p, int cache, int project, const double *v, double *E, double *g,
                   double *hv, lc_error *err) {
  const lc_eval_req q = {LC_EL_HVP, project, NULL, v, E, g, hv, NULL, cache};
  return lc_problem_eval_req(p, &q, err);
}

/* max |a - b| / max |a| (a's largest entry at least 1e-300). */
static double rel_diff(const double *a, const double *b, int64_t n) {
  double d = 0.0, s = 1e-300;
  for (int64_t i = 0; i < n; ++i) {
    d = fmax(d, fabs(a[i] - b[i]));
    s = fmax(s, fabs(a[i]));
  }
  return d / s;
}

/* A problem on m with one variable of dimension 3 (rest positions scaled
 * and perturbed), the given energies (weights 0.7, 1.3, ...) and the
 * vertices in fix[0..nfix) fixed. */
static lc_problem *cache_problem(lc_mesh *m, const char *const *energies, int ne, const int32_t *fix,
                                 int nfix) {
  lc_problem *p;
  lc_error err;
  ck_assert_int_eq(lc_problem_create(m, "cpu", &p, &err), LC_OK);
  unsigned long long seed = 11;
  const int32_t nv = lc_mesh_nv(m);
  double *x = malloc((size_t)nv * 3 * sizeof *x);
  for (int32_t i = 0; i < 3 * nv; ++i) x[i] = 1.1 * lc_mesh_V(m)[i] + lc_test_rand(&seed, -0.03, 0.03);
  ck_assert_int_eq(lc_problem_add_variable(p, "x", LC_LOC_VERTEX, 3, x, NULL, &err), LC_OK);
  for (int e = 0; e < ne; ++e) {
    lc_term_desc d = {0};
    d.energy = energies[e];
    d.weight = 0.7 + 0.6 * e;
    d.weight_set = 1;
    ck_assert_msg(lc_problem_add_term(p, &d, NULL, &err) == LC_OK, "%s: %s", energies[e], err.msg);
  }
  if (nfix) ck_assert_int_eq(lc_problem_fix(p, 0, nfix, fix, NULL, &err), LC_OK);
  free(x);
  return p;
}

/* STORE then USE against the plain HVP mode on p, projected and not: H v to
 * 1e-13 relative, E and g of STORE as in HVP mode, USE repeatable bit for
 * bit and equal to STORE's own H v, store-only STORE the same. */
static void check_cache_matches(lc_problem *p, const char *what) {
  lc_error err;
  const int64_t n = lc_problem_n_dofs(p);
  double *v = calloc(n, 8), *g1 = calloc(n, 8), *g2 = calloc(n, 8), *h1 = calloc(n, 8), *h2 = calloc(n, 8);
  double *h3 = calloc(n, 8), *h4 = calloc(n, 8), e1, e2;
  lc_workload_direction(v, n);
  for (int pr = 0; pr < 2; ++pr) {
    ck_assert_int_eq(hvp_req(p, LC_CACHE_NONE, pr, v, &e1, g1, h1, &err), LC_OK);
    ck_assert_msg(hvp_req(p, LC_CACHE_STORE, pr, v, &e2, g2, h2, &err) == LC_OK, "%s", err.msg);
    ck_assert_msg(hvp_req(p, LC_CACHE_USE, pr, v, NULL, NULL, h3, &err) == LC_OK, "%s", err.msg);
    const double dh = rel_diff(h1, h3, n), dg = rel_diff(g1, g2, n);
    ck_assert_msg(dh <= 1e-13, "%s project %d: cached H v differs by %g", what, pr, dh);
    ck_assert_msg(dg <= 1e-13, "%s project %d: STORE gradient differs by %g", what, pr, dg);
    ck_assert_msg(fabs(e1 - e2) <= 1e-13 * fabs(e1), "%s: STORE energy %.17g vs %.17g", what, e2, e1);
    ck_assert_msg(!memcmp(h2, h3, n * 8), "%s: STORE's H v differs from USE's", what);
    ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, pr, v, NULL, NULL, h4, &err), LC_OK);
    ck_assert_msg(!memcmp(h3, h4, n * 8), "%s: two USE runs differ", what);
    ck_assert_int_eq(hvp_req(p, LC_CACHE_STORE, pr, NULL, NULL, NULL, NULL, &err), LC_OK);
    ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, pr, v, NULL, NULL, h4, &err), LC_OK);
    ck_assert_msg(!memcmp(h3, h4, n * 8), "%s: store-only STORE differs", what);
    for (int64_t i = 0; i < n; ++i)
      if (lc_problem_fixed(p)[i]) ck_assert(h3[i] == v[i]);
  }
  free(v); free(g1); free(g2); free(h1); free(h2); free(h3); free(h4);
}

START_TEST(cache_matches_hvp) {
  lc_mesh *grid, *spot;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(12, &grid, &err), LC_OK);
  const int32_t fix[] = {0, 5, 17, 40};
  const char *const flap[] = {"spring", "bending"}, *const stvk[] = {"stvk", "gravity"};
  const char *const neo[] = {"neohookean", "bending", "area"};
  lc_problem *p = staged_problem(grid, "cpu"); /* springs, bending, residual term, fixed DOFs */
  check_cache_matches(p, "staged");
  lc_problem_destroy(p);
  p = cache_problem(grid, flap, 2, fix, 4);
  check_cache_matches(p, "spring+bending");
  lc_problem_destroy(p);
  p = cache_problem(grid, stvk, 2, fix, 4);
  check_cache_matches(p, "stvk+gravity");
  lc_problem_destroy(p);
  p = cache_problem(grid, neo, 3, NULL, 0);
  check_cache_matches(p, "neohookean+bending+area");
  lc_problem_destroy(p);
  if (lc_mesh_read_obj_file(lc_test_mesh_path("spot.obj"), &spot, &err) == LC_OK) {
    p = cache_problem(spot, stvk, 1, fix, 4);
    check_cache_matches(p, "spot stvk");
    lc_problem_destroy(p);
    lc_mesh_destroy(spot);
  }
  lc_mesh_destroy(grid);
}
END_TEST

/* Asserts that a USE on p fails with LC_EINVAL and a message holding want. */
static void use_fails(lc_problem *p, const double *v, double *hv, const char *want) {
  lc_error err = {0};
  ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, 1, v, NULL, NULL, hv, &err), LC_EINVAL);
  ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, "cpu") && strstr(err.msg, "element Hessian cache"),
                "message: %s", err.msg);
}

/* Asserts that p still evaluates: a plain HVP, then STORE and USE. */
static void still_usable(lc_problem *p, const double *v, double *hv) {
  lc_error err;
  double e;
  ck_assert_int_eq(hvp_req(p, LC_CACHE_NONE, 1, v, &e, NULL, hv, &err), LC_OK);
  ck_assert(isfinite(e));
  ck_assert_msg(hvp_req(p, LC_CACHE_STORE, 1, NULL, NULL, NULL, NULL, &err) == LC_OK, "%s", err.msg);
  ck_assert_msg(hvp_req(p, LC_CACHE_USE, 1, v, NULL, NULL, hv, &err) == LC_OK, "%s", err.msg);
}

START_TEST(cache_stale_or_empty_is_an_error) {
  lc_mesh *m;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(8, &m, &err), LC_OK);
  const char *const en[] = {"stvk", "bending"};
  const int32_t fix[] = {0, 3};
  lc_problem *p = cache_problem(m, en, 2, fix, 2);
  const int64_t n = lc_problem_n_dofs(p);
  double *v = calloc(n, 8), *hv = calloc(n, 8), *k = calloc(4 * n, 8), e;
  lc_workload_direction(v, n);
  use_fails(p, v, hv, "empty");
  still_usable(p, v, hv);
  const int32_t more[] = {9};
  ck_assert_int_eq(lc_problem_fix(p, 0, 1, more, NULL, &err), LC_OK);
  use_fails(p, v, hv, "fixed DOFs changed");
  still_usable(p, v, hv);
  ck_assert_int_eq(lc_problem_set_term_weight(p, 1, 2.5, &err), LC_OK);
  use_fails(p, v, hv, "weight changed");
  still_usable(p, v, hv);
  ck_assert_int_eq(lc_problem_get_term_consts(p, 0, k, &err), LC_OK);
  ck_assert_int_eq(lc_problem_set_term_consts(p, 0, k, &err), LC_OK);
  use_fails(p, v, hv, "constants changed");
  still_usable(p, v, hv);
  lc_term_desc d = {0};
  d.energy = "gravity";
  ck_assert_int_eq(lc_problem_add_term(p, &d, NULL, &err), LC_OK);
  use_fails(p, v, hv, "terms or variables changed");
  still_usable(p, v, hv);
  ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, 0, v, NULL, NULL, hv, &err), LC_EINVAL); /* stored projected */
  ck_assert_ptr_nonnull(strstr(err.msg, "projected"));
  ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, 1, v, &e, NULL, hv, &err), LC_EINVAL); /* USE computes no E */
  ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, 1, NULL, NULL, NULL, hv, &err), LC_EINVAL);
  const lc_eval_req bad = {LC_EL_GRAD, 0, NULL, NULL, &e, hv, NULL, NULL, LC_CACHE_STORE};
  ck_assert_int_eq(lc_problem_eval_req(p, &bad, &err), LC_EINVAL);
  ck_assert_int_eq(lc_problem_remove_term(p, 0, &err), LC_OK);
  use_fails(p, v, hv, "terms or variables changed");
  still_usable(p, v, hv);
  free(v); free(hv); free(k);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

START_TEST(cache_independent_of_threads) {
  lc_mesh *m;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(40, &m, &err), LC_OK);
  const char *const en[] = {"stvk", "bending", "spring"};
  const int32_t fix[] = {0, 39};
  lc_problem *p = cache_problem(m, en, 3, fix, 2);
  const int64_t n = lc_problem_n_dofs(p);
  double *v = calloc(n, 8), *h[2] = {calloc(n, 8), calloc(n, 8)}, *g[2] = {calloc(n, 8), calloc(n, 8)}, e[2];
  lc_workload_direction(v, n);
  for (int pr = 0; pr < 2; ++pr) {
    for (int th = 0; th < 2; ++th) {
      lc_problem_set_threads(p, th + 1);
      ck_assert_int_eq(hvp_req(p, LC_CACHE_STORE, pr, NULL, &e[th], g[th], NULL, &err), LC_OK);
      ck_assert_int_eq(hvp_req(p, LC_CACHE_USE, pr, v, NULL, NULL, h[th], &err), LC_OK);
    }
    ck_assert(e[0] == e[1] && !memcmp(g[0], g[1], n * 8));
    ck_assert_msg(!memcmp(h[0], h[1], n * 8), "USE differs between 1 and 2 threads (project %d)", pr);
  }
  free(v); free(h[0]); free(h[1]); free(g[0]); free(g[1]);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

/* Bytes of address space this process maps now (/proc/self/statm). */
static size_t mapped_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f && fscanf(f, "%lu", &pages) != 1) pages = 0;
  if (f) fclose(f);
  return (size_t)pages * 4096;
}

/* With the address space capped just above what is mapped, STORE fails with
 * LC_ENOMEM naming the device, the bytes and the cache; the problem works
 * on, and STORE succeeds once memory is back. */
START_TEST(cache_out_of_memory_is_clean) {
  lc_mesh *m;
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(90, &m, &err), LC_OK);
  const char *const en[] = {"bending"}; /* ~24k flaps: 14 MB of packed 12 x 12 matrices */
  lc_problem *p = cache_problem(m, en, 1, NULL, 0);
  const int64_t n = lc_problem_n_dofs(p);
  double *v = calloc(n, 8), *hv = calloc(n, 8), e;
  lc_workload_direction(v, n);
  ck_assert_int_eq(hvp_req(p, LC_CACHE_NONE, 1, v, &e, NULL, hv, &err), LC_OK);
  struct rlimit old, cap;
  ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
  cap = old;
  cap.rlim_cur = mapped_bytes() + ((size_t)1 << 20);
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &cap), 0);
  const int rc = hvp_req(p, LC_CACHE_STORE, 1, v, &e, NULL, hv, &err);
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
  ck_assert_int_eq(rc, LC_ENOMEM);
  ck_assert_msg(strstr(err.msg, "cpu") && strstr(err.msg, "element Hessian cache") && strstr(err.msg, "bytes"),
                "message: %s", err.msg);
  use_fails(p, v, hv, "empty");
  still_usable(p, v, hv);
  free(v); free(hv);
  lc_problem_destroy(p);
  lc_mesh_destroy(m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("eval");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, hessian_by_columns_matches_packed);
  tcase_add_test(tc, elem_projection_matches_reference);
  tcase_add_test(tc, cpu_backend_vector_ops);
  tcase_add_test(tc, device_names);
  tcase_add_test(tc, problem_reports_its_device);
  tcase_add_test(tc, staged_calls_match_direct);
  tcase_add_test(tc, cache_matches_hvp);
  tcase_add_test(tc, cache_stale_or_empty_is_an_error);
  tcase_add_test(tc, cache_independent_of_threads);
  tcase_add_test(tc, cache_out_of_memory_is_clean);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
