/* solve.c - the minimisers of solver.h as one program of backend operations
 * (engine/backend.h) over a solver state in backend memory
 * (engine/solvers/sstep.h): derivatives, direction, step bound, Armijo line
 * search, update, stopping tests and a progress record per iteration.
 *
 * The program below issues operations only; every decision is a scalar
 * step or a condition of sstep.h evaluated where the state lives.  The CPU
 * backend runs it with a host loop; a GPU backend records it once into a
 * graph with conditional nodes and replays it, so an iteration never waits
 * for the host.  A solve reads the device once at the end (state and x in
 * one download), plus once per resumption when the progress ring fills. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "../lc_time.h"
#include "problem_impl.h"
#include "local_global.h"
#include "solver.h"
#include "sstep.h"

#define RING_CAP 256 /* progress records the device may write before the host drains */

struct lc_solver {
  lc_problem *p;
  lc_backend *b;
  int64_t n;
  int m_cap;
  uint64_t bufgen;                         /* bumped when buffers move */
  double *x, *g, *d, *x0, *xt, *gprev, *rhs, *S, *Y; /* backend memory */
  lc_sstate *st;                           /* backend memory */
  lc_sring *ring;                          /* host-visible */
  lc_srec *recs;                           /* host-visible, RING_CAP */
  double *hx;                              /* host copy of x */
  lc_sstate hs;                            /* host copy of the state */
  /* the running solve */
  const lc_solve_opts *o;
  int64_t sph_off;
  int32_t sph_n;
  lc_lin_req lq;
  lc_lg *lg;                               /* local_global's state, made on first use */
};

#define TRY(call) do { if ((rc = (call)) != LC_OK) return rc; } while (0)

/* Fills o with the defaults for method. */
void lc_solve_opts_default(lc_solve_opts *o, lc_solve_method method) {
  memset(o, 0, sizeof *o);
  o->method = method;
  o->linear = LC_LIN_CHOLMOD;
  o->lin.rtol = 1e-8;
  o->lin.max_iters = 1000;
  o->lin.block = 3;
  o->max_iters = 100;
  o->gtol = 1e-8;
  o->lbfgs_m = 8;
  o->ls_c = 1e-4;
  o->ls_shrink = 0.5;
  o->ls_max = 60;
  o->max_step_frac = 0.9;
  o->project = 1;
  o->reg = 1e-9;
  o->lm_lambda = 1e-3;
  o->sphere_var = -1;
  o->condense_var = -1;
  o->anderson_m = 5;
}

/* Creates a solver for problem p. */
int lc_solver_create(lc_problem *p, lc_solver **out, lc_error *err) {
  if (!p || !out) return lc_error_set(err, LC_EINVAL, "solver.create: problem and out are required");
  lc_solver *s = calloc(1, sizeof *s);
  if (!s) return lc_error_set(err, LC_ENOMEM, "solver.create: out of memory");
  s->p = p;
  s->b = lc_problem_backend(p);
  *out = s;
  return LC_OK;
}

/* Frees the per-size workspace. */
static void free_work(lc_solver *s) {
  lc_backend *b = s->b;
  double **v[] = {&s->x, &s->g, &s->d, &s->x0, &s->xt, &s->gprev, &s->rhs, &s->S, &s->Y};
  for (size_t i = 0; i < sizeof v / sizeof *v; ++i) {
    if (*v[i]) b->ops->free(b, *v[i]);
    *v[i] = NULL;
  }
  if (s->st) b->ops->free(b, s->st);
  if (s->ring) b->ops->free_host(b, s->ring);
  if (s->recs) b->ops->free_host(b, s->recs);
  free(s->hx);
  s->st = NULL;
  s->ring = NULL;
  s->recs = NULL;
  s->hx = NULL;
  s->n = 0;
  s->m_cap = 0;
}

/* Destroys the solver. */
void lc_solver_destroy(lc_solver *s) {
  if (!s) return;
  free_work(s);
  lc_lg_destroy(s->lg);
  free(s);
}

/* Allocates n doubles of backend memory into *v. */
static int balloc(lc_solver *s, double **v, int64_t n, lc_error *err) {
  return s->b->ops->alloc(s->b, (size_t)(n > 0 ? n : 1) * sizeof(double), (void **)v, err);
}

