/* local_global.h - the local-global ARAP solver (Sorkine & Alexa 2007; the
 * triangle form of Liu et al. 2008): minimises a problem whose terms are
 * all "arap" on one vertex variable (D = 2 or 3) by alternating a per-
 * triangle rotation fit (the local step, lg_arap.h) with a linear solve of
 * the cotangent Laplacian (the global step).  The Laplacian depends only on
 * the rest shape, the weights and the fixed DOFs, so its Cholesky factor is
 * kept across solves: an editor that moves its handles every frame (the
 * same fixed set, new values) pays two triangular solves per iteration.
 *
 * Each iteration minimises the energy exactly over R, then exactly over X
 * (plus a proximal term eps |X - X_k|^2, eps = 1e-8 max L_ii, that keeps
 * unanchored components and unused vertices well posed), so the energy
 * never increases.  Anderson acceleration (Peng et al. 2018: "Anderson
 * acceleration for geometry optimization and physics simulation") of the
 * map x -> G(x) over the last m iterations (solve option anderson_m,
 * default 5; 0: plain local-global) takes the accelerated point only when
 * its energy is lower than the current one, so the energy still never
 * increases.  CPU backend only. */
#ifndef LC_LOCAL_GLOBAL_H
#define LC_LOCAL_GLOBAL_H

#include "solver.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_lg lc_lg;

#define LC_LG_MAX_ANDERSON 32 /* most differences Anderson acceleration keeps */

/* Creates the solver state for problem p (borrowed). */
int lc_lg_create(lc_problem *p, lc_lg **out, lc_error *err);

/* Frees it. NULL is a no-op. */
void lc_lg_destroy(lc_lg *g);

/* Runs local-global iterations from the problem's state under o (max_iters,
 * gtol, ftol, time_budget, progress, cancel); x is written back whatever
 * the stop reason; r->factorizations says whether the factors were rebuilt.
 * Fails with LC_EINVAL, naming the term, when a term is not
 * "arap" or the variables differ, or when the problem is not on the CPU;
 * on any failure the problem's x is unchanged. */
int lc_lg_solve(lc_lg *g, const lc_solve_opts *o, lc_solve_result *r, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
