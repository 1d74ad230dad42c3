/* eval_cache.c - host bookkeeping of the element Hessian cache
 * (lc_eval_req.cache, backend.h), shared by the CPU and CUDA backends:
 * which element pass a request runs, the checks of a cache request, the
 * layout (per term, packed matrices in stored element order) and whether
 * what was stored still belongs to the problem (its generation counters,
 * the terms' constants generations and weights, the projection flag).
 * The matrices live in backend memory that the backend allocates and
 * frees; the element code is eval/el_cache.h. */
#include <stdlib.h>
#include <string.h>

#include "eval/el_cache.h"
#include "problem_impl.h"

/* The element pass of q. */
lc_el_mode lc_eval_pass(const lc_eval_req *q) {
  if (q->cache == LC_CACHE_STORE) return LC_EL_HVP_STORE;
  if (q->cache == LC_CACHE_USE) return LC_EL_HVP_USE;
  return q->mode;
}

/* Checks the cache fields of q. */
int lc_hcache_check_req(const lc_eval_req *q, const char *dev, lc_error *err) {
  if (q->cache == LC_CACHE_NONE) return LC_OK;
  if (q->cache != LC_CACHE_STORE && q->cache != LC_CACHE_USE)
    return lc_error_set(err, LC_EINVAL, "%s: unknown element Hessian cache request %d", dev, q->cache);
  if (q->mode != LC_EL_HVP)
    return lc_error_set(err, LC_EINVAL, "%s: the element Hessian cache serves HVP mode only (mode %d)",
                        dev, (int)q->mode);
  if (!q->v != !q->hv)
    return lc_error_set(err, LC_EINVAL, "%s: element Hessian cache: v and hv go together", dev);
  if (q->cache == LC_CACHE_USE && (q->E || q->g))
    return lc_error_set(err, LC_EINVAL, "%s: element Hessian cache USE gives H v only: E and g must be NULL",
                        dev);
  if (q->cache == LC_CACHE_USE && !q->hv)
    return lc_error_set(err, LC_EINVAL, "%s: element Hessian cache USE needs v and hv", dev);
  if (q->cache == LC_CACHE_STORE && !q->x)
    return lc_error_set(err, LC_EINVAL, "%s: element Hessian cache STORE needs the state x", dev);
  return LC_OK;
}

/* Makes the per-slot arrays of h hold n slots (contents undefined). */
static int resize_slots(lc_hcache *h, int n, const char *dev, lc_error *err) {
  if (h->n_slots == n && (n == 0 || h->off)) return LC_OK;
  free(h->off);
  free(h->gen_consts);
  free(h->weight);
  const size_t m = (size_t)(n > 0 ? n : 1);
  h->off = malloc(m * sizeof *h->off);
  h->gen_consts = malloc(m * sizeof *h->gen_consts);
  h->weight = malloc(m * sizeof *h->weight);
  h->n_slots = n;
  if (h->off && h->gen_consts && h->weight) return LC_OK;
  free(h->off);
  free(h->gen_consts);
  free(h->weight);
  h->off = NULL;
  h->gen_consts = NULL;
  h->weight = NULL;
  h->n_slots = 0;
  return lc_error_set(err, LC_ENOMEM, "%s: out of host memory for the element Hessian cache's layout", dev);
}

/* Lays h out for p's terms. */
int lc_hcache_layout(lc_hcache *h, const lc_problem *p, int64_t *need, const char *dev, lc_error *err) {
  h->valid = 0;
  *need = 0;
  int rc = resize_slots(h, p->n_term_slots, dev, err);
  if (rc) return rc;
  int64_t total = 0;
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    h->off[ti] = t ? total : -1;
    if (t) total += (int64_t)t->n_elem * LC_EL_NPACK(t->N);
  }
  h->gen_terms = p->gen_terms;
  *need = total;
  return LC_OK;
}

/* Records a completed STORE. */
void lc_hcache_mark(lc_hcache *h, const lc_problem *p, int project) {
  for (int ti = 0; ti < h->n_slots && ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    h->gen_consts[ti] = t ? t->gen_consts : 0;
    h->weight[ti] = t ? t->weight : 0.0;
  }
  h->gen_fixed = p->gen_fixed;
  h->project = project != 0;
  h->valid = 1;
}

/* 1 if the terms or variables of p changed since h was laid out. */
static int layout_changed(const lc_hcache *h, const lc_problem *p) {
  return h->gen_terms != p->gen_terms || h->n_slots != p->n_term_slots;
}

/* Why the matrices of a completed STORE no longer fit p's terms (NULL: they fit). */
static const char *term_change(const lc_hcache *h, const lc_problem *p) {
  if (layout_changed(h, p)) return "the terms or variables changed";
  for (int ti = 0; ti < p->n_term_slots; ++ti) {
    const lc_term *t = p->terms[ti];
    if (!t) continue;
    if (t->gen_consts != h->gen_consts[ti]) return "a term's constants changed";
    if (t->weight != h->weight[ti]) return "a term's weight changed";
  }
  return NULL;
}

/* Checks that h holds the matrices a USE of p with project needs. */
int lc_hcache_check_use(const lc_hcache *h, const lc_problem *p, int project, const char *dev,
                        lc_error *err) {
  const int laid_out = h->gen_terms != 0;
  if (!h->valid && !(laid_out && layout_changed(h, p)))
    return lc_error_set(err, LC_EINVAL, "%s: the element Hessian cache is empty: STORE it before USE", dev);
  const char *why = term_change(h, p);
  if (!why && h->gen_fixed != p->gen_fixed) why = "the fixed DOFs changed";
  if (!why && h->project != (project != 0))
    why = h->project ? "it holds projected Hessians, unprojected asked"
                     : "it holds unprojected Hessians, projected asked";
  if (why)
    return lc_error_set(err, LC_EINVAL, "%s: the element Hessian cache is stale (%s since the last STORE)", dev,
                        why);
  return LC_OK;
}

/* 1 if h holds matrices of terms that changed since the layout. */
int lc_hcache_outdated(const lc_hcache *h, const lc_problem *p) {
  return h->data && h->gen_terms != p->gen_terms;
}

/* Frees the bookkeeping. */
void lc_hcache_reset(lc_hcache *h) {
  free(h->off);
  free(h->gen_consts);
  free(h->weight);
  memset(h, 0, sizeof *h);
}
