/* test_el_cols.c - Check suite for the column-by-column element path
 * (eval/el_inst_cols.h), which the CUDA backend takes for elements of more
 * than 12 local variables (the 24-variable embedded-deformation edge): here
 * every instance is compiled that way on the host and compared with the CPU
 * backend's vector-mode path,
 *  - kernel by kernel: gradient, HVP, Hessian and residual Jacobian of
 *    random elements of every energy instance;
 *  - evaluation by evaluation: an embedded-deformation problem on spot with
 *    fixed nodes, run through the same element-loop views (lc_term_el_view)
 *    in every mode (gradient, exact and Gauss-Newton Hessian, HVP,
 *    Jacobian) and through the Hessian cache's STORE and USE passes. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "energies/kernels.h"
#include "eval/el_common.h"
#include "problem.h"
#include "problem_impl.h"
#include "testutil.h"

#define LC_EL_BY_COLUMNS(n) 1
#define LC_EINST_TEMPLATE "cpu/cpu_einst.h" /* the CPU backend's tables, built on the column path */
#include "ad/lc_ad.h"
#include "energies/instances.h"

#define KERN_ENTRY_(inst, name, dim) &LC_CAT(kern_, inst),
static const lc_elem_kernel *const ckern[LC_E_COUNT] = {LC_ENERGY_LIST(KERN_ENTRY_)};
#define CHUNKS_ENTRY_(inst, name, dim) LC_CAT(chunks_, inst),
static const lc_el_chunk_fn *const cchunks[LC_E_COUNT] = {LC_ENERGY_LIST(CHUNKS_ENTRY_)};

enum { MAXN = LC_ENERGY_MAX_N, MAXR = LC_ENERGY_MAX_RESID };

/* max |a_i| over n entries. */
static double amax(const double *a, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s = fmax(s, fabs(a[i]));
  return s;
}

/* Asserts |a_i - b_i| <= tol * max(max|a|, tiny) for n entries. */
static void assert_close(const double *a, const double *b, int64_t n, double tol, const char *what) {
  const double scale = fmax(amax(a, n), 1e-300);
  for (int64_t i = 0; i < n; ++i)
    ck_assert_msg(fabs(a[i] - b[i]) <= tol * scale, "%s[%ld]: %.17g vs %.17g (scale %g)", what,
                  (long)i, a[i], b[i], scale);
}

/* ---- kernels ---------------------------------------------------------------- */

START_TEST(kernels_match_vector_mode) {
  unsigned long long seed = 4242;
  for (int id = 0; id < LC_E_COUNT; ++id) {
    const lc_energy_info *in = lc_energy_get(id);
    const lc_elem_kernel *kv = lc_cpu_kernel(id), *kc = ckern[id];
    const int N = in->K * in->dim, m = in->n_resid;
    int compared = 0;
    for (int trial = 0; trial < 60 && compared < 6; ++trial) {
      double x[MAXN], v[MAXN], k[LC_ENERGY_MAX_CONSTS], g1[MAXN], g2[MAXN], h1[MAXN], h2[MAXN];
      static double H1[MAXN * MAXN], H2[MAXN * MAXN];
      for (int i = 0; i < N; ++i) x[i] = lc_test_rand(&seed, -1.0, 1.0);
      for (int i = 0; i < N; ++i) v[i] = lc_test_rand(&seed, -1.0, 1.0);
      for (int i = 0; i < in->n_const; ++i) k[i] = lc_test_rand(&seed, 0.5, 1.5);
      const double *p = in->param_defaults;
      const double e = kv->grad(x, k, p, g1);
      if (!isfinite(e)) {
        ck_assert_msg(!isfinite(kc->grad(x, k, p, g2)), "%s: vector inf, columns finite", in->inst);
        continue;
      }
      ck_assert_msg(kc->grad(x, k, p, g2) == e, "%s: energy differs", in->inst);
      assert_close(g1, g2, N, 1e-13, in->inst);
      ck_assert(kv->hvp(x, v, k, p, g1, h1) == e && kc->hvp(x, v, k, p, g2, h2) == e);
      assert_close(g1, g2, N, 1e-13, in->inst);
      assert_close(h1, h2, N, 1e-12, in->inst);
      kv->hess(x, k, p, g1, H1);
      kc->hess(x, k, p, g2, H2);
      assert_close(H1, H2, (int64_t)N * N, 1e-12, in->inst);
      if (m > 0) {
        double r1[MAXR], r2[MAXR], J1[MAXR * MAXN], J2[MAXR * MAXN];
        kv->resid(x, k, p, r1, J1);
        kc->resid(x, k, p, r2, J2);
        assert_close(r1, r2, m, 0.0, in->inst);
        assert_close(J1, J2, (int64_t)m * N, 1e-14, in->inst);
      }
      compared++;
    }
    ck_assert_msg(compared > 0, "%s: no finite element among 60 random ones", in->inst);
  }
}
END_TEST

