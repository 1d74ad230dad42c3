/* cpu_custom.c - the host instances of custom energies: the shared element
 * loop (eval/el_inst.h) compiled once per element shape of LC_CUSTOM_LIST
 * with custom/e_custom.h as the element source, the element functions
 * given the term's interpreter context for parameters (LC_EL_P), and the
 * tables lc_cpu_kernel / lc_cpu_chunk_fn read for ids from
 * LC_E_CUSTOM_BASE on. */
#include <math.h>
#include <stddef.h>

#include "cpu/cpu_impl.h"
#include "custom/custom.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "ad/lc_ad.h"

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
#define LC_EINST custom_4_3
#define LC_EDIM 3
#define LC_EN 12
#include "cpu/cpu_custom_inst.h"

#define LC_CUSTOM_KERNEL_(inst, K, D) &LC_CAT(kern_, inst),
static const lc_elem_kernel *const custom_kernels[LC_EC_COUNT] = {LC_CUSTOM_LIST(LC_CUSTOM_KERNEL_)};

#define LC_CUSTOM_CHUNKS_(inst, K, D) LC_CAT(chunks_, inst),
static const lc_el_chunk_fn *const custom_chunks[LC_EC_COUNT] = {LC_CUSTOM_LIST(LC_CUSTOM_CHUNKS_)};

/* The host kernels of custom instance i (their p is a term's lc_dag_ctx). */
const lc_elem_kernel *lc_cpu_custom_kernel(int i) { return i >= 0 && i < LC_EC_COUNT ? custom_kernels[i] : NULL; }

/* The chunk function of custom instance i in mode or cache pass m. */
lc_el_chunk_fn lc_cpu_custom_chunk_fn(int i, lc_el_mode m) {
  return i >= 0 && i < LC_EC_COUNT && m >= 0 && m < LC_EL_NPASSES ? custom_chunks[i][m] : NULL;
}
