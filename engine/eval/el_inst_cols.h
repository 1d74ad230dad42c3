/* el_inst_cols.h - the column-by-column element kernels and the streamed
 * element functions of one large energy instance (no include guard:
 * included by eval/el_inst.h when LC_EL_BY_COLUMNS(LC_EN) is true).
 *
 * Vector-mode AD carries N derivatives per scalar; for N = 24 (an edge of
 * two 12-component nodes) an HVP scalar is 400 bytes and the element's
 * inputs alone overflow a GPU thread's registers.  Here every pass carries
 * one or two directional derivatives instead:
 *  - lc_ad_g1 seeded along e_j gives column j of the gradient or of the
 *    residual Jacobian (N passes);
 *  - lc_ad_v1, a hyper-dual number seeded along e_a and a direction u, gives
 *    dE/dx_a and (H u)_a: with u = v the HVP (N passes), with u = e_b the
 *    Hessian entry H_ab (N(N+1)/2 passes).
 * The element functions stream their results to the global outputs entry by
 * entry, so no N x N matrix is ever held: per thread, O(N) doubles.  They
 * compute what el_inst.h's vector-mode functions compute, to rounding
 * (tests/test_el_cols.c runs both on the CPU).  PSD projection needs the
 * whole element matrix: terms of more than LC_PSD_MAXN local variables are
 * never projected (engine/problem.c), so HVP mode is the exact HVP
 * (el_inst.h). */

/* ---- plain-array element kernels ---------------------------------------- */

#define LC_AD_T lc_ad_g1
#include "energies/einst_mode.h"
/* Local values x with variable j seeded (one derivative). */
LC_HD void LC_EL_(cols_seed1)(const double *x, int j, S *xs) {
  for (int i = 0; i < LC_EN; ++i) xs[i] = i == j ? s_var(x[i], 0) : s_c(x[i]);
}

/* Energy; *dj = dE/dx_j. */
LC_HD double LC_EL_(elk_dcol)(const double *x, const double *k, const double *p, int j, double *dj) {
  S xs[LC_EN];
  LC_EL_(cols_seed1)(x, j, xs);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  *dj = e.g[0];
  return e.v;
}

/* Energy and gradient g[N], from N passes. */
LC_EL_KFN double LC_EL_(elk_grad)(const double *x, const double *k, const double *p, double *g) {
  double e = 0.0;
  for (int j = 0; j < LC_EN; ++j) {
    const double ej = LC_EL_(elk_dcol)(x, k, p, j, &g[j]);
    if (j == 0) e = ej;
    if (!isfinite(e)) return e;
  }
  return e;
}

#if LC_ERESID > 0
/* Residuals r[m] and column j of their Jacobian, Jc[m]. */
LC_HD void LC_EL_(elk_rcol)(const double *x, const double *k, const double *p, int j, double *r,
                            double *Jc) {
  S xs[LC_EN], rs[LC_ERESID];
  LC_EL_(cols_seed1)(x, j, xs);
  LC_RFN(LC_EINST)(rs, xs, k, p);
  for (int i = 0; i < LC_ERESID; ++i) {
    r[i] = rs[i].v;
    Jc[i] = rs[i].g[0];
  }
}

/* Residuals r[m] and their row-major Jacobian J[m x N], column by column. */
LC_HD void LC_EL_(elk_resid)(const double *x, const double *k, const double *p, double *r,
                             double *J) {
  double Jc[LC_ERESID];
  for (int j = 0; j < LC_EN; ++j) {
    LC_EL_(elk_rcol)(x, k, p, j, r, Jc);
    for (int i = 0; i < LC_ERESID; ++i) J[i * LC_EN + j] = Jc[i];
  }
}
#endif
#undef LC_AD_T

#define LC_AD_T lc_ad_v1
#include "energies/einst_mode.h"
/* The hyper-dual pass along e_a and u (u = v when v, else e_b): energy;
 * *ga = dE/dx_a, *hu = (H u)_a. */
LC_HD double LC_EL_(elk_dual)(const double *x, const double *v, int b, const double *k,
                              const double *p, int a, double *ga, double *hu) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) {
    xs[i] = i == a ? s_var(x[i], 0) : s_c(x[i]);
    xs[i].d = v ? v[i] : (i == b ? 1.0 : 0.0);
  }
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  *ga = e.g[0];
  *hu = e.dg[0];
  return e.v;
}

