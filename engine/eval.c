/* eval.c - the public evaluation calls of problems (problem.h) on host
 * arrays, for any backend.
 *
 * On the CPU the arrays are handed to the backend as they are.  On another
 * device the call is staged: the state (uploaded only when it changed since
 * the last upload) and the direction go up into per-problem staging buffers,
 * the backend evaluates on its resident data, and the outputs come back
 * down; the Hessian and Jacobian values land in the problem's host arrays
 * so that the returned lc_csr views look the same on every device.  Every
 * download is counted (lc_problem_host_reads). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "problem_impl.h"

/* The element loop's view of term t (host arrays). */
lc_el_term lc_term_el_view(const lc_problem *p, const lc_term *t, int project) {
  lc_el_term e;
  e.ent = t->ent;
  e.consts = t->consts;
  e.slots = t->slots;
  e.perm = t->perm;
  e.chunk_ptr = t->chunk_ptr;
  memcpy(e.params, t->params, sizeof e.params);
  e.user = t->custom ? (const void *)&t->cctx : NULL;
  e.weight = t->weight;
  e.off = p->vars[t->var].off;
  e.res_row0 = t->res_row0;
  e.n_const = t->n_const;
  e.project = project && t->project;
  e.hc = NULL;
  return e;
}

/* Resolves x (NULL: the current state). */
static const double *state(const lc_problem *p, const double *x) { return x ? x : p->x; }

/* Frees the staging buffers. */
void lc_problem_free_staging(lc_problem *p) {
  lc_backend *b = &p->be;
  double **bufs[] = {&p->st_x, &p->st_v, &p->st_g, &p->st_hv, &p->st_r, &p->st_E};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; ++i) {
    if (*bufs[i] && b->ops) b->ops->free(b, *bufs[i]);
    *bufs[i] = NULL;
  }
  p->st_n = p->st_nres = 0;
}

/* Allocates one staging buffer of n doubles. */
static int stage_alloc(lc_problem *p, double **buf, int64_t n, lc_error *err) {
  return p->be.ops->alloc(&p->be, (size_t)(n > 0 ? n : 1) * sizeof(double), (void **)buf, err);
}

/* Makes the staging buffers match the problem's sizes. */
static int ensure_staging(lc_problem *p, lc_error *err) {
  const int64_t nres = lc_problem_n_residuals(p);
  if (p->st_E && p->st_n == p->n_dofs && p->st_nres == nres) return LC_OK;
  lc_problem_free_staging(p);
  int rc = stage_alloc(p, &p->st_x, p->n_dofs, err);
  if (!rc) rc = stage_alloc(p, &p->st_v, p->n_dofs, err);
  if (!rc) rc = stage_alloc(p, &p->st_g, p->n_dofs, err);
  if (!rc) rc = stage_alloc(p, &p->st_hv, p->n_dofs, err);
  if (!rc) rc = stage_alloc(p, &p->st_r, nres, err);
  if (!rc) rc = stage_alloc(p, &p->st_E, 1, err);
  if (rc) {
    lc_problem_free_staging(p);
    return rc;
  }
  p->st_n = p->n_dofs;
  p->st_nres = nres;
  p->st_xgen = 0;
  return LC_OK;
}

/* Uploads x (NULL: the state, only when it changed since the last upload). */
static int stage_x(lc_problem *p, const double *x, lc_error *err) {
  lc_backend *b = &p->be;
  const size_t bytes = (size_t)p->n_dofs * sizeof(double);
  if (!x && p->st_xgen == p->gen_x) return LC_OK;
  int rc = b->ops->upload(b, p->st_x, state(p, x), bytes, err);
  p->st_xgen = rc || x ? 0 : p->gen_x;
  return rc;
}

/* Downloads n doubles of backend memory into host (if both exist). */
static int stage_down(lc_problem *p, double *host, const double *src, int64_t n, lc_error *err) {
  if (!host || !src || n <= 0) return LC_OK;
  return lc_backend_download(&p->be, host, src, (size_t)n * sizeof *host, err);
}

