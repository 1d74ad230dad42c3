/* condense.h - static condensation of a sparse SPD system (a block Schur
 * complement), for Newton-type steps on the CPU.
 *
 * Some problems carry per-entity variables that couple to no other
 * entity's copy of themselves: the 9 matrix entries A_i of an embedded-
 * deformation node appear only in residuals with t_i and the neighbours'
 * translations, so the Gauss-Newton matrix's A-A part is block diagonal
 * (9 x 9 per node).  Eliminating those blocks first, as bundle adjustment
 * eliminates its points, leaves the Schur complement on the remaining DOFs
 * (3 per node instead of 12), which the usual solver factors:
 *
 *   [M  C ] [x_e]   [b_e]      M block diagonal (one m x m block per entity),
 *   [C' K ] [x_k] = [b_k],     S = K - C' M^-1 C,  S x_k = b_k - C' M^-1 b_e,
 *                              x_e = M^-1 (b_e - C x_k).
 *
 * The eliminated DOFs are given by lc_lin_cond (linsolve.h): components
 * [c0, c1) of the n entities of a variable of dimension dim starting at DOF
 * off.  Entries of A between eliminated DOFs of different entities must be
 * zero (the pattern may hold them: the element Hessians of an edge hold
 * both nodes' blocks); a non-zero one is an error naming both DOFs. */
#ifndef LC_CONDENSE_H
#define LC_CONDENSE_H

#include "linsolve.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct lc_condense lc_condense;

/* Creates a condensing solver whose Schur complement is solved with kind
 * (LC_LIN_CHOLMOD or LC_LIN_PCG). */
int lc_condense_create(lc_lin_kind kind, lc_condense **out, lc_error *err);

/* Destroys the solver. NULL is a no-op. */
void lc_condense_destroy(lc_condense *c);

/* Solves (A + o->reg I) x = b by eliminating the DOFs of o->cond (A full
 * symmetric CSR, n x n).  The pattern of the Schur complement and its
 * symbolic analysis are kept while A's pattern and o->cond stay.  Fails
 * with LC_EINVAL for an invalid o->cond or a coupling between eliminated
 * DOFs of different entities, LC_ENUMERIC when an eliminated block is not
 * positive definite or the Schur solve fails as lc_linsolve_solve does;
 * x is then unspecified. */
int lc_condense_solve(lc_condense *c, const lc_csr *A, const double *b, double *x, const lc_lin_opts *o,
                      lc_lin_stats *st, lc_error *err);

#if defined(__cplusplus)
}
#endif

#endif
