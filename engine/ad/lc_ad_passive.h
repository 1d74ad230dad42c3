/* lc_ad_passive.h - the passive "AD" type lc_ad_p: a plain double.
 *
 * Energies instantiated with LC_AD_T = lc_ad_p evaluate the value only, at
 * the cost of ordinary floating-point code.  The operation set mirrors
 * lc_ad_def.h exactly so that one energy source serves every mode. */
#ifndef LC_AD_PASSIVE_H
#define LC_AD_PASSIVE_H

#include "lc_ad_bind.h"

typedef double lc_ad_p;

#define LC_AD_T lc_ad_p

LC_HD double lc_ad_p_c(double x) { return x; }
LC_HD double lc_ad_p_var_dir(double x, int i, double dir) { (void)i; (void)dir; return x; }
LC_HD double lc_ad_p_var(double x, int i) { (void)i; return x; }
LC_HD double lc_ad_p_v(double a) { return a; }
LC_HD double lc_ad_p_add(double a, double b) { return a + b; }
LC_HD double lc_ad_p_sub(double a, double b) { return a - b; }
LC_HD double lc_ad_p_mul(double a, double b) { return a * b; }
LC_HD double lc_ad_p_div(double a, double b) { return a / b; }
LC_HD double lc_ad_p_neg(double a) { return -a; }
LC_HD double lc_ad_p_addc(double a, double c) { return a + c; }
LC_HD double lc_ad_p_subc(double a, double c) { return a - c; }
LC_HD double lc_ad_p_csub(double c, double a) { return c - a; }
LC_HD double lc_ad_p_mulc(double a, double c) { return a * c; }
LC_HD double lc_ad_p_divc(double a, double c) { return a / c; }
LC_HD double lc_ad_p_cdiv(double c, double a) { return c / a; }
LC_HD double lc_ad_p_recip(double a) { return 1.0 / a; }
LC_HD double lc_ad_p_sq(double a) { return a * a; }
LC_HD double lc_ad_p_sqrt(double a) { return sqrt(a); }
LC_HD double lc_ad_p_cbrt(double a) { return cbrt(a); }
LC_HD double lc_ad_p_exp(double a) { return exp(a); }
LC_HD double lc_ad_p_log(double a) { return log(a); }
/* f(a) given f(a), f'(a), f''(a): the value (as the AD types' unary). */
LC_HD double lc_ad_p_unary(const double *a, double f0, double f1, double f2) {
  (void)a;
  (void)f1;
  (void)f2;
  return f0;
}
/* The passive mode, no direction, and a jet's value (as lc_ad_def.h). */
LC_HD int lc_ad_p_mode(void) { return LC_AD_PASSIVE; }
LC_HD double lc_ad_p_dir(double a) { (void)a; return 0.0; }
LC_HD double lc_ad_p_jet(const double *x, int n, double f0, const double *G, const double *U,
                         const double *Hp) {
  (void)x; (void)n; (void)G; (void)U; (void)Hp;
  return f0;
}
LC_HD double lc_ad_p_powc(double a, double p) { return pow(a, p); }
LC_HD double lc_ad_p_pow(double a, double b) { return pow(a, b); }
LC_HD double lc_ad_p_sin(double a) { return sin(a); }
LC_HD double lc_ad_p_cos(double a) { return cos(a); }
LC_HD double lc_ad_p_tan(double a) { return tan(a); }
LC_HD double lc_ad_p_asin(double a) { return asin(a); }
LC_HD double lc_ad_p_acos(double a) { return acos(a); }
LC_HD double lc_ad_p_atan(double a) { return atan(a); }
LC_HD double lc_ad_p_atan2(double y, double x) { return atan2(y, x); }
LC_HD double lc_ad_p_sinh(double a) { return sinh(a); }
LC_HD double lc_ad_p_cosh(double a) { return cosh(a); }
LC_HD double lc_ad_p_tanh(double a) { return tanh(a); }
LC_HD double lc_ad_p_abs(double a) { return a < 0.0 ? -a : a; }
LC_HD double lc_ad_p_min(double a, double b) { return b < a ? b : a; }
LC_HD double lc_ad_p_max(double a, double b) { return b > a ? b : a; }
LC_HD double lc_ad_p_hypot(double a, double b) { return hypot(a, b); }
LC_HD int lc_ad_p_lt(double a, double b) { return a < b; }
LC_HD int lc_ad_p_le(double a, double b) { return a <= b; }
LC_HD int lc_ad_p_gt(double a, double b) { return a > b; }
LC_HD int lc_ad_p_ge(double a, double b) { return a >= b; }
LC_HD int lc_ad_p_isfinite(double a) { return isfinite(a); }

#include "lc_ad_vec.h"

#undef LC_AD_T

#endif
