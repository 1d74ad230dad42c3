/* lc_ad_def3.h - instantiates the GRAD, HVP and HESS types for one N
 * (no include guard).  Define LC_AD_N and the three type names LC_AD_TG,
 * LC_AD_TV, LC_AD_TH first; all four macros are undefined afterwards. */
#define LC_AD_MODE LC_AD_GRAD
#define LC_AD_T LC_AD_TG
#include "lc_ad_def.h"
#undef LC_AD_MODE
#undef LC_AD_T
#define LC_AD_MODE LC_AD_HVP
#define LC_AD_T LC_AD_TV
#include "lc_ad_def.h"
#undef LC_AD_MODE
#undef LC_AD_T
#define LC_AD_MODE LC_AD_HESS
#define LC_AD_T LC_AD_TH
#include "lc_ad_def.h"
#undef LC_AD_MODE
#undef LC_AD_T
#undef LC_AD_N
#undef LC_AD_TG
#undef LC_AD_TV
#undef LC_AD_TH