/* Sizes the workspace for the problem's current DOF count and history m. */
static int ensure_work(lc_solver *s, int m, lc_error *err) {
  const int64_t n = lc_problem_n_dofs(s->p);
  lc_backend *b = s->b;
  if (n == s->n && m <= s->m_cap && s->st) return LC_OK;
  free_work(s);
  int rc = LC_OK;
  double **v[] = {&s->x, &s->g, &s->d, &s->x0, &s->xt, &s->gprev, &s->rhs};
  for (size_t i = 0; rc == LC_OK && i < sizeof v / sizeof *v; ++i) rc = balloc(s, v[i], n, err);
  if (!rc) rc = balloc(s, &s->S, n * m, err);
  if (!rc) rc = balloc(s, &s->Y, n * m, err);
  if (!rc) rc = b->ops->alloc(b, sizeof(lc_sstate), (void **)&s->st, err);
  if (!rc) rc = b->ops->alloc_host(b, sizeof(lc_sring), (void **)&s->ring, err);
  if (!rc) rc = b->ops->alloc_host(b, RING_CAP * sizeof(lc_srec), (void **)&s->recs, err);
  if (!rc && !(s->hx = malloc((size_t)(n > 0 ? n : 1) * sizeof(double))))
    rc = lc_error_set(err, LC_ENOMEM, "solver: out of memory for %lld DOFs", (long long)n);
  if (rc) {
    free_work(s);
    return rc;
  }
  s->n = n;
  s->m_cap = m;
  s->bufgen++;
  return LC_OK;
}

/* ---- program pieces ------------------------------------------------------ */

/* Evaluation of mode at x into the state's E / f and g (cache: lc_eval_req.cache). */
static int eval_at(lc_solver *s, lc_el_mode mode, const double *x, double *E, double *g, int cache,
                   lc_error *err) {
  lc_eval_req q = {mode, s->o->project, x, NULL, E, g, NULL, NULL, 0};
  q.cache = cache;
  return s->b->ops->eval(s->b, s->p, &q, err);
}

/* 1 if Newton's element Hessians are cached for matrix-free CG. */
static int matfree(const lc_solve_opts *o) {
  return o->method == LC_SOLVE_NEWTON && o->linear == LC_LIN_CG_MATFREE;
}

/* E, g (and the Hessian or cached element Hessians) at x. */
static int derivatives(void *u, lc_error *err) {
  lc_solver *s = u;
  switch (s->o->method) {
    case LC_SOLVE_NEWTON:
      if (matfree(s->o)) return eval_at(s, LC_EL_HVP, s->x, &s->st->E, s->g, LC_CACHE_STORE, err);
      return eval_at(s, LC_EL_HESS, s->x, &s->st->E, s->g, 0, err);
    case LC_SOLVE_GAUSS_NEWTON:
    case LC_SOLVE_LM: return eval_at(s, LC_EL_GN, s->x, &s->st->E, s->g, 0, err);
    default: return eval_at(s, LC_EL_GRAD, s->x, &s->st->E, s->g, 0, err);
  }
}

/* E and g only (last iteration, stall exit). */
static int gradient(void *u, lc_error *err) {
  lc_solver *s = u;
  return eval_at(s, LC_EL_GRAD, s->x, &s->st->E, s->g, 0, err);
}

/* d = -g */
static int neg_grad(void *u, lc_error *err) {
  lc_solver *s = u;
  (void)err;
  return s->b->ops->vaxpy(s->b, s->n, lc_s(-1.0), lc_v(s->g), lc_v(NULL), lc_v(s->d));
}

/* d = -g, gd = g.d (not a descent direction). */
static int fallback(void *u, lc_error *err) {
  lc_solver *s = u;
  int rc;
  TRY(neg_grad(s, err));
  return s->b->ops->vdot(s->b, s->n, lc_v(s->g), lc_v(s->d), &s->st->gd);
}

/* Sphere variable: d -= (d.x) x per entity at the current x. */
static int tangent(lc_solver *s, double *v) {
  if (s->o->sphere_var < 0) return LC_OK;
  return s->b->ops->sphere_tangent(s->b, s->sph_off, s->sph_n, s->x, v);
}

