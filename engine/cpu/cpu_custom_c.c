/* cpu_custom_c.c - host instances of custom energies, N 12: the
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

#define LC_EINST custom_4_3
#define LC_EDIM 3
#define LC_EN 12
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_1_12
#define LC_EDIM 12
#define LC_EN 12
#include "cpu/cpu_custom_inst.h"
