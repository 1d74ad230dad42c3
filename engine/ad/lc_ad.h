/* lc_ad.h - the standard set of AD types: passive lc_ad_p, and for
 * N in {1, 2, 3, 4, 6, 8, 9, 12, 24} the types lc_ad_gN (gradient), lc_ad_vN
 * (gradient + Hessian-vector product) and lc_ad_hN (gradient + Hessian).
 *
 * Include it after every system header: it brings in the short vocabulary of
 * lc_ad_bind.h (S, V3, s_mul, ...).  Select the type an energy source is
 * compiled for by defining LC_AD_T before including that source. */
#ifndef LC_AD_H
#define LC_AD_H

#include "lc_ad_passive.h"

#define LC_AD_N 1
#define LC_AD_TG lc_ad_g1
#define LC_AD_TV lc_ad_v1
#define LC_AD_TH lc_ad_h1
#include "lc_ad_def3.h"
#define LC_AD_N 2
#define LC_AD_TG lc_ad_g2
#define LC_AD_TV lc_ad_v2
#define LC_AD_TH lc_ad_h2
#include "lc_ad_def3.h"
#define LC_AD_N 3
#define LC_AD_TG lc_ad_g3
#define LC_AD_TV lc_ad_v3
#define LC_AD_TH lc_ad_h3
#include "lc_ad_def3.h"
#define LC_AD_N 4
#define LC_AD_TG lc_ad_g4
#define LC_AD_TV lc_ad_v4
#define LC_AD_TH lc_ad_h4
#include "lc_ad_def3.h"
#define LC_AD_N 6
#define LC_AD_TG lc_ad_g6
#define LC_AD_TV lc_ad_v6
#define LC_AD_TH lc_ad_h6
#include "lc_ad_def3.h"
#define LC_AD_N 8
#define LC_AD_TG lc_ad_g8
#define LC_AD_TV lc_ad_v8
#define LC_AD_TH lc_ad_h8
#include "lc_ad_def3.h"
#define LC_AD_N 9
#define LC_AD_TG lc_ad_g9
#define LC_AD_TV lc_ad_v9
#define LC_AD_TH lc_ad_h9
#include "lc_ad_def3.h"
#define LC_AD_N 12
#define LC_AD_TG lc_ad_g12
#define LC_AD_TV lc_ad_v12
#define LC_AD_TH lc_ad_h12
#include "lc_ad_def3.h"
#define LC_AD_N 24
#define LC_AD_TG lc_ad_g24
#define LC_AD_TV lc_ad_v24
#define LC_AD_TH lc_ad_h24
#include "lc_ad_def3.h"

#endif
