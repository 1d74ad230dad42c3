/* cpu_custom_c.c - host instances of custom energies, N 12, one
 * stanza each (cpu/cpu_custom_inst.h); the instances are spread over four
 * files so that a parallel build compiles them side by side, and
 * cpu_custom.c gathers their tables. */
#define LC_EINST custom_4_3
#define LC_EDIM 3
#define LC_EN 12
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_1_12
#define LC_EDIM 12
#define LC_EN 12
#include "cpu/cpu_custom_inst.h"
