/* test_eval.c - Check suite for the shared element loop and the backend
 * interface on the CPU: the column-by-column Hessian (the path the CUDA
 * backend takes for large elements) against the packed Hessian of every
 * energy instance, the low-memory projection against the reference
 * projection, the backend's vector operations and counted reads, and
 * device names (resolution, errors, the device list). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "problem.h"
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
  ck_assert_uint_eq(b.n_reads, 1);
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
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(suite()); }
