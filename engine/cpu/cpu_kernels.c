/* cpu_kernels.c - the host element kernels of every energy instance.
 *
 * Each energy source is compiled here four times (passive, gradient, HVP,
 * Hessian) by cpu_einst.h; the table is generated from LC_ENERGY_LIST so the
 * order matches the registry. */
#include <math.h>
#include <stddef.h>

#include "energies/kernels.h"
#include "ad/lc_ad.h"

#define LC_EINST_TEMPLATE "cpu/cpu_einst.h"
#include "energies/instances.h"

#define LC_KERNEL_ENTRY_(inst, name, dim) &LC_CAT(kern_, inst),
static const lc_elem_kernel *const lc_kernels[LC_E_COUNT] = {
    LC_ENERGY_LIST(LC_KERNEL_ENTRY_)};

/* The host kernels of energy id (0 <= id < LC_E_COUNT). */
const lc_elem_kernel *lc_cpu_kernel(int id) {
  return id >= 0 && id < LC_E_COUNT ? lc_kernels[id] : NULL;
}
