/* lc_rot.h - rotational part of a 3x3 matrix, host and device, passive doubles.
 *
 * Implements "A Robust Method to Extract the Rotational Part of Deformations"
 * (Mueller, Bender, Chentanez, Macklin, MIG 2016): the rotation R(q) of a
 * unit quaternion q is improved by gradient ascent on tr(R^T A),
 *   omega = sum_i r_i x a_i / (|sum_i r_i . a_i| + 1e-9),   q <- exp(omega) q,
 * (r_i, a_i the columns of R and A) until |omega| < LC_ROT_TOL or max_iter
 * updates were made.  It warm-starts from the caller's q (typically the
 * previous step's result), converges for inverted (det A < 0) and degenerate
 * (rank 0, 1, 2) matrices to a valid rotation, and always returns a unit
 * quaternion.  For full-rank A the fixed point is the rotation of the polar
 * decomposition A = R P with R in SO(3) (for det A < 0: the rotation closest
 * to A, i.e. U diag(1, 1, -1) V^T of the SVD).
 *
 * Two small deviations from the paper, both documented at the code: A is
 * normalised by its Frobenius norm first (so the paper's absolute 1e-9
 * constants become scale-free), and one update turns by at most pi/2, which
 * only matters far from the optimum where the curvature estimate |tr(R^T A)|
 * is meaningless (near 0) and would otherwise produce an arbitrary turn.
 *
 * Quaternions are stored (w, x, y, z); matrices row-major.  Everything is
 * static inline and LC_HD (gcc C11 and nvcc), no allocation, math.h only.
 * Identifiers avoid the short AD vocabulary of lc_ad_bind.h (S, V3, s_*, ...)
 * so this header may be included before or after it. */
#ifndef LC_ROT_H
#define LC_ROT_H

#include "lc_ad_base.h"

/* Early exit: stop once the update angle (of the normalised A) is below this. */
#ifndef LC_ROT_TOL
#define LC_ROT_TOL 1e-13
#endif

/* R = rotation matrix (row-major) of quaternion q = (w, x, y, z); q need not be unit. */
LC_HD void lc_quat_to_mat3(const double q[4], double R[9]) {
  const double n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  const double s = n2 > 0.0 ? 2.0 / n2 : 0.0;
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  R[0] = 1.0 - s * (y * y + z * z);
  R[1] = s * (x * y - w * z);
  R[2] = s * (x * z + w * y);
  R[3] = s * (x * y + w * z);
  R[4] = 1.0 - s * (x * x + z * z);
  R[5] = s * (y * z - w * x);
  R[6] = s * (x * z - w * y);
  R[7] = s * (y * z + w * x);
  R[8] = 1.0 - s * (x * x + y * y);
}

/* Normalises q in place; a zero or non-finite q becomes the identity (1, 0, 0, 0). */
LC_HD void lc_quat_normalize(double q[4]) {
  const double n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  if (!(n2 > 1e-200) || !isfinite(n2)) {
    q[0] = 1.0; q[1] = q[2] = q[3] = 0.0;
    return;
  }
  const double in = 1.0 / sqrt(n2);
  for (int i = 0; i < 4; ++i) q[i] *= in;
}

/* q <- exp(omega) q: left-multiplies q by the rotation of angle |omega| about omega. */
LC_HD void lc_quat_rotate_by(double q[4], const double omega[3], double angle) {
  const double half = 0.5 * angle, sh = sin(half) / angle;
  const double dw = cos(half), dx = sh * omega[0], dy = sh * omega[1], dz = sh * omega[2];
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  q[0] = dw * w - dx * x - dy * y - dz * z;
  q[1] = dw * x + dx * w + dy * z - dz * y;
  q[2] = dw * y - dx * z + dy * w + dz * x;
  q[3] = dw * z + dx * y - dy * x + dz * w;
}

/* Frobenius norm of a 3x3 matrix (0 when any entry is non-finite). */
LC_HD double lc_rot3_fro_(const double A[9]) {
  double s = 0.0;
  for (int i = 0; i < 9; ++i) s += A[i] * A[i];
  return isfinite(s) ? sqrt(s) : 0.0;
}

/* As lc_rot3_extract; returns the number of quaternion updates made (0..max_iter). */
LC_HD int lc_rot3_extract_iters(const double A[9], double q[4], int max_iter) {
  lc_quat_normalize(q);
  const double fro = lc_rot3_fro_(A);
  if (!(fro > 1e-300)) return 0; /* zero or non-finite A: every rotation is as good */
  const double ia = 1.0 / fro;
  for (int it = 0; it < max_iter; ++it) {
    double R[9], num[3] = {0.0, 0.0, 0.0}, den = 0.0;
    lc_quat_to_mat3(q, R);
    for (int c = 0; c < 3; ++c) { /* sum over columns of r_c x a_c and r_c . a_c */
      const double r0 = R[c], r1 = R[3 + c], r2 = R[6 + c];
      const double a0 = A[c] * ia, a1 = A[3 + c] * ia, a2 = A[6 + c] * ia;
      num[0] += r1 * a2 - r2 * a1;
      num[1] += r2 * a0 - r0 * a2;
      num[2] += r0 * a1 - r1 * a0;
      den += r0 * a0 + r1 * a1 + r2 * a2;
    }
    const double k = 1.0 / (fabs(den) + 1e-9);
    const double omega[3] = {num[0] * k, num[1] * k, num[2] * k};
    const double w = sqrt(omega[0] * omega[0] + omega[1] * omega[1] + omega[2] * omega[2]);
    if (!(w >= LC_ROT_TOL)) return it; /* converged (or NaN: keep q) */
    /* Deviation from the paper: turn by at most pi/2 per update. */
    const double angle = w < 1.5707963267948966 ? w : 1.5707963267948966;
    const double dir[3] = {omega[0] * angle / w, omega[1] * angle / w, omega[2] * angle / w};
    lc_quat_rotate_by(q, dir, angle);
    lc_quat_normalize(q);
  }
  return max_iter;
}

/* Rotational part of A (row-major): q (w,x,y,z) is the initial guess on entry
 * (zero/non-finite -> identity) and the unit-quaternion result on exit. */
LC_HD void lc_rot3_extract(const double A[9], double q[4], int max_iter) {
  (void)lc_rot3_extract_iters(A, q, max_iter);
}

#endif
