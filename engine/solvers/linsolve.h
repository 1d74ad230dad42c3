/* linsolve.h - sparse linear solvers for Newton-type steps on the CPU:
 * CHOLMOD supernodal Cholesky with a reusable symbolic analysis, PCG with a
 * Jacobi or block-Jacobi preconditioner on an assembled CSR matrix, and
 * matrix-free CG on an operator callback.
 *
 * Matrices are lc_csr views (full symmetric storage, sorted columns, int32
 * indices) as assembled by lc_problem_hessian; they are borrowed for the
 * duration of a call only.  A solver handle owns its factorisation and
 * workspace; it is not thread-safe (one handle per problem). */
#ifndef LC_LINSOLVE_H
#define LC_LINSOLVE_H

#include <stdint.h>

#include "../lc_error.h"
#include "../problem.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_linsolve lc_linsolve;

typedef enum {
  LC_LIN_CHOLMOD = 0, /* sparse Cholesky (CHOLMOD, supernodal) */
  LC_LIN_PCG = 1,     /* preconditioned CG on the assembled matrix */
  LC_LIN_CG_MATFREE = 2 /* CG on an operator (Hessian-vector products) */
} lc_lin_kind;

typedef enum { LC_PRECOND_JACOBI = 0, LC_PRECOND_BLOCK_JACOBI = 1 } lc_precond;

/* DOFs to eliminate by static condensation (condense.h): components
 * [c0, c1) of the n entities of a variable of dimension dim whose first DOF
 * is off.  n = 0: none. */
typedef struct lc_lin_cond {
  int64_t off;
  int32_t n;
  int dim, c0, c1;
} lc_lin_cond;

/* Options of a linear solve (zero-initialised = defaults). */
typedef struct lc_lin_opts {
  double rtol;       /* CG: stop when |r| <= rtol |b| (default 1e-8) */
  int max_iters;     /* CG: iteration cap (default 1000) */
  lc_precond precond;/* PCG preconditioner (default Jacobi) */
  int block;         /* block size for block-Jacobi (default 3) */
  double reg;        /* shift added to the diagonal: A + reg I (Cholesky, PCG; default 0) */
  lc_lin_cond cond;  /* static condensation before Cholesky or PCG (CPU backend; n = 0: none) */
  int simplicial;    /* lc_linsolve_factor: a simplicial LDL^T factor (no BLAS: quicker
                        solves with a few right-hand sides); default supernodal */
} lc_lin_opts;

/* What a solve did. */
typedef struct lc_lin_stats {
  int iters;          /* CG iterations (0 for Cholesky) */
  double residual;    /* final relative residual |b - A x| / |b| (A unshifted) */
  int analyzed;       /* 1 if this call (re)did the symbolic analysis */
  double reg_used;    /* the diagonal shift finally used (Cholesky may grow it) */
  double t_analyze, t_factor, t_solve; /* seconds (PCG: t_factor = preconditioner) */
} lc_lin_stats;

/* Operator y = A v for matrix-free CG; returns LC_OK or an error code. */
typedef int (*lc_lin_op)(void *user, const double *v, double *y);

/* Creates a solver of the given kind for systems of size n. */
int lc_linsolve_create(lc_lin_kind kind, int64_t n, lc_linsolve **out, lc_error *err);

/* Destroys the solver and frees its factorisation. NULL is a no-op. */
void lc_linsolve_destroy(lc_linsolve *s);

/* Solves A x = b for the assembled SPD (or PSD + shift) matrix A (Cholesky
 * or PCG kinds).  Cholesky reuses the symbolic analysis while A's pattern
 * (rowptr/col pointers and nnz) is unchanged; if the numeric factorisation
 * fails (not positive definite) it retries with a growing diagonal shift
 * (reg, then 1e-8 * max|diag| grown x10, at most 8 times) before failing with
 * LC_ENUMERIC.  x may alias nothing; b is not modified. */
int lc_linsolve_solve(lc_linsolve *s, const lc_csr *A, const double *b, double *x,
                      const lc_lin_opts *o, lc_lin_stats *st, lc_error *err);

/* Solves A x = b with matrix-free CG, A given by op (SPD expected); x holds
 * the initial guess on entry (zero it for none). Diagonal preconditioner
 * diag (n values, may be NULL; entries <= 0 act as 1).  Needs a solver of
 * kind LC_LIN_CG_MATFREE.  Truncated CG (Steihaug-style, no trust region):
 * reaching max_iters returns LC_OK with the inexact iterate; negative
 * curvature p'Ap <= 0 returns LC_ENUMERIC (x unchanged) on the first
 * iteration, and on a later one stops with LC_OK and the current iterate
 * (st->residual > rtol tells).  st->residual is the CG-recurrence residual.
 * The same stopping rules apply to the PCG kind of lc_linsolve_solve. */
int lc_linsolve_cg(lc_linsolve *s, lc_lin_op op, void *user, const double *diag, const double *b,
                   double *x, const lc_lin_opts *o, lc_lin_stats *st, lc_error *err);

/* Factorises A + o->reg I (Cholesky kind only; the shift grows on failure
 * as in lc_linsolve_solve) and keeps the factor for lc_linsolve_backsolve,
 * reusing the symbolic analysis while A's pattern is unchanged.  On failure
 * no factor is kept.  A is borrowed for this call only. */
int lc_linsolve_factor(lc_linsolve *s, const lc_csr *A, const lc_lin_opts *o, lc_lin_stats *st,
                       lc_error *err);

/* Solves A X = B for ncols right-hand sides (column-major, n x ncols) with
 * the kept factor; B and X must not alias.  Fails with LC_EINVAL when no
 * factor is kept (a later lc_linsolve_solve replaces it). */
int lc_linsolve_backsolve(lc_linsolve *s, const double *B, int ncols, double *X, lc_error *err);

/* Forgets the symbolic analysis (the next Cholesky solve redoes it). */
void lc_linsolve_reset(lc_linsolve *s);

#if defined(__cplusplus)
}
#endif

#endif