/* Energy, gradient g[N] and hv[N] = H v, from N passes. */
LC_EL_KFN double LC_EL_(elk_hvp)(const double *x, const double *v, const double *k, const double *p,
                                 double *g, double *hv) {
  double e = 0.0;
  for (int a = 0; a < LC_EN; ++a) {
    const double ea = LC_EL_(elk_dual)(x, v, 0, k, p, a, &g[a], &hv[a]);
    if (a == 0) e = ea;
    if (!isfinite(e)) return e;
  }
  return e;
}

/* Pass j of the column-by-column Hessian (as in el_inst.h): H[i][j] and
 * H[j][i] for i >= j; g (if not NULL) receives the gradient (then every
 * entry g[i] is written from its pass, and g[0..j) from extra passes). */
LC_HD double LC_EL_(elk_hesscol)(const double *x, const double *k, const double *p, int j, double *g,
                                 double *H) {
  double e = 0.0, gi, h;
  for (int i = g ? 0 : j; i < LC_EN; ++i) {
    const double ei = LC_EL_(elk_dual)(x, NULL, j, k, p, i, &gi, &h);
    if (i == (g ? 0 : j)) e = ei;
    if (!isfinite(e)) return e;
    if (g) g[i] = gi;
    if (i >= j) {
      H[i * LC_EN + j] = h;
      H[j * LC_EN + i] = h;
    }
  }
  return e;
}
#undef LC_AD_T

/* Energy, gradient and the full row-major Hessian (N(N+1)/2 + N passes). */
LC_HD double LC_EL_(elk_hesscols)(const double *x, const double *k, const double *p, double *g,
                                  double *H) {
  const double e = LC_EL_(elk_hesscol)(x, k, p, 0, g, H);
  if (!isfinite(e)) return e;
  for (int j = 1; j < LC_EN; ++j) LC_EL_(elk_hesscol)(x, k, p, j, NULL, H);
  return e;
}

/* Energy, gradient and the full row-major Hessian. */
LC_HD double LC_EL_(elk_hess)(const double *x, const double *k, const double *p, double *g,
                              double *H) {
  return LC_EL_(elk_hesscols)(x, k, p, g, H);
}

/* ---- streamed element functions ----------------------------------------- */

/* Entry (a, b), b >= a, of the element matrix of element s, unweighted: the
 * Gauss-Newton product J_a . J_b when gn (Ja: column a, already computed),
 * else the exact H_ab; *ga receives dE/dx_a when b == a. */
LC_HD double LC_EL_(cols_entry)(const lc_el_term *t, const double *xl, int32_t s, int gn,
                                const double *Ja, const double *rl, int a, int b, double *ga) {
  const double *k = t->consts + (int64_t)s * t->n_const;
  double h = 0.0;
#if LC_ERESID > 0
  if (gn && LC_EL_NRES(t) > 0) {
    double r[LC_ERESID], Jb[LC_ERESID];
    LC_EL_(elk_rcol)(xl, k, LC_EL_P(t), b, r, Jb);
    for (int i = 0; i < LC_ERESID; ++i) h += Ja[i] * Jb[i];
    if (b == a) {
      double gsum = 0.0;
      for (int i = 0; i < LC_ERESID; ++i) gsum += Ja[i] * rl[i];
      *ga = gsum;
    }
    return h;
  }
#else
  (void)gn; (void)Ja; (void)rl;
#endif
  double gv;
  LC_EL_(elk_dual)(xl, NULL, b, k, LC_EL_P(t), a, &gv, &h);
  if (b == a) *ga = gv;
  return h;
}

/* Walks the upper triangle of element s's weighted matrix (exact Hessian,
 * or Gauss-Newton when gn), row by row: entry (a, b) goes to the Hessian
 * (o->H through the slots, both triangles) when hess, to the packed cache
 * t->hc when store; the unweighted gradient to g.  The energy must be
 * finite (the caller checks). */
