/* cpu_custom_b.c - host instances of custom energies, N 4 to 9, one
 * stanza each (cpu/cpu_custom_inst.h); the instances are spread over four
 * files so that a parallel build compiles them side by side, and
 * cpu_custom.c gathers their tables. */
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
