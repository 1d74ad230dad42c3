/* einst_mode.h - the current energy instance in the current AD mode (no
 * include guard).  Shared by every backend's instantiation template: it
 * includes the element source with LC_AD_T already chosen and, for residual
 * sources, derives the energy E = 1/2 |r|^2 from the residual function in the
 * same mode, so that its Hessian is exact (not Gauss-Newton); a source
 * that defines LC_EFN_OWN writes its energy function itself. */
#include LC_ESRC
#if LC_ERESID > 0 && !defined(LC_EFN_OWN)
LC_HD S LC_EFN(LC_EINST)(const S *x, const double *k, const double *p) {
  S r[LC_ERESID];
  LC_RFN(LC_EINST)(r, x, k, p);
  S e = s_sq(r[0]);
  for (int i = 1; i < LC_ERESID; ++i) e = s_add(e, s_sq(r[i]));
  return s_mulc(e, 0.5);
}
#endif
