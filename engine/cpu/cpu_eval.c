/* cpu_eval.c - the CPU (OpenMP) backend's evaluation: energy, gradient,
 * assembled Hessian (exact, projected, Gauss-Newton), Hessian-vector
 * products and residual Jacobians.
 *
 * One loop shape serves every mode: for each term, colour by colour, chunks
 * of elements are spread over the threads, and each chunk runs the shared
 * element loop of the term's energy instance (eval/el_inst.h: gather, seed,
 * evaluate, weight, project, scatter; the same code the CUDA kernels run).
 * Elements of one colour share no entity, so no atomics are needed, and
 * every global entry receives its contributions in the same order whatever
 * the thread count: results are bit-identical for 1, 2 or 64 threads.
 * Energies are summed per chunk, then in chunk order.  The passes of the
 * element Hessian cache (cpu_cache.c) run in the same loop. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "cpu/cpu_impl.h"
#include "problem_impl.h"

/* 1 if term t takes part in mode m (JAC: residual terms, whatever their
 * weight, so that every row is written; others: positive weight). */
static int term_active(const lc_term *t, lc_el_mode m) {
  return m == LC_EL_JAC ? t->n_resid > 0 : 1;
}

/* The element loop's view of term ti, with its part of the cache hc. */
static lc_el_term term_view(const lc_problem *p, int ti, int project, const lc_hcache *hc) {
  lc_el_term et = lc_term_el_view(p, p->terms[ti], project);
  if (hc && hc->data) et.hc = hc->data + hc->off[ti];
  return et;
}

/* Evaluates every term colour by colour (call inside a parallel region);
 * hc: the element Hessian cache of a cache pass, else NULL. */
static void eval_terms(const lc_problem *p, const lc_eval_req *q, const lc_hcache *hc,
                       const lc_el_out *o, double *partials) {
  const lc_el_mode pass = lc_eval_pass(q);
  int32_t base = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t) continue;
    if (term_active(t, q->mode)) {
      const lc_el_term et = term_view(p, ti, q->project, hc);
      const lc_el_chunk_fn fn = lc_cpu_chunk_fn(t->energy, pass);
      const int live = q->mode == LC_EL_JAC || t->weight > 0.0;
      for (int col = 0; col < t->n_colors; ++col) {
#pragma omp for schedule(static)
        for (int32_t ch = t->color_chunk[col]; ch < t->color_chunk[col + 1]; ++ch)
          partials[base + ch] = live ? fn(&et, o, t->chunk_ptr[ch], t->chunk_ptr[ch + 1]) : 0.0;
      }
    } else {
#pragma omp for schedule(static)
      for (int32_t ch = 0; ch < t->n_chunks; ++ch) partials[base + ch] = 0.0;
    }
    base += t->n_chunks;
  }
}

/* Makes sure the partial-sum buffer holds one slot per chunk of every term. */
static int ensure_partials(lc_problem *p, int32_t *n, lc_error *err) {
  int64_t total = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti)
    if (p->terms[ti]) total += p->terms[ti]->n_chunks;
  if (total > p->partials_cap) {
    double *b = realloc(p->partials, (size_t)total * sizeof *b);
    if (!b) return lc_error_set(err, LC_ENOMEM, "evaluation: out of memory");
    p->partials = b;
    p->partials_cap = (int32_t)total;
  }
  *n = (int32_t)total;
  return LC_OK;
}

/* Zeroes this thread's share [lo, hi) of n entries of a (inside a parallel region). */
static void zero_share(double *a, int64_t n) {
  const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
  const int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
  if (hi > lo) memset(a + lo, 0, (size_t)(hi - lo) * sizeof *a);
}

/* Zeroes the accumulated outputs of q, each thread of the region its share
 * (the caller puts a barrier after). */
static void zero_outputs(const lc_problem *p, const lc_eval_req *q) {
  const int64_t nd = p->n_dofs;
  const int hess = q->mode == LC_EL_HESS || q->mode == LC_EL_GN;
  if (q->g && q->mode != LC_EL_ENERGY && q->mode != LC_EL_JAC) zero_share(q->g, nd);
  if (q->hv && q->mode == LC_EL_HVP) zero_share(q->hv, nd);
  if (hess) zero_share(p->hval, p->nnz);
}

/* Identity rows of fixed DOFs after the element loop. */
static void fix_outputs(lc_problem *p, const lc_eval_req *q) {
  if (!p->n_fixed) return;
  const int hess = q->mode == LC_EL_HESS || q->mode == LC_EL_GN;
  for (int64_t i = 0; i < p->n_dofs; ++i) {
    if (!p->fixed[i]) continue;
    if (hess) p->hval[p->diag[i]] = 1.0;
    if (q->mode == LC_EL_HVP && q->hv) q->hv[i] = q->v[i];
  }
}

/* Runs one evaluation on host arrays (the CPU backend's eval op). */
int lc_cpu_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err) {
  int32_t n = 0;
  const lc_hcache *hc = NULL;
  int rc = lc_cpu_cache_begin(b, p, q, &hc, err);
  if (!rc) rc = ensure_partials(p, &n, err);
  if (rc) return rc;
  const lc_el_out o = {q->x, q->v, p->fixed, q->g, q->hv, p->hval, p->rowptr,
                       q->r, p->jval, p->jrowptr};
  const int nt = lc_threads_share(p->threads);
#pragma omp parallel num_threads(nt)
  {
    zero_outputs(p, q);
#pragma omp barrier
    eval_terms(p, q, hc, &o, p->partials);
  }
  double e = 0.0;
  for (int32_t i = 0; i < n; ++i) e += p->partials[i];
  if (q->E) *q->E = e;
  fix_outputs(p, q);
  lc_cpu_cache_end(b, p, q);
  return LC_OK;
}

/* Builds the patterns mode needs (everything else is already resident) and
 * drops an element Hessian cache of terms that changed. */
int lc_cpu_sync(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err) {
  lc_cpu_cache_refresh(b, p);
  if (mode == LC_EL_HESS || mode == LC_EL_GN) return lc_pattern_build_hessian(p, err);
  if (mode == LC_EL_JAC) return lc_pattern_build_jacobian(p, err);
  return LC_OK;
}

/* Resident Hessian values: the problem's own array. */
double *lc_cpu_hess_values(lc_backend *b, lc_problem *p) {
  (void)b;
  return p->hval;
}

/* Resident Jacobian values: the problem's own array. */
double *lc_cpu_jac_values(lc_backend *b, lc_problem *p) {
  (void)b;
  return p->jval;
}
