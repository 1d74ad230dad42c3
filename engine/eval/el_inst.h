/* el_inst.h - the shared element loop of one energy instance (no include
 * guard: a backend's instantiation template includes it once per instance,
 * with LC_EINST, LC_ESRC, LC_EDIM, LC_EN and LC_ERESID defined by
 * energies/instances.h).  Host and device code: the CPU backend runs these
 * functions in an OpenMP loop, the CUDA backend in kernels.
 *
 * For the current instance it defines
 *  - the plain-array element kernels elk_{value,grad,hvp,hess,hesscols,
 *    resid}_<inst> (value, gradient, H v, full row-major Hessian, residuals
 *    and Jacobian) used by the element loop and by the host kernel table;
 *  - the element functions el_<mode>_<inst>(t, o, s): gather element s,
 *    seed, evaluate, weight, PSD-project, scatter; they return the weighted
 *    element energy (+inf or NaN for an inadmissible element, which then
 *    scatters nothing);
 *  - the chunk functions elc_<mode>_<inst>(t, o, s0, s1): the sum of the
 *    element energies of [s0, s1) in element order (with LC_EL_BATCH, the
 *    modes through local Hessians take LC_PSD_LANES elements at a time and
 *    project them side by side);
 *  - the passes of the element Hessian cache, el_hvp_store_<inst> (HVP
 *    with the element Hessian packed into t->hc) and el_hvp_use_<inst>
 *    (H v from t->hc only; eval/el_cache.h), with their chunk functions.
 *
 * The Hessian: in Hessian mode the AD scalar carries N(N+1)/2 second
 * derivatives, which for N = 12 makes temporaries too large for a GPU
 * thread's registers (28 KB of stack).  A backend defines
 * LC_EL_HESS_BY_COLUMNS(N) before including this file: when it is true for
 * this instance, the Hessian is assembled column by column from N HVP-mode
 * passes (2N + 2 doubles per scalar) instead; both agree to rounding
 * (tests/test_eval.c).
 *
 * Larger elements: a backend defines LC_EL_BY_COLUMNS(N) true for instances
 * whose vector-mode scalars would not fit its registers at all (N = 24 on
 * the GPU); eval/el_inst_cols.h then provides the kernels from one- and
 * two-derivative passes and element functions that stream their results
 * entry by entry. */
#ifndef LC_EL_HESS_BY_COLUMNS
#define LC_EL_HESS_BY_COLUMNS(n) 0
#endif
#ifndef LC_EL_BY_COLUMNS
#define LC_EL_BY_COLUMNS(n) 0
#endif

#ifndef LC_EL_KFN
#define LC_EL_KFN LC_HD
#endif
/* The parameter pointer the element functions get for term t: its
 * parameters; custom instances (engine/cpu/cpu_custom.c) define it as the
 * term's interpreter context, which begins with them. */
#ifndef LC_EL_P
#define LC_EL_P(t) ((t)->params)
#endif
/* The residual components of term t's elements (of LC_ERESID the instance
 * computes, the rest zero): LC_ERESID for built-ins; custom instances
 * define it from the term's DAG, 0 for an energy DAG. */
#ifndef LC_EL_NRES
#define LC_EL_NRES(t) LC_ERESID
#endif
#include "eval/el_cache.h"

#define LC_EK (LC_EN / LC_EDIM)
#define LC_EL_(name) LC_CAT(name, LC_CAT(_, LC_EINST))

/* ---- plain-array element kernels ---------------------------------------- */

#define LC_AD_T lc_ad_p
#include "energies/einst_mode.h"
/* Energy only. */
LC_HD double LC_EL_(elk_value)(const double *x, const double *k, const double *p) {
  return LC_EFN(LC_EINST)(x, k, p);
}
#undef LC_AD_T

#if LC_EL_BY_COLUMNS(LC_EN)
#include "eval/el_inst_cols.h"
#else
#define LC_AD_T LC_CAT(lc_ad_g, LC_EN)
#include "energies/einst_mode.h"
/* Energy and gradient g[N], forward mode. */
LC_EL_KFN double LC_EL_(elk_grad_fwd)(const double *x, const double *k, const double *p, double *g) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[i], i);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  for (int i = 0; i < LC_EN; ++i) g[i] = e.g[i];
  return e.v;
}