/* Sphere variable: normalises every entity of v. */
static int retract(lc_solver *s, double *v) {
  if (s->o->sphere_var < 0) return LC_OK;
  return s->b->ops->sphere_retract(s->b, s->sph_off, s->sph_n, v);
}

/* First L-BFGS loop, pair k: alpha_k = rho s.d, d -= alpha_k y. */
static int lb_fwd(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  int rc;
  (void)err;
  TRY(b->ops->step(b, st, LC_SS_LB_FWD_IDX));
  TRY(b->ops->vdot(b, s->n, lc_v_at(s->S, &st->lb_i, s->n), lc_v(s->d), &st->lb_dot));
  TRY(b->ops->step(b, st, LC_SS_LB_FWD_A));
  return b->ops->vaxpy(b, s->n, lc_s_at(&st->lb_coef, -1.0), lc_v_at(s->Y, &st->lb_i, s->n), lc_v(s->d),
                       lc_v(s->d));
}

/* d *= 1 / (rho y.y) of the newest pair. */
static int lb_scale(void *u, lc_error *err) {
  lc_solver *s = u;
  (void)err;
  return s->b->ops->vaxpy(s->b, s->n, lc_s_at(&s->st->lb_coef, 1.0), lc_v(s->d), lc_v(NULL), lc_v(s->d));
}

/* Initial scaling from the newest pair. */
static int lb_gamma(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  int rc;
  TRY(b->ops->step(b, st, LC_SS_LB_GAMMA_IDX));
  const lc_vref y = lc_v_at(s->Y, &st->lb_i, s->n);
  TRY(b->ops->vdot(b, s->n, y, y, &st->lb_yy));
  TRY(b->ops->step(b, st, LC_SS_LB_GAMMA));
  return b->ops->branch(b, st, LC_SC_LB_SCALE, lb_scale, s, err);
}

/* Second L-BFGS loop, pair k: d += (alpha_k - rho y.d) s. */
static int lb_bwd(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  int rc;
  (void)err;
  TRY(b->ops->vdot(b, s->n, lc_v_at(s->Y, &st->lb_i, s->n), lc_v(s->d), &st->lb_dot));
  TRY(b->ops->step(b, st, LC_SS_LB_BWD_B));
  TRY(b->ops->vaxpy(b, s->n, lc_s_at(&st->lb_coef, 1.0), lc_v_at(s->S, &st->lb_i, s->n), lc_v(s->d),
                    lc_v(s->d)));
  return b->ops->step(b, st, LC_SS_LB_BWD_NEXT);
}

/* L-BFGS two-loop recursion: d = -H_k g. */
static int lbfgs_direction(lc_solver *s, lc_error *err) {
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  int rc;
  TRY(b->ops->copy(b, s->n, s->g, s->d));
  TRY(b->ops->step(b, st, LC_SS_LB_FWD_BEGIN));
  TRY(b->ops->loop(b, st, LC_SC_LB_FWD, lb_fwd, s, err));
  TRY(b->ops->branch(b, st, LC_SC_LB_HAVE, lb_gamma, s, err));
  TRY(b->ops->step(b, st, LC_SS_LB_BWD_BEGIN));
  TRY(b->ops->loop(b, st, LC_SC_LB_BWD, lb_bwd, s, err));
  return b->ops->vaxpy(b, s->n, lc_s(-1.0), lc_v(s->d), lc_v(NULL), lc_v(s->d));
}

/* L-BFGS: the pair (x - x0, g - gprev) at the head, kept if s.y > 0. */
static int lbfgs_update(lc_solver *s) {
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  const lc_vref sv = lc_v_at(s->S, &st->head, s->n), yv = lc_v_at(s->Y, &st->head, s->n);
  int rc;
  TRY(b->ops->vaxpy(b, s->n, lc_s(-1.0), lc_v(s->x0), lc_v(s->x), sv));
  TRY(b->ops->vaxpy(b, s->n, lc_s(-1.0), lc_v(s->gprev), lc_v(s->g), yv));
  TRY(b->ops->vdot(b, s->n, sv, yv, &st->lb_sy));
  TRY(b->ops->vdot(b, s->n, sv, sv, &st->lb_ss));
  TRY(b->ops->vdot(b, s->n, yv, yv, &st->lb_yy));
  return b->ops->step(b, st, LC_SS_LB_UPDATE);
}

