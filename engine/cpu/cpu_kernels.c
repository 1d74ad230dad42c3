/* cpu_kernels.c - the host instances of every energy: the shared element
 * loop (eval/el_inst.h) compiled once per instance by cpu_einst.h, and the
 * tables that index it by energy id (generated from LC_ENERGY_LIST, so the
 * order matches the registry). */
#include <math.h>
#include <stddef.h>

#include "cpu/cpu_impl.h"
#include "custom/custom.h"
#include "energies/kernels.h"
#include "eval/el_common.h"
#include "ad/lc_ad.h"

#define LC_EINST_TEMPLATE "cpu/cpu_einst.h"
#include "energies/instances.h"

#define LC_KERNEL_ENTRY_(inst, name, dim) &LC_CAT(kern_, inst),
static const lc_elem_kernel *const lc_kernels[LC_E_COUNT] = {
    LC_ENERGY_LIST(LC_KERNEL_ENTRY_)};

#define LC_CHUNKS_ENTRY_(inst, name, dim) LC_CAT(chunks_, inst),
static const lc_el_chunk_fn *const lc_chunks[LC_E_COUNT] = {LC_ENERGY_LIST(LC_CHUNKS_ENTRY_)};

/* The host kernels of energy id (built-in, or custom from LC_E_CUSTOM_BASE). */
const lc_elem_kernel *lc_cpu_kernel(int id) {
  if (id >= LC_E_CUSTOM_BASE) return lc_cpu_custom_kernel(id - LC_E_CUSTOM_BASE);
  return id >= 0 ? lc_kernels[id] : NULL;
}

/* The chunk function of energy id in mode or cache pass m. */
lc_el_chunk_fn lc_cpu_chunk_fn(int id, lc_el_mode m) {
  if (id >= LC_E_CUSTOM_BASE) return lc_cpu_custom_chunk_fn(id - LC_E_CUSTOM_BASE, m);
  return id >= 0 && m >= 0 && m < LC_EL_NPASSES ? lc_chunks[id][m] : NULL;
}
