/* el_cache.h - the element steps of the Hessian cache (lc_eval_req.cache,
 * backend.h): packing an element's weighted local Hessian into N(N+1)/2
 * doubles (upper triangle, row by row) and the product of a packed matrix
 * with the gathered local direction, added into H v at the element's free
 * DOFs.  Host and device code (LC_HD): the CPU's OpenMP loop and the CUDA
 * kernels call these very functions (through eval/el_inst.h, where K and D
 * are compile-time constants, so the loops unroll).
 *
 * Fixed DOFs as in HVP mode: their direction components are read as 0 and
 * their rows of H v are not written (the backend sets hv_i = v_i). */
#ifndef LC_EL_CACHE_H
#define LC_EL_CACHE_H

#include "ad/lc_ad_base.h"
#include "eval/el_types.h"
#include "eval/el_common.h"

/* Doubles of one packed N x N element matrix. */
#define LC_EL_NPACK(N) ((N) * ((N) + 1) / 2)

/* Position of the diagonal entry of row r in a packed N x N matrix. */
LC_HD int lc_el_pack_row0(int N, int r) { return r * N - r * (r - 1) / 2; }

/* Writes entries r..N-1 of row r of the row-major N x N H into the packed
 * P (zeros when H is NULL). */
LC_HD void lc_el_pack_row(double *P, const double *H, int N, int r) {
  double *row = P + lc_el_pack_row0(N, r);
  for (int j = r; j < N; ++j) row[j - r] = H ? H[r * N + j] : 0.0;
}

/* Packs the upper triangle of the row-major N x N H into P (H NULL: zeros). */
LC_HD void lc_el_pack(double *P, const double *H, int N) {
  for (int r = 0; r < N; ++r) lc_el_pack_row(P, H, N, r);
}

/* Row i of P v for the packed symmetric P, columns in ascending order (the
 * order of lc_el_matvec_row on the full matrix, so both agree bit for bit). */
LC_HD double lc_el_packed_row(const double *P, const double *v, int N, int i) {
  double acc = 0.0;
  for (int j = 0; j < i; ++j) acc += P[lc_el_pack_row0(N, j) + i - j] * v[j];
  const double *row = P + lc_el_pack_row0(N, i);
  for (int j = i; j < N; ++j) acc += row[j - i] * v[j];
  return acc;
}

/* Adds P v of element s into o->hv at its free DOFs, P being the element's
 * packed matrix in t->hc: the one product of the cache (STORE and USE).
 * vl, dof, fl: the caller's scratch of N = K * D entries (sized by the
 * instance, so a GPU thread's stack holds no more than its element needs). */
LC_HD void lc_el_cache_hvp(const lc_el_term *t, const lc_el_out *o, int32_t s, int K, int D,
                           double *vl, int64_t *dof, uint8_t *fl) {
  const int N = K * D;
  lc_el_gather(t, o, s, K, D, NULL, vl, dof, fl); /* the direction only */
  const double *P = t->hc + (int64_t)s * LC_EL_NPACK(N);
  for (int i = 0; i < N; ++i)
    if (!fl[i]) o->hv[dof[i]] += lc_el_packed_row(P, vl, N, i);
}

#endif
