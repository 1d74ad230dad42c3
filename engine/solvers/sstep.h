/* sstep.h - the scalar half of the solver loop, written once as host and
 * device code (LC_HD): the solver-state struct and every decision a solve
 * makes (stopping tests, descent check, initial step, Armijo test, accept,
 * stall rule, L-BFGS scalars, progress records).
 *
 * A solve is a small program (engine/solvers/solve.c) of backend
 * operations: vector operations and evaluations that read and write the
 * state through pointers, scalar steps (lc_sstep, run by the backend's
 * `step` op: a direct call on the CPU, a one-thread kernel on a GPU), and
 * loops and branches on conditions (lc_scond).  The CPU backend runs the
 * program with a host loop; the CUDA backend captures it once into a graph
 * whose conditional nodes evaluate the same conditions on the device, so
 * an iteration never waits for the host.
 *
 * The state lives in backend memory.  Fields the host sets before a solve
 * are marked (in); everything else is written by the steps.  Records of
 * finished iterations go to a ring in host-visible memory that the host
 * drains while the solve runs (lc_srec). */
#ifndef LC_SSTEP_H
#define LC_SSTEP_H

#include <stdint.h>

#include "ad/lc_ad_base.h"

#if !defined(__CUDACC__)
#include <math.h>
#include <time.h>
#endif

/* Methods and stop reasons, as in solver.h (kept numerically equal). */
enum { LC_SM_GD = 0, LC_SM_LBFGS = 1, LC_SM_NEWTON = 2, LC_SM_GN = 3, LC_SM_LM = 4 };
enum {
  LC_SR_NONE = 0, LC_SR_GRAD = 1, LC_SR_DECREMENT = 2, LC_SR_FTOL = 3, LC_SR_MAX_ITERS = 4,
  LC_SR_TIME = 5, LC_SR_CANCELLED = 6, LC_SR_LINE_SEARCH = 7, LC_SR_INFEASIBLE = 8,
  LC_SR_SUSPENDED = 100 /* internal: the ring is full; the host drains it and resumes */
};

#define LC_SSTATE_MAX_M 64   /* largest L-BFGS history */
#define LC_STALL_ITERS 10    /* accepted steps in a row without a strict decrease */

/* One finished iteration, as the host reports it (lc_iter_stats). */
typedef struct lc_srec {
  int32_t iter, ls_trials, lin_iters, pad;
  double energy, gnorm, step, decrement, t_deriv, t_linear, t_ls;
} lc_srec;

/* The progress ring: written by the device, drained by the host. */
typedef struct lc_sring {
  lc_srec *rec;          /* cap records (host-visible memory) */
  int32_t cap;
  volatile int32_t head; /* records written so far (device) */
  volatile int32_t tail; /* records consumed so far (host) */
  volatile int32_t cancel; /* set by the host: stop after this iteration */
} lc_sring;

/* The solver state. */
typedef struct lc_sstate {
  /* (in) options */
  int32_t method, max_iters, ls_max, lbfgs_m;
  double gtol, dtol, ftol, ls_c, ls_shrink, max_step_frac, reg, lm0, time_budget;
  lc_sring *ring;        /* (in) host-visible, may be NULL */
  /* loop */
  int32_t reason, iters, stalled, stall_stop, started;
  int32_t go, fallback, moved, need_h, lin_fail, lin_iters;
  int32_t ls_t, ls_ok, ls_trials;
  double E, E_old, E_new, f, gnorm, gd, alpha, step, prev_step, amax, lm, shift;
  /* timing (lc_sclock seconds) */
  double t_start, t_it0, t_ls0, t_d0, t_linear, t_ls, t_deriv;
  double sum_deriv, sum_linear, sum_ls;
  /* L-BFGS */
  int32_t head, count, k, lb_i, lb_scale;
  double lb_dot, lb_yy, lb_sy, lb_ss, lb_coef;
  double lb_alpha[LC_SSTATE_MAX_M], rho[LC_SSTATE_MAX_M];
  /* conjugate gradients of a device linear solve: (in) cg_max, cg_rtol */
  int32_t cg_max, cg_k, cg_active, cg_step;
  double cg_rtol, cg_bb, cg_bnorm, cg_rz, cg_rz_new, cg_rr, cg_pq, cg_alpha, cg_beta;
} lc_sstate;

