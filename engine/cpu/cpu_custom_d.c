/* cpu_custom_d.c - host instances of custom energies, N 24 (embedded-deformation edges): the
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

#define LC_EINST custom_2_12
#define LC_EDIM 12
#define LC_EN 24
#include "cpu/cpu_custom_inst.h"