/* Newton-type direction: (H + shift) d = -g; -g when the solve fails. */
static int newton_direction(lc_solver *s, lc_error *err) {
  lc_backend *b = s->b;
  int rc;
  TRY(b->ops->step(b, s->st, LC_SS_SHIFT));
  TRY(b->ops->vaxpy(b, s->n, lc_s(-1.0), lc_v(s->g), lc_v(NULL), lc_v(s->rhs)));
  TRY(b->ops->vaxpy(b, s->n, lc_s(0.0), lc_v(NULL), lc_v(NULL), lc_v(s->d)));
  TRY(b->ops->lin_solve(b, s->p, &s->lq, err));
  return b->ops->branch(b, s->st, LC_SC_LIN_FAIL, neg_grad, s, err);
}

/* The search direction of the method into d. */
static int direction(lc_solver *s, lc_error *err) {
  switch (s->o->method) {
    case LC_SOLVE_GD: return neg_grad(s, err);
    case LC_SOLVE_LBFGS: return lbfgs_direction(s, err);
    default: return newton_direction(s, err);
  }
}

/* One line-search trial: xt = x0 + alpha d, its energy, the Armijo test. */
static int trial(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  int rc;
  TRY(b->ops->vaxpy(b, s->n, lc_s_at(&s->st->alpha, 1.0), lc_v(s->d), lc_v(s->x0), lc_v(s->xt)));
  TRY(retract(s, s->xt));
  TRY(eval_at(s, LC_EL_ENERGY, s->xt, &s->st->f, NULL, 0, err));
  return b->ops->step(b, s->st, LC_SS_ARMIJO);
}

/* x = xt (the accepted trial). */
static int accept(void *u, lc_error *err) {
  lc_solver *s = u;
  (void)err;
  return s->b->ops->copy(s->b, s->n, s->xt, s->x);
}

/* Drains the progress ring into the callback; a non-zero return or the
 * caller's cancel flag asks the device to stop. */
static void drain(void *u) {
  lc_solver *s = u;
  lc_sring *r = s->ring;
  const lc_solve_opts *o = s->o;
  const int32_t head = r->head;
  int32_t t = r->tail;
  if (head - t > r->cap) t = head - r->cap; /* cannot happen: the device suspends first */
  for (; t < head; ++t) {
    const lc_srec *e = r->rec + t % r->cap;
    const lc_iter_stats it = {e->iter, e->energy, e->gnorm, e->step, e->decrement,
                              e->ls_trials, e->lin_iters, e->t_deriv, e->t_linear, e->t_ls};
    if (o->progress && o->progress(o->user, &it)) r->cancel = 1;
  }
  r->tail = head;
  if (o->cancel && *o->cancel) r->cancel = 1;
}

/* After an accepted step: new derivatives, L-BFGS pair, stopping tests, record. */
static int after_step(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  const int lbfgs = s->o->method == LC_SOLVE_LBFGS;
  int rc;
  if (lbfgs) TRY(b->ops->copy(b, s->n, s->g, s->gprev));
  TRY(b->ops->branch(b, s->st, LC_SC_NEED_H, derivatives, s, err));
  TRY(b->ops->branch(b, s->st, LC_SC_GRAD_ONLY, gradient, s, err));
  if (lbfgs) TRY(lbfgs_update(s));
  TRY(b->ops->step(b, s->st, LC_SS_POST));
  TRY(b->ops->notify(b, drain, s));
  return b->ops->step(b, s->st, LC_SS_CANCEL);
}

