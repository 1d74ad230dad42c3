/* lc_ad_base.h - common ground for locad's per-element forward-mode AD.
 *
 * Everything under engine/ad compiles both as C11 (gcc, clang) and as CUDA
 * C++ (nvcc): only `static inline` functions, plain structs, no allocation,
 * nothing from libc beyond <math.h>.  LC_HD marks a function for both host
 * and device.
 *
 * Four evaluation modes exist for one energy source:
 *   LC_AD_PASSIVE  plain double (value only),
 *   LC_AD_GRAD     value + gradient,                         type lc_ad_g<N>,
 *   LC_AD_HVP      value + gradient + directional derivative
 *                  d = g.v and its gradient dg = H.v,         type lc_ad_v<N>,
 *   LC_AD_HESS     value + gradient + packed symmetric Hessian, type lc_ad_h<N>.
 * N is the number of local variables of an element. */
#ifndef LC_AD_BASE_H
#define LC_AD_BASE_H

#include <math.h>

/* Element code is small functions on values; it is only fast when every
 * call is inlined into the element function, so inlining is forced. */
#if defined(__CUDACC__)
#define LC_HD static __forceinline__ __host__ __device__
#elif defined(__GNUC__)
#define LC_HD static inline __attribute__((always_inline))
#else
#define LC_HD static inline
#endif

#define LC_AD_PASSIVE 0
#define LC_AD_GRAD 1
#define LC_AD_HVP 2
#define LC_AD_HESS 3

#define LC_CAT_(a, b) a##b
#define LC_CAT(a, b) LC_CAT_(a, b)

/* Index of (i, j), i >= j, in a packed lower-triangular N x N matrix. */
#define LC_TRI(i, j) ((i) * ((i) + 1) / 2 + (j))
#define LC_TRI_SIZE(n) ((n) * ((n) + 1) / 2)

/* Passive 3x3 rotation extraction, used by m3_rot of lc_ad_vec.h (included
 * here, before the short vocabulary of lc_ad_bind.h exists). */
#include "lc_rot.h"

#endif
