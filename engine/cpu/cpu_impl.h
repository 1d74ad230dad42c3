/* cpu_impl.h - internals shared by the files of the CPU backend
 * (engine/cpu): the per-problem context (the element Hessian cache), the
 * chunk-function table of the shared element loop and the OpenMP
 * evaluation entry point.  Not a public header. */
#ifndef LC_CPU_IMPL_H
#define LC_CPU_IMPL_H

#include "backend.h"
#include "energies/kernels.h"
#include "eval/el_types.h"
#include "problem_impl.h"

/* The CPU backend's per-problem context. */
typedef struct lc_cpu_ctx {
  lc_hcache hc; /* element Hessian cache (lc_eval_req.cache), host memory */
  void *lin;    /* linear solver of Newton steps (cpu_solve.c) */
} lc_cpu_ctx;

/* The chunk function of energy id in mode or cache pass m (cpu_kernels.c),
 * or NULL. */
lc_el_chunk_fn lc_cpu_chunk_fn(int id, lc_el_mode m);

/* The same for custom instance i (cpu_custom.c; custom/custom.h). */
const lc_elem_kernel *lc_cpu_custom_kernel(int i);
lc_el_chunk_fn lc_cpu_custom_chunk_fn(int i, lc_el_mode m);

/* Element Hessian cache of the CPU backend (cpu_cache.c): checks q's cache
 * request and readies the cache for it (STORE: layout and allocation; USE:
 * the stored matrices must be current); returns the cache to pass to the
 * element loop in *hc (NULL for a request without cache). */
int lc_cpu_cache_begin(lc_backend *b, lc_problem *p, const lc_eval_req *q, const lc_hcache **hc,
                       lc_error *err);
/* Records a completed STORE of q. */
void lc_cpu_cache_end(lc_backend *b, lc_problem *p, const lc_eval_req *q);
/* Frees the cached matrices if p's terms changed since they were laid out. */
void lc_cpu_cache_refresh(lc_backend *b, lc_problem *p);
/* Frees the cache. */
void lc_cpu_cache_free(lc_backend *b);

/* Solver-program ops of the CPU backend (cpu_solve.c); see backend.h. */
int lc_cpu_vaxpy(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z);
int lc_cpu_vdot(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out);
int lc_cpu_step(lc_backend *b, struct lc_sstate *st, int id);
int lc_cpu_loop(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                lc_error *err);
int lc_cpu_branch(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                  lc_error *err);
int lc_cpu_run(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
               lc_poll_fn poll, void *puser, lc_error *err);
int lc_cpu_notify(lc_backend *b, lc_poll_fn poll, void *puser);
int lc_cpu_max_step(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                    lc_error *err);
int lc_cpu_lin_prepare(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
int lc_cpu_lin_solve(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err);
/* Frees the linear solver of the context. */
void lc_cpu_lin_free(lc_backend *b);

/* Evaluation ops of the CPU backend (cpu_eval.c); see backend.h. */
int lc_cpu_sync(lc_backend *b, lc_problem *p, lc_el_mode mode, lc_error *err);
int lc_cpu_eval(lc_backend *b, lc_problem *p, const lc_eval_req *q, lc_error *err);
double *lc_cpu_hess_values(lc_backend *b, lc_problem *p);
double *lc_cpu_jac_values(lc_backend *b, lc_problem *p);

/* Vector ops of the CPU backend (cpu_vec.c); see backend.h. */
int lc_cpu_dot(lc_backend *b, int64_t n, const double *x, const double *y, double *out);
int lc_cpu_nrm_inf(lc_backend *b, int64_t n, const double *x, double *out);
int lc_cpu_axpy(lc_backend *b, int64_t n, double a, const double *x, double *y);
int lc_cpu_axpby(lc_backend *b, int64_t n, double a, const double *x, double c, double *y);
int lc_cpu_copy(lc_backend *b, int64_t n, const double *x, double *y);
int lc_cpu_scale(lc_backend *b, int64_t n, double a, double *x);
int lc_cpu_zero_fixed(lc_backend *b, lc_problem *p, double *x);
int lc_cpu_sphere_tangent(lc_backend *b, int64_t off, int32_t n, const double *x, double *d);
int lc_cpu_sphere_retract(lc_backend *b, int64_t off, int32_t n, double *x);

#endif
