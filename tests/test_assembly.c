/* test_assembly.c - Check suite for problems and CPU assembly: gradient,
 * Hessian (exact and projected) against dense sums of element kernels, HVP
 * against H.v, Jacobians against finite differences, fixed DOFs,
 * determinism across thread counts, input errors, and the published W1-W3
 * check values. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad/lc_psd.h"
#include "energies/kernels.h"
#include "problem.h"
#include "testutil.h"
#include "workloads.h"

/* A small problem on an n x n grid with perturbed 3D positions. */
typedef struct small {
  lc_mesh *m;
  lc_problem *p;
  int64_t n;
} small;

/* One term of the dense reference: energy instance, elements (n x K), weight. */
typedef struct ref_term {
  const char *energy;
  const int32_t *elems;
  int32_t n;
  double weight;
  int project;
} ref_term;

static void small_make(small *s, int gn, unsigned long long seed) {
  lc_error err;
  ck_assert_int_eq(lc_workload_grid(gn, &s->m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(s->m, "cpu", &s->p, &err), LC_OK);
  const int32_t nv = lc_mesh_nv(s->m);
  double *x = malloc((size_t)nv * 3 * sizeof *x);
  const double *V = lc_mesh_V(s->m);
  for (int32_t i = 0; i < 3 * nv; ++i) x[i] = V[i] * 1.1 + lc_test_rand(&seed, -0.05, 0.05);
  ck_assert_int_eq(lc_problem_add_variable(s->p, "x", LC_LOC_VERTEX, 3, x, NULL, &err), LC_OK);
  s->n = lc_problem_n_dofs(s->p);
  free(x);
}

static void small_free(small *s) {
  lc_problem_destroy(s->p);
  lc_mesh_destroy(s->m);
}

static int add_term(lc_problem *p, const char *energy, double w, const int32_t *elems, int32_t n) {
  lc_term_desc d = {0};
  lc_error err;
  int id = -1;
  d.energy = energy;
  d.weight = w;
  d.weight_set = 1;
  d.elems = elems;
  d.n_elems = n;
  ck_assert_msg(lc_problem_add_term(p, &d, &id, &err) == LC_OK, "%s", err.msg);
  return id;
}

/* Dense reference: energy, gradient and Hessian from the element kernels. */
static double dense_ref(const small *s, const ref_term *terms, int nt, int project, double *g, double *H) {
  const double *x = lc_problem_x(s->p);
  const uint8_t *fx = lc_problem_fixed(s->p);
  const int64_t n = s->n;
  double E = 0.0;
  memset(g, 0, (size_t)n * sizeof *g);
  memset(H, 0, (size_t)(n * n) * sizeof *H);
  for (int ti = 0; ti < nt; ++ti) {
    const int id = lc_energy_find(terms[ti].energy, 3);
    const lc_energy_info *info = lc_energy_get(id);
    const lc_elem_kernel *k = lc_cpu_kernel(id);
    const int K = info->K, N = 3 * K;
    double p[LC_ENERGY_MAX_PARAMS], c[LC_ENERGY_MAX_CONSTS], xl[12], gl[12], Hl[144];
    for (int i = 0; i < info->n_param; ++i) p[i] = info->param_defaults[i];
    for (int32_t e = 0; e < terms[ti].n; ++e) {
      const int32_t *en = terms[ti].elems + (int64_t)e * K;
      char why[128];
      ck_assert_int_eq(info->setup(s->m, terms[ti].elems == lc_mesh_F(s->m) || terms[ti].elems == lc_mesh_edges(s->m) || terms[ti].elems == lc_mesh_flaps(s->m) ? e : -1, en, p, c, why), LC_OK);
      for (int a = 0; a < K; ++a)
        for (int d = 0; d < 3; ++d) xl[3 * a + d] = x[3 * en[a] + d];
      E += terms[ti].weight * k->hess(xl, c, p, gl, Hl);
      for (int i = 0; i < N * N; ++i) Hl[i] *= terms[ti].weight;
      if (project && terms[ti].project) lc_psd_project(Hl, N, 1e-9);
      for (int i = 0; i < N; ++i) {
        const int64_t gi = 3 * en[i / 3] + i % 3;
        if (fx[gi]) continue;
        g[gi] += terms[ti].weight * gl[i];
        for (int j = 0; j < N; ++j) {
          const int64_t gj = 3 * en[j / 3] + j % 3;
          if (!fx[gj]) H[gi * n + gj] += Hl[i * N + j];
        }
      }
    }
  }
  for (int64_t i = 0; i < n; ++i)
    if (fx[i]) H[i * n + i] = 1.0;
  return E;
}

/* Expands a CSR matrix into dense n x n storage. */
static void csr_dense(const lc_csr *A, double *D) {
  memset(D, 0, (size_t)A->nrows * A->ncols * sizeof *D);
  for (int32_t r = 0; r < A->nrows; ++r)
    for (int32_t k = A->rowptr[r]; k < A->rowptr[r + 1]; ++k) D[(int64_t)r * A->ncols + A->col[k]] += A->val[k];
}

static double maxabs(const double *a, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; ++i) m = fmax(m, fabs(a[i]));
  return m;
}

