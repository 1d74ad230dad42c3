/* compile_check.cu - proves that every energy source and the AD headers
 * compile as CUDA device code: one __global__ kernel per energy instance and
 * AD mode (value, gradient, HVP, Hessian, and residual + Jacobian for
 * residual sources) evaluates the element function and writes its results to
 * global memory.  Nothing calls these kernels; the object only has to build
 * cleanly under --Werror=all-warnings.
 *
 * The file is its own instantiation template: energies/instances.h includes
 * it once per instance with LC_CK_TEMPLATE defined, and that pass emits the
 * kernels of the current instance (one element per thread, elements packed
 * with LC_EN variables each). */
#if !defined(LC_CK_TEMPLATE)

#include <math.h>
#include <stddef.h>

#include "energies/registry.h"
#include "ad/lc_ad.h"

/* Index of this thread's element. */
#define LC_CK_ELEM ((size_t)blockIdx.x * blockDim.x + threadIdx.x)

#define LC_CK_TEMPLATE 1
#define LC_EINST_TEMPLATE "cuda/compile_check.cu"
#include "energies/instances.h"

#else /* ---- the template: kernels of the current instance ---------------- */

#define LC_AD_T lc_ad_p
#include "energies/einst_mode.h"
/* energies: out[e] */
__global__ void LC_CAT(ck_value_, LC_EINST)(const double *x, const double *k, const double *p,
                                           double *out) {
  const size_t e = LC_CK_ELEM;
  out[e] = LC_EFN(LC_EINST)(x + e * LC_EN, k, p);
}
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_g, LC_EN)
#include "energies/einst_mode.h"
/* energy and gradient: out[e * (N + 1) + ...] = [E, g] */
__global__ void LC_CAT(ck_grad_, LC_EINST)(const double *x, const double *k, const double *p,
                                          double *out) {
  const size_t e = LC_CK_ELEM;
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[e * LC_EN + i], i);
  const S r = LC_EFN(LC_EINST)(xs, k, p);
  double *o = out + e * (LC_EN + 1);
  o[0] = r.v;
  for (int i = 0; i < LC_EN; ++i) o[1 + i] = r.g[i];
}
#if LC_ERESID > 0
/* residual and Jacobian: out[e * m * (N + 1) + ...] = [r, J row-major] */
__global__ void LC_CAT(ck_resid_, LC_EINST)(const double *x, const double *k, const double *p,
                                           double *out) {
  const size_t e = LC_CK_ELEM;
  S xs[LC_EN], rs[LC_ERESID];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[e * LC_EN + i], i);
  LC_RFN(LC_EINST)(rs, xs, k, p);
  double *o = out + e * LC_ERESID * (LC_EN + 1);
  for (int i = 0; i < LC_ERESID; ++i) {
    o[i] = rs[i].v;
    for (int j = 0; j < LC_EN; ++j) o[LC_ERESID + i * LC_EN + j] = rs[i].g[j];
  }
}
#endif
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_v, LC_EN)
#include "energies/einst_mode.h"
/* energy, gradient and H v: out[e * (2N + 1) + ...] = [E, g, Hv] */
__global__ void LC_CAT(ck_hvp_, LC_EINST)(const double *x, const double *v, const double *k,
                                         const double *p, double *out) {
  const size_t e = LC_CK_ELEM;
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var_dir(x[e * LC_EN + i], i, v[e * LC_EN + i]);
  const S r = LC_EFN(LC_EINST)(xs, k, p);
  double *o = out + e * (2 * LC_EN + 1);
  o[0] = r.v;
  for (int i = 0; i < LC_EN; ++i) {
    o[1 + i] = r.g[i];
    o[1 + LC_EN + i] = r.dg[i];
  }
}
#undef LC_AD_T

#define LC_AD_T LC_CAT(lc_ad_h, LC_EN)
#include "energies/einst_mode.h"
/* energy, gradient and packed Hessian: out[e * (1 + N + N(N+1)/2) + ...] */
__global__ void LC_CAT(ck_hess_, LC_EINST)(const double *x, const double *k, const double *p,
                                          double *out) {
  const size_t e = LC_CK_ELEM;
  S xs[LC_EN];
  for (int i = 0; i < LC_EN; ++i) xs[i] = s_var(x[e * LC_EN + i], i);
  const S r = LC_EFN(LC_EINST)(xs, k, p);
  double *o = out + e * (1 + LC_EN + LC_TRI_SIZE(LC_EN));
  o[0] = r.v;
  for (int i = 0; i < LC_EN; ++i) o[1 + i] = r.g[i];
  for (int t = 0; t < LC_TRI_SIZE(LC_EN); ++t) o[1 + LC_EN + t] = r.h[t];
}
#undef LC_AD_T

#undef LC_EINST
#undef LC_ESRC
#undef LC_EDIM
#undef LC_EN
#undef LC_ERESID

#endif