/* Evaluates hq (host arrays; hq->x NULL: the state) on a non-CPU backend;
 * want_mat: bring the Hessian or Jacobian values back into the host arrays. */
static int eval_staged(lc_problem *p, const lc_eval_req *hq, int want_mat, lc_error *err) {
  lc_backend *b = &p->be;
  int rc = ensure_staging(p, err);
  if (!rc) rc = stage_x(p, hq->x == p->x ? NULL : hq->x, err);
  if (!rc && hq->v) rc = b->ops->upload(b, p->st_v, hq->v, (size_t)p->n_dofs * sizeof(double), err);
  const int use = hq->cache == LC_CACHE_USE; /* USE computes no energy: E only if asked (an error) */
  const lc_eval_req dq = {hq->mode, hq->project, p->st_x, hq->v ? p->st_v : NULL,
                          use && !hq->E ? NULL : p->st_E, hq->g ? p->st_g : NULL,
                          hq->hv ? p->st_hv : NULL, hq->r ? p->st_r : NULL, hq->cache};
  if (!rc) rc = b->ops->eval(b, p, &dq, err);
  if (!rc && hq->E) rc = lc_backend_read_scalars(b, hq->E, p->st_E, 1, err);
  if (!rc) rc = stage_down(p, hq->g, dq.g, p->n_dofs, err);
  if (!rc) rc = stage_down(p, hq->hv, dq.hv, p->n_dofs, err);
  if (!rc) rc = stage_down(p, hq->r, dq.r, p->st_nres, err);
  if (!rc && want_mat && (hq->mode == LC_EL_HESS || hq->mode == LC_EL_GN))
    rc = stage_down(p, p->hval, b->ops->hess_values(b, p), p->nnz, err);
  if (!rc && want_mat && hq->mode == LC_EL_JAC)
    rc = stage_down(p, p->jval, b->ops->jac_values(b, p), p->jnnz, err);
  return rc;
}

/* Runs q (host arrays) on the problem's backend. */
static int eval_host(lc_problem *p, lc_eval_req q, int want_mat, lc_error *err) {
  lc_backend *b = &p->be;
  q.x = state(p, q.x);
  int rc = b->ops->sync(b, p, q.mode, err);
  if (rc) return rc;
  if (b->kind == LC_DEV_CPU) return b->ops->eval(b, p, &q, err);
  return eval_staged(p, &q, want_mat, err);
}

/* Runs q (host arrays) on the problem's backend (problem_impl.h). */
int lc_problem_eval_req(lc_problem *p, const lc_eval_req *q, lc_error *err) {
  return eval_host(p, *q, 0, err);
}

/* Total energy. */
int lc_problem_energy(lc_problem *p, const double *x, double *E, lc_error *err) {
  double e = 0.0;
  const lc_eval_req q = {LC_EL_ENERGY, 0, x, NULL, &e, NULL, NULL, NULL, LC_CACHE_NONE};
  const int rc = eval_host(p, q, 0, err);
  if (!rc && E) *E = e;
  return rc;
}

/* Energy and gradient g (n_dofs, caller-owned). */
int lc_problem_gradient(lc_problem *p, const double *x, double *E, double *g, lc_error *err) {
  if (!g) return lc_error_set(err, LC_EINVAL, "gradient: output array required");
  const lc_eval_req q = {LC_EL_GRAD, 0, x, NULL, E, g, NULL, NULL, LC_CACHE_NONE};
  return eval_host(p, q, 0, err);
}

/* The problem's Hessian as a borrowed CSR view. */
static lc_csr hess_view(const lc_problem *p) {
  return (lc_csr){(int32_t)p->n_dofs, (int32_t)p->n_dofs, p->nnz, p->rowptr, p->col, p->hval, p->hess_gen};
}

/* Energy, gradient (g may be NULL) and the assembled Hessian. */
int lc_problem_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                       lc_csr *H, lc_error *err) {
  const lc_eval_req q = {LC_EL_HESS, project, x, NULL, E, g, NULL, NULL, LC_CACHE_NONE};
  const int rc = eval_host(p, q, 1, err);
  if (!rc && H) *H = hess_view(p);
  return rc;
}