/* Energy and gradient g[N]: the instance's own LC_EL_GRAD_FN(x, k, p, g,
 * &e) where it defines one and that returns 1 (custom energies: a reverse
 * sweep, custom/dag_rev.h), else forward mode. */
LC_EL_KFN double LC_EL_(elk_grad)(const double *x, const double *k, const double *p, double *g) {
#ifdef LC_EL_GRAD_FN
  double e;
  if (LC_EL_GRAD_FN(x, k, p, g, &e)) return e;
#endif
  return LC_EL_(elk_grad_fwd)(x, k, p, g);
}
#if LC_ERESID > 0
/* Residuals r[m] and their row-major Jacobian J[m x N]. */
LC_HD void LC_EL_(elk_resid)(const double *x, const double *k, const double *p, double *r,
                             double *J) {
  S xs[LC_EN], rs[LC_ERESID];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[i], i);
  LC_RFN(LC_EINST)(rs, xs, k, p);
  for (int i = 0; i < LC_ERESID; ++i) {
    r[i] = rs[i].v;
    for (int j = 0; j < LC_EN; ++j) J[i * LC_EN + j] = rs[i].g[j];
  }
}
#endif
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_v, LC_EN)
#include "energies/einst_mode.h"
/* Energy, gradient g[N] and hv[N] = H v. */
LC_EL_KFN double LC_EL_(elk_hvp)(const double *x, const double *v, const double *k, const double *p,
                             double *g, double *hv) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var_dir(x[i], i, v[i]);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  for (int i = 0; i < LC_EN; ++i) {
    g[i] = e.g[i];
    hv[i] = e.dg[i];
  }
  return e.v;
}

/* Pass j of the column-by-column Hessian: the HVP along e_j writes H[i][j]
 * and H[j][i] for i >= j (so passes write disjoint entries and the result
 * is exactly symmetric); g (if not NULL) receives the gradient.  Returns the
 * energy.  Passes may run one after the other (elk_hesscols) or side by
 * side, one per GPU lane (engine/cuda). */
LC_HD double LC_EL_(elk_hesscol)(const double *x, const double *k, const double *p, int j, double *g,
                                 double *H) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var_dir(x[i], i, i == j ? 1.0 : 0.0);
  const S r = LC_EFN(LC_EINST)(xs, k, p);
  if (g)
    for (int i = 0; i < LC_EN; ++i) g[i] = r.g[i];
  for (int i = j; i < LC_EN; ++i) {
    H[i * LC_EN + j] = r.dg[i];
    H[j * LC_EN + i] = r.dg[i];
  }
  return r.v;
}

/* Energy, gradient and the full row-major Hessian from N HVP passes. */
LC_HD double LC_EL_(elk_hesscols)(const double *x, const double *k, const double *p, double *g,
                                  double *H) {
  const double e = LC_EL_(elk_hesscol)(x, k, p, 0, g, H);
  if (!isfinite(e)) return e;
  for (int j = 1; j < LC_EN; ++j) LC_EL_(elk_hesscol)(x, k, p, j, NULL, H);
  return e;
}
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_h, LC_EN)
#include "energies/einst_mode.h"
/* Energy, gradient g[N] and the full row-major Hessian H[N x N]. */
LC_HD double LC_EL_(elk_hess)(const double *x, const double *k, const double *p, double *g,
                              double *H) {
#if LC_EL_HESS_BY_COLUMNS(LC_EN)
  return LC_EL_(elk_hesscols)(x, k, p, g, H);
#else
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[i], i);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  for (int i = 0, t = 0; i < LC_EN; ++i) {
    g[i] = e.g[i];
    for (int j = 0; j <= i; ++j, ++t) {
      H[i * LC_EN + j] = e.h[t];
      H[j * LC_EN + i] = e.h[t];
    }
  }
  return e.v;
#endif
}
#undef LC_AD_T

#endif

/* ---- element functions -------------------------------------------------- */

/* Weighted energy of element s. */
LC_HD double LC_EL_(el_energy)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  double xl[LC_EN];
  const int32_t *en = t->ent + (int64_t)s * LC_EK;
  for (int a = 0, i = 0; a < LC_EK; ++a)
    for (int d = 0; d < LC_EDIM; ++d, ++i) xl[i] = o->x[t->off + (int64_t)en[a] * LC_EDIM + d];
  return t->weight * LC_EL_(elk_value)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t));
}