/* Compares assembled energy/gradient/Hessian/HVP with the dense reference. */
static void compare_with_dense(small *s, const ref_term *terms, int nt, int project) {
  const int64_t n = s->n;
  double *g = malloc(n * sizeof *g), *gr = malloc(n * sizeof *gr), *Hr = malloc(n * n * sizeof *Hr);
  double *Hd = malloc(n * n * sizeof *Hd), *v = malloc(n * sizeof *v), *hv = malloc(n * sizeof *hv);
  double E, Er, Ev;
  lc_csr H;
  lc_error err;
  ck_assert_int_eq(lc_problem_hessian(s->p, NULL, project, &E, g, &H, &err), LC_OK);
  Er = dense_ref(s, terms, nt, project, gr, Hr);
  csr_dense(&H, Hd);
  ck_assert_double_le(lc_test_reldiff(E, Er, 1e-300), 1e-13);
  const double gs = maxabs(gr, n), hs = maxabs(Hr, n * n);
  for (int64_t i = 0; i < n; ++i) ck_assert_double_le(fabs(g[i] - gr[i]), 1e-12 * gs);
  for (int64_t i = 0; i < n * n; ++i) ck_assert_double_le(fabs(Hd[i] - Hr[i]), 1e-12 * hs);
  for (int64_t i = 0; i < n * n; ++i) ck_assert_double_eq(Hd[i], Hd[(i % n) * n + i / n]);
  lc_workload_direction(v, n);
  ck_assert_int_eq(lc_problem_hvp(s->p, NULL, v, project, &Ev, NULL, hv, &err), LC_OK);
  ck_assert_double_le(lc_test_reldiff(Ev, Er, 1e-300), 1e-13);
  for (int64_t i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int64_t j = 0; j < n; ++j) acc += Hr[i * n + j] * v[j];
    ck_assert_double_le(fabs(acc - hv[i]), 1e-11 * hs * n);
  }
  free(g); free(gr); free(Hr); free(Hd); free(v); free(hv);
}

START_TEST(test_dense_sum) {
  small s;
  small_make(&s, 5, 42);
  static const int32_t pts[] = {0, 7, 13};
  ref_term terms[] = {
      {"stvk", lc_mesh_F(s.m), lc_mesh_nf(s.m), 1.0, 1},
      {"spring", lc_mesh_edges(s.m), lc_mesh_ne(s.m), 2.0, 1},
      {"bending", lc_mesh_flaps(s.m), lc_mesh_nflaps(s.m), 0.5, 1},
      {"target", pts, 3, 3.0, 1},
  };
  add_term(s.p, "stvk", 1.0, NULL, 0);
  add_term(s.p, "spring", 2.0, NULL, 0);
  add_term(s.p, "bending", 0.5, NULL, 0);
  add_term(s.p, "target", 3.0, pts, 3);
  compare_with_dense(&s, terms, 4, 0);
  compare_with_dense(&s, terms, 4, 1);
  small_free(&s);
}
END_TEST

