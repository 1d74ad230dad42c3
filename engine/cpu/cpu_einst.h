/* cpu_einst.h - host instantiation template for one energy instance (no
 * include guard; see energies/instances.h for the macros it consumes).
 *
 * Compiles the element source in all four AD modes and wraps each in the
 * uniform lc_elem_kernel interface: variables are seeded from plain arrays,
 * derivatives are copied out, the packed Hessian is expanded to full
 * row-major storage. */

#define LC_AD_T lc_ad_p
#include "energies/einst_mode.h"
/* energy only */
static double LC_CAT(kv_, LC_EINST)(const double *x, const double *k, const double *p) {
  return LC_EFN(LC_EINST)(x, k, p);
}
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_g, LC_EN)
#include "energies/einst_mode.h"
/* energy and gradient */
static double LC_CAT(kg_, LC_EINST)(const double *x, const double *k, const double *p,
                                   double *g) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[i], i);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  for (int i = 0; i < LC_EN; ++i) g[i] = e.g[i];
  return e.v;
}
#if LC_ERESID > 0
/* residual and Jacobian */
static void LC_CAT(kr_, LC_EINST)(const double *x, const double *k, const double *p, double *r,
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
/* energy, gradient and Hessian-vector product */
static double LC_CAT(kh_v_, LC_EINST)(const double *x, const double *v, const double *k,
                                     const double *p, double *g, double *hv) {
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var_dir(x[i], i, v[i]);
  const S e = LC_EFN(LC_EINST)(xs, k, p);
  for (int i = 0; i < LC_EN; ++i) {
    g[i] = e.g[i];
    hv[i] = e.dg[i];
  }
  return e.v;
}
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_h, LC_EN)
#include "energies/einst_mode.h"
/* energy, gradient and full Hessian */
static double LC_CAT(kh_, LC_EINST)(const double *x, const double *k, const double *p,
                                   double *g, double *H) {
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
}
#undef LC_AD_T

static const lc_elem_kernel LC_CAT(kern_, LC_EINST) = {
    LC_CAT(kv_, LC_EINST), LC_CAT(kg_, LC_EINST), LC_CAT(kh_v_, LC_EINST),
    LC_CAT(kh_, LC_EINST),
#if LC_ERESID > 0
    LC_CAT(kr_, LC_EINST)
#else
    0
#endif
};

#undef LC_EINST
#undef LC_ESRC
#undef LC_EDIM
#undef LC_EN
#undef LC_ERESID