/* The body of an iteration that passed the top-of-iteration tests. */
static int iteration(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  lc_sstate *st = s->st;
  int rc;
  TRY(direction(s, err));
  TRY(tangent(s, s->d));
  TRY(b->ops->zero_fixed(b, s->p, s->d));
  TRY(b->ops->vdot(b, s->n, lc_v(s->g), lc_v(s->d), &st->gd));
  TRY(b->ops->step(b, st, LC_SS_DESCENT));
  TRY(b->ops->branch(b, st, LC_SC_FALLBACK, fallback, s, err));
  TRY(b->ops->step(b, st, LC_SS_DIR_DONE));
  TRY(b->ops->copy(b, s->n, s->x, s->x0));
  TRY(b->ops->max_step(b, s->p, s->x, s->d, &st->amax, err));
  TRY(b->ops->step(b, st, LC_SS_STEP0));
  TRY(b->ops->loop(b, st, LC_SC_LS, trial, s, err));
  TRY(b->ops->step(b, st, LC_SS_LS_END));
  TRY(b->ops->branch(b, st, LC_SC_MOVED, accept, s, err));
  TRY(b->ops->step(b, st, LC_SS_POST_LS));
  return b->ops->branch(b, st, LC_SC_CONTINUE, after_step, s, err);
}

/* One pass of the solve loop: gradient norm, stopping tests, iteration. */
static int loop_body(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  int rc;
  TRY(tangent(s, s->g));
  TRY(b->ops->nrm_inf(b, s->n, s->g, &s->st->gnorm));
  TRY(b->ops->step(b, s->st, LC_SS_PRE));
  return b->ops->branch(b, s->st, LC_SC_RUNNING, iteration, s, err);
}

/* Start of a solve (not of a resumed one): retraction, first derivatives. */
static int start(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  int rc;
  TRY(b->ops->step(b, s->st, LC_SS_START));
  TRY(retract(s, s->x));
  TRY(derivatives(s, err));
  return b->ops->step(b, s->st, LC_SS_INIT);
}

/* The whole solve. */
static int program(void *u, lc_error *err) {
  lc_solver *s = u;
  lc_backend *b = s->b;
  int rc;
  TRY(b->ops->branch(b, s->st, LC_SC_NOT_STARTED, start, s, err));
  return b->ops->loop(b, s->st, LC_SC_RUNNING, loop_body, s, err);
}

/* ---- set-up ----------------------------------------------------------------- */

/* Validates options against the problem. */
static int check_opts(const lc_solver *s, const lc_solve_opts *o, lc_error *err) {
  if (o->method < LC_SOLVE_GD || o->method > LC_SOLVE_LOCAL_GLOBAL)
    return lc_error_set(err, LC_EINVAL, "solve: unknown method %d", (int)o->method);
  if (o->max_iters < 0 || o->lbfgs_m < 1 || o->lbfgs_m > LC_SSTATE_MAX_M || !(o->ls_c > 0.0 && o->ls_c < 1.0) ||
      !(o->ls_shrink > 0.0 && o->ls_shrink < 1.0) || o->ls_max < 1)
    return lc_error_set(err, LC_EINVAL, "solve: option out of range (max_iters >= 0, 1 <= lbfgs_m <= 64, 0 < ls_c < 1, 0 < ls_shrink < 1, ls_max >= 1)");
  if (lc_problem_n_terms(s->p) == 0)
    return lc_error_set(err, LC_EINVAL, "solve: the problem has no terms: nothing to minimise (add terms first)");
  if (o->method >= LC_SOLVE_NEWTON &&
      (o->linear < LC_LIN_CHOLMOD || o->linear > LC_LIN_CG_MATFREE))
    return lc_error_set(err, LC_EINVAL, "solve: unknown linear solver %d", (int)o->linear);
  if (o->condense_var >= 0) {
    int dim;
    lc_var_loc loc;
    if (lc_problem_var_info(s->p, o->condense_var, &loc, &dim, NULL, NULL))
      return lc_error_set(err, LC_EINVAL, "solve: condense_var %d is not a variable", o->condense_var);
    if (o->condense_c0 < 0 || o->condense_c1 > dim || o->condense_c1 <= o->condense_c0)
      return lc_error_set(err, LC_EINVAL, "solve: condense components [%d, %d) must lie in [0, %d)", o->condense_c0,
                          o->condense_c1, dim);
    if (o->method < LC_SOLVE_NEWTON || o->linear == LC_LIN_CG_MATFREE)
      return lc_error_set(err, LC_EINVAL, "solve: condense needs newton, gauss_newton or lm with cholmod or pcg");
  }
  if (o->sphere_var >= 0) {
    int dim;
    lc_var_loc loc;
    if (lc_problem_var_info(s->p, o->sphere_var, &loc, &dim, NULL, NULL) || dim != 3)
      return lc_error_set(err, LC_EINVAL, "solve: sphere_var %d must be a variable of dimension 3", o->sphere_var);
  }
  return LC_OK;
}