START_TEST(test_fixed_dofs) {
  small s;
  small_make(&s, 4, 7);
  ref_term terms[] = {{"neohookean", lc_mesh_F(s.m), lc_mesh_nf(s.m), 1.0, 1},
                      {"bending", lc_mesh_flaps(s.m), lc_mesh_nflaps(s.m), 1.0, 1}};
  add_term(s.p, "neohookean", 1.0, NULL, 0);
  add_term(s.p, "bending", 1.0, NULL, 0);
  const int32_t fix[] = {0, 3, 9};
  const double vals[] = {0, 0, 0, 1, 0, 0, 0.5, 0.5, 0.1};
  lc_error err;
  ck_assert_int_eq(lc_problem_fix(s.p, 0, 3, fix, vals, &err), LC_OK);
  ck_assert_int_eq(lc_problem_n_fixed(s.p), 9);
  ck_assert_double_eq(lc_problem_x(s.p)[3 * 9 + 2], 0.1);
  compare_with_dense(&s, terms, 2, 1);
  compare_with_dense(&s, terms, 2, 0);
  double *g = malloc(s.n * sizeof *g), E;
  ck_assert_int_eq(lc_problem_gradient(s.p, NULL, &E, g, &err), LC_OK);
  for (int i = 0; i < 3; ++i)
    for (int d = 0; d < 3; ++d) ck_assert_double_eq(g[3 * fix[i] + d], 0.0);
  ck_assert_int_eq(lc_problem_unfix(s.p, 0, -1, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_problem_n_fixed(s.p), 0);
  free(g);
  small_free(&s);
}
END_TEST

START_TEST(test_jacobian_fd) {
  small s;
  small_make(&s, 4, 3);
  static const int32_t pts[] = {1, 5, 6};
  add_term(s.p, "res_edge_length", 2.0, NULL, 0);
  add_term(s.p, "res_position", 0.5, pts, 3);
  add_term(s.p, "stvk", 1.0, NULL, 0); /* not a residual term: no rows */
  const int64_t n = s.n, m = lc_problem_n_residuals(s.p);
  ck_assert_int_eq(m, lc_mesh_ne(s.m) + 9);
  double *r = malloc(m * sizeof *r), *rp = malloc(m * sizeof *rp), *rm = malloc(m * sizeof *rm);
  double *x = malloc(n * sizeof *x), *Jd = malloc(m * n * sizeof *Jd);
  lc_csr J;
  lc_error err;
  ck_assert_int_eq(lc_problem_jacobian(s.p, NULL, r, &J, &err), LC_OK);
  ck_assert_int_eq(J.nrows, m);
  csr_dense(&J, Jd);
  memcpy(x, lc_problem_x(s.p), n * sizeof *x);
  const double h = 1e-6;
  for (int64_t j = 0; j < n; ++j) {
    const double x0 = x[j];
    x[j] = x0 + h;
    ck_assert_int_eq(lc_problem_jacobian(s.p, x, rp, NULL, &err), LC_OK);
    x[j] = x0 - h;
    ck_assert_int_eq(lc_problem_jacobian(s.p, x, rm, NULL, &err), LC_OK);
    x[j] = x0;
    for (int64_t i = 0; i < m; ++i) ck_assert_double_le(fabs((rp[i] - rm[i]) / (2 * h) - Jd[i * n + j]), 1e-7);
  }
  /* residual energies: sum of 1/2 w |r|^2 equals the energy of those terms */
  double half = 0.0, E;
  for (int64_t i = 0; i < m; ++i) half += 0.5 * r[i] * r[i];
  ck_assert_int_eq(lc_problem_remove_term(s.p, 2, &err), LC_OK);
  ck_assert_int_eq(lc_problem_energy(s.p, NULL, &E, &err), LC_OK);
  ck_assert_double_le(lc_test_reldiff(E, half, 1e-300), 1e-13);
  free(r); free(rp); free(rm); free(x); free(Jd);
  small_free(&s);
}
END_TEST

/* Runs every mode with the given thread count; copies the outputs. */
static void run_modes(lc_problem *p, int threads, double *out, int64_t n, int64_t nnz) {
  lc_error err;
  lc_csr H;
  double *v = malloc(n * sizeof *v);
  lc_workload_direction(v, n);
  lc_problem_set_threads(p, threads);
  ck_assert_int_eq(lc_problem_energy(p, NULL, out, &err), LC_OK);
  ck_assert_int_eq(lc_problem_gradient(p, NULL, out + 1, out + 2, &err), LC_OK);
  ck_assert_int_eq(lc_problem_hvp(p, NULL, v, 0, out + 2 + n, NULL, out + 3 + n, &err), LC_OK);
  ck_assert_int_eq(lc_problem_hessian(p, NULL, 1, out + 3 + 2 * n, NULL, &H, &err), LC_OK);
  ck_assert_int_eq(H.nnz, nnz);
  memcpy(out + 4 + 2 * n, H.val, nnz * sizeof *out);
  free(v);
}

START_TEST(test_determinism) {
  lc_workload w;
  lc_error err;
  ck_assert_msg(lc_workload_setup(2, "spot", lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  add_term(w.p, "bending", 1.0, NULL, 0);
  const int64_t n = lc_problem_n_dofs(w.p);
  lc_csr H;
  ck_assert_int_eq(lc_problem_hessian(w.p, NULL, 0, NULL, NULL, &H, &err), LC_OK);
  const int64_t nnz = H.nnz, len = 4 + 2 * n + nnz;
  double *a = malloc(len * sizeof *a), *b = malloc(len * sizeof *b);
  run_modes(w.p, 1, a, n, nnz);
  run_modes(w.p, 2, b, n, nnz);
  ck_assert_int_eq(memcmp(a, b, len * sizeof *a), 0);
  run_modes(w.p, 3, b, n, nnz);
  ck_assert_int_eq(memcmp(a, b, len * sizeof *a), 0);
  free(a); free(b);
  lc_workload_free(&w);
}
END_TEST

/* Element lists replaced inside the pattern keep it (same arrays, no
 * rebuild); outside it they rebuild it; a reserve makes a superset pattern
 * that later lists fit; every assembly matches the dense sum of the terms
 * as they are; a bad list changes nothing. */
START_TEST(test_replace_elements) {
  small s;
  lc_error err;
  lc_csr H;
  int kept = -1;
  small_make(&s, 5, 7);
  static const int32_t a[] = {0, 12, 3, 20, 5, 24}, b[] = {3, 20}, c[] = {3, 20, 1, 23}, d[] = {2, 22, 4, 15},
                       bad[] = {0, 99};
  add_term(s.p, "stvk", 1.0, NULL, 0);
  const int sp = add_term(s.p, "spring", 2.0, a, 3);
  ref_term t[2] = {{"stvk", lc_mesh_F(s.m), lc_mesh_nf(s.m), 1.0, 1}, {"spring", a, 3, 2.0, 1}};
  compare_with_dense(&s, t, 2, 1);
  ck_assert_int_eq(lc_problem_hessian(s.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  const int32_t *rp = H.rowptr, *col = H.col;
  const int64_t nnz = H.nnz;
  /* a subset of the couplings: the pattern stays */
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, b, 1, NULL, &kept, &err), LC_OK);
  ck_assert_int_eq(kept, 1);
  t[1] = (ref_term){"spring", b, 1, 2.0, 1};
  compare_with_dense(&s, t, 2, 1);
  ck_assert_int_eq(lc_problem_hessian(s.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  ck_assert(H.rowptr == rp && H.col == col && H.nnz == nnz);
  /* a bad list: refused, the term as it was */
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, bad, 1, NULL, &kept, &err), LC_ERANGE);
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, NULL, 2, NULL, &kept, &err), LC_EINVAL);
  compare_with_dense(&s, t, 2, 1);
  /* a new coupling (1, 23): rebuilt */
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, c, 2, NULL, &kept, &err), LC_OK);
  ck_assert_int_eq(kept, 0);
  t[1] = (ref_term){"spring", c, 2, 2.0, 1};
  compare_with_dense(&s, t, 2, 1);
  ck_assert_int_eq(lc_problem_hessian(s.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  ck_assert_int_eq(H.nnz, nnz - 2 * 2 * 9 + 2 * 9); /* (0,12), (5,24) gone, (1,23) new */
  /* a reserve of (2, 22), (4, 15): the pattern grows by them, then holds a list of them */
  ck_assert_int_eq(lc_problem_reserve_pattern(s.p, 0, 0, d, 2, &err), LC_EINVAL);
  ck_assert_int_eq(lc_problem_reserve_pattern(s.p, 0, 2, bad, 1, &err), LC_ERANGE);
  ck_assert_int_eq(lc_problem_reserve_pattern(s.p, 0, 2, d, 2, &err), LC_OK);
  compare_with_dense(&s, t, 2, 1);
  ck_assert_int_eq(lc_problem_hessian(s.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  const int64_t nnz2 = H.nnz;
  ck_assert_int_eq(nnz2, nnz - 2 * 2 * 9 + 2 * 9 + 2 * 2 * 9);
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, d, 2, NULL, &kept, &err), LC_OK);
  ck_assert_int_eq(kept, 1);
  t[1] = (ref_term){"spring", d, 2, 2.0, 1};
  compare_with_dense(&s, t, 2, 1);
  /* no elements: the term contributes nothing, the pattern stays */
  ck_assert_int_eq(lc_problem_replace_elements(s.p, sp, NULL, 0, NULL, &kept, &err), LC_OK);
  ck_assert_int_eq(kept, 1);
  compare_with_dense(&s, t, 1, 1);
  ck_assert_int_eq(lc_problem_hessian(s.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  ck_assert_int_eq(H.nnz, nnz2);
  small_free(&s);
}
END_TEST

START_TEST(test_pattern_size) {
  lc_workload w;
  lc_error err;
  lc_csr H;
  ck_assert_msg(lc_workload_setup(2, "spot", lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  ck_assert_int_eq(lc_problem_hessian(w.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
  ck_assert_int_eq(H.nnz, 9 * (lc_mesh_nv(w.m) + 2 * lc_mesh_ne(w.m)));
  for (int32_t r = 0; r < H.nrows; ++r)
    for (int32_t k = H.rowptr[r] + 1; k < H.rowptr[r + 1]; ++k) ck_assert_int_lt(H.col[k - 1], H.col[k]);
  ck_assert_double_gt(lc_problem_bytes_per_element(w.p), 0.0);
  ck_assert_double_lt(lc_problem_bytes_per_element(w.p), 100.0);
  lc_workload_free(&w);
}
END_TEST

START_TEST(test_errors) {
  small s;
  small_make(&s, 3, 1);
  lc_error err;
  lc_term_desc d = {0};
  d.energy = "no_such_energy";
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(err.msg, "no_such_energy"));
  d.energy = "symmetric_dirichlet"; /* needs dim 2 */
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_ENOTFOUND);
  d.energy = "spring";
  d.var = 5;
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_ENOTFOUND);
  d.var = 0;
  const int32_t bad_range[] = {0, 99}, dup[] = {2, 2};
  d.elems = bad_range;
  d.n_elems = 1;
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_ERANGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "element 0"));
  d.elems = dup;
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_EINVAL);
  d.elems = NULL;
  d.n_elems = 0;
  const char *pn[] = {"stiffness"};
  const double pv[] = {1.0};
  d.n_params = 1;
  d.param_names = pn;
  d.param_values = pv;
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(err.msg, "stiffness"));
  d.n_params = 0;
  d.weight = -1.0;
  ck_assert_int_eq(lc_problem_add_term(s.p, &d, NULL, &err), LC_EINVAL);
  const int32_t oob[] = {100};
  ck_assert_int_eq(lc_problem_fix(s.p, 0, 1, oob, NULL, &err), LC_ERANGE);
  ck_assert_int_eq(lc_problem_remove_term(s.p, 0, &err), LC_ENOTFOUND);
  const double nanv[] = {NAN};
  ck_assert_int_eq(lc_problem_add_variable(s.p, "y", LC_LOC_VERTEX, 13, NULL, NULL, &err), LC_EINVAL);
  ck_assert_int_eq(lc_problem_add_variable(s.p, "y", LC_LOC_VERTEX, 0, NULL, NULL, &err), LC_EINVAL);
  ck_assert_int_eq(lc_problem_add_variable(s.p, "x", LC_LOC_VERTEX, 1, NULL, NULL, &err), LC_EINVAL);
  double *bad = calloc(lc_mesh_nv(s.m), sizeof *bad);
  bad[4] = nanv[0];
  ck_assert_int_eq(lc_problem_add_variable(s.p, "w", LC_LOC_VERTEX, 1, bad, NULL, &err), LC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "entity 4"));
  free(bad);
  ck_assert_int_eq(lc_problem_n_terms(s.p), 0);
  small_free(&s);
}
END_TEST