LC_HD void LC_EL_(cols_walk)(const lc_el_term *t, const lc_el_out *o, int32_t s, int gn, int hess,
                             int store, const double *xl, const int64_t *dof, const uint8_t *fl,
                             double *g) {
  double Ja[LC_ERESID > 0 ? LC_ERESID : 1], rl[LC_ERESID > 0 ? LC_ERESID : 1];
  const int32_t *slots = t->slots + (int64_t)s * LC_EK * LC_EK;
  double *P = store ? t->hc + (int64_t)s * LC_EL_NPACK(LC_EN) : NULL;
  for (int a = 0; a < LC_EN; ++a) {
#if LC_ERESID > 0
    if (gn && LC_EL_NRES(t) > 0) LC_EL_(elk_rcol)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t), a, rl, Ja);
#endif
    for (int b = a; b < LC_EN; ++b) {
      const double h = t->weight * LC_EL_(cols_entry)(t, xl, s, gn, Ja, rl, a, b, &g[a]);
      if (P) P[lc_el_pack_row0(LC_EN, a) + b - a] = h;
      if (!hess) continue;
      lc_el_scatter_hess_entry(o, slots, LC_EK, LC_EDIM, dof, fl, a, b, h);
      if (b != a) lc_el_scatter_hess_entry(o, slots, LC_EK, LC_EDIM, dof, fl, b, a, h);
    }
  }
}

/* Weighted energy of element s; its Hessian (Gauss-Newton when gn) added
 * into o->H through the slots and its gradient into o->g (if o->g). */
LC_HD double LC_EL_(el_hess_gn)(const lc_el_term *t, const lc_el_out *o, int32_t s, int gn) {
  double xl[LC_EN], g[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, NULL, dof, fl);
  const double e = LC_EL_(elk_value)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t));
  if (isfinite(e)) {
    LC_EL_(cols_walk)(t, o, s, gn, 1, 0, xl, dof, fl, g);
    if (o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  }
  return t->weight * e;
}

/* Hessian mode. */
LC_HD double LC_EL_(el_hess)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  return LC_EL_(el_hess_gn)(t, o, s, 0);
}

/* Gauss-Newton mode. */
LC_HD double LC_EL_(el_gn)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  return LC_EL_(el_hess_gn)(t, o, s, 1);
}

/* Cache STORE pass of element s (as in el_inst.h): the weighted exact
 * Hessian packed into the cache entry by entry (zeros for an inadmissible
 * element); H v from it into o->hv (if o->hv), the gradient into o->g. */
LC_HD double LC_EL_(el_hvp_store)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  double xl[LC_EN], g[LC_EN], vl[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, NULL, dof, fl);
  const double e = LC_EL_(elk_value)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t));
  const int ok = isfinite(e);
  if (ok) LC_EL_(cols_walk)(t, o, s, 0, 0, 1, xl, dof, fl, g);
  else lc_el_pack(t->hc + (int64_t)s * LC_EL_NPACK(LC_EN), NULL, LC_EN);
  if (ok && o->hv) {
    int64_t vdof[LC_EN];
    uint8_t vfl[LC_EN];
    lc_el_cache_hvp(t, o, s, LC_EK, LC_EDIM, vl, vdof, vfl);
  }
  if (ok && o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  return t->weight * e;
}

/* Residuals and Jacobian rows of element s, column by column into the
 * Jacobian's CSR values (residual energies; returns 0). */
LC_HD double LC_EL_(el_jac)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
#if LC_ERESID > 0
  double xl[LC_EN], r[LC_ERESID], Jc[LC_ERESID];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  int ord[LC_ENERGY_MAX_K];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, NULL, dof, fl);
  lc_el_entity_order(t->ent + (int64_t)s * LC_EK, LC_EK, ord);
  const double sw = sqrt(t->weight);
  const int64_t row0 = t->res_row0 + (int64_t)t->perm[s] * LC_ERESID;
  for (int q = 0; q < LC_EK; ++q)
    for (int d = 0; d < LC_EDIM; ++d) {
      const int li = ord[q] * LC_EDIM + d;
      LC_EL_(elk_rcol)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t), li, r, Jc);
      for (int i = 0; i < LC_ERESID; ++i)
        o->J[o->jrowptr[row0 + i] + q * LC_EDIM + d] = fl[li] ? 0.0 : sw * Jc[i];
    }
  for (int i = 0; o->r && i < LC_ERESID; ++i) o->r[row0 + i] = sw * r[i];
#else
  (void)t; (void)o; (void)s;
#endif
  return 0.0;
}