/* ---- whole evaluations of an embedded-deformation problem ---------------------- */

typedef struct ed_fixture {
  lc_problem *p;
  int var;
  int64_t n;
} ed_fixture;

/* spot with a 12-component node per vertex near the identity, a fit term on
 * a few vertices, rotation and regularisation everywhere, and three fixed
 * nodes. */
static void ed_setup(ed_fixture *f) {
  lc_error err;
  lc_mesh *m = NULL;
  ck_assert_int_eq(lc_mesh_read_obj_file(lc_test_mesh_path("spot.obj"), &m, &err), LC_OK);
  ck_assert_int_eq(lc_problem_create(m, "cpu", &f->p, &err), LC_OK);
  lc_mesh_destroy(m);
  const int32_t nv = lc_mesh_nv(lc_problem_mesh(f->p));
  double *init = malloc(sizeof(double) * 12 * (size_t)nv);
  unsigned long long seed = 99;
  for (int32_t i = 0; i < nv; ++i)
    for (int c = 0; c < 12; ++c)
      init[12 * i + c] = (c >= 3 && (c - 3) % 4 == 0 ? 1.0 : 0.0) + lc_test_rand(&seed, -0.2, 0.2);
  ck_assert_int_eq(lc_problem_add_variable(f->p, "ed", LC_LOC_VERTEX, 12, init, &f->var, &err), LC_OK);
  free(init);
  const int32_t fit[4] = {0, 100, 1000, 2000}, fixed[3] = {5, 500, 1500};
  double consts[4 * 6];
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 6; ++c) consts[6 * i + c] = lc_test_rand(&seed, -0.5, 0.5);
  lc_term_desc d = {.energy = "ed_fit", .var = f->var, .elems = fit, .n_elems = 4, .consts = consts};
  ck_assert_int_eq(lc_problem_add_term(f->p, &d, NULL, &err), LC_OK);
  lc_term_desc r = {.energy = "ed_rot", .var = f->var, .weight = 0.7};
  ck_assert_int_eq(lc_problem_add_term(f->p, &r, NULL, &err), LC_OK);
  lc_term_desc g = {.energy = "ed_reg", .var = f->var};
  ck_assert_int_eq(lc_problem_add_term(f->p, &g, NULL, &err), LC_OK);
  ck_assert_int_eq(lc_problem_fix(f->p, f->var, 3, fixed, NULL, &err), LC_OK);
  f->n = lc_problem_n_dofs(f->p);
}

/* Runs pass m of the column path over every term of p, chunk by chunk, into
 * o; hc: per-term caches (STORE/USE) or NULL.  Returns the energy. */
static double run_cols(lc_problem *p, lc_el_mode m, const lc_el_out *o, double **hc) {
  double e = 0.0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t || (m == LC_EL_JAC && t->n_resid == 0)) continue;
    lc_el_term et = lc_term_el_view(p, t, 0);
    if (hc) et.hc = hc[ti];
    for (int32_t ch = 0; ch < t->n_chunks; ++ch)
      e += cchunks[t->energy][m](&et, o, t->chunk_ptr[ch], t->chunk_ptr[ch + 1]);
  }
  return e;
}

