/* cpu_cache.c - the CPU backend's element Hessian cache (lc_eval_req.cache,
 * backend.h): one host array of packed element matrices per problem, held
 * in the backend context, laid out and checked by the shared bookkeeping of
 * eval_cache.c, written and read by the element passes of eval/el_inst.h
 * (el_hvp_store, el_hvp_use) that cpu_eval.c runs. */
#include <stdlib.h>

#include "cpu/cpu_impl.h"

/* The cache of backend b, or NULL without a context. */
static lc_hcache *cache_of(lc_backend *b) {
  lc_cpu_ctx *c = b->ctx;
  return c ? &c->hc : NULL;
}

/* Frees the cached matrices (the layout stays, marked empty). */
static void drop_data(lc_hcache *h) {
  free(h->data);
  h->data = NULL;
  h->size = 0;
  h->valid = 0;
}

/* Lays the cache out for p and makes its array hold what that needs. */
static int prepare_store(lc_backend *b, lc_hcache *h, const lc_problem *p, lc_error *err) {
  int64_t need = 0;
  int rc = lc_hcache_layout(h, p, &need, b->id, err);
  if (rc) return rc;
  if (need == h->size && (h->data || need == 0)) return LC_OK;
  drop_data(h);
  if (need == 0) return LC_OK;
  const size_t bytes = (size_t)need * sizeof(double);
  h->data = malloc(bytes);
  if (!h->data)
    return lc_error_set(err, LC_ENOMEM, "%s: out of memory allocating %zu bytes for the element Hessian cache",
                        b->id, bytes);
  h->size = need;
  return LC_OK;
}

/* Checks q's cache request and readies the cache for it. */
int lc_cpu_cache_begin(lc_backend *b, lc_problem *p, const lc_eval_req *q, const lc_hcache **hc,
                       lc_error *err) {
  *hc = NULL;
  int rc = lc_hcache_check_req(q, b->id, err);
  if (rc || q->cache == LC_CACHE_NONE) return rc;
  lc_hcache *h = cache_of(b);
  if (!h) return lc_error_set(err, LC_ESTATE, "%s: no backend context for the element Hessian cache", b->id);
  rc = q->cache == LC_CACHE_STORE ? prepare_store(b, h, p, err) : lc_hcache_check_use(h, p, q->project, b->id, err);
  if (!rc) *hc = h;
  return rc;
}

/* Records a completed STORE. */
void lc_cpu_cache_end(lc_backend *b, lc_problem *p, const lc_eval_req *q) {
  lc_hcache *h = cache_of(b);
  if (h && q->cache == LC_CACHE_STORE) lc_hcache_mark(h, p, q->project);
}

/* Frees the cached matrices when p's terms changed. */
void lc_cpu_cache_refresh(lc_backend *b, lc_problem *p) {
  lc_hcache *h = cache_of(b);
  if (h && lc_hcache_outdated(h, p)) drop_data(h);
}

/* Frees the cache and its bookkeeping. */
void lc_cpu_cache_free(lc_backend *b) {
  lc_hcache *h = cache_of(b);
  if (!h) return;
  drop_data(h);
  lc_hcache_reset(h);
}