/* The initial state for options o. */
static void init_state(lc_solver *s, const lc_solve_opts *o) {
  lc_sstate *h = &s->hs;
  memset(h, 0, sizeof *h);
  h->method = o->method;
  h->max_iters = o->max_iters;
  h->ls_max = o->ls_max;
  h->lbfgs_m = o->lbfgs_m;
  h->gtol = o->gtol;
  h->dtol = o->dtol;
  h->ftol = o->ftol;
  h->ls_c = o->ls_c;
  h->ls_shrink = o->ls_shrink;
  h->max_step_frac = o->max_step_frac;
  h->reg = o->reg;
  h->lm0 = o->lm_lambda;
  h->time_budget = o->time_budget;
  h->cg_rtol = o->lin.rtol > 0.0 ? o->lin.rtol : 1e-8;
  h->cg_max = o->lin.max_iters > 0 ? o->lin.max_iters : 1000;
  h->ring = s->ring;
  memset(s->ring, 0, sizeof *s->ring);
  s->ring->rec = s->recs;
  s->ring->cap = RING_CAP;
  s->ring->cancel = o->cancel && *o->cancel;
}

/* The linear-solve request of the method's Newton step. */
static void init_lin(lc_solver *s, const lc_solve_opts *o) {
  lc_lin_req *q = &s->lq;
  memset(q, 0, sizeof *q);
  q->st = s->st;
  q->kind = o->linear;
  q->opts = o->lin;
  memset(&q->opts.cond, 0, sizeof q->opts.cond);
  if (o->condense_var >= 0) {
    lc_var_loc loc;
    lc_problem_var_info(s->p, o->condense_var, &loc, &q->opts.cond.dim, &q->opts.cond.n, &q->opts.cond.off);
    q->opts.cond.c0 = o->condense_c0;
    q->opts.cond.c1 = o->condense_c1;
  }
  q->project = o->project;
  q->cached = matfree(o);
  q->shift = &s->st->shift;
  q->x = s->x;
  q->rhs = s->rhs;
  q->sol = s->d;
  q->iters = &s->st->lin_iters;
  q->fail = &s->st->lin_fail;
}

/* Makes the backend's copy of the problem current for every mode the
 * program evaluates, and readies the linear solver. */
static int prepare(lc_solver *s, const lc_solve_opts *o, lc_error *err) {
  lc_backend *b = s->b;
  int rc;
  TRY(b->ops->sync(b, s->p, LC_EL_ENERGY, err));
  TRY(b->ops->sync(b, s->p, LC_EL_GRAD, err));
  if (o->method == LC_SOLVE_GD || o->method == LC_SOLVE_LBFGS) return LC_OK;
  const lc_el_mode m = matfree(o) ? LC_EL_HVP : o->method == LC_SOLVE_NEWTON ? LC_EL_HESS : LC_EL_GN;
  TRY(b->ops->sync(b, s->p, m, err));
  return b->ops->lin_prepare(b, s->p, &s->lq, err);
}

/* FNV-1a step over 8 bytes. */
static uint64_t mix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
  return h;
}

/* A key for the program's structure and buffers (backend.h, run). */
static uint64_t program_key(const lc_solver *s, const lc_solve_opts *o) {
  const lc_problem *p = s->p;
  uint64_t h = 14695981039346656037ull;
  const uint64_t v[] = {(uint64_t)(uintptr_t)s, s->bufgen, (uint64_t)o->method, (uint64_t)o->linear,
                        (uint64_t)o->lin.precond, (uint64_t)o->lin.block, (uint64_t)o->project,
                        (uint64_t)(int64_t)o->sphere_var, (uint64_t)(int64_t)o->condense_var,
                        (uint64_t)o->condense_c0, (uint64_t)o->condense_c1, p->gen_terms, p->gen_fixed,
                        p->gen_pattern};
  for (size_t i = 0; i < sizeof v / sizeof *v; ++i) h = mix(h, v[i]);
  return h ? h : 1;
}