/* Scalar steps (lc_sstep). */
typedef enum {
  LC_SS_START = 0,     /* clock, counters, L-BFGS history reset */
  LC_SS_INIT,          /* after the first derivatives: feasible? */
  LC_SS_PRE,           /* top of an iteration: gradient, iteration, cancel, time tests */
  LC_SS_SHIFT,         /* Newton-type: diagonal shift reg (+ LM damping) */
  LC_SS_DESCENT,       /* descent check of g.d */
  LC_SS_DIR_DONE,      /* direction timing, decrement */
  LC_SS_STEP0,         /* initial step length, line-search reset */
  LC_SS_ARMIJO,        /* one trial's sufficient-decrease test */
  LC_SS_LS_END,        /* accept or reject, LM damping update */
  LC_SS_POST_LS,       /* stall rule, iteration count, what comes next */
  LC_SS_POST,          /* stopping tests and the progress record */
  LC_SS_CANCEL,        /* the host's cancel flag */
  LC_SS_LB_FWD_BEGIN,  /* L-BFGS two-loop: first loop from the newest pair */
  LC_SS_LB_FWD_IDX,    /* ring index of pair k (first loop) */
  LC_SS_LB_FWD_A,      /* alpha_k = rho_i s_i.d */
  LC_SS_LB_GAMMA_IDX,  /* newest pair */
  LC_SS_LB_GAMMA,      /* initial scaling 1 / (rho y.y) */
  LC_SS_LB_BWD_BEGIN,  /* second loop from the oldest pair */
  LC_SS_LB_BWD_B,      /* coefficient alpha_k - rho_i y_i.d */
  LC_SS_LB_BWD_NEXT,   /* next (older) pair of the second loop */
  LC_SS_LB_UPDATE,     /* store (s, y) if the curvature condition holds */
  LC_SS_CG_START,      /* after bb = b.b: |b|, trivial or non-finite right-hand side */
  LC_SS_CG_INIT,       /* after rz = r.z, rr = r.r of the start: finite? first test */
  LC_SS_CG_ALPHA,      /* after pq = p.Ap: curvature test, alpha = rz / pq */
  LC_SS_CG_BETA,       /* after rz_new, rr: beta, iteration count, next test */
  LC_SS_COUNT
} lc_sstep_id;

/* Conditions of loops and branches (lc_scond). */
typedef enum {
  LC_SC_RUNNING = 0,   /* reason == NONE */
  LC_SC_NOT_STARTED,   /* the first launch of a solve (not a resumed one) */
  LC_SC_LIN_FAIL,      /* the linear solve failed: use -g */
  LC_SC_FALLBACK,      /* not a descent direction: use -g */
  LC_SC_LS,            /* another line-search trial */
  LC_SC_MOVED,         /* a step was accepted */
  LC_SC_CONTINUE,      /* accepted: new derivatives and the stopping tests */
  LC_SC_NEED_H,        /* ... with the Hessian */
  LC_SC_GRAD_ONLY,     /* ... gradient only (last iteration, stall exit) */
  LC_SC_LB_FWD,        /* L-BFGS: first loop continues */
  LC_SC_LB_HAVE,       /* L-BFGS: at least one pair */
  LC_SC_LB_SCALE,      /* L-BFGS: initial scaling applies */
  LC_SC_LB_BWD,        /* L-BFGS: second loop continues */
  LC_SC_CG_GO,         /* CG: the right-hand side is finite and non-zero */
  LC_SC_CG_ACTIVE,     /* CG: another iteration */
  LC_SC_CG_STEP,       /* CG: this iteration updates x (positive curvature) */
  LC_SC_COUNT
} lc_scond_id;

/* Seconds on a monotonic clock (device: the global timer). */
LC_HD double lc_sclock(void) {
#if defined(__CUDA_ARCH__)
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return 1e-9 * (double)t;
#elif defined(__CUDACC__)
  return 0.0; /* host side of CUDA translation units: steps run on the device */
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
}

/* Ring index of L-BFGS pair k (0 = newest). */
LC_HD int32_t lc_ss_ring(const lc_sstate *s, int32_t k) {
  return (s->head - 1 - k + s->lbfgs_m) % s->lbfgs_m;
}

