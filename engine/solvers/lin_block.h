/* lin_block.h - the Jacobi and block-Jacobi preconditioner arithmetic of
 * the linear solvers, written once as host and device code (LC_HD): the
 * inverse of a diagonal entry, the Cholesky inverse of a small SPD block,
 * and the set-up of one diagonal block of A + reg I from CSR rows.  The
 * CPU's PCG (linsolve.c) and the CUDA backend's PCG (cuda/cuda_linsolve.cu)
 * both call these, so the two preconditioners do the same operations in
 * the same order.
 *
 * Workspaces are the caller's: a host caller passes arrays on its stack,
 * a kernel passes slices of shared memory, so no function here holds a
 * block-sized array of its own (a 32 x 32 one would not fit a kernel's
 * stack budget). */
#ifndef LC_LIN_BLOCK_H
#define LC_LIN_BLOCK_H

#include <stdint.h>

#include "ad/lc_ad_base.h"

#define LC_LIN_MAX_BLOCK 32 /* largest block-Jacobi block */

/* Inverse of a usable diagonal entry (1 for a non-positive or bad one). */
LC_HD double lc_lin_inv_diag(double d) { return d > 0.0 && isfinite(d) ? 1.0 / d : 1.0; }

/* Inverts the SPD m x m block B (leading dimension ld) into Bi via Cholesky
 * with workspaces L (m * m) and y (m); returns 0 (Bi untouched) if B is not
 * numerically positive definite. */
LC_HD int lc_lin_invert_block(const double *B, int m, int ld, double *Bi, double *L, double *y) {
  double scale = 0.0;
  for (int i = 0; i < m; ++i) scale = fmax(scale, fabs(B[i * ld + i]));
  for (int j = 0; j < m; ++j)
    for (int i = j; i < m; ++i) {
      double v = B[i * ld + j];
      for (int k = 0; k < j; ++k) v -= L[i * m + k] * L[j * m + k];
      if (i == j) {
        if (!(v > 1e-12 * scale) || !isfinite(v)) return 0;
        L[j * m + j] = sqrt(v);
      } else {
        L[i * m + j] = v / L[j * m + j];
      }
    }
  for (int c = 0; c < m; ++c) { /* column c of B^-1: L y = e_c, L^T x = y */
    for (int i = 0; i < m; ++i) {
      double v = i == c ? 1.0 : 0.0;
      for (int k = 0; k < i; ++k) v -= L[i * m + k] * y[k];
      y[i] = v / L[i * m + i];
    }
    for (int i = m - 1; i >= 0; --i) {
      double v = y[i];
      for (int k = i + 1; k < m; ++k) v -= L[k * m + i] * Bi[k * ld + c];
      Bi[i * ld + c] = v / L[i * m + i];
    }
  }
  return 1;
}

/* Block k (rows k b .. k b + m - 1 of an n x n CSR matrix) of the
 * block-Jacobi preconditioner of A + reg I into Bi (b x b, zero outside
 * the m x m corner); a block that is not positive definite gets the
 * Jacobi inverses of its diagonal.  Workspaces: B (b * b), L (b * b), y (b). */
LC_HD void lc_lin_block_one(const int32_t *rowptr, const int32_t *col, const double *val, int64_t n,
                            int64_t k, int b, double reg, double *B, double *L, double *y,
                            double *Bi) {
  const int64_t r0 = k * b;
  const int m = (int)(r0 + b <= n ? b : n - r0);
  for (int i = 0; i < b * b; ++i) B[i] = 0.0;
  for (int i = 0; i < m; ++i)
    for (int32_t q = rowptr[r0 + i]; q < rowptr[r0 + i + 1]; ++q)
      if (col[q] >= r0 && col[q] < r0 + m) B[i * b + (col[q] - r0)] = val[q];
  for (int i = 0; i < m; ++i) B[i * b + i] += reg;
  for (int i = 0; i < b * b; ++i) Bi[i] = 0.0;
  if (!lc_lin_invert_block(B, m, b, Bi, L, y))
    for (int i = 0; i < m; ++i) Bi[i * b + i] = lc_lin_inv_diag(B[i * b + i]);
}

#endif
