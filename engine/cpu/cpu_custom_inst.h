/* cpu_custom_inst.h - one custom instance on the host (no include guard):
 * the includer (cpu_custom.c) defines LC_EINST, LC_EDIM and LC_EN; this
 * adds the element source and the parameter pointer of custom terms, checks
 * the stanza against LC_CUSTOM_LIST, and instantiates cpu/cpu_einst.h. */
#define LC_ESRC "custom/e_custom.h"
#define LC_ERESID 0
#define LC_EL_P(t) ((const double *)(t)->user)
LC_STATIC_ASSERT(LC_EN % LC_EDIM == 0 && LC_EN / LC_EDIM <= 4, "cpu_custom.c: stanza out of shape");
#include "cpu/cpu_einst.h"
