/* lc_ad_bind.h - the short vocabulary energies are written in.
 *
 * Energy sources never name a concrete AD type.  They use the scalar type S,
 * the vector and matrix types V2, V3, M2, M3 and the operations s_*, v2_*,
 * v3_*, m2_*, m3_* below.  Each name expands, lazily, to the function of the
 * AD type currently named by LC_AD_T (lc_ad_p, lc_ad_g9, lc_ad_h12, ...), so
 * one source is instantiated for every mode by redefining LC_AD_T and
 * including the source again.
 *
 * These macros are short on purpose; include this header only after every
 * system header of the translation unit. */
#ifndef LC_AD_BIND_H
#define LC_AD_BIND_H

#include "lc_ad_base.h"

#define LC_F(op) LC_CAT(LC_AD_T, LC_CAT(_, op))

/* Name of the element function of energy `name` in the current mode. */
#define LC_EFN(name) LC_CAT(lc_e_, LC_CAT(name, LC_CAT(_, LC_AD_T)))
/* Name of the residual function of a residual energy in the current mode. */
#define LC_RFN(name) LC_CAT(lc_r_, LC_CAT(name, LC_CAT(_, LC_AD_T)))

#define S LC_AD_T
#define V2 LC_F(v2)
#define V3 LC_F(v3)
#define M2 LC_F(m2)
#define M3 LC_F(m3)

/* scalars */
#define s_c LC_F(c)
#define s_v LC_F(v)
#define s_var LC_F(var)
#define s_var_dir LC_F(var_dir)
#define s_add LC_F(add)
#define s_sub LC_F(sub)
#define s_mul LC_F(mul)
#define s_div LC_F(div)
#define s_neg LC_F(neg)
#define s_addc LC_F(addc)
#define s_subc LC_F(subc)
#define s_csub LC_F(csub)
#define s_mulc LC_F(mulc)
#define s_divc LC_F(divc)
#define s_cdiv LC_F(cdiv)
#define s_unary LC_F(unary)
#define s_mode LC_F(mode)
#define s_dir LC_F(dir)
#define s_jet LC_F(jet)
#define s_sqrt LC_F(sqrt)
#define s_cbrt LC_F(cbrt)
#define s_exp LC_F(exp)
#define s_log LC_F(log)
#define s_powc LC_F(powc)
#define s_pow LC_F(pow)
#define s_sin LC_F(sin)
#define s_cos LC_F(cos)
#define s_tan LC_F(tan)
#define s_asin LC_F(asin)
#define s_acos LC_F(acos)
#define s_atan LC_F(atan)
#define s_atan2 LC_F(atan2)
#define s_sinh LC_F(sinh)
#define s_cosh LC_F(cosh)
#define s_tanh LC_F(tanh)
#define s_abs LC_F(abs)
#define s_min LC_F(min)
#define s_max LC_F(max)
#define s_hypot LC_F(hypot)
#define s_sq LC_F(sq)
#define s_recip LC_F(recip)
#define s_lt LC_F(lt)
#define s_le LC_F(le)
#define s_gt LC_F(gt)
#define s_ge LC_F(ge)
#define s_isfinite LC_F(isfinite)

/* 2-vectors */
#define v2_make LC_F(v2_make)
#define v2_c LC_F(v2_c)
#define v2_add LC_F(v2_add)
#define v2_sub LC_F(v2_sub)
#define v2_neg LC_F(v2_neg)
#define v2_scale LC_F(v2_scale)
#define v2_scalec LC_F(v2_scalec)
#define v2_dot LC_F(v2_dot)
#define v2_cross LC_F(v2_cross)
#define v2_sqnorm LC_F(v2_sqnorm)
#define v2_norm LC_F(v2_norm)
#define v2_normalize LC_F(v2_normalize)

/* complex numbers as 2-vectors */
#define cx_mul LC_F(cx_mul)
#define cx_mulc LC_F(cx_mulc)
#define cx_sq LC_F(cx_sq)

/* 3-vectors */
#define v3_make LC_F(v3_make)
#define v3_c LC_F(v3_c)
#define v3_add LC_F(v3_add)
#define v3_sub LC_F(v3_sub)
#define v3_neg LC_F(v3_neg)
#define v3_scale LC_F(v3_scale)
#define v3_scalec LC_F(v3_scalec)
#define v3_dot LC_F(v3_dot)
#define v3_dotc LC_F(v3_dotc)
#define v3_cross LC_F(v3_cross)
#define v3_sqnorm LC_F(v3_sqnorm)
#define v3_norm LC_F(v3_norm)
#define v3_normalize LC_F(v3_normalize)
#define v3_d2_form LC_F(v3_d2_form)

/* 2x2 matrices (row-major m[r][c]) */
#define m2_make LC_F(m2_make)
#define m2_c LC_F(m2_c)
#define m2_cols LC_F(m2_cols)
#define m2_col LC_F(m2_col)
#define m2_add LC_F(m2_add)
#define m2_sub LC_F(m2_sub)
#define m2_scale LC_F(m2_scale)
#define m2_mul LC_F(m2_mul)
#define m2_mulc LC_F(m2_mulc)
#define m2_mulv LC_F(m2_mulv)
#define m2_T LC_F(m2_T)
#define m2_det LC_F(m2_det)
#define m2_inv LC_F(m2_inv)
#define m2_tr LC_F(m2_tr)
#define m2_sqfro LC_F(m2_sqfro)
#define m2_fro LC_F(m2_fro)
#define m2_rot LC_F(m2_rot)

/* 3x3 matrices (row-major m[r][c]) */
#define m3_make LC_F(m3_make)
#define m3_c LC_F(m3_c)
#define m3_cols LC_F(m3_cols)
#define m3_col LC_F(m3_col)
#define m3_add LC_F(m3_add)
#define m3_sub LC_F(m3_sub)
#define m3_scale LC_F(m3_scale)
#define m3_mul LC_F(m3_mul)
#define m3_mulc LC_F(m3_mulc)
#define m3_mulv LC_F(m3_mulv)
#define m3_T LC_F(m3_T)
#define m3_det LC_F(m3_det)
#define m3_inv LC_F(m3_inv)
#define m3_tr LC_F(m3_tr)
#define m3_sqfro LC_F(m3_sqfro)
#define m3_fro LC_F(m3_fro)
#define m3_rot LC_F(m3_rot)

/* triangle deformation */
#define tri2_edges LC_F(tri2_edges)
#define tri3_deformation LC_F(tri3_deformation)

#endif
