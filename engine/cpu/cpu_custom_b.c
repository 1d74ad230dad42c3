/* cpu_custom_b.c - host instances of custom energies, N 8 and 9: the
 * shared element loop (eval/el_inst.h) compiled with custom/e_custom.h as
 * the element source (cpu/cpu_custom_inst.h).  The instances are spread
 * over four files so that a parallel build compiles them side by side;
 * cpu_custom.c gathers their tables. */
#include <math.h>
#include <stddef.h>

#include "cpu/cpu_impl.h"
#include "custom/custom.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "ad/lc_ad.h"

#define LC_EINST custom_3_3
#define LC_EDIM 3
#define LC_EN 9
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_4_1
#define LC_EDIM 1
#define LC_EN 4
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_4_2
#define LC_EDIM 2
#define LC_EN 8
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_2_4
#define LC_EDIM 4
#define LC_EN 8
#include "cpu/cpu_custom_inst.h"