/* Runs the program until it stops, resuming after a full progress ring. */
static int run_program(lc_solver *s, const lc_solve_opts *o, lc_error *err) {
  lc_backend *b = s->b;
  const uint64_t key = program_key(s, o);
  void *const dst[] = {s->hx, &s->hs};
  const void *const src[] = {s->x, s->st};
  const size_t bytes[] = {(size_t)s->n * sizeof(double), sizeof(lc_sstate)};
  for (;;) {
    int rc = b->ops->run(b, s->st, key, program, s, drain, s, err);
    const int rd = lc_backend_download_many(b, 2, dst, src, bytes, rc ? NULL : err);
    if (rc || rd) return rc ? rc : rd;
    if (s->hs.reason != LC_SR_SUSPENDED) return LC_OK;
    drain(s);
    s->hs.reason = LC_SR_NONE;
    TRY(b->ops->upload(b, s->st, &s->hs, sizeof s->hs, err));
  }
}

/* Minimises from the problem's current state. */
int lc_solver_solve(lc_solver *s, const lc_solve_opts *o, lc_solve_result *r, lc_error *err) {
  const double t_start = lc_time_now();
  lc_backend *b = s->b;
  int rc = check_opts(s, o, err);
  if (!rc && o->method == LC_SOLVE_LOCAL_GLOBAL) {
    if (!s->lg) rc = lc_lg_create(s->p, &s->lg, err);
    return rc ? rc : lc_lg_solve(s->lg, o, r, err);
  }
  if (!rc) rc = ensure_work(s, o->lbfgs_m, err);
  if (rc) return rc;
  s->o = o;
  if (o->sphere_var >= 0) lc_problem_var_info(s->p, o->sphere_var, NULL, NULL, &s->sph_n, &s->sph_off);
  init_state(s, o);
  init_lin(s, o);
  rc = prepare(s, o, err);
  if (!rc) rc = b->ops->upload(b, s->x, lc_problem_x(s->p), (size_t)s->n * sizeof(double), err);
  if (!rc) rc = b->ops->upload(b, s->st, &s->hs, sizeof s->hs, err);
  if (!rc) {
    rc = run_program(s, o, err);
    if (s->hs.started) lc_problem_set_x(s->p, s->hx, NULL); /* the last accepted iterate */
  }
  if (r) {
    memset(r, 0, sizeof *r);
    r->reason = (lc_stop_reason)s->hs.reason;
    r->iters = s->hs.iters;
    r->energy = s->hs.E;
    r->gnorm = s->hs.gnorm;
    r->t_deriv = s->hs.sum_deriv;
    r->t_linear = s->hs.sum_linear;
    r->t_ls = s->hs.sum_ls;
    r->t_total = lc_time_now() - t_start;
  }
  s->o = NULL;
  return rc;
}

/* Adds solve r to *sum (iterations and times; the rest is r's). */
void lc_solve_result_add(lc_solve_result *sum, const lc_solve_result *r) {
  const int iters = sum->iters + r->iters;
  const double d = sum->t_deriv + r->t_deriv, l = sum->t_linear + r->t_linear, ls = sum->t_ls + r->t_ls;
  const double tt = sum->t_total + r->t_total;
  *sum = *r;
  sum->iters = iters;
  sum->t_deriv = d, sum->t_linear = l, sum->t_ls = ls, sum->t_total = tt;
}

/* Name of a stop reason. */
const char *lc_stop_reason_name(lc_stop_reason r) {
  static const char *const names[] = {"none", "gradient", "decrement", "ftol", "max_iters",
                                      "time", "cancelled", "line_search", "infeasible"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

static const char *const method_names[] = {"gd", "lbfgs", "newton", "gauss_newton", "lm", "local_global"};
#define N_METHODS ((int)(sizeof method_names / sizeof *method_names))

/* Name of a method. */
const char *lc_solve_method_name(lc_solve_method m) {
  return (unsigned)m < (unsigned)N_METHODS ? method_names[m] : "unknown";
}

/* Parses a method name; returns the method or LC_ENOTFOUND. */
int lc_solve_method_parse(const char *name) {
  for (int i = 0; name && i < N_METHODS; ++i)
    if (!strcmp(name, method_names[i])) return i;
  return LC_ENOTFOUND;
}
