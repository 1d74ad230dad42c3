/* cpu_custom_inst.h - one custom instance on the host (no include guard):
 * the includer (cpu_custom.c) defines LC_EINST, LC_EDIM and LC_EN; this
 * adds the element source, the parameter pointer and the residual count of
 * custom terms (every instance computes LC_DAG_MAX_OUT residuals, the
 * term's DAG says how many count), checks
 * the stanza against LC_CUSTOM_LIST, and instantiates cpu/cpu_einst.h. */
#define LC_ESRC "custom/e_custom.h"
#define LC_ERESID LC_DAG_MAX_OUT
#define LC_EL_NRES(t) (((const lc_dag_ctx *)(t)->user)->n_res)
#define LC_EL_P(t) ((const double *)(t)->user)
LC_STATIC_ASSERT(LC_EN % LC_EDIM == 0 && LC_EN / LC_EDIM <= 4, "cpu_custom.c: stanza out of shape");
#include "cpu/cpu_einst.h"