/* Top of an iteration: the stopping tests that need no step. */
LC_HD void lc_ss_pre(lc_sstate *s) {
  const int cancel = s->ring && s->ring->cancel;
  s->E_old = s->E;
  s->t_it0 = lc_sclock();
  if (s->gnorm <= s->gtol) s->reason = LC_SR_GRAD;
  else if (s->stall_stop) s->reason = LC_SR_LINE_SEARCH;
  else if (s->iters >= s->max_iters) s->reason = LC_SR_MAX_ITERS;
  else if (cancel) s->reason = LC_SR_CANCELLED;
  else if (s->time_budget > 0.0 && s->iters > 0 && s->t_it0 - s->t_start >= s->time_budget)
    s->reason = LC_SR_TIME; /* the budget never stops a solve before its first iteration */
  else if (s->ring && s->ring->head - s->ring->tail >= s->ring->cap) s->reason = LC_SR_SUSPENDED;
}

/* Initial step: 1 (Newton-type, L-BFGS) or the previous GD step doubled
 * (first GD step: 1 / |g|_inf, at most 1), capped by the energies' bound. */
LC_HD void lc_ss_step0(lc_sstate *s) {
  double a = s->method == LC_SM_GD && s->prev_step > 0.0 ? fmin(2.0 * s->prev_step, 1e6) : 1.0;
  if (s->method == LC_SM_GD && s->prev_step <= 0.0) a = s->gnorm > 0.0 ? fmin(1.0, 1.0 / s->gnorm) : 1.0;
  if (s->amax < INFINITY) a = fmin(a, s->max_step_frac * s->amax);
  s->alpha = a;
  s->ls_t = 0;
  s->ls_ok = 0;
  s->ls_trials = 0;
}

/* One trial: accept the first finite f <= E + c alpha g.d, else shrink. */
LC_HD void lc_ss_armijo(lc_sstate *s) {
  s->ls_trials = s->ls_t + 1;
  if (isfinite(s->f) && s->f <= s->E + s->ls_c * s->alpha * s->gd) {
    s->ls_ok = 1;
    s->E_new = s->f;
    s->step = s->alpha;
  } else {
    s->alpha *= s->ls_shrink;
  }
  s->ls_t++;
}

/* End of the line search: LM damping, accepted energy and step. */
LC_HD void lc_ss_ls_end(lc_sstate *s) {
  s->t_ls = lc_sclock() - s->t_ls0;
  if (s->method == LC_SM_LM) s->lm = s->ls_ok ? s->lm / 3.0 : s->lm * 4.0;
  s->moved = s->ls_ok;
  if (s->ls_ok) {
    s->prev_step = s->step;
    s->E = s->E_new;
  }
}

/* After the line search: a rejected step ends the solve (LM retries with
 * more damping); an accepted one counts, and a run of accepted steps
 * without a strict decrease ends it after its gradient is known. */
LC_HD void lc_ss_post_ls(lc_sstate *s) {
  s->need_h = 0;
  if (!s->moved) {
    if (!(s->method == LC_SM_LM && s->lm < 1e12)) s->reason = LC_SR_LINE_SEARCH;
    return;
  }
  s->stalled = s->E < s->E_old ? 0 : s->stalled + 1;
  if (s->stalled >= LC_STALL_ITERS) s->stall_stop = 1;
  s->iters++;
  s->need_h = s->iters < s->max_iters && !s->stall_stop;
  s->t_d0 = lc_sclock();
}

/* After the new derivatives: timing sums, the stopping tests on the
 * accepted step, and the progress record. */