/* Weighted energy of element s; its weighted gradient added into o->g. */
LC_HD double LC_EL_(el_grad)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  double xl[LC_EN], g[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, NULL, dof, fl);
  const double e = LC_EL_(elk_grad)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t), g);
  if (isfinite(e)) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  return t->weight * e;
}

/* The exact HVP of element s (forward over forward): weighted energy; H v
 * added into o->hv and the gradient into o->g (if o->g). */
LC_HD double LC_EL_(el_hvp_exact)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  double xl[LC_EN], vl[LC_EN], g[LC_EN], hv[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, vl, dof, fl);
  const double e = LC_EL_(elk_hvp)(xl, vl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t), g, hv);
  if (isfinite(e)) {
    for (int i = 0; i < LC_EN; ++i) hv[i] *= t->weight;
    lc_el_scatter_vec(o->hv, LC_EN, 1.0, hv, dof, fl);
    if (o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  }
  return t->weight * e;
}

/* Cache USE pass of element s: its packed matrix times v into o->hv
 * (returns 0: no energy). */
LC_HD double LC_EL_(el_hvp_use)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  double vl[LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_cache_hvp(t, o, s, LC_EK, LC_EDIM, vl, dof, fl);
  return 0.0;
}

#if LC_EL_BY_COLUMNS(LC_EN)
/* HVP mode: these terms are never projected (el_inst_cols.h). */
LC_HD double LC_EL_(el_hvp)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  return LC_EL_(el_hvp_exact)(t, o, s);
}
#else
/* Weighted element Hessian of element s into H, not yet projected;
 * Gauss-Newton (w J^T J) for residual energies when gn.  *proj is set to 1
 * when H still has to be PSD-projected (finite energy, t->project, not
 * Gauss-Newton).  Returns the unweighted energy; g receives the unweighted
 * gradient. */
LC_HD double LC_EL_(el_local_hess_w)(const lc_el_term *t, const double *xl, int32_t s, int gn,
                                     double *g, double *H, int *proj) {
  const double *k = t->consts + (int64_t)s * t->n_const;
  *proj = 0;
#if LC_ERESID > 0
  if (gn && LC_EL_NRES(t) > 0) {
    double r[LC_ERESID], J[LC_ERESID * LC_EN];
    LC_EL_(elk_resid)(xl, k, LC_EL_P(t), r, J);
    return lc_el_gauss_newton(r, J, LC_EL_NRES(t), LC_EN, t->weight, g, H);
  }
#else
  (void)gn;
#endif
  const double e = LC_EL_(elk_hess)(xl, k, LC_EL_P(t), g, H);
  if (isfinite(e)) {
    lc_el_weight(H, LC_EN, t->weight);
    *proj = t->project;
  }
  return e;
}

/* el_local_hess_w, projected (if t->project) on the spot. */
LC_HD double LC_EL_(el_local_hess)(const lc_el_term *t, const double *xl, int32_t s, int gn,
                                   double *g, double *H) {
  int proj;
  const double e = LC_EL_(el_local_hess_w)(t, xl, s, gn, g, H, &proj);
  if (proj) {
    double ws[LC_PSD_ELEM_WS(LC_EK, LC_EDIM)];
    lc_psd_project_elem_ws(H, LC_EK, LC_EDIM, LC_PSD_EPS, ws);
  }
  return e;
}

/* The uses of element s's local Hessian H (weighted, projected as due) with
 * unweighted energy e and gradient g, its gathered direction vl (modes that
 * read one), DOFs and fixed flags.  Each returns the weighted energy and
 * adds nothing for an inadmissible element (e not finite). */

/* Hessian and Gauss-Newton modes: H into o->H through the slots, the
 * gradient into o->g (if o->g). */
