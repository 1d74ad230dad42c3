/* cpu_solve.c - the CPU backend's solver-program ops (backend.h): vector
 * operations on operand references, scalar steps and control flow run
 * directly on the host (the state is host memory), the progress poll runs
 * at every notify point, and Newton-type linear solves go to the CPU's
 * sparse solvers (engine/solvers/linsolve.h: CHOLMOD, PCG, matrix-free CG
 * on HVPs).  Everything is deterministic: the same fixed-chunk reductions
 * as the other vector ops, whatever the thread count. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime (sstep.h) */
#include <math.h>
#include <stdlib.h>

#include "threads.h"
#include "cpu/cpu_impl.h"
#include "problem_impl.h"
#include "solvers/condense.h"
#include "solvers/sstep.h"

#define PAR_MIN 32768 /* vectors shorter than this stay serial */

/* z = a x + y per entry (lc_vaxpy_one). */
int lc_cpu_vaxpy(lc_backend *b, int64_t n, lc_sref a, lc_vref x, lc_vref y, lc_vref z) {
  (void)b;
  const double av = lc_sref_val(a);
  const double *xp = lc_vref_ptr(x), *yp = lc_vref_ptr(y);
  double *zp = lc_vref_ptr(z);
#pragma omp parallel for num_threads(lc_threads_share(0)) schedule(static) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; ++i) zp[i] = lc_vaxpy_one(av, xp, yp, i);
  return LC_OK;
}

/* *out = x . y (the dot op's fixed-chunk sum). */
int lc_cpu_vdot(lc_backend *b, int64_t n, lc_vref x, lc_vref y, double *out) {
  return lc_cpu_dot(b, n, lc_vref_ptr(x), lc_vref_ptr(y), out);
}

/* Scalar step id on the (host) state. */
int lc_cpu_step(lc_backend *b, struct lc_sstate *st, int id) {
  (void)b;
  lc_sstep(st, id);
  return LC_OK;
}

/* while (cond) body, on the host. */
int lc_cpu_loop(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                lc_error *err) {
  (void)b;
  int rc = LC_OK;
  while (rc == LC_OK && lc_scond(st, cond)) rc = body(user, err);
  return rc;
}

/* if (cond) body, on the host. */
int lc_cpu_branch(lc_backend *b, struct lc_sstate *st, int cond, lc_prog_fn body, void *user,
                  lc_error *err) {
  (void)b;
  return lc_scond(st, cond) ? body(user, err) : LC_OK;
}

/* Runs the program on the host; poll runs at its notify points. */
int lc_cpu_run(lc_backend *b, struct lc_sstate *st, uint64_t key, lc_prog_fn prog, void *user,
               lc_poll_fn poll, void *puser, lc_error *err) {
  (void)b; (void)st; (void)key;
  const int rc = prog(user, err);
  if (poll) poll(puser);
  return rc;
}

/* A host-run program's poll point: calls poll now. */
int lc_cpu_notify(lc_backend *b, lc_poll_fn poll, void *puser) {
  (void)b;
  if (poll) poll(puser);
  return LC_OK;
}

/* The energies' step bound along d (the host computation of eval.c). */
int lc_cpu_max_step(lc_backend *b, lc_problem *p, const double *x, const double *d, double *out,
                    lc_error *err) {
  (void)b;
  return lc_problem_max_step(p, x, d, out, err);
}

/* The context's linear solver state. */
typedef struct cpu_lin {
  lc_linsolve *lin;
  lc_condense *cond; /* static condensation, made on first use */
  lc_lin_kind kind;
  int64_t n;
} cpu_lin;

/* Frees the context's linear solver. */
void lc_cpu_lin_free(lc_backend *b) {
  lc_cpu_ctx *c = b->ctx;
  cpu_lin *l = c ? c->lin : NULL;
  if (!l) return;
  lc_linsolve_destroy(l->lin);
  lc_condense_destroy(l->cond);
  free(l);
  c->lin = NULL;
}

/* Makes the context hold a linear solver of q's kind for the problem's size
 * (kept, with its Cholesky analysis, while kind and size stay). */
int lc_cpu_lin_prepare(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err) {
  lc_cpu_ctx *c = b->ctx;
  cpu_lin *l = c->lin;
  const int64_t n = lc_problem_n_dofs(p);
  if (l && l->kind == q->kind && l->n == n) return LC_OK;
  lc_cpu_lin_free(b);
  l = calloc(1, sizeof *l);
  if (!l) return lc_error_set(err, LC_ENOMEM, "cpu: out of memory for the linear solver");
  int rc = lc_linsolve_create(q->kind, n, &l->lin, err);
  if (rc) {
    free(l);
    return rc;
  }
  l->kind = q->kind;
  l->n = n;
  c->lin = l;
  return LC_OK;
}

/* Operator of matrix-free CG: y = (H(x) + shift I) v through the HVP eval. */
typedef struct hvp_op_ctx {
  lc_backend *b;
  lc_problem *p;
  const lc_lin_req *q;
  double shift;
} hvp_op_ctx;

/* y = (H + shift I) v. */
static int hvp_op(void *user, const double *v, double *y) {
  hvp_op_ctx *c = user;
  lc_eval_req e = {LC_EL_HVP, c->q->project, c->q->x, v, NULL, NULL, y, NULL, 0};
  e.cache = c->q->cached ? LC_CACHE_USE : LC_CACHE_NONE;
  int rc = c->b->ops->eval(c->b, c->p, &e, NULL);
  const int64_t n = lc_problem_n_dofs(c->p);
  for (int64_t i = 0; rc == LC_OK && i < n; ++i) y[i] += c->shift * v[i];
  return rc;
}

/* Solves (A + shift I) sol = rhs with the CPU's solvers; an unusable
 * matrix (LC_ENUMERIC) sets *fail instead of failing. */
int lc_cpu_lin_solve(lc_backend *b, lc_problem *p, const lc_lin_req *q, lc_error *err) {
  int rc = lc_cpu_lin_prepare(b, p, q, err);
  if (rc) return rc;
  cpu_lin *l = ((lc_cpu_ctx *)b->ctx)->lin;
  lc_lin_opts lo = q->opts;
  lc_lin_stats st = {0};
  lo.reg = *q->shift;
  if (q->kind == LC_LIN_CG_MATFREE) {
    hvp_op_ctx c = {b, p, q, *q->shift};
    rc = lc_linsolve_cg(l->lin, hvp_op, &c, NULL, q->rhs, q->sol, &lo, &st, err);
  } else {
    const lc_csr A = {(int32_t)p->n_dofs, (int32_t)p->n_dofs, p->nnz, p->rowptr, p->col,
                      b->ops->hess_values(b, p), p->hess_gen};
    if (lo.cond.n > 0 && !l->cond) rc = lc_condense_create(q->kind, &l->cond, err);
    if (!rc && lo.cond.n > 0) rc = lc_condense_solve(l->cond, &A, q->rhs, q->sol, &lo, &st, err);
    else if (!rc) rc = lc_linsolve_solve(l->lin, &A, q->rhs, q->sol, &lo, &st, err);
  }
  *q->iters = st.iters;
  *q->fail = rc == LC_ENUMERIC;
  return rc == LC_ENUMERIC ? LC_OK : rc;
}