LC_HD void lc_ss_post(lc_sstate *s) {
  s->t_deriv = lc_sclock() - s->t_d0;
  s->sum_deriv += s->t_deriv;
  s->sum_linear += s->t_linear;
  s->sum_ls += s->t_ls;
  if (s->dtol > 0.0 && 0.5 * -s->gd <= s->dtol) s->reason = LC_SR_DECREMENT;
  else if (s->ftol > 0.0 && fabs(s->E_old - s->E) <= s->ftol * fmax(fabs(s->E_old), 1e-300))
    s->reason = LC_SR_FTOL;
  if (!s->ring) return;
  lc_srec *r = s->ring->rec + s->ring->head % s->ring->cap;
  r->iter = s->iters;
  r->ls_trials = s->ls_trials;
  r->lin_iters = s->lin_iters;
  r->energy = s->E;
  r->gnorm = s->gnorm;
  r->step = s->step;
  r->decrement = -s->gd;
  r->t_deriv = s->t_deriv;
  r->t_linear = s->t_linear;
  r->t_ls = s->t_ls;
#if defined(__CUDA_ARCH__)
  __threadfence_system(); /* the record is visible before the head moves */
#endif
  s->ring->head = s->ring->head + 1;
}

/* L-BFGS: stores pair head (already written) if s.y > 1e-12 |s||y|. */
LC_HD void lc_ss_lb_update(lc_sstate *s) {
  if (!(s->lb_sy > 1e-12 * sqrt(s->lb_ss * s->lb_yy))) return;
  s->rho[s->head] = 1.0 / s->lb_sy;
  s->head = (s->head + 1) % s->lbfgs_m;
  if (s->count < s->lbfgs_m) s->count++;
}

/* L-BFGS initial scaling: d *= 1 / (rho y.y) when y.y > 0. */
LC_HD void lc_ss_lb_gamma(lc_sstate *s) {
  s->lb_scale = s->lb_yy > 0.0;
  if (s->lb_scale) s->lb_coef = 1.0 / (s->rho[s->lb_i] * s->lb_yy);
}

/* CG: the loop test |r| > rtol |b| within the iteration cap. */
LC_HD void lc_ss_cg_test(lc_sstate *s) {
  s->cg_active = s->cg_k < s->cg_max && sqrt(s->cg_rr) > s->cg_rtol * s->cg_bnorm;
}

/* CG: after the right-hand side's norm (the solution starts at 0). */
LC_HD void lc_ss_cg_start(lc_sstate *s) {
  s->cg_bnorm = sqrt(s->cg_bb);
  s->cg_k = 0;
  s->cg_active = 0;
  s->lin_iters = 0;
  if (!isfinite(s->cg_bnorm)) s->lin_fail = 1;
}

/* CG: after the first r.z and r.r (r = b, z = M b). */
LC_HD void lc_ss_cg_init(lc_sstate *s) {
  if (!isfinite(s->cg_rz) || !isfinite(s->cg_rr)) {
    s->lin_fail = 1;
    return;
  }
  lc_ss_cg_test(s);
}

/* CG: curvature of the search direction; truncated on p'Ap <= 0 after the
 * first iteration, failed on the first or on a non-finite value. */
LC_HD void lc_ss_cg_alpha(lc_sstate *s) {
  s->cg_step = 0;
  if (!isfinite(s->cg_pq) || !isfinite(s->cg_rz) || (s->cg_pq <= 0.0 && s->cg_k == 0)) {
    s->lin_fail = 1;
    s->cg_active = 0;
    return;
  }
  if (s->cg_pq <= 0.0) {
    s->cg_active = 0;
    return;
  }
  s->cg_alpha = s->cg_rz / s->cg_pq;
  s->cg_step = 1;
}

/* CG: after the new r.z and r.r. */
LC_HD void lc_ss_cg_beta(lc_sstate *s) {
  s->cg_beta = s->cg_rz_new / s->cg_rz;
  s->cg_rz = s->cg_rz_new;
  s->cg_k++;
  s->lin_iters = s->cg_k;
  lc_ss_cg_test(s);
}

/* Start of a solve: clock and counters. */
LC_HD void lc_ss_start(lc_sstate *s) {
  s->t_start = lc_sclock();
  s->t_d0 = s->t_start;
  s->reason = LC_SR_NONE;
  s->iters = s->stalled = s->stall_stop = 0;
  s->head = s->count = 0;
  s->lm = s->lm0;
  s->prev_step = 0.0;
  s->gnorm = 0.0;
  s->sum_deriv = s->sum_linear = s->sum_ls = 0.0;
  s->lin_iters = 0;
  s->started = 1;
}

