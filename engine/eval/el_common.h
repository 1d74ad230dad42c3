/* el_common.h - the instance-independent steps of the shared element loop:
 * gather, scatter through slots, weighting and PSD projection, the
 * Gauss-Newton product and the deterministic chunk sum.  Host and device
 * code (LC_HD); K, D and N are passed as arguments and are compile-time
 * constants at every call site in eval/el_inst.h, so the loops unroll.
 *
 * Fixed DOFs: their gradient, H v and Hessian rows and columns are never
 * written here (the backend sets the identity diagonal afterwards), and
 * their direction components are read as 0. */
#ifndef LC_EL_COMMON_H
#define LC_EL_COMMON_H

#include "ad/lc_psd.h"
#include "eval/el_types.h"

/* Gathers element s of t: local values xl[N] (if xl), direction vl[N] (if
 * o->v and vl), global DOF indices dof[N] and fixed flags fl[N]. */
LC_HD void lc_el_gather(const lc_el_term *t, const lc_el_out *o, int32_t s, int K, int D,
                        double *xl, double *vl, int64_t *dof, uint8_t *fl) {
  const int32_t *en = t->ent + (int64_t)s * K;
  for (int a = 0, i = 0; a < K; ++a)
    for (int d = 0; d < D; ++d, ++i) {
      const int64_t g = t->off + (int64_t)en[a] * D + d;
      dof[i] = g;
      if (xl) xl[i] = o->x[g];
      fl[i] = o->fixed[g];
      if (vl) vl[i] = fl[i] || !o->v ? 0.0 : o->v[g];
    }
}

/* Adds w * local[i] into out[dof[i]] at the free DOFs. */
LC_HD void lc_el_scatter_vec(double *out, int N, double w, const double *local, const int64_t *dof,
                             const uint8_t *fl) {
  for (int i = 0; i < N; ++i)
    if (!fl[i]) out[dof[i]] += w * local[i];
}

/* Adds row r of the row-major N x N element Hessian H into the CSR values
 * through the element's K x K slots (free row, free columns only). */
LC_HD void lc_el_scatter_hess_row(const lc_el_out *o, const int32_t *slots, int K, int D,
                                  const double *H, const int64_t *dof, const uint8_t *fl, int r) {
  const int N = K * D, i = r / D;
  if (fl[r]) return;
  double *row = o->H + o->rowptr[dof[r]];
  const double *hl = H + r * N;
  for (int j = 0; j < K; ++j) {
    double *blk = row + slots[i * K + j];
    for (int b = 0; b < D; ++b)
      if (!fl[j * D + b]) blk[b] += hl[j * D + b];
  }
}

/* Adds h at entry (r, c) of the element Hessian into the CSR values through
 * the element's K x K slots, if row r and column c are both free. */
LC_HD void lc_el_scatter_hess_entry(const lc_el_out *o, const int32_t *slots, int K, int D,
                                    const int64_t *dof, const uint8_t *fl, int r, int c, double h) {
  if (fl[r] || fl[c]) return;
  o->H[o->rowptr[dof[r]] + slots[(r / D) * K + c / D] + c % D] += h;
}

/* Adds the whole element Hessian, row by row. */
LC_HD void lc_el_scatter_hess(const lc_el_out *o, const int32_t *slots, int K, int D,
                              const double *H, const int64_t *dof, const uint8_t *fl) {
  for (int r = 0; r < K * D; ++r) lc_el_scatter_hess_row(o, slots, K, D, H, dof, fl, r);
}

/* Scales the N x N element Hessian by w. */
LC_HD void lc_el_weight(double *H, int N, double w) {
  for (int i = 0; i < N * N; ++i) H[i] *= w;
}

/* Scales the element Hessian by w and PSD-projects it if asked, in the
 * workspace ws of LC_PSD_ELEM_WS(K, D) doubles. */
LC_HD void lc_el_weight_project(double *H, int K, int D, double w, int project, double *ws) {
  lc_el_weight(H, K * D, w);
  if (project) lc_psd_project_elem_ws(H, K, D, LC_PSD_EPS, ws);
}

/* From residuals r[m] and their Jacobian J[m x N]: returns 1/2 |r|^2, the
 * gradient J^T r in g and w J^T J in H (row-major N x N). */
LC_HD double lc_el_gauss_newton(const double *r, const double *J, int m, int N, double w,
                                double *g, double *H) {
  double e = 0.0;
  for (int i = 0; i < m; ++i) e += 0.5 * r[i] * r[i];
  for (int a = 0; a < N; ++a) {
    double ga = 0.0;
    for (int i = 0; i < m; ++i) ga += J[i * N + a] * r[i];
    g[a] = ga;
    for (int b = 0; b <= a; ++b) {
      double h = 0.0;
      for (int i = 0; i < m; ++i) h += J[i * N + a] * J[i * N + b];
      H[a * N + b] = w * h;
      H[b * N + a] = w * h;
    }
  }
  return e;
}

/* Row i of H v for a row-major N x N H. */
LC_HD double lc_el_matvec_row(const double *H, const double *v, int N, int i) {
  double acc = 0.0;
  for (int j = 0; j < N; ++j) acc += H[i * N + j] * v[j];
  return acc;
}

/* hv = H v for a row-major N x N H. */
LC_HD void lc_el_matvec(const double *H, const double *v, int N, double *hv) {
  for (int i = 0; i < N; ++i) hv[i] = lc_el_matvec_row(H, v, N, i);
}

/* Order of the K entities of an element, ascending: ord[q] = local index
 * (insertion sort; K <= 4). */
LC_HD void lc_el_entity_order(const int32_t *ent, int K, int *ord) {
  for (int a = 0; a < K; ++a) ord[a] = a;
  for (int a = 1; a < K; ++a)
    for (int b = a; b > 0 && ent[ord[b]] < ent[ord[b - 1]]; --b) {
      const int tmp = ord[b];
      ord[b] = ord[b - 1];
      ord[b - 1] = tmp;
    }
}

/* Writes the weighted residuals and Jacobian rows of element s (entities
 * en) of t: rows res_row0 + perm[s] * m + i, columns in ascending entity
 * order, zero for fixed DOFs. */
LC_HD void lc_el_store_jac(const lc_el_term *t, const lc_el_out *o, int32_t s, int K, int D, int m,
                           const double *rl, const double *J, const uint8_t *fl) {
  const int N = K * D;
  const int32_t *en = t->ent + (int64_t)s * K;
  int ord[LC_ENERGY_MAX_K];
  lc_el_entity_order(en, K, ord);
  const double sw = sqrt(t->weight);
  for (int i = 0; i < m; ++i) {
    const int64_t row = t->res_row0 + (int64_t)t->perm[s] * m + i;
    if (o->r) o->r[row] = sw * rl[i];
    double *val = o->J + o->jrowptr[row];
    for (int q = 0; q < K; ++q)
      for (int d = 0; d < D; ++d) {
        const int li = ord[q] * D + d;
        *val++ = fl[li] ? 0.0 : sw * J[i * N + li];
      }
  }
}

#endif