START_TEST(ed_evaluations_match) {
  ed_fixture f;
  ed_setup(&f);
  lc_problem *p = f.p;
  lc_error err;
  const int64_t n = f.n;
  const double *x = lc_problem_x(p);
  double *g1 = calloc((size_t)n, sizeof *g1), *g2 = calloc((size_t)n, sizeof *g2);
  double *v = malloc(sizeof *v * (size_t)n), *h1 = calloc((size_t)n, sizeof *h1);
  double *h2 = calloc((size_t)n, sizeof *h2);
  unsigned long long seed = 5;
  for (int64_t i = 0; i < n; ++i) v[i] = lc_test_rand(&seed, -1.0, 1.0);
  const uint8_t *fx = lc_problem_fixed(p);
  double E1 = 0.0;
  /* gradient */
  ck_assert_int_eq(lc_problem_gradient(p, x, &E1, g1, &err), LC_OK);
  lc_el_out o = {x, v, fx, g2, h2, NULL, NULL, NULL, NULL, NULL};
  const double E2 = run_cols(p, LC_EL_GRAD, &o, NULL);
  ck_assert_msg(fabs(E1 - E2) <= 1e-12 * fabs(E1), "energy %.17g vs %.17g", E1, E2);
  assert_close(g1, g2, n, 1e-12, "gradient");
  /* HVP (exact; fixed DOFs: hv = v) */
  ck_assert_int_eq(lc_problem_hvp(p, x, v, 0, NULL, NULL, h1, &err), LC_OK);
  run_cols(p, LC_EL_HVP, &o, NULL);
  for (int64_t i = 0; i < n; ++i)
    if (fx[i]) h2[i] = v[i];
  assert_close(h1, h2, n, 1e-12, "hvp");
  /* exact and Gauss-Newton Hessians */
  for (int gn = 0; gn < 2; ++gn) {
    lc_csr H;
    ck_assert_int_eq((gn ? lc_problem_gn_hessian : lc_problem_hessian)(p, x, 0, NULL, NULL, &H, &err),
                     LC_OK);
    double *ref = malloc(sizeof *ref * (size_t)H.nnz), *val = calloc((size_t)H.nnz, sizeof *val);
    memcpy(ref, H.val, sizeof *ref * (size_t)H.nnz);
    lc_el_out oh = {x, v, fx, NULL, NULL, val, p->rowptr, NULL, NULL, NULL};
    run_cols(p, gn ? LC_EL_GN : LC_EL_HESS, &oh, NULL);
    for (int64_t i = 0; i < n; ++i)
      if (fx[i]) val[p->diag[i]] = 1.0;
    assert_close(ref, val, H.nnz, 1e-12, gn ? "gauss-newton" : "hessian");
    free(ref);
    free(val);
  }
  /* Jacobian */
  lc_csr J;
  ck_assert_int_eq(lc_problem_jacobian(p, x, NULL, &J, &err), LC_OK);
  double *r1 = malloc(sizeof *r1 * (size_t)J.nrows), *r2 = calloc((size_t)J.nrows, sizeof *r2);
  ck_assert_int_eq(lc_problem_jacobian(p, x, r1, &J, &err), LC_OK);
  double *jref = malloc(sizeof *jref * (size_t)J.nnz), *jval = calloc((size_t)J.nnz, sizeof *jval);
  memcpy(jref, J.val, sizeof *jref * (size_t)J.nnz);
  lc_el_out oj = {x, NULL, fx, NULL, NULL, NULL, NULL, r2, jval, p->jrowptr};
  run_cols(p, LC_EL_JAC, &oj, NULL);
  assert_close(r1, r2, J.nrows, 0.0, "residuals");
  assert_close(jref, jval, J.nnz, 1e-14, "jacobian");
  /* the Hessian cache: STORE then USE reproduce the exact HVP */
  double *hc[8] = {0};
  for (int ti = 0; ti < p->n_term_slots; ++ti)
    if (p->terms[ti])
      hc[ti] = calloc((size_t)p->terms[ti]->n_elem * LC_EL_NPACK(p->terms[ti]->N), sizeof(double));
  memset(h2, 0, sizeof *h2 * (size_t)n);
  run_cols(p, LC_EL_HVP_STORE, &o, hc);
  for (int64_t i = 0; i < n; ++i)
    if (fx[i]) h2[i] = v[i];
  assert_close(h1, h2, n, 1e-12, "cache store");
  memset(h2, 0, sizeof *h2 * (size_t)n);
  run_cols(p, LC_EL_HVP_USE, &o, hc);
  for (int64_t i = 0; i < n; ++i)
    if (fx[i]) h2[i] = v[i];
  assert_close(h1, h2, n, 1e-12, "cache use");
  for (int ti = 0; ti < 8; ++ti) free(hc[ti]);
  free(g1); free(g2); free(v); free(h1); free(h2); free(r1); free(r2); free(jref); free(jval);
  lc_problem_destroy(p);
}
END_TEST

/* ---- suite ------------------------------------------------------------------ */

static Suite *el_cols_suite(void) {
  Suite *s = suite_create("el_cols");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, kernels_match_vector_mode);
  tcase_add_test(tc, ed_evaluations_match);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return lc_test_run_suite(el_cols_suite()); }