LC_HD double LC_EL_(el_use_hess)(const lc_el_term *t, const lc_el_out *o, int32_t s, double e,
                                 const double *g, const double *H, const double *vl,
                                 const int64_t *dof, const uint8_t *fl) {
  (void)vl;
  if (isfinite(e)) {
    lc_el_scatter_hess(o, t->slots + (int64_t)s * LC_EK * LC_EK, LC_EK, LC_EDIM, H, dof, fl);
    if (o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  }
  return t->weight * e;
}

/* Projected HVP mode: H v into o->hv, the gradient into o->g (if o->g). */
LC_HD double LC_EL_(el_use_hvp)(const lc_el_term *t, const lc_el_out *o, int32_t s, double e,
                                const double *g, const double *H, const double *vl,
                                const int64_t *dof, const uint8_t *fl) {
  (void)s;
  if (isfinite(e)) {
    double hv[LC_EN];
    lc_el_matvec(H, vl, LC_EN, hv);
    lc_el_scatter_vec(o->hv, LC_EN, 1.0, hv, dof, fl);
    if (o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  }
  return t->weight * e;
}

/* Cache STORE pass: H packed into the cache (zeros for an inadmissible
 * element, which HVP mode leaves out too); H v from the packed matrix into
 * o->hv (if o->hv), the gradient into o->g (if o->g). */
LC_HD double LC_EL_(el_use_store)(const lc_el_term *t, const lc_el_out *o, int32_t s, double e,
                                  const double *g, const double *H, const double *vl,
                                  const int64_t *dof, const uint8_t *fl) {
  (void)vl;
  const int ok = isfinite(e);
  lc_el_pack(t->hc + (int64_t)s * LC_EL_NPACK(LC_EN), ok ? H : NULL, LC_EN);
  if (ok && o->hv) {
    double vs[LC_EN];
    int64_t vdof[LC_EN];
    uint8_t vfl[LC_EN];
    lc_el_cache_hvp(t, o, s, LC_EK, LC_EDIM, vs, vdof, vfl);
  }
  if (ok && o->g) lc_el_scatter_vec(o->g, LC_EN, t->weight, g, dof, fl);
  return t->weight * e;
}

/* Element s through its local Hessian: gather (with the direction when
 * withv), local Hessian (Gauss-Newton when gn), then use. */
#define LC_EL_LOCAL_(name, use, gn, withv)                                                        \
  LC_HD double LC_EL_(name)(const lc_el_term *t, const lc_el_out *o, int32_t s) {                 \
    double xl[LC_EN], vl[LC_EN], g[LC_EN], H[LC_EN * LC_EN];                                     \
    int64_t dof[LC_EN];                                                                          \
    uint8_t fl[LC_EN];                                                                           \
    lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, (withv) ? vl : NULL, dof, fl);                     \
    const double e = LC_EL_(el_local_hess)(t, xl, s, gn, g, H);                                  \
    return LC_EL_(use)(t, o, s, e, g, H, vl, dof, fl);                                           \
  }
/* Hessian mode. */
LC_EL_LOCAL_(el_hess, el_use_hess, 0, 0)
/* Gauss-Newton mode. */
LC_EL_LOCAL_(el_gn, el_use_hess, 1, 0)
/* The HVP of element s with its projected Hessian. */
LC_EL_LOCAL_(el_hvp_proj, el_use_hvp, 0, 1)
/* Cache STORE pass of element s. */
LC_EL_LOCAL_(el_hvp_store, el_use_store, 0, 0)

/* HVP mode: projected when t->project, else exact. */
LC_HD double LC_EL_(el_hvp)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
  return t->project ? LC_EL_(el_hvp_proj)(t, o, s) : LC_EL_(el_hvp_exact)(t, o, s);
}

/* Residuals and Jacobian rows of element s (residual energies; returns 0). */
LC_HD double LC_EL_(el_jac)(const lc_el_term *t, const lc_el_out *o, int32_t s) {
#if LC_ERESID > 0
  double xl[LC_EN], r[LC_ERESID], J[LC_ERESID * LC_EN];
  int64_t dof[LC_EN];
  uint8_t fl[LC_EN];
  lc_el_gather(t, o, s, LC_EK, LC_EDIM, xl, NULL, dof, fl);
  LC_EL_(elk_resid)(xl, t->consts + (int64_t)s * t->n_const, LC_EL_P(t), r, J);
  lc_el_store_jac(t, o, s, LC_EK, LC_EDIM, LC_EL_NRES(t), r, J, fl);
#else
  (void)t; (void)o; (void)s;
#endif
  return 0.0;
}