/* Checks energy, gradient, HVP and projected-Hessian norms of one workload. */
static void check_workload(int id, const char *mesh, int with_hess) {
  lc_workload w;
  lc_error err;
  lc_check c;
  ck_assert(lc_workload_check(id, mesh, &c));
  ck_assert_msg(lc_workload_setup(id, mesh, lc_test_mesh_dir(), 0, "cpu", &w, &err) == LC_OK, "%s", err.msg);
  const int64_t n = lc_problem_n_dofs(w.p);
  double *g = malloc(n * sizeof *g), *v = malloc(n * sizeof *v), *hv = malloc(n * sizeof *hv);
  double E, gn = 0, gv = 0, hn = 0, vhv = 0;
  lc_workload_direction(v, n);
  ck_assert_int_eq(lc_problem_hvp(w.p, NULL, v, 0, &E, g, hv, &err), LC_OK);
  for (int64_t i = 0; i < n; ++i) {
    gn += g[i] * g[i]; gv += g[i] * v[i]; hn += hv[i] * hv[i]; vhv += v[i] * hv[i];
  }
  ck_assert_msg(lc_test_reldiff(E, c.energy, 0) < 1e-11, "W%d %s energy %.17g vs %.17g", id, mesh, E, c.energy);
  ck_assert_msg(lc_test_reldiff(sqrt(gn), c.gnorm, 0) < 1e-11, "W%d %s |g| %.17g", id, mesh, sqrt(gn));
  ck_assert_msg(lc_test_reldiff(gv, c.gv, 0) < 1e-9, "W%d %s g.v %.17g", id, mesh, gv);
  ck_assert_msg(lc_test_reldiff(sqrt(hn), c.hvnorm, 0) < 1e-10, "W%d %s |Hv| %.17g", id, mesh, sqrt(hn));
  ck_assert_msg(lc_test_reldiff(vhv, c.vhv, 0) < 1e-10, "W%d %s vHv %.17g", id, mesh, vhv);
  if (with_hess) {
    lc_csr H;
    double fro = 0.0;
    ck_assert_int_eq(lc_problem_hessian(w.p, NULL, 1, NULL, NULL, &H, &err), LC_OK);
    for (int64_t k = 0; k < H.nnz; ++k) fro += H.val[k] * H.val[k];
    ck_assert_msg(lc_test_reldiff(sqrt(fro), c.hfro, 0) < 1e-9, "W%d %s |H| %.17g vs %.17g", id, mesh, sqrt(fro), c.hfro);
  }
  free(g); free(v); free(hv);
  lc_workload_free(&w);
}

START_TEST(test_check_w1) {
  check_workload(1, "camelhead", 1);
  check_workload(1, "face", 1);
  check_workload(1, "grid_224", 1);
}
END_TEST

START_TEST(test_check_w2) {
  check_workload(2, "spot", 1);
  check_workload(2, "armadillo", 1);
  check_workload(2, "igea", 1);
}
END_TEST

START_TEST(test_check_w3) {
  check_workload(3, "armadillo", 1);
  check_workload(3, "igea", 1);
}
END_TEST

static Suite *assembly_suite(void) {
  Suite *s = suite_create("assembly");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dense_sum);
  tcase_add_test(tc, test_fixed_dofs);
  tcase_add_test(tc, test_jacobian_fd);
  tcase_add_test(tc, test_determinism);
  tcase_add_test(tc, test_pattern_size);
  tcase_add_test(tc, test_replace_elements);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_check_w1);
  tcase_add_test(tc, test_check_w2);
  tcase_add_test(tc, test_check_w3);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(assembly_suite()); }