/* Energy, gradient and the Gauss-Newton Hessian (J^T J for residual terms). */
int lc_problem_gn_hessian(lc_problem *p, const double *x, int project, double *E, double *g,
                          lc_csr *H, lc_error *err) {
  const lc_eval_req q = {LC_EL_GN, project, x, NULL, E, g, NULL, NULL, LC_CACHE_NONE};
  const int rc = eval_host(p, q, 1, err);
  if (!rc && H) *H = hess_view(p);
  return rc;
}

/* Energy, gradient (g may be NULL) and Hv = H v, matrix-free. */
int lc_problem_hvp(lc_problem *p, const double *x, const double *v, int project, double *E,
                   double *g, double *Hv, lc_error *err) {
  if (!v || !Hv) return lc_error_set(err, LC_EINVAL, "hvp: v and Hv are required");
  const lc_eval_req q = {LC_EL_HVP, project, x, v, E, g, Hv, NULL, LC_CACHE_NONE};
  return eval_host(p, q, 0, err);
}

/* Residual vector r and its sparse Jacobian, weighted by sqrt(weight). */
int lc_problem_jacobian(lc_problem *p, const double *x, double *r, lc_csr *J, lc_error *err) {
  const lc_eval_req q = {LC_EL_JAC, 0, x, NULL, NULL, NULL, NULL, r, LC_CACHE_NONE};
  const int rc = eval_host(p, q, 1, err);
  if (!rc && J) *J = (lc_csr){(int32_t)p->n_res, (int32_t)p->n_dofs, p->jnnz, p->jrowptr, p->jcol, p->jval, 0};
  return rc;
}

/* The N local values of element s (stored order) of term t from v (n_dofs) into vl. */
static void gather_local(const lc_problem *p, const lc_term *t, int32_t s, const double *v, double *vl) {
  const int32_t *en = t->ent + (int64_t)s * t->K;
  const double *base = v + p->vars[t->var].off;
  for (int a = 0; a < t->K; ++a) memcpy(vl + a * t->D, base + (int64_t)en[a] * t->D, (size_t)t->D * sizeof *vl);
}

/* Step bound of term t: the smallest element bound along d (host). */
static double term_max_step(const lc_problem *p, const lc_term *t, const double *x, const double *d) {
  double amax = INFINITY;
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) reduction(min : amax)
  for (int32_t s = 0; s < t->n_elem; ++s) {
    double xl[LC_ENERGY_MAX_N], dl[LC_ENERGY_MAX_N];
    gather_local(p, t, s, x, xl);
    gather_local(p, t, s, d, dl);
    const double a = t->info->max_step(xl, dl, t->consts + (int64_t)s * t->n_const, t->params);
    if (a < amax) amax = a;
  }
  return amax;
}

/* The weighted energy of one term at x (NULL: the state), on the host
 * with the CPU element kernels, in stored element order. */
int lc_problem_term_energy(lc_problem *p, int term, const double *x, double *E, lc_error *err) {
  if (term < 0 || term >= p->n_term_slots || !p->terms[term])
    return lc_error_set(err, LC_ENOTFOUND, "no term with id %d", term);
  const lc_term *t = p->terms[term];
  const double *xs = state(p, x);
  double sum = 0.0, xl[LC_ENERGY_MAX_N];
  for (int32_t s = 0; s < t->n_elem; ++s) {
    gather_local(p, t, s, xs, xl);
    sum += t->kern->value(xl, t->consts + (int64_t)s * t->n_const, lc_term_params(t));
  }
  *E = t->weight * sum;
  return LC_OK;
}

/* Largest admissible step along d from x, over all terms with a bound. */
int lc_problem_max_step(lc_problem *p, const double *x, const double *d, double *alpha,
                        lc_error *err) {
  if (!d || !alpha) return lc_error_set(err, LC_EINVAL, "max_step: d and alpha are required");
  const double *xs = state(p, x);
  double amax = INFINITY;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (t && t->info->max_step && t->weight > 0.0) amax = fmin(amax, term_max_step(p, t, xs, d));
  }
  *alpha = amax;
  return LC_OK;
}
