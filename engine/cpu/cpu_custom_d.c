/* cpu_custom_d.c - host instances of custom energies, N 24 (embedded-deformation edges), one
 * stanza each (cpu/cpu_custom_inst.h); the instances are spread over four
 * files so that a parallel build compiles them side by side, and
 * cpu_custom.c gathers their tables. */
#define LC_EINST custom_2_12
#define LC_EDIM 12
#define LC_EN 24
#include "cpu/cpu_custom_inst.h"
