/* cpu_custom_inst.h - one custom instance on the host (no include guard):
 * the includer (cpu_custom_{a,b,c,d}.c) defines LC_EINST, LC_EDIM and LC_EN; this
 * adds the element source, the parameter pointer and the residual count of
 * custom terms (every instance computes LC_DAG_MAX_OUT residuals, the
 * term's DAG says how many count), checks the stanza's shape and
 * instantiates cpu/cpu_einst.h with tables cpu_custom.c can reach.  It
 * includes what the instances need (guarded headers), so an instance file is
 * its stanzas only. */
#include <math.h>
#include <stddef.h>

#include "cpu/cpu_impl.h"
#include "custom/custom.h"
#include "custom/dag_rev.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "ad/lc_ad.h"

#define LC_ESRC "custom/e_custom.h"
#define LC_ERESID LC_DAG_MAX_OUT
#define LC_EL_NRES(t) (((const lc_dag_ctx *)(t)->user)->n_res)
#define LC_EL_P(t) ((const double *)(t)->user)
#define LC_EL_GRAD_FN(x, k, p, g, e) \
  lc_dag_rev_grad((const lc_dag_ctx *)(const void *)(p), x, k, LC_EN, g, e)
LC_STATIC_ASSERT(LC_EN % LC_EDIM == 0 && LC_EN / LC_EDIM <= 4 && LC_EN <= LC_ENERGY_MAX_N, "cpu_custom_inst.h: stanza out of shape");
#define LC_EINST_TABLE /* external: cpu_custom.c gathers the tables */
#include "cpu/cpu_einst.h"