#endif

/* ---- chunk functions: sums of element energies in element order ------- */

#define LC_EL_CHUNK_(mode)                                                                    \
  LC_HD double LC_EL_(LC_CAT(elc_, mode))(const lc_el_term *t, const lc_el_out *o, int32_t s0, \
                                          int32_t s1) {                                       \
    double acc = 0.0;                                                                         \
    for (int32_t s = s0; s < s1; ++s) acc += LC_EL_(LC_CAT(el_, mode))(t, o, s);              \
    return acc;                                                                               \
  }
LC_EL_CHUNK_(energy)
LC_EL_CHUNK_(grad)
LC_EL_CHUNK_(jac)
LC_EL_CHUNK_(hvp_use)
#if defined(LC_EL_BATCH) && !LC_EL_BY_COLUMNS(LC_EN) && LC_EN <= LC_PSD_MAXN
/* Chunks through local Hessians, LC_PSD_LANES elements at a time (host
 * loops: a backend defines LC_EL_BATCH): the block's local Hessians first,
 * then their projections side by side (lc_psd_project_batch), then their
 * uses in element order.  Same results as element by element, to the
 * rounding of the eigen-solver. */
#define LC_EL_BLOCK_(name, use, gn, withv)                                                        \
  LC_HD double LC_EL_(name)(const lc_el_term *t, const lc_el_out *o, int32_t s0, int32_t s1) {    \
    double acc = 0.0;                                                                            \
    for (int32_t b0 = s0; b0 < s1; b0 += LC_PSD_LANES) {                                          \
      const int nl = s1 - b0 < LC_PSD_LANES ? (int)(s1 - b0) : LC_PSD_LANES;                      \
      double vl[LC_PSD_LANES][LC_EN], g[LC_PSD_LANES][LC_EN], H[LC_PSD_LANES][LC_EN * LC_EN];      \
      double e[LC_PSD_LANES], *hp[LC_PSD_LANES];                                                   \
      int64_t dof[LC_PSD_LANES][LC_EN];                                                           \
      uint8_t fl[LC_PSD_LANES][LC_EN];                                                            \
      int np = 0;                                                                                  \
      for (int l = 0; l < nl; ++l) {                                                               \
        double xl[LC_EN];                                                                          \
        int proj;                                                                                  \
        lc_el_gather(t, o, b0 + l, LC_EK, LC_EDIM, xl, (withv) ? vl[l] : NULL, dof[l], fl[l]);    \
        e[l] = LC_EL_(el_local_hess_w)(t, xl, b0 + l, gn, g[l], H[l], &proj);                      \
        if (proj) hp[np++] = H[l];                                                                 \
      }                                                                                            \
      if (np) lc_psd_project_batch(hp, np, LC_EK, LC_EDIM, LC_PSD_EPS);                           \
      for (int l = 0; l < nl; ++l)                                                                 \
        acc += LC_EL_(use)(t, o, b0 + l, e[l], g[l], H[l], vl[l], dof[l], fl[l]);                 \
    }                                                                                              \
    return acc;                                                                                    \
  }
LC_EL_BLOCK_(elc_hess, el_use_hess, 0, 0)
LC_EL_BLOCK_(elc_gn, el_use_hess, 1, 0)
LC_EL_BLOCK_(elc_hvp_proj_, el_use_hvp, 0, 1)
LC_EL_BLOCK_(elc_hvp_store, el_use_store, 0, 0)
#undef LC_EL_BLOCK_
LC_EL_CHUNK_(hvp_exact)
/* HVP mode: projected when t->project, else exact. */
LC_HD double LC_EL_(elc_hvp)(const lc_el_term *t, const lc_el_out *o, int32_t s0, int32_t s1) {
  return t->project ? LC_EL_(elc_hvp_proj_)(t, o, s0, s1) : LC_EL_(elc_hvp_exact)(t, o, s0, s1);
}
#else
LC_EL_CHUNK_(hess)
LC_EL_CHUNK_(gn)
LC_EL_CHUNK_(hvp)
LC_EL_CHUNK_(hvp_store)
#endif
#undef LC_EL_CHUNK_