/* Runs scalar step id on the state. */
LC_HD void lc_sstep(lc_sstate *s, int id) {
  switch (id) {
    case LC_SS_START: lc_ss_start(s); break;
    case LC_SS_INIT:
      s->reason = isfinite(s->E) ? LC_SR_NONE : LC_SR_INFEASIBLE;
      s->sum_deriv = lc_sclock() - s->t_d0;
      break;
    case LC_SS_PRE: lc_ss_pre(s); break;
    case LC_SS_SHIFT:
      s->shift = s->method == LC_SM_LM ? s->reg + s->lm : s->reg;
      s->lin_fail = 0;
      s->lin_iters = 0;
      break;
    case LC_SS_DESCENT: s->fallback = !(s->gd < 0.0); break;
    case LC_SS_DIR_DONE:
      s->t_ls0 = lc_sclock();
      s->t_linear = s->t_ls0 - s->t_it0;
      break;
    case LC_SS_STEP0: lc_ss_step0(s); break;
    case LC_SS_ARMIJO: lc_ss_armijo(s); break;
    case LC_SS_LS_END: lc_ss_ls_end(s); break;
    case LC_SS_POST_LS: lc_ss_post_ls(s); break;
    case LC_SS_POST: lc_ss_post(s); break;
    case LC_SS_CANCEL:
      if (s->ring && s->ring->cancel) s->reason = LC_SR_CANCELLED;
      break;
    case LC_SS_LB_FWD_BEGIN: s->k = 0; break;
    case LC_SS_LB_FWD_IDX: s->lb_i = lc_ss_ring(s, s->k); break;
    case LC_SS_LB_FWD_A:
      s->lb_alpha[s->k] = s->rho[s->lb_i] * s->lb_dot;
      s->lb_coef = s->lb_alpha[s->k];
      s->k++;
      break;
    case LC_SS_LB_GAMMA_IDX: s->lb_i = lc_ss_ring(s, 0); break;
    case LC_SS_LB_GAMMA: lc_ss_lb_gamma(s); break;
    case LC_SS_LB_BWD_BEGIN:
      s->k = s->count - 1;
      if (s->k >= 0) s->lb_i = lc_ss_ring(s, s->k);
      break;
    case LC_SS_LB_BWD_B:
      s->lb_coef = s->lb_alpha[s->k] - s->rho[s->lb_i] * s->lb_dot;
      break;
    case LC_SS_LB_BWD_NEXT:
      s->k--;
      if (s->k >= 0) s->lb_i = lc_ss_ring(s, s->k);
      break;
    case LC_SS_LB_UPDATE: lc_ss_lb_update(s); break;
    case LC_SS_CG_START: lc_ss_cg_start(s); break;
    case LC_SS_CG_INIT: lc_ss_cg_init(s); break;
    case LC_SS_CG_ALPHA: lc_ss_cg_alpha(s); break;
    case LC_SS_CG_BETA: lc_ss_cg_beta(s); break;
    default: break;
  }
}

/* Evaluates condition id on the state (1: take the branch / loop again). */
LC_HD int lc_scond(const lc_sstate *s, int id) {
  switch (id) {
    case LC_SC_RUNNING: return s->reason == LC_SR_NONE;
    case LC_SC_NOT_STARTED: return !s->started;
    case LC_SC_LIN_FAIL: return s->lin_fail != 0;
    case LC_SC_FALLBACK: return s->fallback != 0;
    case LC_SC_LS: return !s->ls_ok && s->ls_t < s->ls_max;
    case LC_SC_MOVED: return s->moved != 0;
    case LC_SC_CONTINUE: return s->moved != 0;
    case LC_SC_NEED_H: return s->moved && s->need_h;
    case LC_SC_GRAD_ONLY: return s->moved && !s->need_h;
    case LC_SC_LB_FWD: return s->k < s->count;
    case LC_SC_LB_HAVE: return s->count > 0;
    case LC_SC_LB_SCALE: return s->count > 0 && s->lb_scale;
    case LC_SC_LB_BWD: return s->k >= 0;
    case LC_SC_CG_GO: return !s->lin_fail && s->cg_bnorm > 0.0;
    case LC_SC_CG_ACTIVE: return s->cg_active != 0;
    case LC_SC_CG_STEP: return s->cg_step != 0;
    default: return 0;
  }
}

#endif
