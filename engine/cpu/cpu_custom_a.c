/* cpu_custom_a.c - host instances of custom energies, the small shapes (N <= 6), one
 * stanza each (cpu/cpu_custom_inst.h); the instances are spread over four
 * files so that a parallel build compiles them side by side, and
 * cpu_custom.c gathers their tables. */
#define LC_EINST custom_1_1
#define LC_EDIM 1
#define LC_EN 1
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_1_2
#define LC_EDIM 2
#define LC_EN 2
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_1_3
#define LC_EDIM 3
#define LC_EN 3
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_1_4
#define LC_EDIM 4
#define LC_EN 4
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_2_1
#define LC_EDIM 1
#define LC_EN 2
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_2_2
#define LC_EDIM 2
#define LC_EN 4
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_2_3
#define LC_EDIM 3
#define LC_EN 6
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_3_1
#define LC_EDIM 1
#define LC_EN 3
#include "cpu/cpu_custom_inst.h"
#define LC_EINST custom_3_2
#define LC_EDIM 2
#define LC_EN 6
#include "cpu/cpu_custom_inst.h"
