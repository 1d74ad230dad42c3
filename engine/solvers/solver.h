/* solver.h - minimisers on a problem: gradient descent, L-BFGS, projected
 * Newton (CHOLMOD, PCG or matrix-free CG), Gauss-Newton and
 * Levenberg-Marquardt, with a backtracking Armijo line search, fixed DOFs,
 * per-vertex unit-sphere variables and cancellation.
 *
 * A solver handle belongs to one problem and keeps what is worth keeping
 * between solves (the Cholesky analysis while the Hessian pattern is
 * unchanged, workspace); an interactive client steps it once per frame.
 * It works on the problem's state x in place: on return x holds the last
 * accepted iterate, whatever the status.  Fixed DOFs never move (their
 * gradient is zero and the Hessian has identity rows for them).
 *
 * Guarantees: an accepted step never increases the energy (Armijo with
 * c > 0), never makes it +inf or NaN, and never crosses the per-term
 * maximum step (for symmetric Dirichlet: no triangle flips along the line).
 */
#ifndef LC_SOLVER_H
#define LC_SOLVER_H

#include <stdint.h>

#include "../lc_error.h"
#include "../problem.h"
#include "linsolve.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_solver lc_solver;

typedef enum {
  LC_SOLVE_GD = 0,          /* gradient descent */
  LC_SOLVE_LBFGS = 1,       /* limited-memory BFGS */
  LC_SOLVE_NEWTON = 2,      /* Newton on the PSD-projected Hessian */
  LC_SOLVE_GAUSS_NEWTON = 3,/* J^T J for residual terms (+ projected Hessian of others) */
  LC_SOLVE_LM = 4,          /* Levenberg-Marquardt */
  LC_SOLVE_LOCAL_GLOBAL = 5 /* local-global ARAP (local_global.h): arap terms only, CPU */
} lc_solve_method;

/* Why a solve stopped. */
typedef enum {
  LC_STOP_NONE = 0,
  LC_STOP_GRAD = 1,       /* |g|_inf <= gtol */
  LC_STOP_DECREMENT = 2,  /* Newton decrement^2 / 2 <= dtol */
  LC_STOP_FTOL = 3,       /* relative energy change <= ftol */
  LC_STOP_MAX_ITERS = 4,
  LC_STOP_TIME = 5,       /* wall-time budget spent */
  LC_STOP_CANCELLED = 6,
  LC_STOP_LINE_SEARCH = 7,/* no acceptable step (at a minimum to rounding) */
  LC_STOP_INFEASIBLE = 8  /* the start point has energy +inf or NaN */
} lc_stop_reason;

/* One iteration, as reported to the progress callback. */
typedef struct lc_iter_stats {
  int iter;
  double energy;      /* after the step */
  double gnorm;       /* |g|_inf before the step (projected on manifolds) */
  double step;        /* accepted alpha */
  double decrement;   /* -g.d */
  int ls_trials;      /* energy evaluations of the line search */
  int lin_iters;      /* CG iterations (0 for Cholesky) */
  double t_deriv, t_linear, t_ls; /* seconds spent in this iteration */
} lc_iter_stats;

/* Progress callback: return non-zero to cancel after this iteration. */
typedef int (*lc_progress_fn)(void *user, const lc_iter_stats *it);

/* Options (zero-initialise, then lc_solve_opts_default). */
typedef struct lc_solve_opts {
  lc_solve_method method;
  lc_lin_kind linear;     /* Newton / GN / LM linear solver */
  lc_lin_opts lin;        /* its options */
  int max_iters;          /* default 100 */
  double time_budget;     /* seconds, 0 = none; at least one iteration runs */
  double gtol;            /* |g|_inf tolerance, default 1e-8 */
  double dtol;            /* Newton decrement tolerance, default 0 (off) */
  double ftol;            /* relative energy change, default 0 (off) */
  int lbfgs_m;            /* L-BFGS history, default 8 */
  double ls_c;            /* Armijo constant, default 1e-4 */
  double ls_shrink;       /* backtracking factor, default 0.5 */
  int ls_max;             /* line-search trials, default 60 */
  double max_step_frac;   /* fraction of the per-term maximum step, default 0.9 */
  int project;            /* PSD-project element Hessians (default 1) */
  double reg;             /* Newton: shift of H, default 1e-9 */
  double lm_lambda;       /* LM: initial damping, default 1e-3 */
  int sphere_var;         /* variable constrained to the unit sphere per
                             entity (dimension 3), -1 = none (default) */
  int condense_var;       /* Newton / GN / LM with Cholesky or PCG: eliminate
                             components [condense_c0, condense_c1) of every
                             entity of this variable by static condensation
                             (solvers/condense.h; CPU), -1 = none (default) */
  int condense_c0, condense_c1;
  int anderson_m;         /* local_global: Anderson acceleration over this many
                             past iterations (default 5; 0 = off) */
  lc_progress_fn progress;
  void *user;
  volatile int *cancel;   /* checked between iterations, may be NULL */
} lc_solve_opts;

/* Summary of a solve. */
typedef struct lc_solve_result {
  lc_stop_reason reason;
  int iters;
  double energy, gnorm;
  double t_deriv, t_linear, t_ls, t_total;
  int factorizations;     /* local_global: Cholesky factors (re)built by this solve */
} lc_solve_result;

/* Fills o with the defaults for method. */
void lc_solve_opts_default(lc_solve_opts *o, lc_solve_method method);

/* Creates a solver for problem p (borrowed: p must outlive the solver). */
int lc_solver_create(lc_problem *p, lc_solver **out, lc_error *err);

/* Destroys the solver. NULL is a no-op. */
void lc_solver_destroy(lc_solver *s);

/* Minimises from the problem's current state; see the header comment. */
int lc_solver_solve(lc_solver *s, const lc_solve_opts *o, lc_solve_result *r, lc_error *err);

/* Adds solve r to *sum as a later part of one solve: iterations and times
 * add up, the rest (reason, energy, gnorm) is r's. */
void lc_solve_result_add(lc_solve_result *sum, const lc_solve_result *r);

/* Name of a stop reason, for logs and the protocol. */
const char *lc_stop_reason_name(lc_stop_reason r);

/* Name of a method ("gd", "lbfgs", "newton", "gauss_newton", "lm",
 * "local_global"), and back
 * (returns the method or LC_ENOTFOUND). */
const char *lc_solve_method_name(lc_solve_method m);
int lc_solve_method_parse(const char *name);

#if defined(__cplusplus)
}
#endif

#endif
